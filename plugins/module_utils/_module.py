# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every snapkit.cloud module shares, whatever its cloud: the one failure type and the one way a run ends.

A module's work raises ``ModuleFailure`` (or ``InputError`` for bad input) with the whole message and what goes into the
failed result beside it; ``run_module`` ends the module with it. The cloud's module class (``_aws.SnapkitAWSModule``,
``_openstack.SnapkitOpenStackModule``) mixes in ``SnapkitModule`` and says how its SDK's own errors are reported.
"""

from __future__ import annotations

from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError


class ModuleFailure(Exception):
    """The module cannot go on: the message is the whole story, and ``result`` goes into the failed result beside it."""

    def __init__(self, msg, **result):
        super().__init__(msg)
        self.result = result


class InputError(ModuleFailure):
    """Bad input, found before any call that changes anything; the message names the field and the rule.

    Its own type for the one place that catches it to decide: ebs_fleet_snapshot fails only the set of the instance
    whose volumes' tags would not fit, not the task."""


class SnapkitModule:
    """Mixed in before the cloud's module base class: the defaults of the hooks ``run_module`` calls. The cloud's class
    adds ``api_errors()`` (its SDK's exception classes) and ``fail_api(error, result)`` (ends the module for one)."""

    def gave_up(self, error):
        """The message of a wait that gave up (a WaitError that no step turned into a ModuleFailure)."""
        return str(error)

    def fail_run(self, message, result):
        """End the module with ``message`` and ``result``."""
        self.fail_json(msg=message, **result)  # pylint: disable=no-member


def run_module(module, result, work):
    """Run ``work()``, which fills ``result``, and end the module with it (its ``diff`` only when asked for), or with the
    failure that stopped it: a ModuleFailure's message and result, a wait's ``module.gave_up(error)``, or the cloud's
    API error as ``module.fail_api`` reports it. ``result`` as it stands is returned with every failure."""
    try:
        work()
    except ModuleFailure as failure:
        result.update(failure.result)
        module.fail_run(str(failure), result)
    except WaitError as error:
        module.fail_run(module.gave_up(error), result)
    except module.api_errors() as error:  # pylint: disable=catching-non-exception
        module.fail_api(error, result)
    if not module._diff:  # pylint: disable=protected-access
        result.pop("diff", None)
    module.exit_json(**result)
