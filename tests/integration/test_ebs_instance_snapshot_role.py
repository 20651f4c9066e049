# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ebs_instance_snapshot role through playbooks/ebs_instance_snapshot.yml, run as an AWX job would run it.

One fleet of twelve instances is snapshotted once (module fixture) and every test reads what that run
left in the cloud's journal and state; a second, three-instance fleet shows that the fleet wait costs
the same number of calls whatever the fleet's size.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import boto3
import pytest
import yaml

from conftest import PLANTED_SECRET_KEY
from conftest import REPO_ROOT
from conftest import Runner
from conftest import ec2_client

VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}, {"size": 16, "type": "gp3", "device": "/dev/sdf"},
           {"size": 32, "type": "st1", "device": "/dev/sdg"}]
GP3_ONLY = VOLUMES[:2]
PLANTED_SESSION_TOKEN = "planted-session-token-FwoGZXIvYXdzEJr"
SET_NAME_TAG = "snapkit:set-name"
INSTANCE_TAG = "snapkit:instance-id"
DAY = 86400
COPY_REGION = "us-west-2"
# Every snapshot takes 10 simulated minutes (one real second at the tests' speed), whatever its size.
SNAPSHOT_SECONDS = 600


def run_fleet_playbook(sim, ansible, hosts, extra_args=(), **extra_vars):
    """Run the AWX entry point over an inventory of instances: extra vars only, credentials in the environment."""
    inventory = ansible.workdir / "fleet.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        # A host whose instance id is None has no instance_id variable (the role then takes its inventory name).
        "hosts": {name: {} if instance_id is None else {"instance_id": instance_id} for name, instance_id in hosts.items()},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    }}))
    extra_vars.setdefault("ebs_instance_snapshot_endpoint_url", sim.endpoints["ec2"])
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               str(REPO_ROOT / "playbooks" / "ebs_instance_snapshot.yml"), "-e", json.dumps(extra_vars), *extra_args]
    # As AWX injects an AWS credential; the region comes from AWS_REGION (set by the runner), not from a variable.
    environment = dict(ansible.environment(), AWS_SESSION_TOKEN=PLANTED_SESSION_TOKEN)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, check=False)


def states(sim, instance_ids):
    reservations = ec2_client(sim).describe_instances(InstanceIds=list(instance_ids))["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}


def sets_by_instance(sim, region=None):
    """{instance id: {set name: {snapshot states}}} of every snapshot that carries our set tags."""
    client = boto3.client("ec2", **dict(sim.aws_client_kwargs(), **({"region_name": region} if region else {})))
    found = {}
    for snapshot in client.describe_snapshots(OwnerIds=["self"])["Snapshots"]:
        tags = {t["Key"]: t["Value"] for t in snapshot.get("Tags", [])}
        if SET_NAME_TAG in tags:
            found.setdefault(tags[INSTANCE_TAG], {}).setdefault(tags[SET_NAME_TAG], set()).add(snapshot["State"])
    return found


def recap(output):
    return {line.split()[0]: line for line in output.splitlines() if " : ok=" in line}


def calls(journal, action, instance_id=None):
    """Successful calls of ``action``, optionally only those naming ``instance_id`` in any parameter."""
    return [e for e in journal if e["action"] == action and e["status"] == 200
            and (instance_id is None or instance_id in e["params"].values())]


def fleet_queries(journal, instance_ids, set_name=None):
    """DescribeSnapshots calls that name every one of ``instance_ids`` at once, with (or without) a set name filter."""
    found = []
    for entry in calls(journal, "DescribeSnapshots"):
        params = entry["params"]
        filters = [key[:-len(".Name")] for key, value in params.items() if key.endswith(".Name") and value == "tag:" + INSTANCE_TAG]
        named = {value for key, value in params.items() if filters and key.startswith(filters[0] + ".Value.")}
        if named >= set(instance_ids) and ((set_name in params.values()) if set_name else ("tag:" + SET_NAME_TAG not in params.values())):
            found.append(entry)
    return found


def make_old_set(sim, instance_id, set_name):
    """A finished set as ebs_multi_snapshot makes it (one CreateSnapshots, our two set tags), a simulated day old."""
    tags = [{"Key": SET_NAME_TAG, "Value": set_name}, {"Key": INSTANCE_TAG, "Value": instance_id}]
    ec2_client(sim).create_snapshots(InstanceSpecification={"InstanceId": instance_id},
                                     TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])
    sim.advance(DAY)


