# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS volumes, attachments and snapshot copies in cloudsim, checked with boto3 and its waiters only."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from cloudsim.ec2.testing import consistent_ec2  # noqa: F401  pylint: disable=unused-import

FAST_WAIT = {"Delay": 0.1, "MaxAttempts": 100}
DATA = {"size": 20, "type": "gp3", "iops": 4000, "throughput": 250, "encrypted": True}


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def volume(ec2, volume_id) -> dict:
    return ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]


def zone_of(ec2, instance_id) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["Placement"]["AvailabilityZone"]


def completed_snapshot(sim, ec2, volume_id) -> str:
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    sim.advance(100000)
    return snapshot_id


@pytest.fixture
def stopped(frozen):
    return frozen.seed_instance(volumes=[{"size": 8}, DATA], state="stopped")


def test_volume_from_a_snapshot_is_creating_then_available_and_keeps_the_snapshot_key(frozen, ec2, stopped):
    frozen.ec2_config(volume_create_seconds=10)
    source = volume(ec2, stopped["volumes"][1]["volume_id"])
    snapshot_id = completed_snapshot(frozen, ec2, source["VolumeId"])
    created = ec2.create_volume(AvailabilityZone=zone_of(ec2, stopped["instance_id"]), SnapshotId=snapshot_id,
                                VolumeType="gp3", Iops=4000, Throughput=250,
                                TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v"}]}])
    assert created["State"] == "creating" and created["Size"] == 20
    assert (created["Encrypted"], created["KmsKeyId"]) == (True, source["KmsKeyId"])
    assert (created["Iops"], created["Throughput"], created["Tags"]) == (4000, 250, [{"Key": "k", "Value": "v"}])
    frozen.advance(9)
    assert volume(ec2, created["VolumeId"])["State"] == "creating"
    frozen.advance(1)
    ec2.get_waiter("volume_available").wait(VolumeIds=[created["VolumeId"]], WaiterConfig=FAST_WAIT)


def test_create_volume_rules(frozen, ec2, stopped):
    zone = zone_of(ec2, stopped["instance_id"])
    pending = ec2.create_snapshot(VolumeId=stopped["volumes"][0]["volume_id"])["SnapshotId"]
    with pytest.raises(ClientError) as excinfo:
        ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending)
    assert error_code(excinfo) == "IncorrectState" and "pending" in str(excinfo.value)
    frozen.advance(100000)
    with pytest.raises(ClientError) as excinfo:
        ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending, Size=4)
    assert error_code(excinfo) == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:
        ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending, KmsKeyId="alias/mine")
    assert error_code(excinfo) == "InvalidParameterDependency"
    with pytest.raises(ClientError) as excinfo:
        ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending, VolumeType="io2")
    assert error_code(excinfo) == "MissingParameter"
    rekeyed = ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending, Encrypted=True, KmsKeyId="alias/mine")
    assert (rekeyed["Encrypted"], rekeyed["KmsKeyId"]) == (True, "alias/mine")
    gp3 = ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending, VolumeType="gp3")
    assert (gp3["Iops"], gp3["Throughput"], gp3["Encrypted"]) == (3000, 125, False)
    # The same ClientToken answers with the same volume: a retried request makes nothing new.
    first = ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending, ClientToken="restore-1")
    again = ec2.create_volume(AvailabilityZone=zone, SnapshotId=pending, ClientToken="restore-1")
    assert first["VolumeId"] == again["VolumeId"]


