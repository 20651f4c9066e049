# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Framework pieces in-process: clock, journal, faults, EC2 wire format, and the process life cycle."""

from __future__ import annotations

import datetime
import json
import os
import time

import pytest
from botocore import parsers, serialize

from cloudsim.client import CloudSim, CloudSimError
from cloudsim.clock import SimClock, iso8601
from cloudsim.ec2 import wire
from cloudsim.ec2.snapshots import SnapshotSet, SnapshotTiming
from cloudsim.faults import FaultRegistry
from cloudsim.journal import Journal


def test_clock_runs_at_speed_and_stays_continuous_when_speed_changes():
    clock = SimClock(speed=1000)
    first = clock.time()
    time.sleep(0.05)
    second = clock.time()
    assert 30 <= second - first <= 1000  # 50 ms real at x1000 is ~50 s simulated
    clock.set_speed(0)
    frozen_at = clock.time()
    assert frozen_at >= second
    time.sleep(0.02)
    assert clock.time() == frozen_at
    clock.advance(3600)
    assert clock.time() == pytest.approx(frozen_at + 3600)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set_speed(-2)


def test_clock_now_is_utc_and_iso8601_has_milliseconds():
    clock = SimClock(speed=0, start=1700000000.1234)
    assert clock.now().tzinfo == datetime.timezone.utc
    assert iso8601(clock.now()) == "2023-11-14T22:13:20.123Z"
    assert iso8601(datetime.datetime(2024, 1, 2, 3, 4, 5, 678900)) == "2024-01-02T03:04:05.678Z"  # naive = UTC


def test_journal_filters_and_never_keeps_credentials():
    journal = Journal(SimClock(speed=0, start=0))
    journal.record("ec2", "DescribeSnapshots", {"Owner.1": "self", "X-Amz-Signature": "abc", "AWSAccessKeyId": "AKIA"}, 200)
    journal.record("ec2", "CreateSnapshots", {"InstanceSpecification.InstanceId": "i-1"}, 400, "ConcurrentSnapshotLimitExceeded")
    journal.record("lightsail", "GetInstance", {}, 200)
    first = journal.entries()[0]
    assert first["params"] == {"Owner.1": "self"}
    assert first["sim_time"] == "1970-01-01T00:00:00.000Z"
    assert [entry["seq"] for entry in journal.entries(service="ec2")] == [1, 2]
    assert journal.entries(action="CreateSnapshots")[0]["error_code"] == "ConcurrentSnapshotLimitExceeded"
    assert [entry["seq"] for entry in journal.entries(since=2)] == [3]
    journal.clear()
    journal.record("ec2", "DescribeInstances", {}, 200)
    assert [entry["seq"] for entry in journal.entries()] == [4]  # sequence numbers keep growing


def test_faults_are_consumed_in_order_and_match_wildcards():
    faults = FaultRegistry()
    faults.inject("ec2", "CreateSnapshots", "ConcurrentSnapshotLimitExceeded", status=400, count=2)
    faults.inject("ec2", "*", "RequestLimitExceeded", status=503)
    assert faults.take("ec2", "CreateSnapshots").code == "ConcurrentSnapshotLimitExceeded"
    assert faults.take("ec2", "DescribeSnapshots").code == "RequestLimitExceeded"
    assert faults.take("ec2", "DescribeSnapshots") is None
    second = faults.take("ec2", "CreateSnapshots")
    assert (second.code, second.status, second.message) == (
        "ConcurrentSnapshotLimitExceeded", 400, "Maximum allowed in-progress snapshots for a single volume exceeded.")
    assert faults.take("ec2", "CreateSnapshots") is None
    assert faults.take("lightsail", "GetInstance") is None
    with pytest.raises(ValueError):
        faults.inject("ec2", "*", "Oops", status=200)


def test_wire_parses_what_botocore_serializes():
    model = wire.service_model()
    request = {
        "InstanceSpecification": {"InstanceId": "i-0123456789abcdef0", "ExcludeBootVolume": True,
                                  "ExcludeDataVolumeIds": ["vol-0123456789abcdef0", "vol-0123456789abcdef1"]},
        "Description": "nightly",
        "TagSpecifications": [{"ResourceType": "snapshot", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]}],
        "CopyTagsFromSource": "volume",
        "DryRun": False,
    }
    serialized = serialize.create_serializer("ec2").serialize_to_request(request, model.operation_model("CreateSnapshots"))
    flat = {key: str(value) for key, value in serialized["body"].items()}
    assert wire.parse_params("CreateSnapshots", flat) == request


