# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Retries and error messages of the OpenStack API wrappers."""

from __future__ import annotations

import datetime

import pytest
import requests
from keystoneauth1 import exceptions as keystone_exceptions
from openstack import exceptions

from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import CONNECTION_ATTEMPTS
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import OpenStackApi
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import RETRY_AFTER_CAP
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import asked_wait
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import retry_after_seconds
from ansible_collections.snapkit.cloud.plugins.module_utils._os_snapshot import create_unless_found
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff


def api(timeout=5):
    return OpenStackApi(conn=None, timeout=timeout, backoff=lambda: Backoff(initial=0.001, factor=1.0, cap=0.001))


def http_error(status, message="boom"):
    return exceptions.HttpException(message=message, details=message, http_status=status)


class Script:
    """Raises the scripted errors in order, then returns ``value``."""

    def __init__(self, *errors, value="done"):
        self.errors = list(errors)
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.value


@pytest.mark.parametrize("status", [409, 429, 502, 503, 504])
def test_transient_answers_are_retried(status):
    script = Script(http_error(status), http_error(status))
    assert api().call("Creating snapshot 'x' of volume v", script) == "done"
    assert script.calls == 3


@pytest.mark.parametrize("status, words", [(413, "over its quota"), (403, "over its quota"), (400, "HTTP 400")])
def test_other_answers_fail_at_once_naming_what_failed(status, words):
    script = Script(http_error(status, "SnapshotLimitExceeded"))
    with pytest.raises(ModuleFailure) as raised:
        api().call("Creating snapshot 'x' of volume v-1 (v-1, in-use)", script)
    assert script.calls == 1
    message = str(raised.value)
    assert "Creating snapshot 'x' of volume v-1" in message and f"HTTP {status}" in message and "SnapshotLimitExceeded" in message
    assert words in message


def test_transient_answers_until_the_deadline_say_so():
    script = Script(*[http_error(503)] * 1000)
    with pytest.raises(ModuleFailure, match="HTTP 503.*retry later"):
        api(timeout=0.05).call("Reading volume v", script)
    assert script.calls > 1


def test_a_retried_create_looks_first_and_makes_no_duplicate():
    made = []

    def create():
        made.append("snapshot")
        raise http_error(503)  # the snapshot was made, the answer was lost

    attempt = create_unless_found(lambda: made[0] if made else None, create)
    assert api().call("Creating snapshot", attempt) == "snapshot"
    assert made == ["snapshot"]


CONNECTION_FAILURES = [keystone_exceptions.ConnectFailure("Unable to establish connection to http://nova: Connection reset by peer"),
                       keystone_exceptions.ConnectTimeout("Request to http://nova timed out")]


@pytest.mark.parametrize("failure", CONNECTION_FAILURES, ids=lambda failure: type(failure).__name__)
def test_a_call_whose_connection_failed_is_sent_again(failure):
    script = Script(failure, failure)
    assert api().call("Reading server s-1", script) == "done"
    assert script.calls == 3


def test_a_connection_that_keeps_failing_fails_after_botocores_number_of_attempts_naming_the_call():
    script = Script(*CONNECTION_FAILURES[:1] * 10)
    with pytest.raises(ModuleFailure, match="Reading server s-1 failed.*reset by peer.*no answer in 5 attempts"):
        api(timeout=60).call("Reading server s-1", script)
    assert script.calls == CONNECTION_ATTEMPTS == 5


def test_a_discovery_that_got_no_answer_is_retried():
    def discovery_failed():
        try:
            raise CONNECTION_FAILURES[0]
        except keystone_exceptions.ConnectFailure as error:
            # As keystoneauth's generic identity plugin does: a new error raised while handling the connection failure.
            raise keystone_exceptions.DiscoveryFailure(f"Could not find versioned identity endpoints. {error}")  # pylint: disable=raise-missing-from

    calls = []

    def attempt():
        calls.append(1)
        if len(calls) < 3:
            discovery_failed()
        return "token"
    assert api().call("Authenticating with Keystone", attempt) == "token"
    assert len(calls) == 3


def test_a_tls_failure_is_not_retried():
    script = Script(keystone_exceptions.SSLError("certificate verify failed"))
    with pytest.raises(ModuleFailure):
        api().call("Reading server s-1", script)
    assert script.calls == 1


def test_a_create_whose_connection_dropped_after_the_work_looks_before_sending_again():
    made = []

    def create():
        made.append("image")
        raise CONNECTION_FAILURES[0]  # Nova made it; the connection dropped before the answer

    attempt = create_unless_found(lambda: made[0] if made else None, create)
    assert api().call("createImage", attempt) == "image"
    assert made == ["image"]


def test_the_first_attempt_does_not_look_again():
    looks = []
    attempt = create_unless_found(lambda: looks.append(1), lambda: "created")
    assert api().call("Creating", attempt) == "created"
    assert not looks


def answered(status, **headers):
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def test_the_wait_a_429_asks_for_is_read_from_its_retry_after_header():
    assert asked_wait(exceptions.HttpException(message="rate-limited", response=answered(429, **{"Retry-After": "4"}))) == 4.0
    # Header names are case-insensitive.
    assert asked_wait(exceptions.HttpException(message="rate-limited", response=answered(429, **{"retry-after": "2"}))) == 2.0
    assert asked_wait(exceptions.HttpException(message="busy", response=answered(503))) is None
    assert asked_wait(http_error(429)) is None  # no answer at all: the backoff alone


def test_the_wait_is_found_on_a_keystoneauth_cause_too():
    cause = keystone_exceptions.http.TooManyRequests(response=answered(429, **{"Retry-After": "3"}))
    try:
        try:
            raise cause
        except keystone_exceptions.ClientException as error:
            raise exceptions.SDKException("discovery failed") from error
    except exceptions.SDKException as error:
        assert asked_wait(error) == 3.0


def test_retry_after_values_seconds_dates_and_nonsense():
    now = datetime.datetime(2026, 12, 4, 12, 0, 0, tzinfo=datetime.timezone.utc)
    assert retry_after_seconds("0", now) == 0.0
    assert retry_after_seconds(" 12 ", now) == 12.0
    assert retry_after_seconds("Fri, 04 Dec 2026 12:00:45 GMT", now) == 45.0
    assert retry_after_seconds("Fri, 04 Dec 2026 11:59:00 GMT", now) == 0.0  # already past
    assert retry_after_seconds("86400", now) == RETRY_AFTER_CAP  # a misconfigured limit does not park the run
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("-5", now) is None
