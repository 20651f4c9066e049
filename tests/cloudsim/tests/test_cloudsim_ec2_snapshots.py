# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 snapshots in cloudsim, checked with third-party clients only (boto3, its paginator and waiters)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, WaiterError

from cloudsim.ec2.testing import consistent_ec2  # noqa: F401  pylint: disable=unused-import

FAST_WAIT = {"Delay": 0.1, "MaxAttempts": 100}
# What botocore's CreateSnapshotsResult.Snapshots[] (SnapshotInfo) shape gets from real AWS.
SNAPSHOT_INFO_KEYS = {"SnapshotId", "VolumeId", "State", "StartTime", "Progress", "VolumeSize", "OwnerId", "Description", "Encrypted"}


def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def snapshot_states(ec2, snapshot_ids) -> dict:
    described = ec2.describe_snapshots(SnapshotIds=list(snapshot_ids))["Snapshots"]
    return {snapshot["SnapshotId"]: (snapshot["State"], snapshot["Progress"]) for snapshot in described}


def test_snapshot_is_pending_with_rising_progress_then_completed(frozen, ec2):
    frozen.ec2_config(snapshot_seconds_base=100, snapshot_seconds_per_gib=0)
    volume_id = frozen.seed_instance(volumes=[{"size": 8}])["volumes"][0]["volume_id"]
    created = ec2.create_snapshot(VolumeId=volume_id, Description="one")
    assert (created["State"], created["Progress"]) == ("pending", "")
    assert created["Tags"] == []  # an empty tagSet, as EC2 answers (amazon.aws.ec2_snapshot relies on it)
    snapshot_id = created["SnapshotId"]
    assert snapshot_states(ec2, [snapshot_id])[snapshot_id] == ("pending", "0%")
    frozen.advance(25)
    assert snapshot_states(ec2, [snapshot_id])[snapshot_id] == ("pending", "25%")
    frozen.advance(50)
    assert snapshot_states(ec2, [snapshot_id])[snapshot_id] == ("pending", "75%")
    frozen.advance(25)
    described = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    assert (described["State"], described["Progress"]) == ("completed", "100%")
    assert (described["CompletionTime"] - described["StartTime"]).total_seconds() == pytest.approx(100, abs=0.01)
    assert ec2.describe_snapshots(Filters=[{"Name": "status", "Values": ["pending"]}])["Snapshots"] == []


def test_duration_grows_with_volume_size(frozen, ec2):
    frozen.ec2_config(snapshot_seconds_base=60, snapshot_seconds_per_gib=30)
    seeded = frozen.seed_instance(volumes=[{"size": 2}, {"size": 10}])
    small, big = (ec2.create_snapshot(VolumeId=volume["volume_id"])["SnapshotId"] for volume in seeded["volumes"])
    frozen.advance(120)  # small: 60 + 2 * 30 = 120 s; big: 60 + 10 * 30 = 360 s
    states = snapshot_states(ec2, [small, big])
    assert states[small] == ("completed", "100%")
    assert states[big] == ("pending", "33%")


def test_create_snapshots_share_one_start_time_and_have_the_botocore_shape(frozen, ec2):
    seeded = frozen.seed_instance(volumes=[{"size": 8}, {"size": 16}, {"size": 32}])
    response = ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]}, Description="set")
    snapshots = response["Snapshots"]
    assert [snapshot["VolumeId"] for snapshot in snapshots] == [volume["volume_id"] for volume in seeded["volumes"]]
    assert all(set(snapshot) == SNAPSHOT_INFO_KEYS for snapshot in snapshots)
    assert {(snapshot["State"], snapshot["Progress"]) for snapshot in snapshots} == {("pending", "")}
    assert len({snapshot["StartTime"] for snapshot in snapshots}) == 1
    frozen.advance(5)
    described = ec2.describe_snapshots(SnapshotIds=[snapshot["SnapshotId"] for snapshot in snapshots])["Snapshots"]
    assert {snapshot["StartTime"] for snapshot in described} == {snapshots[0]["StartTime"]}
    assert {snapshot["VolumeSize"] for snapshot in described} == {8, 16, 32}


