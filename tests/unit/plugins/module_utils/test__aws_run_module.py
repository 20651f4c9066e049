# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How run_module ends a module for each kind of failure, and how best_effort turns an AWS refusal into a warning."""

from __future__ import annotations

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import best_effort
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError


class Ended(Exception):
    """Stands for the SystemExit of exit_json/fail_json: records how the module ended."""

    def __init__(self, how, **kwargs):
        super().__init__(how)
        self.how = how
        self.kwargs = kwargs


class FakeModule:
    def __init__(self, diff=False):
        self._diff = diff
        self.params = {"wait_timeout": 30}

    def exit_json(self, **kwargs):
        raise Ended("exit", **kwargs)

    def fail_json(self, **kwargs):
        raise Ended("fail", **kwargs)

    def fail_json_aws(self, exception, **kwargs):
        raise Ended("fail_aws", exception=exception, **kwargs)


def aws_error(code="UnauthorizedOperation", message="Could not tag"):
    client_error = botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "denied"}}, "CreateTags")
    return AnsibleAWSError(message=message, exception=client_error)


def end(work, diff=False, **kwargs):
    with pytest.raises(Ended) as ended:
        run_module(FakeModule(diff), {"changed": True, "diff": {"before": {}}}, work, client=lambda module: "client", **kwargs)
    return ended.value


def raising(error):
    def work(client):
        raise error
    return work


def test_work_gets_the_client_and_its_result_is_returned_without_diff_unless_asked():
    def work(client):
        assert client == "client"
    ended = end(work)
    assert ended.how == "exit" and ended.kwargs == {"changed": True}
    assert end(work, diff=True).kwargs == {"changed": True, "diff": {"before": {}}}


def test_a_module_failure_reports_its_message_and_its_partial_result():
    ended = end(raising(ModuleFailure("half made", snapshots=["snap-1"])))
    assert ended.how == "fail"
    assert ended.kwargs == {"msg": "half made", "changed": True, "diff": {"before": {}}, "snapshots": ["snap-1"]}


@pytest.mark.parametrize("error", [InputError("instance_id: bad"), KeyError("own failure")])
def test_input_errors_and_the_modules_own_failures_report_their_message(error):
    ended = end(raising(error), failures=(KeyError,))
    assert ended.how == "fail" and ended.kwargs["msg"] == str(error)


def test_a_wait_error_names_the_wait_timeout_or_the_modules_own_wording():
    assert end(raising(WaitError("still pending", []))).kwargs["msg"] == "Gave up after wait_timeout=30 seconds: still pending"
    assert end(raising(WaitError("still pending", [])), gave_up="Gave up waiting: {error}").kwargs["msg"] == "Gave up waiting: still pending"


def test_an_aws_error_goes_to_fail_json_aws_with_the_subject_first():
    error = aws_error()
    ended = end(raising(error), subject="Instance db")
    assert ended.how == "fail_aws" and ended.kwargs["msg"] == "Instance db: Could not tag"
    assert ended.kwargs["exception"] is error.exception
    assert end(raising(error)).kwargs["msg"] == "Could not tag"


def test_best_effort_turns_an_aws_refusal_into_a_warning_with_the_error_code():
    warnings = []
    assert best_effort(warnings, lambda: None, "Could not tag") is True and warnings == []

    def refused():
        raise aws_error()
    assert best_effort(warnings, refused, "Could not tag i-1") is False
    assert best_effort(warnings, refused, lambda code: f"No tag ({code}): a re-run will not know") is False
    assert warnings == ["Could not tag i-1 (UnauthorizedOperation)", "No tag (UnauthorizedOperation): a re-run will not know"]


def test_best_effort_lets_other_errors_through():
    def broken():
        raise ValueError("a bug")
    with pytest.raises(ValueError):
        best_effort([], broken, "anything")
