# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.lightsail_snapshot through real playbook runs against the local Lightsail cloud."""

from __future__ import annotations

import pytest

from cloudsim.client import CloudSim
from cloudsim.testing import FAST_SPEED
from conftest import documented_return
from conftest import mutating_calls
from test_lightsail_modules import resume_clock_after_first

MODULE = "lightsail_snapshot"


@pytest.fixture(scope="session")
def ec2_and_lightsail():
    """One cloudsim for this file running both services (the shared ``cloud`` runs EC2 only)."""
    with CloudSim.start(speed=FAST_SPEED, services=("ec2", "lightsail")) as running:
        yield running


@pytest.fixture
def sim(ec2_and_lightsail):  # pylint: disable=redefined-outer-name
    """Overrides conftest's ``sim``, so that conftest's ``ansible`` runner uses this cloud."""
    ec2_and_lightsail.reset(speed=FAST_SPEED)
    return ec2_and_lightsail


def snapshot_module(sim, ansible, check=False, diff=False, **params):  # pylint: disable=redefined-outer-name
    """Run the module once; the endpoint is Lightsail's (the runner's module_defaults point at EC2)."""
    return ansible.module(MODULE, check=check, diff=diff, endpoint_url=sim.lightsail_url, **params)


def calls(sim, action=None):  # pylint: disable=redefined-outer-name
    return sim.journal(service="lightsail", action=action)


def actions(sim, action=None):  # pylint: disable=redefined-outer-name
    return [entry["action"] for entry in calls(sim, action)]


def assert_documented_snapshot(result):
    documented = documented_return(MODULE)["snapshot"]["contains"]
    assert set(result["snapshot"]) == set(documented), result["snapshot"]


def test_create_waits_until_available_and_returns_every_documented_key(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="web-1-snap", tags={"team": "web"})

    assert result["changed"] is True, result.get("msg")
    assert_documented_snapshot(result)
    snapshot = result["snapshot"]
    assert snapshot["name"] == "web-1-snap" and snapshot["state"] == "available"
    assert snapshot["from_instance_name"] == "web-1"
    assert snapshot["tags"] == {"team": "web"}
    assert snapshot["created_at"] and snapshot["arn"] and snapshot["location"]["region_name"]
    assert actions(sim, "CreateInstanceSnapshot") == ["CreateInstanceSnapshot"]
    assert calls(sim, "CreateInstanceSnapshot")[0]["params"]["tags"] == [{"key": "team", "value": "web"}]
    assert actions(sim, "GetOperation") == [], "the snapshot is polled, not its operation as well"


def test_rerun_is_idempotent(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    first = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="again")
    second = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="again")

    assert first["changed"] is True and second["changed"] is False, second.get("msg")
    assert actions(sim, "CreateInstanceSnapshot") == ["CreateInstanceSnapshot"]
    assert second["snapshot"] == first["snapshot"]
    assert_documented_snapshot(second)


def test_existing_snapshot_gets_missing_tags(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="tagged", tags={"a": "1"})
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="tagged", tags={"b": "2"})

    assert result["changed"] is True, result.get("msg")
    assert result["snapshot"]["tags"] == {"a": "1", "b": "2"}
    assert actions(sim, "TagResource") == ["TagResource"]
    assert actions(sim, "CreateInstanceSnapshot") == ["CreateInstanceSnapshot"]


def test_same_name_from_another_instance_is_an_error(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.seed_lightsail_instance("web-2")
    snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="shared")
    result = snapshot_module(sim, ansible, instance_name="web-2", snapshot_name="shared")

    assert result.get("failed") is True
    assert "web-1" in result["msg"] and "web-2" in result["msg"] and "shared" in result["msg"]
    assert result["changed"] is False
    assert result["snapshot"]["from_instance_name"] == "web-1"
    assert actions(sim, "CreateInstanceSnapshot") == ["CreateInstanceSnapshot"]


def test_snapshot_in_error_fails_the_task(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.fail_lightsail_snapshot("web-1")
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="broken")

    assert result.get("failed") is True
    assert "broken" in result["msg"] and "error" in result["msg"]
    assert result["snapshot"]["state"] == "error"
    assert_documented_snapshot(result)
    assert actions(sim, "GetOperation") == ["GetOperation"], "the failed operation is read once, for its error details"
    rerun = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="broken")
    assert rerun.get("failed") is True and "error" in rerun["msg"], "an existing snapshot in error fails as well"


def test_automatic_snapshot_in_progress_is_retried_until_it_ends(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.start_lightsail_auto_snapshot("web-1", seconds=600)
    # The clock stands still until the first (refused) call: however slow ansible-playbook starts, it is refused.
    sim.set_speed(0)
    watcher = resume_clock_after_first(sim, "CreateInstanceSnapshot")
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="after-auto")
    watcher.join()

    assert result["changed"] is True, result.get("msg")
    assert result["snapshot"]["state"] == "available"
    creates = calls(sim, "CreateInstanceSnapshot")
    assert len(creates) >= 2
    assert creates[0]["error_code"] == "OperationFailureException"
    assert creates[-1]["error_code"] is None


def test_automatic_snapshot_that_outlasts_wait_timeout_fails_with_a_tip(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.start_lightsail_auto_snapshot("web-1", seconds=10 ** 7)
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="blocked", wait_timeout=3)

    assert result.get("failed") is True
    assert "automatic snapshot" in result["msg"] and "Tip" in result["msg"]
    assert result["snapshot"] == {}