def make_old_copy(sim, instance_id, set_name):
    """A copy of an older set in COPY_REGION as ebs_snapshot_set_copy leaves it: our set tags on a snapshot there."""
    client = boto3.client("ec2", **dict(sim.aws_client_kwargs(), region_name=COPY_REGION))
    volume_id = client.create_volume(AvailabilityZone=COPY_REGION + "a", Size=1)["VolumeId"]
    client.create_snapshot(VolumeId=volume_id, TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
        {"Key": SET_NAME_TAG, "Value": set_name}, {"Key": INSTANCE_TAG, "Value": instance_id}]}])
    return volume_id


@pytest.fixture(scope="module")
def fleet(cloud, tmp_path_factory):
    """Twelve instances snapshotted in one run; what the run left behind, read once."""
    cloud.reset(speed=600)
    cloud.ec2_config(snapshot_seconds_base=SNAPSHOT_SECONDS, snapshot_seconds_per_gib=0)
    ansible = Runner(cloud, tmp_path_factory.mktemp("fleet"))
    hosts = {f"st1-{n}": cloud.seed_instance(volumes=VOLUMES)["instance_id"] for n in range(5)}
    hosts.update({f"gp3-{n}": cloud.seed_instance(volumes=GP3_ONLY)["instance_id"] for n in range(4)})
    hosts["stopped"] = cloud.seed_instance(volumes=VOLUMES, state="stopped")["instance_id"]
    hosts["sleepy"] = cloud.seed_instance(volumes=VOLUMES, hibernation=True)["instance_id"]
    hosts["doomed"] = cloud.seed_instance(volumes=VOLUMES)["instance_id"]
    # Sets of earlier nights on st1-0, one set made for another purpose, and a snapshot that is not ours.
    for name in ("nightly-1", "nightly-2", "nightly-3", "before-upgrade"):
        make_old_set(cloud, hosts["st1-0"], name)
    # Their copies in the other region: nightly-2 and -3 were copied (the rule applies there too).
    for name in ("nightly-2", "nightly-3"):
        make_old_copy(cloud, hosts["st1-0"], name)
        cloud.advance(DAY)
    # The instance whose new set fails keeps its old sets: retention follows only a successful set.
    for name in ("nightly-1", "nightly-2"):
        make_old_set(cloud, hosts["doomed"], name)
    volume_id = ec2_client(cloud).describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [hosts["st1-0"]]}])["Volumes"][0]["VolumeId"]
    foreign = ec2_client(cloud).create_snapshot(VolumeId=volume_id)["SnapshotId"]
    cloud.advance(DAY)
    cloud.fail_snapshots(instance_id=hosts["doomed"], at_progress=30)
    before = states(cloud, hosts.values())
    cloud.clear_journal()

    variables = {"ebs_instance_snapshot_stop_instance": True, "ebs_instance_snapshot_tags": {"Job": "awx-42"},
                 "ebs_instance_snapshot_keep_count": 2, "ebs_instance_snapshot_keep_set_name_prefix": "nightly-",
                 "ebs_instance_snapshot_copy_to_region": COPY_REGION}
    preview = run_fleet_playbook(cloud, ansible, hosts, extra_args=("--check", "--limit", "st1-0"),
                                 ebs_instance_snapshot_set_name="nightly-4", **variables)
    preview_journal = cloud.journal(service="ec2")
    cloud.clear_journal()

    process = run_fleet_playbook(cloud, ansible, hosts, ebs_instance_snapshot_set_name="nightly-4",
                                 ebs_instance_snapshot_delete_on_failure=True, **variables)
    return {"hosts": hosts, "before": before, "after": states(cloud, hosts.values()), "process": process,
            "output": process.stdout + process.stderr, "journal": cloud.journal(service="ec2"),
            "sets": sets_by_instance(cloud), "copies": sets_by_instance(cloud, COPY_REGION), "foreign": foreign,
            "preview": preview, "preview_journal": preview_journal,
            "snapshot_ids": {s["SnapshotId"] for s in ec2_client(cloud).describe_snapshots(OwnerIds=["self"])["Snapshots"]}}


def healthy(fleet):  # pylint: disable=redefined-outer-name
    return [instance_id for name, instance_id in fleet["hosts"].items() if name not in ("sleepy", "doomed")]


