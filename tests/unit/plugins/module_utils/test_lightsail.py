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
