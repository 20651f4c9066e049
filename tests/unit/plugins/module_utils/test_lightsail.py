# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_lightsail.create_or_adopt: a create whose answer was lost is taken as this run's, a name clash is not."""

from __future__ import annotations

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.snapkit.cloud.plugins.module_utils import _lightsail as lightsail


def aws_error(code, message):
    cause = botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, "CreateInstanceSnapshot")
    return AnsibleAWSError(message=f"Failed to create: {message}", exception=cause)


def refused(error):
    def create():
        raise error
    return create


NAME_TAKEN = aws_error("InvalidInputException", "Some names are already in use: web-1-snap")


def test_an_answered_create_is_returned():
    assert lightsail.create_or_adopt(lambda: ["operation"], lambda: pytest.fail("no read after a create that answered"),
                                     lambda found: True) == ["operation"]


def test_the_name_held_by_what_this_run_asked_for_is_adopted():
    read = []
    assert lightsail.create_or_adopt(refused(NAME_TAKEN), lambda: read.append(1) or {"fromInstanceName": "web-1"},
                                     lambda found: found["fromInstanceName"] == "web-1") is None
    assert read == [1]


def test_the_name_held_by_something_else_still_fails():
    with pytest.raises(AnsibleAWSError):
        lightsail.create_or_adopt(refused(NAME_TAKEN), lambda: {"fromInstanceName": "db-1"},
                                  lambda found: found["fromInstanceName"] == "web-1")


@pytest.mark.parametrize("error", [aws_error("InvalidInputException", "The instance name is invalid"),
                                   aws_error("AccessDeniedException", "Some names are already in use: web-1-snap")])
def test_other_errors_are_not_read_as_a_lost_answer(error):
    with pytest.raises(AnsibleAWSError):
        lightsail.create_or_adopt(refused(error), lambda: pytest.fail("no read for another error"), lambda found: True)


# Connection-level failures: sent again where that is safe -----------------------------------------------------------

CONNECTION_FAILURES = [botocore.exceptions.ConnectionClosedError(endpoint_url="https://lightsail.us-east-1.amazonaws.com"),
                       botocore.exceptions.ReadTimeoutError(endpoint_url="https://lightsail.us-east-1.amazonaws.com"),
                       botocore.exceptions.EndpointConnectionError(endpoint_url="https://lightsail.us-east-1.amazonaws.com")]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda _seconds: None)


class FlakyClient:
    """A Lightsail client whose calls fail with ``failures`` first (one each), then answer; ``calls`` counts them."""

    def __init__(self, failures, state="running"):
        self.failures = list(failures)
        self.calls = []
        self.state = state

    def _answer(self, action, answer):
        self.calls.append(action)
        if self.failures:
            raise self.failures.pop(0)
        return answer

    def get_instance(self, instanceName):  # pylint: disable=invalid-name
        return self._answer("GetInstance", {"instance": {"name": instanceName, "state": {"name": self.state}}})

    def start_instance(self, instanceName):  # pylint: disable=invalid-name,unused-argument
        self.state = "pending"  # carried out, whether its answer comes back or not
        return self._answer("StartInstance", {"operations": [{"id": "op-1"}]})


@pytest.mark.parametrize("failure", CONNECTION_FAILURES, ids=lambda failure: type(failure).__name__)
def test_a_read_whose_connection_failed_is_sent_again(failure):
    client = FlakyClient([failure, failure])
    assert lightsail.get_instance(client, "web-1") == {"name": "web-1", "state": {"name": "running"}}
    assert client.calls == ["GetInstance"] * 3


def test_a_read_whose_connection_keeps_failing_fails_after_botocores_number_of_attempts():
    client = FlakyClient(CONNECTION_FAILURES[:1] * 10)
    with pytest.raises(AnsibleAWSError):
        lightsail.get_instance(client, "web-1")
    assert len(client.calls) == lightsail.CONNECTION_ATTEMPTS == 5


def test_a_start_whose_answer_was_lost_is_not_sent_again():
    client = FlakyClient(CONNECTION_FAILURES[:1], state="stopped")
    assert lightsail.start_instance(client, "web-1") == []
    assert client.calls == ["StartInstance", "GetInstance"]


def test_a_start_that_did_nothing_is_sent_again():
    client = FlakyClient(CONNECTION_FAILURES[:1], state="stopped")
    client.start_instance = lambda instanceName: client._answer("StartInstance", {"operations": [{"id": "op-2"}]})  # pylint: disable=protected-access
    assert lightsail.start_instance(client, "web-1") == [{"id": "op-2"}]
    assert client.calls == ["StartInstance", "GetInstance", "StartInstance"]
