# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 instance transitions, the control API (journal, reset, clock) and the AWS CLI against cloudsim."""

from __future__ import annotations

import datetime
import email.utils
import json
import os
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from cloudsim.ec2.testing import consistent_ec2  # noqa: F401  pylint: disable=unused-import

FAST_WAIT = {"Delay": 0.1, "MaxAttempts": 100}


def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def instance_state(ec2, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def status_state(ec2, instance_id: str) -> str:
    statuses = ec2.describe_instance_status(InstanceIds=[instance_id], IncludeAllInstances=True)["InstanceStatuses"]
    return statuses[0]["InstanceState"]["Name"]


def test_stop_and_start_take_time_and_refuse_wrong_states(frozen, ec2):
    frozen.ec2_config(instance_transition_seconds=30)
    instance_id = frozen.seed_instance()["instance_id"]
    change = ec2.stop_instances(InstanceIds=[instance_id])["StoppingInstances"][0]
    assert (change["PreviousState"], change["CurrentState"]) == ({"Code": 16, "Name": "running"}, {"Code": 64, "Name": "stopping"})
    assert instance_state(ec2, instance_id) == status_state(ec2, instance_id) == "stopping"
    assert ec2.describe_instance_status(InstanceIds=[instance_id])["InstanceStatuses"] == []  # only running ones by default
    with pytest.raises(ClientError) as excinfo:
        ec2.start_instances(InstanceIds=[instance_id])
    assert error_of(excinfo) == ("IncorrectInstanceState", 400)
    frozen.advance(29)
    assert instance_state(ec2, instance_id) == "stopping"
    frozen.advance(1)
    assert instance_state(ec2, instance_id) == status_state(ec2, instance_id) == "stopped"
    change = ec2.start_instances(InstanceIds=[instance_id])["StartingInstances"][0]
    assert (change["PreviousState"]["Name"], change["CurrentState"]["Name"]) == ("stopped", "pending")
    with pytest.raises(ClientError) as excinfo:
        ec2.stop_instances(InstanceIds=[instance_id])
    assert error_of(excinfo) == ("IncorrectInstanceState", 400)
    frozen.advance(30)
    assert instance_state(ec2, instance_id) == "running"
    filtered = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    assert [instance["InstanceId"] for reservation in filtered for instance in reservation["Instances"]] == [instance_id]


def test_repeated_stop_and_start_are_harmless(frozen, ec2):
    instance_id = frozen.seed_instance(state="stopped")["instance_id"]
    change = ec2.stop_instances(InstanceIds=[instance_id])["StoppingInstances"][0]
    assert (change["PreviousState"]["Name"], change["CurrentState"]["Name"]) == ("stopped", "stopped")
    ec2.reboot_instances(InstanceIds=[instance_id])
    assert instance_state(ec2, instance_id) == "stopped"  # moto alone would flip it to running
    ec2.start_instances(InstanceIds=[instance_id])
    change = ec2.start_instances(InstanceIds=[instance_id])["StartingInstances"][0]
    assert (change["PreviousState"]["Name"], change["CurrentState"]["Name"]) == ("pending", "pending")


def test_instance_waiters(fresh, ec2):
    fresh.ec2_config(instance_transition_seconds=60)  # 0.1 s real at speed 600
    instance_id = fresh.seed_instance()["instance_id"]
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAIT)
    assert instance_state(ec2, instance_id) == "stopped"
    ec2.start_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=FAST_WAIT)
    assert instance_state(ec2, instance_id) == "running"


def test_run_and_terminate_instances_pass_through_transitional_states(frozen, ec2):
    frozen.ec2_config(instance_transition_seconds=10)
    launched = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    instance_id = launched["InstanceId"]
    assert instance_state(ec2, instance_id) == "pending"
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert described["HibernationOptions"] == {"Configured": False}
    frozen.advance(10)
    assert instance_state(ec2, instance_id) == "running"
    change = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert change["CurrentState"]["Name"] == "shutting-down"
    frozen.advance(10)
    assert instance_state(ec2, instance_id) == "terminated"


def test_seeded_instance_as_describe_instances_shows_it(fresh, ec2):
    seeded = fresh.seed_instance(volumes=[{"size": 30, "device": "/dev/sda1"}, {"size": 100, "type": "io1", "device": "/dev/sdb"}],
                                 tags={"Name": "web"}, platform="windows")
    instance = ec2.describe_instances(InstanceIds=[seeded["instance_id"]])["Reservations"][0]["Instances"][0]
    assert instance["RootDeviceName"] == "/dev/sda1"
    assert instance["Platform"] == "windows"
    assert {tag["Key"]: tag["Value"] for tag in instance["Tags"]} == {"Name": "web"}
    mappings = {mapping["DeviceName"]: mapping["Ebs"] for mapping in instance["BlockDeviceMappings"]}
    assert mappings["/dev/sda1"]["VolumeId"] == seeded["volumes"][0]["volume_id"]
    assert mappings["/dev/sda1"]["DeleteOnTermination"] is True and mappings["/dev/sdb"]["DeleteOnTermination"] is False
    volumes = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [seeded["instance_id"]]}])["Volumes"]
    assert sorted((volume["Size"], volume["VolumeType"]) for volume in volumes) == [(30, "gp3"), (100, "io1")]