def test_one_create_snapshots_per_instance_and_complete_sets(fleet):  # pylint: disable=redefined-outer-name
    hosts = fleet["hosts"]
    creates = [e["params"]["InstanceSpecification.InstanceId"] for e in calls(fleet["journal"], "CreateSnapshots")]
    assert sorted(creates) == sorted(healthy(fleet) + [hosts["doomed"]]), fleet["output"]
    for instance_id in healthy(fleet):
        assert fleet["sets"][instance_id]["nightly-4"] == {"completed"}
    assert len(calls(fleet["journal"], "CreateSnapshot")) == 0, "never one snapshot at a time"
    lines = recap(fleet["output"])
    assert fleet["process"].returncode == 2
    assert all("failed=0" in lines[name] for name in hosts if name not in ("sleepy", "doomed")), fleet["output"]
    summary = f"{hosts['st1-1']}: set nightly-4, 3 snapshots, completed (100.0%), instance stopped and restarted"
    assert summary in " ".join(fleet["output"].split()), fleet["output"]


def test_fleet_wait_is_one_query_for_all_instances(fleet):  # pylint: disable=redefined-outer-name
    made = healthy(fleet) + [fleet["hosts"]["doomed"]]
    waits = fleet_queries(fleet["journal"], made, "nightly-4")
    assert waits, "the fleet wait names every instance in one DescribeSnapshots call"
    assert len(waits) < len(made), "polls are rounds of the whole fleet, not one per instance"
    # Retention, too, reads the sets of every instance whose set succeeded in one query, not one per instance: one in
    # the source region, one for the copies in the other.
    assert len(fleet_queries(fleet["journal"], healthy(fleet))) == 2


def test_hibernated_instance_refused_and_untouched(fleet):  # pylint: disable=redefined-outer-name
    sleepy = fleet["hosts"]["sleepy"]
    assert "failed=1" in recap(fleet["output"])["sleepy"]
    assert "hibernation" in fleet["output"] and f"nightly-4 of {sleepy} failed" in fleet["output"]
    touching = [e for e in fleet["journal"] if sleepy in e["params"].values() and not e["action"].startswith("Describe")]
    assert touching == [] and sleepy not in fleet["sets"]


def test_failed_set_reported_and_deleted(fleet):  # pylint: disable=redefined-outer-name
    doomed = fleet["hosts"]["doomed"]
    assert "failed=1" in recap(fleet["output"])["doomed"]
    assert f"The snapshot set nightly-4 of {doomed} is error (deleted)" in " ".join(fleet["output"].split()), fleet["output"]
    assert sorted(fleet["sets"][doomed]) == ["nightly-1", "nightly-2"], "the failed set deleted, the old ones not retired"
    # The failed set, then retention on st1-0, then on its copies
    assert len(calls(fleet["journal"], "DeleteSnapshot")) == 3 + 2 * 3 + 1


def test_every_instance_back_in_its_power_state(fleet):  # pylint: disable=redefined-outer-name
    hosts = fleet["hosts"]
    assert fleet["after"] == fleet["before"]
    assert fleet["before"][hosts["stopped"]] == "stopped" and fleet["before"][hosts["st1-0"]] == "running"
    stopped_by_us = sorted(e["params"]["InstanceId.1"] for e in calls(fleet["journal"], "StopInstances"))
    started_by_us = sorted(e["params"]["InstanceId.1"] for e in calls(fleet["journal"], "StartInstances"))
    running = sorted(i for name, i in hosts.items() if name not in ("stopped", "sleepy"))
    assert stopped_by_us == started_by_us == running


def test_retention_deletes_exactly_the_old_sets_and_check_mode_nothing(fleet):  # pylint: disable=redefined-outer-name
    st1_0 = fleet["hosts"]["st1-0"]
    assert sorted(fleet["sets"][st1_0]) == ["before-upgrade", "nightly-3", "nightly-4"]
    assert fleet["foreign"] in fleet["snapshot_ids"], "a snapshot without our set tag is never touched"
    assert all(sorted(fleet["sets"][i]) == ["nightly-4"] for i in healthy(fleet) if i != st1_0)
    assert "retention deleted nightly-1, nightly-2, kept 2" in " ".join(fleet["output"].split())

    preview = fleet["preview"].stdout + fleet["preview"].stderr
    assert fleet["preview"].returncode == 0, preview
    # No new set in check mode, so the rule (keep 2) counts only the three sets that exist.
    assert "retention would delete nightly-1, kept 2" in " ".join(preview.split()), preview
    mutating = [e["action"] for e in fleet["preview_journal"] if not e["action"].startswith("Describe")]
    assert mutating == []