def test_exclude_boot_volume_and_data_volume_ids(fresh, ec2):
    seeded = fresh.seed_instance(volumes=[{"size": 8}, {"size": 10}, {"size": 12}])
    root, first_data, second_data = (volume["volume_id"] for volume in seeded["volumes"])
    spec = {"InstanceId": seeded["instance_id"], "ExcludeBootVolume": True, "ExcludeDataVolumeIds": [first_data]}
    snapshots = ec2.create_snapshots(InstanceSpecification=spec)["Snapshots"]
    assert [snapshot["VolumeId"] for snapshot in snapshots] == [second_data]
    data_only = ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"], "ExcludeBootVolume": True})
    assert {snapshot["VolumeId"] for snapshot in data_only["Snapshots"]} == {first_data, second_data}
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"], "ExcludeDataVolumeIds": [root]})
    assert error_of(excinfo) == ("InvalidParameterValue", 400)


def test_copy_tags_from_source_merged_with_requested_tags(fresh, ec2):
    seeded = fresh.seed_instance(volumes=[
        {"size": 8, "tags": {"Name": "root", "Team": "a"}},
        {"size": 8, "tags": {"Name": "data"}},
    ])
    response = ec2.create_snapshots(
        InstanceSpecification={"InstanceId": seeded["instance_id"]}, CopyTagsFromSource="volume",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "Team", "Value": "backup"}, {"Key": "Set", "Value": "s1"}]}],
    )
    tags = {snapshot["VolumeId"]: {tag["Key"]: tag["Value"] for tag in snapshot["Tags"]} for snapshot in response["Snapshots"]}
    root_id, data_id = (volume["volume_id"] for volume in seeded["volumes"])
    assert tags[root_id] == {"Name": "root", "Team": "backup", "Set": "s1"}
    assert tags[data_id] == {"Name": "data", "Team": "backup", "Set": "s1"}
    described = ec2.describe_snapshots(Filters=[{"Name": "tag:Name", "Values": ["data"]}])["Snapshots"]
    assert [snapshot["VolumeId"] for snapshot in described] == [data_id]
    untagged = ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]
    assert all("Tags" not in snapshot for snapshot in untagged)


def test_one_failed_snapshot_fails_the_whole_set(frozen, ec2):
    frozen.ec2_config(snapshot_seconds_base=0, snapshot_seconds_per_gib=10)
    seeded = frozen.seed_instance(volumes=[{"size": 1}, {"size": 10}, {"size": 100}])
    frozen.fail_snapshots(volume_id=seeded["volumes"][1]["volume_id"], at_progress=40)  # fails at 40 s
    snapshots = ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]
    ids = [snapshot["SnapshotId"] for snapshot in snapshots]
    frozen.advance(39)
    states = snapshot_states(ec2, ids)
    # the 1 GiB volume is done (10 s): held at 99% until the whole set is done
    assert [states[snapshot_id] for snapshot_id in ids] == [("pending", "99%"), ("pending", "39%"), ("pending", "3%")]
    frozen.advance(1)
    described = {snapshot["SnapshotId"]: snapshot for snapshot in ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]}
    assert [described[snapshot_id]["State"] for snapshot_id in ids] == ["error", "error", "error"]
    assert described[ids[1]]["Progress"] == "40%"
    assert described[ids[2]]["Progress"] == "4%"
    assert all(described[snapshot_id]["StateMessage"] for snapshot_id in ids)
    with pytest.raises(WaiterError) as excinfo:
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=ids, WaiterConfig=FAST_WAIT)
    assert "terminal failure" in str(excinfo.value)
    # the plan was used up: the next set is fine
    assert ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]
    assert frozen.ec2_state()["failure_plans"] == []


def test_multi_volume_set_is_held_at_99_percent_and_completes_together(frozen, ec2):
    # EC2 User Guide, multi-volume snapshots: the snapshots of a set stay pending at 99% until all are done.
    frozen.ec2_config(snapshot_seconds_base=0, snapshot_seconds_per_gib=10)
    seeded = frozen.seed_instance(volumes=[{"size": 1}, {"size": 4}])
    ids = [s["SnapshotId"] for s in ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]]
    frozen.advance(20)
    states = snapshot_states(ec2, ids)
    assert [states[snapshot_id] for snapshot_id in ids] == [("pending", "99%"), ("pending", "50%")]
    # the held member's volume is free: a single snapshot of it goes on at once
    single = ec2.create_snapshot(VolumeId=seeded["volumes"][0]["volume_id"])["SnapshotId"]
    frozen.advance(19)
    assert snapshot_states(ec2, ids + [single])[ids[0]] == ("pending", "99%")
    assert snapshot_states(ec2, [single])[single] == ("completed", "100%"), "10 s of work from 20 s on"
    frozen.advance(1)
    described = {s["SnapshotId"]: s for s in ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]}
    assert [(described[i]["State"], described[i]["Progress"]) for i in ids] == [("completed", "100%")] * 2
    assert described[ids[0]]["CompletionTime"] == described[ids[1]]["CompletionTime"], "completed together"


