# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lightsail simulator on the wire: request validation, output shapes, errors, throttling, the AWS CLI."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from cloudsim.lightsail import actions
from cloudsim.lightsail.testing import make_lightsail_client

PARSED_TYPES = {"string": str, "boolean": bool, "integer": int, "long": int, "float": (int, float), "double": (int, float),
                "timestamp": datetime.datetime}


def output_problems(shape, value, path: str = "") -> list[str]:
    """Independent check of a botocore-parsed response against the operation's output shape."""
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            return [f"{path}: not a structure"]
        problems = [f"{path}.{name}: not in {shape.name}" for name in value if name not in shape.members]
        return problems + [problem for name, member in shape.members.items() if name in value
                           for problem in output_problems(member, value[name], f"{path}.{name}")]
    if shape.type_name == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [problem for index, item in enumerate(value) for problem in output_problems(shape.member, item, f"{path}[{index}]")]
    return scalar_problems(shape, value, path)


def scalar_problems(shape, value, path: str) -> list[str]:
    problems = []
    if isinstance(value, bool) != (shape.type_name == "boolean") or not isinstance(value, PARSED_TYPES[shape.type_name]):
        problems.append(f"{path}: {value!r} is not a {shape.type_name}")
    elif "enum" in shape.metadata and value not in shape.metadata["enum"]:
        problems.append(f"{path}: {value!r} not in enum {shape.name}")
    elif "pattern" in shape.metadata and not re.search(shape.metadata["pattern"], value):
        problems.append(f"{path}: {value!r} does not match {shape.metadata['pattern']}")
    return problems


def assert_output_valid(client, action: str, response: dict, checked: set) -> dict:
    body = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    shape = client.meta.service_model.operation_model(action).output_shape
    assert output_problems(shape, body) == [], action
    checked.add(action)
    return body


def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_every_action_answers_in_its_output_shape(lightsail_frozen, lightsail):
    cloud, client, checked = lightsail_frozen, lightsail, set()
    cloud.lightsail_config(instance_transition_seconds=30, snapshot_seconds_base=60, snapshot_seconds_per_gib=0)
    cloud.seed_lightsail_instance("web-1", tags={"env": "test"})
    cloud.seed_lightsail_instance("win-1", blueprint="windows")

    def call(action: str, **params) -> dict:
        method = getattr(client, re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower())
        return assert_output_valid(client, action, method(**params), checked)

    call("GetInstance", instanceName="web-1")
    call("GetInstances")
    call("GetInstanceState", instanceName="web-1")
    call("GetInstanceAccessDetails", instanceName="web-1")
    call("GetInstanceAccessDetails", instanceName="win-1")
    call("GetInstancePortStates", instanceName="web-1")
    port = {"fromPort": 5986, "toPort": 5986, "protocol": "tcp", "cidrs": ["192.0.2.0/24"]}
    call("OpenInstancePublicPorts", instanceName="win-1", portInfo=port)
    call("CloseInstancePublicPorts", instanceName="win-1", portInfo=port)
    call("PutInstancePublicPorts", instanceName="win-1", portInfos=[{"fromPort": 3389, "toPort": 3389, "protocol": "tcp"}])
    call("TagResource", resourceName="web-1", tags=[{"key": "owner", "value": "qa"}])
    call("UntagResource", resourceName="web-1", tagKeys=["owner"])
    call("RebootInstance", instanceName="web-1")
    operation_id = call("StopInstance", instanceName="web-1")["operations"][0]["id"]
    call("GetOperation", operationId=operation_id)
    cloud.advance(30)
    call("StartInstance", instanceName="web-1")
    call("CreateInstanceSnapshot", instanceName="win-1", instanceSnapshotName="win-1-backup", tags=[{"key": "k", "value": "v"}])
    call("GetInstanceSnapshot", instanceSnapshotName="win-1-backup")
    cloud.advance(60)
    call("GetInstanceSnapshots")
    call("CreateInstancesFromSnapshot", instanceNames=["win-2"], availabilityZone="us-east-1a", bundleId="small_win_3_0",
         instanceSnapshotName="win-1-backup")
    call("GetOperations")
    call("GetRegions", includeAvailabilityZones=True, includeRelationalDatabaseAvailabilityZones=True)
    call("GetOperationsForResource", resourceName="win-2")
    call("AllocateStaticIp", staticIpName="ip-1")
    call("AttachStaticIp", staticIpName="ip-1", instanceName="web-1")
    call("GetStaticIp", staticIpName="ip-1")
    call("GetStaticIps")
    call("DetachStaticIp", staticIpName="ip-1")
    call("ReleaseStaticIp", staticIpName="ip-1")
    call("CreateInstances", instanceNames=["web-3"], availabilityZone="us-east-1b", blueprintId="ubuntu_22_04", bundleId="nano_3_0",
         userData="#!/bin/sh\necho hi", tags=[{"key": "k", "value": "v"}])
    call("DeleteInstanceSnapshot", instanceSnapshotName="win-1-backup")
    call("DeleteInstance", instanceName="win-2")
    assert checked == set(actions.HANDLERS)


