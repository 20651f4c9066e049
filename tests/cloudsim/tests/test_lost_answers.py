# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ``processed`` fault is a lost answer: the service carries the call out, the client only sees the error."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import botocore.exceptions
import pytest
from openstack import exceptions

from cloudsim.ec2.testing import past_visibility_delay
from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import
from conftest import make_ec2_client


def test_ec2_create_is_carried_out_and_answered_with_the_fault(fresh):
    volume_id = fresh.seed_instance(volumes=[{"size": 8}])["volumes"][0]["volume_id"]
    fresh.inject_fault("ec2", "CreateSnapshot", "InternalError", status=500, processed=True)
    client = make_ec2_client(fresh, total_attempts=1)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.create_snapshot(VolumeId=volume_id)
    assert excinfo.value.response["Error"]["Code"] == "InternalError"
    past_visibility_delay(fresh)  # carried out: EC2 lists it once its visibility delay has passed
    made = client.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume_id]}])["Snapshots"]
    assert len(made) == 1
    assert [entry["status"] for entry in fresh.journal(action="CreateSnapshot")] == [500]


def test_a_fault_that_is_not_processed_changes_nothing(fresh):
    volume_id = fresh.seed_instance(volumes=[{"size": 8}])["volumes"][0]["volume_id"]
    fresh.inject_fault("ec2", "CreateSnapshot", "InternalError", status=500)
    client = make_ec2_client(fresh, total_attempts=1)
    with pytest.raises(botocore.exceptions.ClientError):
        client.create_snapshot(VolumeId=volume_id)
    assert client.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume_id]}])["Snapshots"] == []


def test_lightsail_create_is_carried_out_and_answered_with_the_fault(lightsail_frozen, lightsail):
    lightsail_frozen.seed_lightsail_instance("web-1")
    lightsail_frozen.inject_fault("lightsail", "CreateInstanceSnapshot", "ServiceException", status=500, processed=True)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        lightsail.create_instance_snapshot(instanceName="web-1", instanceSnapshotName="web-1-snap")
    assert excinfo.value.response["Error"]["Code"] == "ServiceException"
    assert lightsail.get_instance_snapshot(instanceSnapshotName="web-1-snap")["instanceSnapshot"]["fromInstanceName"] == "web-1"


def test_cinder_create_is_carried_out_and_answered_with_the_fault(openstack_frozen, openstack_conn):
    volume_id = openstack_frozen.seed_server(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    openstack_frozen.inject_fault("volume", "createSnapshot", "computeFault", status=500, processed=True)
    with pytest.raises(exceptions.HttpException) as excinfo:
        openstack_conn.block_storage.create_snapshot(volume_id=volume_id, name="lost", force=True)
    assert excinfo.value.status_code == 500
    assert [snapshot.name for snapshot in openstack_conn.block_storage.snapshots(volume_id=volume_id)] == ["lost"]