def test_attach_and_detach_take_time_and_hold_the_device(frozen, ec2, stopped):
    frozen.ec2_config(volume_create_seconds=0, volume_attach_seconds=5, volume_detach_seconds=5)
    instance_id = stopped["instance_id"]
    zone = zone_of(ec2, instance_id)
    new = ec2.create_volume(AvailabilityZone=zone, Size=4)["VolumeId"]
    with pytest.raises(ClientError) as excinfo:
        ec2.attach_volume(VolumeId=new, InstanceId=instance_id, Device="/dev/sdf")
    assert error_code(excinfo) == "InvalidParameterValue" and "already in use" in str(excinfo.value)
    other_zone = next(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"] if z["ZoneName"] != zone)
    elsewhere = ec2.create_volume(AvailabilityZone=other_zone, Size=4)["VolumeId"]
    with pytest.raises(ClientError) as excinfo:
        ec2.attach_volume(VolumeId=elsewhere, InstanceId=instance_id, Device="/dev/sdg")
    assert error_code(excinfo) == "InvalidVolume.ZoneMismatch"

    assert ec2.attach_volume(VolumeId=new, InstanceId=instance_id, Device="/dev/sdg")["State"] == "attaching"
    described = volume(ec2, new)
    assert (described["State"], described["Attachments"][0]["State"]) == ("in-use", "attaching")
    frozen.advance(5)
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[new], WaiterConfig=FAST_WAIT)
    assert volume(ec2, new)["Attachments"][0]["State"] == "attached"

    data = stopped["volumes"][1]["volume_id"]
    assert ec2.detach_volume(VolumeId=data)["State"] == "detaching"
    described = volume(ec2, data)
    assert (described["State"], described["Attachments"][0]["State"]) == ("in-use", "detaching")
    with pytest.raises(ClientError) as excinfo:  # the device stays taken until the detach ends
        ec2.attach_volume(VolumeId=elsewhere, InstanceId=instance_id, Device="/dev/sdf")
    with pytest.raises(ClientError) as excinfo:
        ec2.delete_volume(VolumeId=data)
    frozen.advance(5)
    assert volume(ec2, data)["State"] == "available" and volume(ec2, data)["Attachments"] == []


def test_root_volume_detaches_only_from_a_stopped_instance(frozen, ec2):
    running = frozen.seed_instance(volumes=[{"size": 8}])
    with pytest.raises(ClientError) as excinfo:
        ec2.detach_volume(VolumeId=running["volumes"][0]["volume_id"])
    assert error_code(excinfo) == "IncorrectState" and "root volume" in str(excinfo.value)


def test_copy_is_pending_then_completed_with_the_destination_key(frozen, ec2, stopped):
    frozen.ec2_config(copy_seconds_base=100, copy_seconds_per_gib=0)
    source_id = completed_snapshot(frozen, ec2, stopped["volumes"][1]["volume_id"])
    west = boto3.client("ec2", **dict(frozen.aws_client_kwargs(), region_name="eu-west-1"))
    copy = west.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=source_id,
                              TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "a", "Value": "b"}]}])
    assert copy["Tags"] == [{"Key": "a", "Value": "b"}]
    described = west.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"][0]
    assert (described["State"], described["Progress"], described["VolumeId"]) == ("pending", "0%", "vol-ffffffff")
    assert described["VolumeSize"] == 20 and described["Encrypted"] is True
    assert ":eu-west-1:" in described["KmsKeyId"]  # KMS keys are regional: the destination's default key
    frozen.advance(50)
    assert west.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"][0]["Progress"] == "50%"
    frozen.advance(50)
    west.get_waiter("snapshot_completed").wait(SnapshotIds=[copy["SnapshotId"]], WaiterConfig=FAST_WAIT)
    rekeyed = west.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=source_id, Encrypted=True, KmsKeyId="alias/dr")
    assert west.describe_snapshots(SnapshotIds=[rekeyed["SnapshotId"]])["Snapshots"][0]["KmsKeyId"] == "alias/dr"


def test_copy_refuses_pending_sources_and_enforces_the_concurrent_copy_limit(frozen, ec2, stopped):
    frozen.ec2_config(copy_concurrent_limit=2)
    west = boto3.client("ec2", **dict(frozen.aws_client_kwargs(), region_name="eu-west-1"))
    pending = ec2.create_snapshot(VolumeId=stopped["volumes"][0]["volume_id"])["SnapshotId"]
    with pytest.raises(ClientError) as excinfo:
        west.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=pending)
    assert error_code(excinfo) == "IncorrectState"
    frozen.advance(100000)
    west.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=pending)
    west.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=pending)
    with pytest.raises(ClientError) as excinfo:
        west.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=pending)
    assert error_code(excinfo) == "ResourceLimitExceeded"
    # The limit is per destination Region.
    ec2.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=pending)
    frozen.advance(100000)
    west.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=pending)


