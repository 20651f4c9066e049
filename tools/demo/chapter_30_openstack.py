# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Demo chapter: the OpenStack procedure, a snapshot and a running copy of an image-booted and a volume-booted server.

Starts the local OpenStack cloud, makes two servers (one booted from an image, one from a 40 GiB volume with a data
volume), runs the demo playbook once per server (roles openstack_instance_snapshot and openstack_launch_copy), tells
what kind of snapshot each got, where each copy runs and which API calls it took, and stops the cloud.

``OPENSTACK_BACKENDS`` (``make demo OPENSTACK_BACKENDS="sim real"``) picks the clouds: ``sim`` (the default) is the
simulator; ``real`` is the real OpenStack services of tests/openstack_real, as the member user: the running ones when
``SNAPKIT_OPENSTACK_REAL_CLOUDS`` names their clouds.yaml, else started here (installed on first use) and stopped.
They keep no journal, so the chapter does not count their calls.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from cloudsim.client import CloudSim  # noqa: E402  pylint: disable=wrong-import-position
from openstack_real import launcher as real_launcher  # noqa: E402  pylint: disable=wrong-import-position
from openstack_real import testing as real_testing  # noqa: E402  pylint: disable=wrong-import-position

TITLE = "OpenStack: snapshot and copy an image-booted and a volume-booted server"
SPEED = 120  # one simulated minute passes in half a real second
SERVERS = [
    {"name": "web", "boot": "image", "flavor": "m1.small", "fixed_ip": "10.0.0.40"},
    {"name": "db", "boot": "volume", "flavor": "m1.medium", "root_size": 40, "fixed_ip": "10.0.0.50", "volumes": [{"size": 100, "name": "db-data"}]},
]


def collections_path():
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")


def run_playbook(clouds_yaml, server, result_file):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", OS_CLIENT_CONFIG_FILE=str(clouds_yaml))
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
               str(REPO_ROOT / "tools" / "demo" / "chapter_30_openstack.yml"),
               "-e", json.dumps({"demo_server": server, "demo_result_file": str(result_file), "ansible_python_interpreter": sys.executable})]
    return subprocess.run(command, env=env, check=False, capture_output=True, text=True)


def describe(seeded, result, journal=None):
    snapshot, copy = result["snapshot"], result["copy"]
    source = snapshot["launch_source"]
    booted = "an image" if seeded["boot"] == "image" else f"a {seeded['volumes'][0]['size']} GiB volume"
    print(f"\nServer '{seeded['name']}' boots from {booted} (flavor {source['flavor_name']}, network "
          f"{', '.join(net['network_name'] for net in source['networks'])}, address {seeded['fixed_ip']}).")
    if snapshot["kind"] == "image":
        print(f"  It got an instance snapshot: Nova createImage made the Glance image {snapshot['image']['id']} "
              f"('{snapshot['image']['name']}'), waited on until active.")
    else:
        made = snapshot["volume_snapshots"][0]
        print(f"  It got a volume snapshot of its root volume only: Cinder snapshot {made['id']} ('{made['name']}', "
              f"{made['size']} GiB) of volume {made['volume_id']}, taken while attached (force, as Cinder needs below 3.66); "
              "its data volume is not part of the copy.")
    via = ("booted from the image" if copy["boot_source"] == "image"
           else f"booted from the new {copy['volume_size']} GiB volume {copy['volume_id']}, made from the snapshot")
    print(f"  The copy '{copy['name']}' ({copy['server_id']}) is {copy['status']}, {via}, in the same network at "
          f"{copy['address']}, flavor {copy['flavor'].get('original_name', copy['flavor'].get('name'))}.")
    if journal is None:
        print("  The real services keep no journal: their calls are not counted here.")
        return
    calls = collections.Counter(f"{entry['service']} {entry['action']}" for entry in journal if entry["service"] != "identity")
    mutating = {name: count for name, count in calls.items() if not name.split()[1].startswith(("list", "show", "versions", "get"))}
    print(f"  {sum(calls.values())} API calls besides authentication, {sum(mutating.values())} of them changes: "
          + ", ".join(f"{name} {count}" for name, count in sorted(mutating.items())) + "; the rest are reads and waits.")
    by_service = collections.Counter(name.split()[0] for name in calls.elements())
    print("  Calls by service: " + ", ".join(f"{service} {count}" for service, count in sorted(by_service.items())) + ".")


def key_figure(output):
    """The summary's figure: the kinds of snapshot, the copies that run and the calls (where a journal counts them)."""
    kinds = re.findall(r"It got an? (instance|volume) snapshot", output)
    running = len(re.findall(r"The copy '[^']+' \([^)]+\) is ACTIVE", output))
    calls = [int(count) for count in re.findall(r"(\d+) API calls besides authentication", output)]
    parts = [f"{len(kinds)} servers snapshotted ({', '.join(kinds)})" if kinds else None,
             f"{running} copies ACTIVE", f"{sum(calls)} API calls besides authentication" if calls else None]
    return ", ".join(part for part in parts if part)


def backends():
    names = os.environ.get("OPENSTACK_BACKENDS", "").split() or ["sim"]
    unknown = sorted(set(names) - {"sim", "real"})
    if unknown:
        raise SystemExit(f"OPENSTACK_BACKENDS: unknown {', '.join(unknown)} (use sim, real or both)")
    return names


def run():
    status = 0
    for backend in backends():
        status |= run_on_sim() if backend == "sim" else run_on_real()
    return status


def run_on_sim():
    with CloudSim.start(speed=SPEED, services=("openstack",)) as sim, tempfile.TemporaryDirectory() as workdir:
        print(f"Local OpenStack cloud up at {sim.endpoints['openstack']} (simulated time runs {SPEED}x faster).")
        status = tell(sim, pathlib.Path(workdir), journaled=True)
    print("\nLocal cloud stopped.")
    return status


def run_on_real():
    started_here = not real_testing.enabled()
    if started_here:
        print("Starting the real OpenStack services (tests/openstack_real; the first start installs them, minutes).")
        clouds = str(real_launcher.start())
    else:
        clouds = os.environ[real_testing.CLOUDS_ENV]
    cloud = None
    try:
        cloud = real_testing.RealCloud(clouds)
        cloud.reset()
        print(f"Real OpenStack services (keystone, nova, cinder, glance, neutron) up at {real_launcher.auth_url()}; "
              "the playbook runs as the member user of project 'demo'.")
        with tempfile.TemporaryDirectory() as workdir:
            return tell(cloud, pathlib.Path(workdir), journaled=False)
    finally:
        if cloud is not None:
            cloud.reset()
            cloud.close()
        if started_here:
            real_launcher.stop()
            print("\nReal services stopped.")


def tell(cloud, workdir, journaled):
    clouds_yaml = workdir / "clouds.yaml"
    clouds_yaml.write_text(json.dumps(cloud.clouds_yaml("devstack")), encoding="utf-8")
    seeded = [dict(server, **cloud.seed_server(**server)) for server in SERVERS]
    print("The copies' SSH ports are not waited for: this cloud runs no guest that would answer.")
    for server in seeded:
        if journaled:
            cloud.clear_journal()
        result_file = workdir / f"{server['name']}.json"
        process = run_playbook(clouds_yaml, server["name"], result_file)
        if process.returncode != 0 or not result_file.exists():
            print(f"The demo playbook failed for '{server['name']}' (exit code {process.returncode}):\n{process.stdout[-3000:]}")
            return 1
        describe(server, json.loads(result_file.read_text()), cloud.journal() if journaled else None)
    return 0
