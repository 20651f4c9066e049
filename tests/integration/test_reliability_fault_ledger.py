# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fault ledger counts what the reliability suite broke: faults met (not merely injected) and among them the dropped
connections, throttled answers, error states, kill points."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import json
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
import pytest

from _fault_ledger import FaultLedger
from _fault_ledger import summary


@pytest.fixture
def ledger():
    """A ledger of its own over the session's (which keeps counting underneath)."""
    own = FaultLedger()
    own.install()
    yield own
    own.uninstall()


def describe_volumes(sim):
    client = boto3.client("ec2", **sim.aws_client_kwargs(), config=botocore.config.Config(retries={"total_max_attempts": 1}))
    try:
        client.describe_volumes()
        return None
    except botocore.exceptions.ClientError as error:
        return error.response["Error"]["Code"]


def test_a_fault_counts_once_a_call_meets_it_however_it_was_injected(fresh, ledger):
    fresh.reset()  # the ledger reads the cloud's counter: what earlier tests met is counted now, not below
    before = ledger.figures()["api faults met"]
    fresh.inject_fault("ec2", "DescribeVolumes", "InternalError", status=500, count=3)
    # As a playbook task injects one: through the control API, not the client.
    request = urllib.request.Request(fresh.control_url + "/faults", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"service": "ec2", "action": "DescribeVolumes", "code": "Unavailable", "status": 503}).encode())
    urllib.request.urlopen(request, timeout=30).close()  # pylint: disable=consider-using-with
    assert [describe_volumes(fresh) for attempt in range(4)] == ["InternalError"] * 3 + ["Unavailable"]
    fresh.inject_fault("ec2", "DescribeVolumes", "InternalError", status=500)  # never met
    fresh.reset()
    assert ledger.figures()["api faults met"] - before == 4


def test_a_dropped_connection_counts_as_a_fault_met_and_as_a_drop(fresh, ledger):
    fresh.reset()
    before = ledger.figures()
    fresh.drop_connection("ec2", "DescribeVolumes", count=2)
    client = boto3.client("ec2", **fresh.aws_client_kwargs(), config=botocore.config.Config(retries={"total_max_attempts": 1}))
    for _attempt in range(2):
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            client.describe_volumes()
    fresh.reset()
    after = ledger.figures()
    assert (after["api faults met"] - before["api faults met"], after["connections dropped"] - before["connections dropped"]) == (2, 2)
    assert "(2 of them a dropped connection)" in summary([{name: after[name] - before[name] for name in after}])


def test_throttled_answers_are_read_before_the_limit_goes(fresh, ledger):
    fresh.throttle("ec2", rate=0.001, burst=1)
    codes = [describe_volumes(fresh) for attempt in range(3)]
    assert codes == [None, "RequestLimitExceeded", "RequestLimitExceeded"]
    fresh.throttle_off("ec2")
    fresh.reset()  # already counted: not again
    assert ledger.figures()["throttled answers"] == 2


def test_error_states_and_the_report_line(fresh, ledger):
    instance_id = fresh.seed_instance(volumes=[{"size": 8}])["instance_id"]
    fresh.fail_snapshots(instance_id=instance_id)
    ledger.count("kill points", 2)
    figures = ledger.figures()
    assert (figures["error states"], figures["kill points"]) == (1, 2)
    assert summary([figures, figures]).endswith("2 error states, 4 kill points")