def test_describe_volumes_always_carries_snapshot_id_and_multi_attach(frozen, ec2):
    seeded = frozen.seed_instance(volumes=[{"size": 1}])
    volume_id = ec2.create_volume(AvailabilityZone=f"{frozen.region}a", Size=2)["VolumeId"]
    volumes = {v["VolumeId"]: v for v in ec2.describe_volumes()["Volumes"]}
    for volume in volumes.values():
        assert volume["MultiAttachEnabled"] is False and "SnapshotId" in volume, volume
    assert volumes[volume_id]["SnapshotId"] == "" and volumes[volume_id]["Attachments"] == []
    attachment = volumes[seeded["volumes"][0]["volume_id"]]["Attachments"][0]
    assert (attachment["InstanceId"], attachment["State"]) == (seeded["instance_id"], "attached")


def test_modify_volume_answers_the_whole_modification_and_follows_it_on_the_clock(frozen, ec2):
    # EBS User Guide, "Monitor the progress of volume modifications": modifying, optimizing, completed.
    frozen.ec2_config(volume_create_seconds=0, volume_modify_seconds=10, volume_optimize_seconds=90)
    volume_id = ec2.create_volume(AvailabilityZone=f"{frozen.region}a", Size=4, VolumeType="gp3")["VolumeId"]
    modification = ec2.modify_volume(VolumeId=volume_id, Size=8, Iops=4000)["VolumeModification"]
    assert {key: modification[key] for key in modification if key.startswith(("Original", "Target"))} == {
        "OriginalSize": 4, "TargetSize": 8, "OriginalIops": 3000, "TargetIops": 4000, "OriginalVolumeType": "gp3",
        "TargetVolumeType": "gp3", "OriginalThroughput": 125, "TargetThroughput": 125,
        "OriginalMultiAttachEnabled": False, "TargetMultiAttachEnabled": False}
    assert (modification["ModificationState"], modification["Progress"]) == ("modifying", 0)
    with pytest.raises(ClientError) as excinfo:
        ec2.modify_volume(VolumeId=volume_id, Size=16)
    assert excinfo.value.response["Error"]["Code"] == "IncorrectModificationState"
    frozen.advance(55)
    current = ec2.describe_volumes_modifications(VolumeIds=[volume_id])["VolumesModifications"][0]
    assert (current["ModificationState"], current["Progress"]) == ("optimizing", 55)
    assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Size"] == 8
    frozen.advance(45)
    done = ec2.describe_volumes_modifications(Filters=[{"Name": "modification-state", "Values": ["completed"]}])
    assert [(m["VolumeId"], m["Progress"]) for m in done["VolumesModifications"]] == [(volume_id, 100)]
    with pytest.raises(ClientError) as excinfo:
        ec2.modify_volume(VolumeId=volume_id, Size=2)
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_multi_attach_io2_volume_attaches_to_two_instances_and_gp3_refuses_it(frozen, ec2):
    frozen.ec2_config(volume_create_seconds=0, volume_attach_seconds=5, volume_detach_seconds=5)
    first, second = (frozen.seed_instance(volumes=[{"size": 8}])["instance_id"] for _number in range(2))
    zone = f"{frozen.region}a"
    with pytest.raises(ClientError) as excinfo:
        ec2.create_volume(AvailabilityZone=zone, Size=4, VolumeType="gp3", MultiAttachEnabled=True)
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterCombination"
    volume_id = ec2.create_volume(AvailabilityZone=zone, Size=4, VolumeType="io2", Iops=1000, MultiAttachEnabled=True)["VolumeId"]
    ec2.attach_volume(VolumeId=volume_id, InstanceId=first, Device="/dev/sdf")
    ec2.attach_volume(VolumeId=volume_id, InstanceId=second, Device="/dev/sdf")
    with pytest.raises(ClientError) as excinfo:
        ec2.attach_volume(VolumeId=volume_id, InstanceId=second, Device="/dev/sdg")
    assert excinfo.value.response["Error"]["Code"] == "VolumeInUse"
    frozen.advance(5)
    volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert volume["MultiAttachEnabled"] is True and volume["State"] == "in-use"
    assert sorted((a["InstanceId"], a["State"]) for a in volume["Attachments"]) == sorted([(first, "attached"), (second, "attached")])
    ec2.detach_volume(VolumeId=volume_id, InstanceId=second)
    frozen.advance(5)
    volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert [(a["InstanceId"], a["State"]) for a in volume["Attachments"]] == [(first, "attached")]


