# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection drops: a call that gets no HTTP answer (reset, or silence past the client's read timeout), on every API
simulator, through the base pipeline; with ``processed`` the call is carried out first."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from keystoneauth1 import exceptions as ksa_exceptions

from cloudsim.client import CloudSimError
from cloudsim.faults import FaultRegistry
from cloudsim.ec2.testing import past_visibility_delay
from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import
from conftest import make_ec2_client


def test_the_registry_counts_drops_among_the_faults_met():
    faults = FaultRegistry()
    faults.inject_drop("ec2", "DescribeSnapshots", "timeout", hold_seconds=3)
    faults.inject("ec2", "*", "InternalError", status=500)
    drop = faults.take("ec2", "DescribeSnapshots")
    assert (drop.drop, drop.status, drop.code, drop.hold_seconds) == ("timeout", 0, "ReadTimeout", 3.0)
    assert faults.take("ec2", "DescribeSnapshots").drop is None
    assert (faults.met, faults.dropped) == (2, 1)
    with pytest.raises(ValueError, match="drop must be one of"):
        faults.inject_drop("ec2", "*", "slow")
    with pytest.raises(ValueError, match="hold_seconds is for drop timeout only"):
        faults.inject_drop("ec2", "*", "reset", hold_seconds=3)


def test_a_drop_has_no_http_answer_to_describe(fresh):
    with pytest.raises(CloudSimError, match="leave out"):
        fresh._call("POST", "/faults", {"service": "ec2", "drop": "reset", "code": "InternalError"})  # pylint: disable=protected-access
    fault = fresh.drop_connection("ec2", "DescribeSnapshots")
    assert (fault["drop"], fault["status"], fault["code"]) == ("reset", 0, "ConnectionReset")


def test_ec2_reset_gives_no_answer_and_does_nothing(fresh):
    volume_id = fresh.seed_instance(volumes=[{"size": 8}])["volumes"][0]["volume_id"]
    dropped_before = fresh.connections_dropped()
    fresh.drop_connection("ec2", "CreateSnapshot")
    client = make_ec2_client(fresh, total_attempts=1)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client.create_snapshot(VolumeId=volume_id)
    assert client.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume_id]}])["Snapshots"] == []
    entry = fresh.journal(action="CreateSnapshot")[0]
    assert (entry["status"], entry["error_code"]) == (0, "ConnectionReset")
    assert fresh.connections_dropped() == dropped_before + 1


def test_ec2_processed_reset_is_a_lost_answer(fresh):
    volume_id = fresh.seed_instance(volumes=[{"size": 8}])["volumes"][0]["volume_id"]
    fresh.drop_connection("ec2", "CreateSnapshot", processed=True)
    client = make_ec2_client(fresh, total_attempts=1)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client.create_snapshot(VolumeId=volume_id)
    past_visibility_delay(fresh)  # carried out: EC2 lists it once its visibility delay has passed
    assert len(client.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume_id]}])["Snapshots"]) == 1


def test_ec2_timeout_answers_nothing_before_the_clients_read_timeout(fresh):
    fresh.drop_connection("ec2", "DescribeSnapshots", kind="timeout", hold_seconds=3)
    client = boto3.client("ec2", config=Config(read_timeout=0.5, retries={"total_max_attempts": 1}), **fresh.aws_client_kwargs())
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        client.describe_snapshots(OwnerIds=["self"])
    assert time.monotonic() - started < 2.5
    assert fresh.journal(action="DescribeSnapshots")[0]["error_code"] == "ReadTimeout"
    # The server is not stuck: the next call is answered while the dropped one is still held.
    assert make_ec2_client(fresh, total_attempts=1).describe_snapshots(OwnerIds=["self"])["Snapshots"] == []


def test_botocore_retries_a_dropped_read(fresh):
    fresh.drop_connection("ec2", "DescribeSnapshots", count=2)
    assert make_ec2_client(fresh, total_attempts=3).describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    assert [entry["status"] for entry in fresh.journal(action="DescribeSnapshots")] == [0, 0, 200]


def test_lightsail_processed_drop_is_carried_out(lightsail_frozen, lightsail):
    lightsail_frozen.seed_lightsail_instance("web-1")
    lightsail_frozen.drop_connection("lightsail", "CreateInstanceSnapshot", processed=True)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        lightsail.create_instance_snapshot(instanceName="web-1", instanceSnapshotName="web-1-snap")
    assert lightsail.get_instance_snapshot(instanceSnapshotName="web-1-snap")["instanceSnapshot"]["fromInstanceName"] == "web-1"
    assert lightsail_frozen.journal(action="CreateInstanceSnapshot")[0]["status"] == 0


def test_openstack_drop_is_a_connection_failure(openstack_frozen, openstack_conn):
    server_id = openstack_frozen.seed_server()["server_id"]
    openstack_conn.compute.get_server(server_id)  # authenticated before the drop
    openstack_frozen.drop_connection("compute", "showServer")
    with pytest.raises(ksa_exceptions.ConnectFailure):
        openstack_conn.compute.get_server(server_id)
    entries = openstack_frozen.journal(service="compute", action="showServer")
    assert [(entry["status"], entry["error_code"]) for entry in entries] == [(200, None), (0, "ConnectionReset")]
    assert openstack_conn.compute.get_server(server_id).id == server_id