@pytest.mark.parametrize("params, fragment", [
    ({}, "missing required member 'instanceName'"),
    ({"instanceName": "web-1", "colour": "red"}, "unknown member 'colour'"),
    ({"instanceName": 7}, "expected a string"),
    ({"instanceName": "-"}, "does not match the pattern"),
    ({"instanceName": "web-1", "force": "yes"}, "expected a boolean"),
])
def test_requests_are_validated_against_the_model(lightsail_frozen, params, fragment):
    lightsail_frozen.seed_lightsail_instance("web-1")
    # Raw requests: botocore would refuse most of these itself before sending them.
    request = urllib.request.Request(lightsail_frozen.lightsail_url, data=json.dumps(params).encode(), method="POST", headers={
        "X-Amz-Target": "Lightsail_20161128.StopInstance", "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)  # pylint: disable=consider-using-with
    assert excinfo.value.code == 400
    assert excinfo.value.headers["x-amzn-ErrorType"].startswith("InvalidInputException")
    body = json.loads(excinfo.value.read())
    assert set(body) == {"__type", "code", "docs", "message", "tip"}
    assert body["__type"] == "InvalidInputException" and fragment in body["message"]
    assert lightsail_frozen.lightsail_state()["instances"][0]["state"] == "running"


def test_validation_errors_are_botocores_modelled_exceptions(lightsail_frozen, lightsail):
    lightsail_frozen.seed_lightsail_instance("web-1")
    port = {"fromPort": 70000, "toPort": 22, "protocol": "tcp"}
    with pytest.raises(lightsail.exceptions.InvalidInputException) as excinfo:
        lightsail.open_instance_public_ports(instanceName="web-1", portInfo=port)
    assert "outside" in excinfo.value.response["message"] and excinfo.value.response["code"] == "InvalidInput"
    with pytest.raises(lightsail.exceptions.InvalidInputException):
        lightsail.get_instance_access_details(instanceName="web-1", protocol="telnet")
    with pytest.raises(lightsail.exceptions.InvalidInputException) as excinfo:
        # The model's unanchored pattern finds "bad"; the service's own naming rule refuses the name.
        lightsail.create_instance_snapshot(instanceName="web-1", instanceSnapshotName="bad name!")
    assert excinfo.value.response["message"].startswith("bad name! is not a valid resource name.")
    journal = lightsail_frozen.journal(service="lightsail")
    assert [(entry["status"], entry["error_code"]) for entry in journal] == [(400, "InvalidInputException")] * 3


def test_names_are_unique_per_region_and_unknown_names_are_not_found(lightsail_frozen, lightsail):
    lightsail_frozen.seed_lightsail_instance("web-1")
    lightsail.create_instance_snapshot(instanceName="web-1", instanceSnapshotName="snap-1")
    for taken in ("snap-1", "web-1"):
        with pytest.raises(lightsail.exceptions.InvalidInputException) as excinfo:
            lightsail.create_instance_snapshot(instanceName="web-1", instanceSnapshotName=taken)
        assert excinfo.value.response["message"] == f"Some names are already in use: {taken}"
    eu_client = boto3.client("lightsail", **dict(lightsail_frozen.aws_client_kwargs("lightsail"), region_name="eu-west-1"))
    lightsail_frozen.seed_lightsail_instance("web-1", region="eu-west-1")
    eu_client.create_instance_snapshot(instanceName="web-1", instanceSnapshotName="snap-1")
    assert eu_client.get_instance_snapshot(instanceSnapshotName="snap-1")["instanceSnapshot"]["location"]["regionName"] == "eu-west-1"
    unknown_names = [
        (lightsail.get_instance, {"instanceName": "ghost"}, "The Instance does not exist: ghost"),
        (lightsail.get_instance_snapshot, {"instanceSnapshotName": "ghost"}, "The InstanceSnapshot does not exist: ghost"),
        (lightsail.stop_instance, {"instanceName": "ghost"}, "The Instance does not exist: ghost"),
        (lightsail.get_operation, {"operationId": "ghost"}, "The Operation does not exist: ghost"),
    ]
    for method, params, message in unknown_names:
        with pytest.raises(lightsail.exceptions.NotFoundException) as excinfo:
            method(**params)
        assert error_of(excinfo) == ("NotFoundException", 400) and excinfo.value.response["message"] == message


def test_throttling_is_retried_by_botocore(lightsail_frozen):
    lightsail_frozen.seed_lightsail_instance("web-1")
    lightsail_frozen.inject_fault("lightsail", "GetInstanceState", "ThrottlingException", status=400, count=1, message="Rate exceeded")
    client = make_lightsail_client(lightsail_frozen, total_attempts=3)
    response = client.get_instance_state(instanceName="web-1")
    assert response["state"]["name"] == "running" and response["ResponseMetadata"]["RetryAttempts"] == 1
    lightsail_frozen.inject_fault("lightsail", "GetInstanceState", "ThrottlingException", status=400, count=2, message="Rate exceeded")
    with pytest.raises(ClientError) as excinfo:
        make_lightsail_client(lightsail_frozen, total_attempts=1).get_instance_state(instanceName="web-1")
    assert error_of(excinfo) == ("ThrottlingException", 400)
    statuses = [entry["error_code"] for entry in lightsail_frozen.journal(action="GetInstanceState")]
    assert statuses == ["ThrottlingException", None, "ThrottlingException"]


def test_unknown_target_and_unimplemented_actions(lightsail_frozen, lightsail):
    request = urllib.request.Request(lightsail_frozen.lightsail_url, data=b"{}", method="POST", headers={
        "X-Amz-Target": "Lightsail_20161128.LaunchRocket", "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)  # pylint: disable=consider-using-with
    assert json.loads(excinfo.value.read())["__type"] == "UnknownOperationException"
    with pytest.raises(ClientError) as excinfo:
        lightsail.get_blueprints()
    assert error_of(excinfo) == ("NotImplemented", 501)


def test_aws_cli_lists_and_snapshots_instances(lightsail_frozen):
    lightsail_frozen.seed_lightsail_instance("web-1", disk_size=40)
    env = dict(os.environ, **lightsail_frozen.aws_env())
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    endpoint = ["--endpoint-url", lightsail_frozen.lightsail_url, "--output", "json"]

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run([aws, "lightsail", *args, *endpoint], env=env, capture_output=True, text=True, timeout=60, check=False)

    listed = run("get-instances")
    assert listed.returncode == 0, listed.stderr
    assert [instance["name"] for instance in json.loads(listed.stdout)["instances"]] == ["web-1"]
    created = run("create-instance-snapshot", "--instance-name", "web-1", "--instance-snapshot-name", "web-1-cli")
    assert json.loads(created.stdout)["operations"][0]["status"] == "Started"
    missing = run("get-instance", "--instance-name", "ghost")
    assert missing.returncode != 0 and "NotFoundException" in missing.stderr


def test_aws_cli_runs_the_seeds_windows_sequence(lightsail_frozen):
    """The seed's console steps, done with ``aws lightsail``: each answer parsed by the CLI from the model."""
    lightsail_frozen.lightsail_config(instance_transition_seconds=30, snapshot_seconds_base=60, snapshot_seconds_per_gib=0,
                                      windows_password_seconds=0)
    seeded = lightsail_frozen.seed_lightsail_instance("win-1", blueprint="windows")
    env = dict(os.environ, **lightsail_frozen.aws_env())
    aws = os.path.join(os.path.dirname(sys.executable), "aws")

    def run(*args) -> dict:
        done = subprocess.run([aws, "lightsail", *args, "--endpoint-url", lightsail_frozen.lightsail_url, "--output", "json"], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    assert run("stop-instance", "--instance-name", "win-1")["operations"][0]["status"] == "Started"
    assert run("get-instance-state", "--instance-name", "win-1")["state"]["name"] == "stopping"
    lightsail_frozen.advance(30)
    run("create-instance-snapshot", "--instance-name", "win-1", "--instance-snapshot-name", "win-1-backup")
    assert [s["state"] for s in run("get-instance-snapshots")["instanceSnapshots"]] == ["pending"]
    lightsail_frozen.advance(60)
    run("start-instance", "--instance-name", "win-1")
    lightsail_frozen.advance(30)
    run("open-instance-public-ports", "--instance-name", "win-1", "--port-info", "fromPort=5986,toPort=5986,protocol=tcp,cidrs=198.51.100.7/32")
    ports = run("get-instance-port-states", "--instance-name", "win-1")["portStates"]
    assert {(port["fromPort"], tuple(port["cidrs"])) for port in ports} >= {(5986, ("198.51.100.7/32",))}
    assert run("get-instance-access-details", "--instance-name", "win-1")["accessDetails"]["password"] == seeded["password"]
    run("close-instance-public-ports", "--instance-name", "win-1", "--port-info", "fromPort=5986,toPort=5986,protocol=tcp,cidrs=198.51.100.7/32")
    state = lightsail_frozen.lightsail_state()
    assert [port["fromPort"] for port in state["instances"][0]["ports"]] == [22, 3389] and state["instances"][0]["state"] == "running"
    assert [snapshot["state"] for snapshot in state["instance_snapshots"]] == ["available"]
    journaled = [entry["action"] for entry in lightsail_frozen.journal(service="lightsail")]
    assert journaled[:3] == ["StopInstance", "GetInstanceState", "CreateInstanceSnapshot"] and journaled[-1] == "CloseInstancePublicPorts"


def test_output_validator_catches_what_breaks_a_shape(lightsail):
    shape = lightsail.meta.service_model.operation_model("GetInstanceState").output_shape
    assert output_problems(shape, {"state": {"code": 16, "name": "running"}}) == []
    assert len(output_problems(shape, {"state": {"code": "16", "nam": "running"}, "extra": 1})) == 3
    snapshot_shape = lightsail.meta.service_model.operation_model("GetInstanceSnapshot").output_shape
    assert output_problems(snapshot_shape, {"instanceSnapshot": {"state": "completed", "isFromAutoSnapshot": 0}}) == [
        ".instanceSnapshot.state: 'completed' not in enum InstanceSnapshotState", ".instanceSnapshot.isFromAutoSnapshot: 0 is not a boolean"]
