# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fidelity: community.aws's lightsail and lightsail_snapshot modules run against the Lightsail simulator."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")
pytestmark = pytest.mark.skipif(not (pathlib.Path(COLLECTIONS) / "ansible_collections" / "community" / "aws").is_dir(),
                                reason="community.aws is not installed in the collections path")


def run_tasks(cloud, tmp_path: pathlib.Path, tasks: list[tuple]) -> list[dict]:
    """Run ``(module, args)`` tasks of community.aws in one ansible-playbook run (one start-up); their results."""
    play = {"hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [{f"community.aws.{module}": dict(args, endpoint_url=cloud.lightsail_url)} for module, args in tasks]}
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(json.dumps([play]))  # JSON is YAML
    env = dict(os.environ, **cloud.aws_env(), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    return [task["hosts"]["localhost"] for task in json.loads(process.stdout)["plays"][0]["tasks"]]


def test_community_aws_modules_snapshot_and_stop_an_instance(lightsail_frozen, lightsail, tmp_path):
    lightsail_frozen.lightsail_config(instance_transition_seconds=30, snapshot_seconds_base=60, snapshot_seconds_per_gib=0)
    lightsail_frozen.seed_lightsail_instance("web-1")
    created, again, stopped = run_tasks(lightsail_frozen, tmp_path, [
        ("lightsail_snapshot", {"snapshot_name": "web-1-snap", "instance_name": "web-1", "wait": False}),
        ("lightsail_snapshot", {"snapshot_name": "web-1-snap", "instance_name": "web-1", "wait": False}),
        ("lightsail", {"name": "web-1", "state": "stopped", "wait": False}),
    ])
    assert created["changed"] is True and again["changed"] is False
    assert stopped["changed"] is True and stopped["instance"]["state"]["name"] == "stopping"
    lightsail_frozen.advance(60)
    assert lightsail.get_instance_snapshot(instanceSnapshotName="web-1-snap")["instanceSnapshot"]["state"] == "available"
    assert lightsail.get_instance_state(instanceName="web-1")["state"]["name"] == "stopped"
    actions = [(entry["action"], entry["error_code"]) for entry in lightsail_frozen.journal(service="lightsail")]
    assert actions[:3] == [("GetInstanceSnapshot", "NotFoundException"), ("CreateInstanceSnapshot", None), ("GetInstanceSnapshot", None)]
    assert ("StopInstance", None) in actions