def test_every_completed_set_copied_to_the_other_region_as_a_set(fleet):  # pylint: disable=redefined-outer-name
    st1_0 = fleet["hosts"]["st1-0"]
    # The retention rule (keep 2 nightly- sets) applied to the copies too: the oldest copy, nightly-2, is gone.
    assert fleet["copies"] == {instance_id: {"nightly-4": {"completed"}} | ({"nightly-3": {"completed"}} if instance_id == st1_0 else {})
                               for instance_id in healthy(fleet)}
    assert f"{st1_0}: set nightly-4" in fleet["output"] and "copies retention deleted nightly-2" in " ".join(fleet["output"].split())
    copied = len(calls(fleet["journal"], "CopySnapshot"))
    assert copied == 5 * len(VOLUMES) + 4 * len(GP3_ONLY) + len(VOLUMES), "one copy per snapshot of every completed set"
    summary = f"{fleet['hosts']['gp3-0']}: set nightly-4, 2 snapshots, completed (100.0%), instance stopped and restarted; copy in {COPY_REGION} completed"
    assert summary in " ".join(fleet["output"].split())
    # The copies are waited for in one query too: it names every instance whose set completed, not the failed one.
    copy_waits = [e for e in fleet_queries(fleet["journal"], healthy(fleet), "nightly-4") if fleet["hosts"]["doomed"] not in e["params"].values()]
    assert 1 <= len(copy_waits) < len(healthy(fleet))


def test_secrets_stay_out_of_the_output(fleet):  # pylint: disable=redefined-outer-name
    output = fleet["output"] + fleet["preview"].stdout + fleet["preview"].stderr
    assert PLANTED_SESSION_TOKEN not in output
    assert PLANTED_SECRET_KEY not in output


def test_fleet_wait_costs_the_same_for_3_instances_and_a_rerun_makes_no_new_sets(sim, ansible, fleet):  # pylint: disable=redefined-outer-name
    sim.ec2_config(snapshot_seconds_base=SNAPSHOT_SECONDS, snapshot_seconds_per_gib=0)
    web = [sim.seed_instance(volumes=VOLUMES)["instance_id"] for _index in range(3)]
    hosts = {f"web{n}": instance_id for n, instance_id in enumerate(web)}
    first = run_fleet_playbook(sim, ansible, hosts, ebs_instance_snapshot_set_name="nightly",
                               ebs_instance_snapshot_stop_instance=True)
    small = len(fleet_queries(sim.journal(service="ec2"), web, "nightly"))
    large = len(fleet_queries(fleet["journal"], healthy(fleet) + [fleet["hosts"]["doomed"]], "nightly-4"))
    assert first.returncode == 0, first.stdout
    # Four times the instances, the same rounds (give or take one for timing): the wait does not grow with the fleet.
    assert small >= 1 and large <= small + 1, (small, large)
    second = run_fleet_playbook(sim, ansible, hosts, ebs_instance_snapshot_set_name="nightly",
                                ebs_instance_snapshot_stop_instance=True)
    assert second.returncode == 0, second.stdout
    assert len(calls(sim.journal(service="ec2"), "CreateSnapshots")) == 3
    assert len(calls(sim.journal(service="ec2"), "StopInstances")) == 3, "a re-run finds the sets and stops nothing"


def test_bad_variables_are_refused_before_any_change(sim, ansible):
    web = sim.seed_instance(volumes=VOLUMES)["instance_id"]
    missing = run_fleet_playbook(sim, ansible, {"web0": web})
    assert missing.returncode != 0
    assert "ebs_instance_snapshot_set_name" in missing.stdout + missing.stderr
    bad = run_fleet_playbook(sim, ansible, {"web0": web}, ebs_instance_snapshot_set_name="x", ebs_instance_snapshot_keep_count=0,
                             ebs_instance_snapshot_copy_kms_key_id="alias/dr")
    output = " ".join((bad.stdout + bad.stderr).split())
    assert bad.returncode != 0
    assert "Refused before any change" in output and "keep_count=0" in output and "copy_kms_key_id=set" in output, output
    assert sim.journal(service="ec2") == []