def test_journal_records_actions_params_and_status(fresh, ec2):
    seeded = fresh.seed_instance(volumes=[{"size": 8}, {"size": 8}])
    assert fresh.journal() == []  # seeding is not an API call
    ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"], "ExcludeBootVolume": True}, Description="d")
    with pytest.raises(ClientError):
        ec2.describe_snapshots(SnapshotIds=["snap-0123456789abcdef0"])
    entries = fresh.journal(service="ec2")
    assert [(entry["action"], entry["status"], entry["error_code"]) for entry in entries] == [
        ("CreateSnapshots", 200, None), ("DescribeSnapshots", 400, "InvalidSnapshot.NotFound")]
    assert entries[0]["params"] == {
        "InstanceSpecification.InstanceId": seeded["instance_id"], "InstanceSpecification.ExcludeBootVolume": "true", "Description": "d"}
    assert all(not key.lower().startswith(("x-amz", "authorization", "signature")) for entry in entries for key in entry["params"])
    assert entries[1]["seq"] > entries[0]["seq"]
    assert fresh.journal(since=entries[0]["seq"]) == [entries[1]]
    fresh.clear_journal()
    assert fresh.journal() == []


def test_reset_wipes_state_faults_and_journal_but_keeps_the_speed(fresh, ec2):
    fresh.set_speed(42)
    seeded = fresh.seed_instance()
    ec2.create_snapshot(VolumeId=seeded["volumes"][0]["volume_id"])
    fresh.inject_fault("ec2", "*", "InternalError", status=500, count=5)
    fresh.fail_snapshots(volume_id=seeded["volumes"][0]["volume_id"])
    fresh.ec2_config(snapshot_seconds_base=1)
    fresh.reset()
    assert fresh.clock()["speed"] == 42
    assert fresh.faults() == [] and fresh.journal() == []
    assert ec2.describe_snapshots()["Snapshots"] == []
    assert ec2.describe_instances()["Reservations"] == []
    assert ec2.describe_volumes()["Volumes"] == []
    assert fresh.ec2_config()["snapshot_seconds_base"] == 60
    assert fresh.ec2_state()["failure_plans"] == []
    assert fresh.reset(speed=7)["clock"]["speed"] == 7


def test_clock_speed_and_advance_drive_api_timestamps(frozen, ec2):
    before = frozen.clock()
    frozen.advance(86400)
    after = frozen.clock()
    assert after["epoch"] - before["epoch"] == pytest.approx(86400)
    volume_id = frozen.seed_instance()["volumes"][0]["volume_id"]
    start = ec2.create_snapshot(VolumeId=volume_id)["StartTime"]
    assert start.timestamp() == pytest.approx(after["epoch"], abs=0.01)
    launch = ec2.describe_instances()["Reservations"][0]["Instances"][0]["LaunchTime"]
    assert abs((launch - start).total_seconds()) < 1  # moto's own timestamps follow the simulated clock too
    frozen.set_speed(3600)
    assert frozen.clock()["epoch"] >= after["epoch"]
    with pytest.raises(Exception):
        frozen.advance(-5)


def test_unknown_action_and_control_errors(fresh, ec2):
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_volume_status()  # a real action moto does not implement
    assert error_of(excinfo) == ("NotImplemented", 501)
    with pytest.raises(Exception) as excinfo:
        fresh.fail_snapshots()
    assert "volume_id" in str(excinfo.value)


def test_aws_cli_describe_snapshots(frozen, ec2):
    frozen.ec2_config(snapshot_seconds_base=100, snapshot_seconds_per_gib=0)
    seeded = frozen.seed_instance(volumes=[{"size": 8}, {"size": 8}, {"size": 8}])
    ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})
    frozen.advance(50)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    env = dict(os.environ, **frozen.aws_env())
    command = [aws, "ec2", "describe-snapshots", "--endpoint-url", frozen.ec2_url, "--owner-ids", "self", "--page-size", "2", "--output", "json"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    snapshots = json.loads(completed.stdout)["Snapshots"]
    assert len(snapshots) == 3
    assert {(snapshot["State"], snapshot["Progress"]) for snapshot in snapshots} == {("pending", "50%")}
    start_times = {datetime.datetime.fromisoformat(snapshot["StartTime"].replace("Z", "+00:00")) for snapshot in snapshots}
    assert len(start_times) == 1
    assert len([entry for entry in frozen.journal(action="DescribeSnapshots") if entry["status"] == 200]) == 2  # two pages


def test_date_header_is_the_simulated_clock(frozen, ec2):
    frozen.advance(86400 * 30)
    response = ec2.describe_snapshots(OwnerIds=["self"])
    server_time = email.utils.parsedate_to_datetime(response["ResponseMetadata"]["HTTPHeaders"]["date"])
    simulated = datetime.datetime.fromisoformat(frozen.clock()["now"].replace("Z", "+00:00"))
    server_time = server_time.replace(tzinfo=server_time.tzinfo or datetime.timezone.utc)
    assert abs((server_time - simulated).total_seconds()) < 2
