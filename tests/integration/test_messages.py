# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a user reads when something is wrong: each message names what to change, in words the user knows."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from _reliability_aws import role_command
# One cloudsim running EC2 and Lightsail; ``sim`` overrides conftest's, so that its ``ansible`` runner uses this cloud.
from test_lightsail_snapshot import ec2_and_lightsail  # noqa: F401  pylint: disable=unused-import
from test_lightsail_snapshot import sim  # noqa: F401  pylint: disable=unused-import


def without_region(environment, tmp_path):
    """No region anywhere: not in the environment, not in an AWS config file."""
    environment = {name: value for name, value in environment.items() if name not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    empty = tmp_path / "aws-config"
    empty.write_text("")
    return dict(environment, AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty))


def test_a_role_run_without_a_region_names_the_role_variable_and_aws_region(sim, ansible, tmp_path):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("web-1")
    command, environment = role_command(sim, ansible, lightsail_instance_snapshot_instance_name="web-1")
    run = subprocess.run(command, env=without_region(environment, tmp_path), capture_output=True, text=True, timeout=600, check=False)
    failure = run.stdout[run.stdout.index("Report the failure"):]
    assert run.returncode != 0
    assert "lightsail_instance_snapshot_region" in failure and "AWS_REGION" in failure, failure[-1500:]
    assert "module requires a region" not in run.stdout
    assert sim.journal() == []


def test_a_module_without_a_region_says_where_a_region_comes_from(sim, ansible, tmp_path, monkeypatch):  # pylint: disable=redefined-outer-name
    environment = without_region(ansible.environment(), tmp_path)
    monkeypatch.setattr(ansible, "environment", lambda: environment)
    result = ansible.module("lightsail_snapshot", endpoint_url=sim.lightsail_url, instance_name="web-1", snapshot_name="snap-1")
    assert result["failed"]
    assert "AWS_REGION" in result["msg"] and "region option" in result["msg"], result["msg"]
    assert "module requires a region" not in result["msg"]


def one_sentence(message):
    """One sentence: a single full stop, at the end (names and versions may hold dots; these messages have none)."""
    text = message.rstrip()
    return text.endswith(".") and text.count(". ") == 0


@pytest.mark.parametrize("visible", [True, False], ids=["listed", "not-listed-yet"])
def test_a_snapshot_name_taken_by_another_instance_changes_nothing_and_says_so(sim, ansible, visible):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("web-1")
    sim.seed_lightsail_instance("web-2")
    if visible:
        sim.lightsail_config(visibility_delay_seconds=0)
    first = ansible.module("lightsail_snapshot", endpoint_url=sim.lightsail_url, instance_name="web-1", snapshot_name="snap-1", wait=False)
    assert first["changed"], first
    if not visible:
        # Eventual consistency: Lightsail does not list the new snapshot yet, the create finds the name taken.
        sim.inject_fault("lightsail", "GetInstanceSnapshot", "NotFoundException", status=400, count=1)
    second = ansible.module("lightsail_snapshot", endpoint_url=sim.lightsail_url, instance_name="web-2", snapshot_name="snap-1", wait=False)
    assert second["failed"] and second["changed"] is False, second
    message = second["msg"]
    assert "snap-1" in message and "web-1" in message and "snapshot_name" in message, message
    assert "reached max retries" not in message and "An error occurred" not in message, message
    assert one_sentence(message), message


def test_a_wrong_openstack_cloud_name_lists_the_clouds_found_and_the_file_read(ansible, tmp_path, monkeypatch):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {"devstack": {"auth": {"auth_url": "http://127.0.0.1:9/identity"}},
                                                 "production": {"auth": {"auth_url": "http://127.0.0.1:9/identity"}}}}))
    environment = dict(ansible.environment(), OS_CLIENT_CONFIG_FILE=str(clouds))
    monkeypatch.setattr(ansible, "environment", lambda: environment)
    run = ansible.run([{"snapkit.cloud.os_instance_snapshot": {"cloud": "devstak", "server": "web-1", "name": "web-1-snap"}, "register": "result"}])
    result = run["result"]
    message = result["msg"]
    assert result["failed"]
    assert "devstak" in message and "devstack" in message and "production" in message, message
    assert str(clouds) in message and "OS_CLIENT_CONFIG_FILE" in message and "~/.config/openstack/clouds.yaml" in message, message


def test_the_lightsail_role_names_each_refused_variable_once_with_its_rule(sim, ansible):  # pylint: disable=redefined-outer-name
    command, environment = role_command(sim, ansible, lightsail_instance_snapshot_instance_name="web-1",
                                        lightsail_instance_snapshot_backup_snapshot_name="same-1", lightsail_instance_snapshot_snapshot_name="same-1",
                                        lightsail_instance_snapshot_winrm_cidr="everywhere")
    run = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode != 0
    refusal = next(line for line in run.stdout.splitlines() if line.startswith("fatal:") and "Refused before any API call" in line)
    assert refusal.count("lightsail_instance_snapshot_snapshot_name:") == 1, refusal
    assert "lightsail_instance_snapshot_snapshot_name: same-1 (must differ from the backup snapshot name" in refusal, refusal
    assert "lightsail_instance_snapshot_winrm_cidr: everywhere (is a network in CIDR notation" in refusal, refusal
    assert "One or more items failed" not in run.stdout
    # One refusal, no loop that lists a line per rule (a variable with two rules twice).
    assert "(item=" not in run.stdout, run.stdout
    assert sim.journal() == []
