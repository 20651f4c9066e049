# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How run_module ends a module for each kind of failure, with the AWS module class and with the OpenStack one, and how
best_effort turns an AWS refusal into a warning."""

from __future__ import annotations

import types

import botocore.exceptions
import pytest
from openstack import exceptions

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import best_effort
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import SnapkitOpenStackModule
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitTimeout


class Ended(Exception):
    """Stands for the SystemExit of exit_json/fail_json: records how the module ended."""

    def __init__(self, how, **kwargs):
        super().__init__(how)
        self.how = how
        self.kwargs = kwargs


class FakeModule(SnapkitAWSModule):
    """The collection's AWS module class, its AnsibleModule replaced by the parameters and the diff flag."""

    def __init__(self, diff=False):  # pylint: disable=super-init-not-called
        self._module = types.SimpleNamespace(params={"wait_timeout": 30}, _diff=diff)

    def exit_json(self, **kwargs):
        raise Ended("exit", **kwargs)

    def fail_json(self, **kwargs):
        raise Ended("fail", **kwargs)

    def fail_json_aws(self, exception, **kwargs):
        raise Ended("fail_aws", exception=exception, **kwargs)


def aws_error(code="UnauthorizedOperation", message="Could not tag"):
    client_error = botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "denied"}}, "CreateTags")
    return AnsibleAWSError(message=message, exception=client_error)


def end(work, diff=False, subject=None, gave_up=None):
    module = FakeModule(diff)
    module.subject = subject
    module.gave_up_wording = gave_up or module.gave_up_wording
    with pytest.raises(Ended) as ended:
        run_module(module, {"changed": True, "diff": {"before": {}}}, work)
    return ended.value


def raising(error):
    def work():
        raise error
    return work


def test_the_result_is_returned_without_diff_unless_asked():
    def work():
        pass
    ended = end(work)
    assert ended.how == "exit" and ended.kwargs == {"changed": True}
    assert end(work, diff=True).kwargs == {"changed": True, "diff": {"before": {}}}


def test_a_module_failure_reports_its_message_and_its_partial_result():
    ended = end(raising(ModuleFailure("half made", snapshots=["snap-1"])))
    assert ended.how == "fail"
    assert ended.kwargs == {"msg": "half made", "changed": True, "diff": {"before": {}}, "snapshots": ["snap-1"]}


@pytest.mark.parametrize("error", [InputError("instance_id: bad"), ModuleFailure("own failure")])
def test_input_errors_and_the_modules_own_failures_report_their_message(error):
    ended = end(raising(error))
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


class FakeOpenStackModule(SnapkitOpenStackModule):
    """The collection's OpenStack module class without a cloud: ``work`` is its run()."""

    def __init__(self, work, timeout=60):  # pylint: disable=super-init-not-called
        self.params = {"timeout": timeout, "volume": "data"}
        self.ansible = types.SimpleNamespace(_diff=False)
        self.api = types.SimpleNamespace(authorize=lambda: None)
        self.result = None
        self.work = work

    def run(self):
        return self.work(self)

    def failure_context(self):
        return "Snapshot 'daily' of volume 'data'", self.params["volume"]

    def partial_result(self):
        return dict(self.result or {})

    def exit_json(self, **kwargs):  # pylint: disable=method-hidden
        raise Ended("exit", **kwargs)

    def fail_json(self, **kwargs):  # pylint: disable=method-hidden
        raise Ended("fail", **kwargs)


def end_openstack(work, **kwargs):
    with pytest.raises(Ended) as ended:
        FakeOpenStackModule(work, **kwargs)()
    return ended.value


def made_then(error):
    def work(module):
        module.result = {"changed": True, "volume": {"id": "v-1"}}
        raise error
    return work


def test_openstack_the_result_of_run_is_returned():
    ended = end_openstack(lambda module: {"changed": False, "volume_snapshots": []})
    assert ended.how == "exit" and ended.kwargs == {"changed": False, "volume_snapshots": []}


def test_openstack_a_module_failure_names_what_the_run_was_about_and_returns_what_was_made_and_its_own_result():
    ended = end_openstack(made_then(ModuleFailure("volume v-1 is 'error'", snapshot={"id": "s-1"})))
    assert ended.how == "fail"
    assert ended.kwargs == {"msg": "Snapshot 'daily' of volume 'data': volume v-1 is 'error'", "changed": True,
                            "volume": {"id": "v-1"}, "snapshot": {"id": "s-1"}}


def test_openstack_a_message_that_names_the_resource_already_is_left_as_it_is():
    assert end_openstack(made_then(InputError("volume: 'data' is not valid"))).kwargs["msg"] == "volume: 'data' is not valid"


def test_openstack_a_bad_timeout_is_refused_before_the_run():
    ended = end_openstack(made_then(AssertionError("not reached")), timeout=0)
    assert ended.kwargs == {"msg": "Snapshot 'daily' of volume 'data': timeout: must be a positive number of seconds, got 0"}


def test_openstack_a_wait_that_gave_up_and_an_sdk_error_fail_alike():
    ended = end_openstack(made_then(WaitTimeout("gave up at timeout=3 seconds", [], [])))
    assert ended.kwargs["msg"] == "Snapshot 'daily' of volume 'data': gave up at timeout=3 seconds"
    assert ended.kwargs["volume"] == {"id": "v-1"}
    ended = end_openstack(made_then(exceptions.HttpException(message="boom", details="boom", http_status=400)))
    assert ended.kwargs["msg"] == "Snapshot 'daily' of volume 'data': An OpenStack API call failed (HTTP 400): boom"