def test_failure_planned_for_an_instance_hits_a_single_snapshot_too(frozen, ec2):
    seeded = frozen.seed_instance(volumes=[{"size": 1}, {"size": 1}])
    frozen.fail_snapshots(instance_id=seeded["instance_id"], at_progress=0)
    snapshot_id = ec2.create_snapshot(VolumeId=seeded["volumes"][1]["volume_id"])["SnapshotId"]
    assert snapshot_states(ec2, [snapshot_id])[snapshot_id] == ("error", "0%")


def test_waiter_snapshot_completed_succeeds_when_the_set_completes(fresh, ec2):
    fresh.ec2_config(snapshot_seconds_base=30, snapshot_seconds_per_gib=10)  # <= 110 s simulated, ~0.2 s real
    seeded = fresh.seed_instance(volumes=[{"size": 8}, {"size": 2}])
    ids = [snapshot["SnapshotId"] for snapshot in ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=ids, WaiterConfig=FAST_WAIT)
    assert set(snapshot_states(ec2, ids).values()) == {("completed", "100%")}


def test_concurrent_snapshot_limit_is_five_per_volume(frozen, ec2):
    seeded = frozen.seed_instance(volumes=[{"size": 8, "type": "gp3"}, {"size": 8, "type": "gp2"}])
    volume_id = seeded["volumes"][0]["volume_id"]
    ids = [ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"] for _attempt in range(5)]
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshot(VolumeId=volume_id)
    assert error_of(excinfo) == ("ConcurrentSnapshotLimitExceeded", 400)
    before = len(ec2.describe_snapshots()["Snapshots"])
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})
    assert error_of(excinfo) == ("ConcurrentSnapshotLimitExceeded", 400)
    assert len(ec2.describe_snapshots()["Snapshots"]) == before  # all or nothing
    # snapshots of one volume are worked on one after the other (8 GiB: 60 + 8 * 30 = 300 s each)
    frozen.advance(150)
    states = snapshot_states(ec2, ids)
    assert [states[snapshot_id] for snapshot_id in ids] == [("pending", "50%")] + [("pending", "0%")] * 4
    frozen.advance(300)
    states = snapshot_states(ec2, ids)
    assert [states[snapshot_id] for snapshot_id in ids] == [("completed", "100%"), ("pending", "50%")] + [("pending", "0%")] * 3


def test_concurrent_snapshot_limit_is_one_for_st1_and_deleted_pending_snapshots_still_count(frozen, ec2):
    frozen.ec2_config(snapshot_seconds_base=100, snapshot_seconds_per_gib=0)
    seeded = frozen.seed_instance(volumes=[{"size": 8}, {"size": 500, "type": "st1"}])
    st1_volume = seeded["volumes"][1]["volume_id"]
    first = ec2.create_snapshot(VolumeId=st1_volume)["SnapshotId"]
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshot(VolumeId=st1_volume)
    assert error_of(excinfo) == ("ConcurrentSnapshotLimitExceeded", 400)
    ec2.delete_snapshot(SnapshotId=first)
    assert ec2.describe_snapshots()["Snapshots"] == []
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshot(VolumeId=st1_volume)
    assert error_of(excinfo) == ("ConcurrentSnapshotLimitExceeded", 400)
    frozen.advance(100)
    assert ec2.create_snapshot(VolumeId=st1_volume)["State"] == "pending"


def test_delete_snapshot_and_not_found(fresh, ec2):
    volume_id = fresh.seed_instance()["volumes"][0]["volume_id"]
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    ec2.delete_snapshot(SnapshotId=snapshot_id)
    with pytest.raises(ClientError) as excinfo:
        ec2.delete_snapshot(SnapshotId=snapshot_id)
    assert error_of(excinfo) == ("InvalidSnapshot.NotFound", 400)
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_snapshots(SnapshotIds=[snapshot_id])
    assert error_of(excinfo) == ("InvalidSnapshot.NotFound", 400)
    with pytest.raises(ClientError) as excinfo:
        ec2.delete_snapshot(SnapshotId="snap-123")
    assert error_of(excinfo) == ("InvalidSnapshotID.Malformed", 400)