def test_wire_renders_what_botocore_parses():
    model = wire.service_model()
    start = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000)
    result = {"Snapshots": [{
        "SnapshotId": "snap-0123456789abcdef0", "VolumeId": "vol-0123456789abcdef0", "State": "pending", "StartTime": start,
        "Progress": "", "OwnerId": "123456789012", "VolumeSize": 8, "Description": "x & <y>", "Encrypted": False,
        "Tags": [{"Key": "k", "Value": "v"}],
    }]}
    body = wire.render_result("CreateSnapshots", result, "req-1")
    parsed = parsers.create_parser("ec2").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.operation_model("CreateSnapshots").output_shape)
    snapshot = parsed["Snapshots"][0]
    assert snapshot["StartTime"] == start.replace(tzinfo=datetime.timezone.utc)
    assert snapshot["Description"] == "x & <y>"
    assert snapshot["Progress"] == ""
    assert snapshot["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(KeyError):
        wire.render_result("CreateSnapshots", {"Snapshots": [{"NotInTheModel": 1}]}, "req-2")


def test_wire_error_document_parses_as_ec2_error():
    body = wire.render_error("RequestLimitExceeded", "Request limit exceeded.", "req-3")
    parsed = parsers.create_parser("ec2").parse({"body": body, "headers": {}, "status_code": 503}, None)
    assert parsed["Error"] == {"Code": "RequestLimitExceeded", "Message": "Request limit exceeded."}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-3"


def test_snapshot_timing_queue_and_set_failure():
    snapshot_set = SnapshotSet("i-1")
    small = SnapshotTiming("snap-a", "vol-a", start=0, work_begins=0, duration=100, snapshot_set=snapshot_set)
    big = SnapshotTiming("snap-b", "vol-b", start=0, work_begins=0, duration=1000, fail_at_progress=40, snapshot_set=snapshot_set)
    snapshot_set.timings += [small, big]
    assert (small.state_at(50), small.percent_at(50)) == ("pending", 50)
    # EC2 holds a finished member of a multi-volume set at 99% until every member is done (issue 16 item 3)
    assert (small.state_at(100), small.percent_at(100)) == ("pending", 99)
    assert (big.state_at(399), big.percent_at(399)) == ("pending", 39)
    # at 40% of the big one, every member of the set shows error
    assert (big.state_at(400), big.percent_at(400)) == ("error", 40)
    assert (small.state_at(400), small.percent_at(400)) == ("error", 99)
    assert big.state_message(400) != small.state_message(400)


def test_endpoints_file_written_and_removed_by_the_process(tmp_path):
    endpoints_file = str(tmp_path / "endpoints.json")
    cloud = CloudSim.start(speed=5, endpoints_file=endpoints_file)
    try:
        with open(endpoints_file, encoding="utf-8") as handle:
            endpoints = json.load(handle)
        assert set(endpoints) == {"control", "ec2", "region", "account_id", "speed", "pid"}
        assert endpoints["ec2"].startswith("http://127.0.0.1:")
        assert endpoints["speed"] == 5
        attached = CloudSim.attach(endpoints_file)
        assert attached.health()["services"] == ["ec2"]
    finally:
        cloud.stop()
    assert cloud.process.returncode == 0
    assert not os.path.exists(endpoints_file)


@pytest.mark.parametrize("service, setting", [("ec2", "snapshot_seconds_base"), ("lightsail", "page_size"),
                                              ("openstack", "server_build_seconds")])
def test_every_simulator_config_route_keeps_types_and_refuses_bad_settings(service, setting):
    with CloudSim.start(speed=0, services=(service,)) as sim:
        config = getattr(sim, f"{service}_config")
        before = config()
        changed = config(**{setting: 7})
        assert changed[setting] == 7 and isinstance(changed[setting], type(before[setting]))
        for bad in ({"no_such_setting": 1}, {setting: -1}):
            with pytest.raises(CloudSimError):
                config(**bad)
        assert config()[setting] == 7
