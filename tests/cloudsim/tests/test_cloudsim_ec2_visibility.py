# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2's eventual consistency in cloudsim (EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API"): a new
snapshot, copy or volume is missing from Describe* and answers Invalid*.NotFound by id and to CreateTags for a while;
checked with boto3 only."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

DELAY = 30


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_default_settings_turn_the_delay_on(fresh):
    settings = fresh.ec2_config()
    assert settings["visibility_delay_max_seconds"] > 0 and settings["visibility_delay_min_seconds"] == 0


def test_new_set_is_invisible_by_id_in_listings_and_to_tagging_until_its_delay_passed(frozen, ec2):
    frozen.ec2_config(visibility_delay_min_seconds=DELAY, visibility_delay_max_seconds=DELAY)
    seeded = frozen.seed_instance(volumes=[{"size": 8}, {"size": 4}])
    ids = [s["SnapshotId"] for s in ec2.create_snapshots(InstanceSpecification={"InstanceId": seeded["instance_id"]})["Snapshots"]]
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_snapshots(SnapshotIds=ids[:1])
    assert error_code(excinfo) == "InvalidSnapshot.NotFound"
    assert ec2.describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": ids}])["Snapshots"] == []
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    for call in (ec2.create_tags, ec2.delete_tags):
        with pytest.raises(ClientError) as excinfo:
            call(Resources=[ids[0]], Tags=[{"Key": "k", "Value": "v"}])
        assert error_code(excinfo) == "InvalidSnapshot.NotFound"
    with pytest.raises(ClientError) as excinfo:
        ec2.delete_snapshot(SnapshotId=ids[1])
    assert error_code(excinfo) == "InvalidSnapshot.NotFound"
    assert {s["snapshot_id"] for s in frozen.ec2_state()["snapshots"]} == set(ids), "they exist all the same"

    frozen.advance(DELAY)
    ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "k", "Value": "v"}])
    described = {s["SnapshotId"]: s for s in ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]}
    assert set(described) == set(ids) and described[ids[0]]["Tags"] == [{"Key": "k", "Value": "v"}]


def test_new_volume_and_copy_are_invisible_until_their_delay_passed(frozen, ec2):
    frozen.ec2_config(visibility_delay_max_seconds=0, volume_create_seconds=0, copy_seconds_base=0, copy_seconds_per_gib=0,
                      snapshot_seconds_base=0, snapshot_seconds_per_gib=0)
    seeded = frozen.seed_instance(volumes=[{"size": 1}])
    snapshot_id = ec2.create_snapshot(VolumeId=seeded["volumes"][0]["volume_id"])["SnapshotId"]
    frozen.advance(1)
    frozen.ec2_config(visibility_delay_min_seconds=DELAY, visibility_delay_max_seconds=DELAY)
    volume_id = ec2.create_volume(AvailabilityZone=f"{frozen.region}a", SnapshotId=snapshot_id)["VolumeId"]
    copy_id = ec2.copy_snapshot(SourceRegion=frozen.region, SourceSnapshotId=snapshot_id)["SnapshotId"]
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_volumes(VolumeIds=[volume_id])
    assert error_code(excinfo) == "InvalidVolume.NotFound"
    assert volume_id not in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    with pytest.raises(ClientError) as excinfo:
        ec2.create_tags(Resources=[volume_id], Tags=[{"Key": "k", "Value": "v"}])
    assert error_code(excinfo) == "InvalidVolume.NotFound"
    with pytest.raises(ClientError) as excinfo:
        ec2.attach_volume(VolumeId=volume_id, InstanceId=seeded["instance_id"], Device="/dev/sdg")
    assert error_code(excinfo) == "InvalidVolume.NotFound"
    assert copy_id not in {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}

    frozen.advance(DELAY)
    assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["State"] == "available"
    assert ec2.describe_snapshots(SnapshotIds=[copy_id])["Snapshots"][0]["State"] == "completed"


def test_delays_are_drawn_from_a_seeded_random_so_a_run_replays(frozen):
    def visible_after():
        frozen.reset(speed=0)
        frozen.ec2_config(visibility_delay_min_seconds=0, visibility_delay_max_seconds=100, visibility_seed=7)
        client = boto3.client("ec2", **frozen.aws_client_kwargs())
        volume_id = frozen.seed_instance(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
        ids = [client.create_snapshot(VolumeId=volume_id)["SnapshotId"] for _number in range(3)]
        seen = {}
        for second in range(0, 101):
            listed = {s["SnapshotId"] for s in client.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
            for position, snapshot_id in enumerate(ids):
                if snapshot_id in listed:
                    seen.setdefault(position, second)
            frozen.advance(1)
        return [seen[position] for position in range(3)]

    first = visible_after()
    assert first == visible_after(), "the same seed, the same delays"
    assert len(set(first)) > 1, f"each resource draws its own delay: {first}"