def test_create_volume_permissions_are_modified_described_and_reset(frozen, ec2):
    frozen.ec2_config(snapshot_seconds_base=0, snapshot_seconds_per_gib=0)
    volume_id = frozen.seed_instance(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    other = "111122223333"
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission",
                                  CreateVolumePermission={"Add": [{"UserId": other}]})
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"])
    described = ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    assert described["CreateVolumePermissions"] == [{"Group": "all"}, {"UserId": other}]
    shared = ec2.describe_snapshots(RestorableByUserIds=[other], Filters=[{"Name": "snapshot-id", "Values": [snapshot_id]}])
    assert [s["SnapshotId"] for s in shared["Snapshots"]] == [snapshot_id]
    with pytest.raises(ClientError) as excinfo:
        ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission",
                                      CreateVolumePermission={"Add": [{"Group": "everyone"}]})
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterValue"
    ec2.reset_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    assert ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")["CreateVolumePermissions"] == []
    with pytest.raises(ClientError) as excinfo:
        ec2.reset_snapshot_attribute(SnapshotId=snapshot_id, Attribute="productCodes")
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterValue"


def modification_refused(ec2, volume_id, **change) -> dict:
    with pytest.raises(ClientError) as excinfo:
        ec2.modify_volume(VolumeId=volume_id, **change)
    return excinfo.value.response["Error"]


def test_modify_volume_waits_for_the_previous_modification_and_keeps_to_four_a_rolling_day(frozen, ec2):
    # botocore's ec2 model, ModifyVolume: wait until the previous modification is completed; up to four modifications
    # in a rolling 24-hour period, else an error that says when the next one may start.
    frozen.ec2_config(volume_create_seconds=0, volume_modify_seconds=10, volume_optimize_seconds=90)
    volume_id = ec2.create_volume(AvailabilityZone=f"{frozen.region}a", Size=4, VolumeType="gp3")["VolumeId"]
    first_start = ec2.modify_volume(VolumeId=volume_id, Size=5)["VolumeModification"]["StartTime"]
    frozen.advance(10)
    error = modification_refused(ec2, volume_id, Size=6)
    assert (error["Code"], error["Message"]) == ("IncorrectModificationState",
                                                 f"Volume {volume_id} cannot be modified in modification state OPTIMIZING")
    frozen.advance(90)
    for size in (6, 7, 8):
        ec2.modify_volume(VolumeId=volume_id, Size=size)
        frozen.advance(100)
    error = modification_refused(ec2, volume_id, Size=9)
    retry_at = (first_start + datetime.timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S")
    assert error["Code"] == "VolumeModificationRateExceeded" and volume_id in error["Message"], error
    assert retry_at in error["Message"], (retry_at, error["Message"])
    frozen.advance(24 * 3600 - 4 * 100 - 1)  # one second before the first modification leaves the window
    assert modification_refused(ec2, volume_id, Size=9)["Code"] == "VolumeModificationRateExceeded"
    assert volume(ec2, volume_id)["Size"] == 8, "a refused modification changes nothing"
    assert len(ec2.describe_volumes_modifications(VolumeIds=[volume_id])["VolumesModifications"]) == 4
    frozen.advance(1)
    assert ec2.modify_volume(VolumeId=volume_id, Size=9)["VolumeModification"]["TargetSize"] == 9


def test_modify_volume_can_keep_the_older_six_hour_wait(frozen, ec2):
    # Older EC2 documentation: wait at least six hours after a modification before modifying the same volume.
    frozen.ec2_config(volume_create_seconds=0, volume_modify_seconds=10, volume_optimize_seconds=90,
                      volume_modifications_per_window=1, volume_modification_window_seconds=6 * 3600)
    volume_id = ec2.create_volume(AvailabilityZone=f"{frozen.region}a", Size=4, VolumeType="gp3")["VolumeId"]
    ec2.modify_volume(VolumeId=volume_id, Size=5)
    frozen.advance(6 * 3600 - 1)
    error = modification_refused(ec2, volume_id, VolumeType="gp2")
    assert error["Code"] == "VolumeModificationRateExceeded" and "1 in 6 hours" in error["Message"], error
    frozen.advance(1)
    assert ec2.modify_volume(VolumeId=volume_id, VolumeType="gp2")["VolumeModification"]["TargetVolumeType"] == "gp2"
