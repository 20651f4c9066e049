# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""OpenStack: ``os_volume_snapshot`` against openstack.cloud ``volume_snapshot``, ``os_instance_snapshot`` against openstacksdk by hand.

Both sides of each comparison get the same fresh server (booted from an image, with an attached 10 GiB data volume) on the
same local cloud, with the clouds.yaml as AWX writes it (cloud ``devstack`` through ``OS_CLIENT_CONFIG_FILE``).
"""

from __future__ import annotations

import json
import pathlib
import sys

from _common import CLOUD_NAME
from _common import REPO_ROOT
from _common import ansible_playbook
from _common import chart_ratios
from _common import comparison_table
from _common import count_calls
from _common import fresh_clouds
from _common import local_play
from _common import service_action
from _common import write_play

SPEED = 120  # as demo chapter 30: one simulated minute passes in half a real second
SERVER, VOLUME = "bench-os", "bench-data"
METRICS = ("wall_seconds", "api_calls", "made")

VOLUME_TASKS = {
    "ours": {"name": "snapkit.cloud: a snapshot of the attached volume",
             "snapkit.cloud.os_volume_snapshot": {"cloud": CLOUD_NAME, "volume": VOLUME, "name": "bench-snapshot"}},
    # Cinder refuses a snapshot of an in-use volume without force (below microversion 3.66): the anchor's user must say so.
    "anchor": {"name": "openstack.cloud: a snapshot of the attached volume",
               "openstack.cloud.volume_snapshot": {"cloud": CLOUD_NAME, "volume": VOLUME, "name": "bench-snapshot", "force": True}},
}
IMAGE_TASKS = {
    "ours": {"name": "snapkit.cloud: an instance snapshot of the image-booted server",
             "snapkit.cloud.os_instance_snapshot": {"cloud": CLOUD_NAME, "server": SERVER, "name": "bench-image"}},
    "anchor": {"name": "openstacksdk by hand: createImage, then wait until the image is active",
               "ansible.builtin.command": {"argv": [sys.executable, str(REPO_ROOT / "benchmarks" / "openstack_sdk_image.py"),
                                                    "--cloud", CLOUD_NAME, "--server", SERVER, "--name", "bench-image"]},
               "changed_when": True},
}


def clouds_yaml(sim, workdir):
    path = pathlib.Path(workdir) / "clouds.yaml"
    path.write_text(json.dumps(sim.clouds_yaml(CLOUD_NAME)), encoding="utf-8")  # JSON is YAML
    return path


def measure(sim, task, made, workdir):
    """Run one task on a fresh server; ``made(state)`` counts what it made in the cloud's state."""
    fresh_clouds(sim, SPEED)
    sim.seed_server(name=SERVER, boot="image", volumes=[{"size": 10, "name": VOLUME}])
    playbook = write_play(workdir, "openstack.yml", local_play("OpenStack benchmark", [task]))
    wall = ansible_playbook(playbook, {"OS_CLIENT_CONFIG_FILE": str(clouds_yaml(sim, workdir))})
    calls = count_calls(sim.journal(), key=service_action)
    return {"wall_seconds": round(wall, 2), "api_calls": sum(calls.values()), "api_calls_by_action": calls, "made": made(sim.openstack_state())}


def new_snapshots(state):
    return len(state["snapshots"])


def new_images(state):
    return sum(1 for image in state["images"] if image["name"] == "bench-image")


def section(sim, workdir, quick):
    del quick  # one snapshot each: already small
    volume = {side: measure(sim, task, new_snapshots, workdir) for side, task in VOLUME_TASKS.items()}
    image = {side: measure(sim, task, new_images, workdir) for side, task in IMAGE_TASKS.items()}
    volume_title = f"OpenStack, a snapshot of an attached volume: snapkit.cloud.os_volume_snapshot vs openstack.cloud.volume_snapshot (clock {SPEED}x)"
    image_title = (f"OpenStack, an instance snapshot of an image-booted server: snapkit.cloud.os_instance_snapshot vs openstacksdk by hand "
                   f"(benchmarks/openstack_sdk_image.py as a command task; clock {SPEED}x)")
    markdown = (comparison_table(volume_title, volume["ours"], volume["anchor"], METRICS) + "\n"
                + comparison_table(image_title, image["ours"], image["anchor"], METRICS))
    ratios = (chart_ratios("OpenStack volume snapshot", volume["ours"], volume["anchor"], ("wall_seconds", "api_calls"))
              + chart_ratios("OpenStack instance snapshot", image["ours"], image["anchor"], ("wall_seconds", "api_calls")))
    return {"key": "openstack", "markdown": markdown, "ratios": ratios,
            "json": {"speed": SPEED, "volume_snapshot": dict(volume, title=volume_title), "instance_snapshot": dict(image, title=image_title)}}