def test_wait_false_returns_the_pending_snapshot(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.lightsail_config(snapshot_seconds_base=10 ** 6)
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="nowait", wait=False)

    assert result["changed"] is True, result.get("msg")
    assert result["snapshot"]["state"] == "pending"
    assert result["snapshot"]["name"] == "nowait"
    assert_documented_snapshot(result)
    assert actions(sim, "GetOperation") == []


def test_delete_waits_until_gone_and_a_second_delete_changes_nothing(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    created = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="doomed")
    deleted = snapshot_module(sim, ansible, state="absent", snapshot_name="doomed")
    again = snapshot_module(sim, ansible, state="absent", snapshot_name="doomed")

    assert deleted["changed"] is True, deleted.get("msg")
    assert deleted["snapshot"] == created["snapshot"], "delete returns the snapshot as it was"
    journal = calls(sim)
    delete_seq = [e["seq"] for e in journal if e["action"] == "DeleteInstanceSnapshot"]
    assert len(delete_seq) == 1
    gone_after = [e for e in journal if e["action"] == "GetInstanceSnapshot" and e["seq"] > delete_seq[0]]
    assert gone_after and gone_after[0]["error_code"] == "NotFoundException"
    assert again["changed"] is False and again["snapshot"] == {}


def test_delete_refuses_a_snapshot_of_another_instance(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="keep")
    result = snapshot_module(sim, ansible, state="absent", instance_name="web-2", snapshot_name="keep")

    assert result.get("failed") is True and "web-1" in result["msg"]
    assert actions(sim, "DeleteInstanceSnapshot") == []


def test_check_mode_makes_no_mutating_call(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    create = snapshot_module(sim, ansible, check=True, diff=True, instance_name="web-1", snapshot_name="maybe", tags={"k": "v"})

    assert create["changed"] is True, create.get("msg")
    assert_documented_snapshot(create)
    assert create["snapshot"]["name"] == "maybe" and create["snapshot"]["state"] is None
    assert create["diff"]["after"] == {"name": "maybe", "from_instance_name": "web-1", "tags": {"k": "v"}}
    assert mutating_calls(calls(sim)) == []

    snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="real")
    sim.clear_journal()
    delete = snapshot_module(sim, ansible, check=True, diff=True, state="absent", snapshot_name="real")
    assert delete["changed"] is True and delete["snapshot"]["state"] == "available"
    assert delete["diff"]["after"] == {}
    assert mutating_calls(calls(sim)) == []


@pytest.mark.parametrize("name", ["a", "-leading-dash", "trailing.", "has space", "x" * 256])
def test_bad_names_are_rejected_without_any_call(sim, ansible, name):
    sim.seed_lightsail_instance("web-1")
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name=name)

    assert result.get("failed") is True
    assert "snapshot_name" in result["msg"]
    assert calls(sim) == []


def test_throttling_is_retried(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.inject_fault("lightsail", "CreateInstanceSnapshot", "ThrottlingException", status=400, count=2, message="Rate exceeded")
    sim.inject_fault("lightsail", "GetInstanceSnapshot", "ThrottlingException", status=400, count=1, message="Rate exceeded")
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="throttled")

    assert result["changed"] is True, result.get("msg")
    assert result["snapshot"]["state"] == "available"
    creates = calls(sim, "CreateInstanceSnapshot")
    assert [e["error_code"] for e in creates] == ["ThrottlingException", "ThrottlingException", None]


def test_a_new_snapshot_not_visible_yet_is_waited_for_not_reported_gone(sim, ansible):
    # Up to 1500 simulated seconds (2.5 s of real time at FAST_SPEED) before Lightsail shows the new snapshot.
    sim.lightsail_config(visibility_delay_seconds=1500, visibility_seed=3)
    sim.seed_lightsail_instance("web-1")
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="web-1-snap")
    assert result["changed"] is True and result["snapshot"]["state"] == "available", result.get("msg")
    reads = [entry["error_code"] for entry in calls(sim, "GetInstanceSnapshot")]
    assert reads[:2] == ["NotFoundException", "NotFoundException"], "the first read after the create found nothing"
    assert actions(sim, "CreateInstanceSnapshot") == ["CreateInstanceSnapshot"]


def test_a_lost_create_answer_is_adopted_once_the_snapshot_shows(sim, ansible):
    sim.lightsail_config(visibility_delay_seconds=1500, visibility_seed=3)
    sim.seed_lightsail_instance("web-1")
    sim.inject_fault("lightsail", "CreateInstanceSnapshot", "ServiceException", status=500, processed=True)
    result = snapshot_module(sim, ansible, instance_name="web-1", snapshot_name="web-1-snap")
    assert result["changed"] is True and result["snapshot"]["state"] == "available", result.get("msg")
    creates = [entry["error_code"] for entry in calls(sim, "CreateInstanceSnapshot")]
    # The retry found the name taken by the first create; the lookup waited until the snapshot showed, then adopted it.
    assert creates == ["ServiceException", "InvalidInputException"]
    assert [snapshot["name"] for snapshot in sim.lightsail_state()["instance_snapshots"]] == ["web-1-snap"]