def test_one_host_with_a_missing_or_malformed_instance_id_fails_alone(sim, ansible):
    good = {f"web{n}": sim.seed_instance(volumes=GP3_ONLY)["instance_id"] for n in range(2)}
    hosts = dict(good, typo="i-12345", web9=None)
    process = run_fleet_playbook(sim, ansible, hosts, ebs_instance_snapshot_set_name="nightly")
    output = " ".join((process.stdout + process.stderr).split())
    lines = recap(process.stdout)

    assert process.returncode != 0, "the bad hosts fail"
    for name in good:
        assert "failed=0" in lines[name], (lines[name], output[-3000:])
    for name in ("typo", "web9"):
        assert "failed=1" in lines[name], lines[name]
    assert "instance_id=i-12345" in output and "instance_id=web9" in output and "ebs_instance_snapshot_instance_id" in output, output
    assert sets_by_instance(sim) == {
        instance_id: {"nightly": {"completed"}} for instance_id in good.values()}
    journal = sim.journal(service="ec2")
    assert sorted(e["params"]["InstanceSpecification.InstanceId"] for e in calls(journal, "CreateSnapshots")) == sorted(good.values())
    assert fleet_queries(journal, good.values(), "nightly"), "one fleet wait for the good hosts"


@pytest.mark.parametrize("how", ["limit", "pattern", "empty inventory"])
def test_a_run_with_no_matching_host_fails_naming_the_inventory_and_limit(sim, ansible, how):
    web = sim.seed_instance(volumes=GP3_ONLY)["instance_id"]
    hosts = {} if how == "empty inventory" else {"web0": web}
    extra_args = ("--limit", "web0") if how == "limit" else ()
    extra_vars = {"ebs_instance_snapshot_hosts": "db*"} if how in ("limit", "pattern") else {}
    process = run_fleet_playbook(sim, ansible, hosts, extra_args, ebs_instance_snapshot_set_name="nightly", **extra_vars)
    output = " ".join((process.stdout + process.stderr).split())

    assert process.returncode != 0, output
    assert "No host to snapshot" in output and str(ansible.workdir / "fleet.yml") in output, output
    assert ("db*" if extra_vars else "pattern all") in output, output
    assert ("limit web0" in output) == (how == "limit"), output
    assert calls(sim.journal(service="ec2"), "CreateSnapshots") == []


def test_fleet_mode_makes_every_set_in_one_task_and_keeps_per_host_results(sim, ansible):
    """ebs_instance_snapshot_fleet_mode: one ebs_fleet_snapshot task for the play's hosts; each host still gets its
    summary, and a failed set (deleted when asked) or a refused instance fails its own host only."""
    sim.ec2_config(snapshot_seconds_base=SNAPSHOT_SECONDS, snapshot_seconds_per_gib=0)
    hosts = {f"gp3-{n}": sim.seed_instance(volumes=GP3_ONLY)["instance_id"] for n in range(3)}
    hosts["stopped"] = sim.seed_instance(volumes=GP3_ONLY, state="stopped")["instance_id"]
    hosts["sleepy"] = sim.seed_instance(volumes=GP3_ONLY, hibernation=True)["instance_id"]
    hosts["doomed"] = sim.seed_instance(volumes=GP3_ONLY)["instance_id"]
    sim.fail_snapshots(instance_id=hosts["doomed"], at_progress=30)
    before = states(sim, hosts.values())

    process = run_fleet_playbook(sim, ansible, hosts, ebs_instance_snapshot_set_name="fleet-1", ebs_instance_snapshot_fleet_mode=True,
                                 ebs_instance_snapshot_stop_instance=True, ebs_instance_snapshot_delete_on_failure=True)
    output = process.stdout + process.stderr
    flat = " ".join(output.split())

    assert process.returncode == 2, output[-3000:]
    lines = recap(output)
    assert all("failed=0" in lines[name] for name in ("gp3-0", "gp3-1", "gp3-2", "stopped")), output[-3000:]
    assert "failed=1" in lines["sleepy"] and "failed=1" in lines["doomed"]
    assert "hibernation" in output and "were deleted" in output
    # The fleet task ran once, on one host, for all of them.
    task_output = output.split("TASK [snapkit.cloud.ebs_instance_snapshot : Create the sets of every instance of the play")[1].split("TASK [")[0]
    assert task_output.count("-> localhost]") == 1, task_output
    for name in ("gp3-0", "gp3-1", "gp3-2"):
        assert f"{hosts[name]}: set fleet-1, 2 snapshots, completed (100.0%), instance stopped and restarted" in flat, flat[-3000:]
    assert f"{hosts['stopped']}: set fleet-1, 2 snapshots, completed (100.0%), instance left in the power state it was in" in flat
    found = sets_by_instance(sim)
    assert {name: found.get(hosts[name], {}).get("fleet-1") for name in hosts} == {
        "gp3-0": {"completed"}, "gp3-1": {"completed"}, "gp3-2": {"completed"}, "stopped": {"completed"}, "sleepy": None, "doomed": None}
    assert states(sim, hosts.values()) == before