def test_hibernation_enabled_instance_is_refused(fresh, ec2):
    seeded = fresh.seed_instance(volumes=[{"size": 8}, {"size": 8}], hibernation=True)
    instance = ec2.describe_instances(InstanceIds=[seeded["instance_id"]])["Reservations"][0]["Instances"][0]
    assert instance["HibernationOptions"] == {"Configured": True}
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})
    assert error_of(excinfo) == ("UnsupportedOperation", 400)
    assert excinfo.value.response["Error"]["Message"] == "Snapshots cannot be created from instances for which hibernation is enabled."
    assert ec2.describe_snapshots()["Snapshots"] == []
    assert ec2.create_snapshot(VolumeId=seeded["volumes"][1]["volume_id"])["State"] == "pending"
    launched = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1, HibernationOptions={"Configured": True})
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshots(InstanceSpecification={"InstanceId": launched["Instances"][0]["InstanceId"]})
    assert error_of(excinfo) == ("UnsupportedOperation", 400)


def test_unknown_instance_and_dry_run(fresh, ec2):
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshots(InstanceSpecification={"InstanceId": "i-0123456789abcdef0"})
    assert error_of(excinfo) == ("InvalidInstanceID.NotFound", 400)
    seeded = fresh.seed_instance(volumes=[{"size": 8}, {"size": 8}])
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]}, DryRun=True)
    assert error_of(excinfo) == ("DryRunOperation", 412)
    with pytest.raises(ClientError) as excinfo:
        ec2.create_snapshot(VolumeId=seeded["volumes"][0]["volume_id"], DryRun=True)
    assert error_of(excinfo) == ("DryRunOperation", 412)
    assert ec2.describe_snapshots()["Snapshots"] == []
    dry_runs = fresh.journal(service="ec2", action="CreateSnapshots")
    assert [(entry["status"], entry["error_code"]) for entry in dry_runs] == [(400, "InvalidInstanceID.NotFound"), (412, "DryRunOperation")]


def test_more_than_forty_volumes(fresh, ec2):
    seeded = fresh.seed_instance(volumes=[{"size": 1} for _index in range(45)])
    devices = [volume["device"] for volume in seeded["volumes"]]
    assert len(set(devices)) == 45 and devices[0] == "/dev/xvda"
    instance = ec2.describe_instances(InstanceIds=[seeded["instance_id"]])["Reservations"][0]["Instances"][0]
    assert len(instance["BlockDeviceMappings"]) == 45
    assert len(ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]) == 45


def test_paginator_walks_every_snapshot_once(frozen, ec2):
    seeded = frozen.seed_instance(volumes=[{"size": 1}, {"size": 1}, {"size": 1}])
    created = set()
    for _round in range(3):
        created |= {snapshot["SnapshotId"] for snapshot in ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]}
        frozen.advance(1)
    first_page = ec2.describe_snapshots(OwnerIds=["self"], MaxResults=5)
    assert len(first_page["Snapshots"]) == 5 and first_page["NextToken"]
    pages = list(ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"], PaginationConfig={"PageSize": 4}))
    seen = [snapshot["SnapshotId"] for page in pages for snapshot in page["Snapshots"]]
    assert [len(page["Snapshots"]) for page in pages] == [4, 4, 1]
    assert len(seen) == len(set(seen)) and set(seen) == created
    assert ec2.describe_snapshots(OwnerIds=["210987654321"])["Snapshots"] == []


def test_throttling_fault_then_success(fresh, ec2_client_factory):
    no_retries = ec2_client_factory(total_attempts=1)
    fresh.inject_fault("ec2", "DescribeSnapshots", "RequestLimitExceeded", status=503)
    with pytest.raises(ClientError) as excinfo:
        no_retries.describe_snapshots()
    assert error_of(excinfo) == ("RequestLimitExceeded", 503)
    assert no_retries.describe_snapshots()["Snapshots"] == []
    # botocore retries throttling on its own: the second attempt succeeds
    fresh.inject_fault("ec2", "*", "RequestLimitExceeded", status=503)
    retrying = ec2_client_factory(total_attempts=3)
    assert retrying.describe_snapshots()["ResponseMetadata"]["RetryAttempts"] == 1
    statuses = [entry["status"] for entry in fresh.journal(service="ec2", action="DescribeSnapshots")]
    assert statuses == [503, 200, 503, 200]
    assert fresh.faults() == []
