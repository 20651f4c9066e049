# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.os_instance_state through real playbook runs: on both OpenStack backends where no simulated time or
injected fault is needed, on the simulator for Nova's 409 answers."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

from _openstack import mutating_calls
from _openstack import openstack_real  # noqa: F401  pylint: disable=unused-import
from _openstack import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _openstack import os_backend  # noqa: F401  pylint: disable=unused-import
from _openstack import os_conn  # noqa: F401  pylint: disable=unused-import
from _openstack import os_module
from _openstack import os_task
from _openstack import sim  # noqa: F401  pylint: disable=unused-import
from conftest import documented_return

MODULE = "os_instance_state"
# The stop mark's key, the same on every cloud (docs/reliability.md).
MARK = "snapkit:stopped-for-snapshot"


def power(register, server, state, **params):
    return os_task(MODULE, register, server=server, state=state, **params)


def server_state(conn, name):
    server = conn.compute.find_server(name, ignore_missing=False)
    server = conn.compute.get_server(server.id)
    return server.status, dict(server.metadata or {})


def test_stop_and_start_with_a_stop_mark_check_mode_diff_and_rerun(os_backend, ansible, os_conn):
    os_backend.seed_server(boot="image", name="web")
    run = ansible.run([
        dict(power("stop_check", "web", "stopped", stop_mark="nightly"), check_mode=True, diff=True),
        power("stop", "web", "stopped", stop_mark="nightly"),
        power("stop_again", "web", "stopped", stop_mark="nightly"),
        dict(power("start_check", "web", "started", stop_mark="nightly"), check_mode=True),
        power("start", "web", "started", stop_mark="nightly"),
        power("start_again", "web", "started", stop_mark="nightly"),
    ])

    check = run["stop_check"]
    assert (check["changed"], check["previous_state"], check["state"], check["stop_mark_found"]) == (True, "ACTIVE", "ACTIVE", None), check
    assert check["diff"] == {"before": {"state": "ACTIVE"}, "after": {"state": "SHUTOFF"}}
    stop = run["stop"]
    assert (stop["changed"], stop["previous_state"], stop["state"]) == (True, "ACTIVE", "SHUTOFF"), stop
    assert stop["server"]["metadata"][MARK] == "nightly" and stop["server"]["task_state"] is None
    assert set(documented_return(MODULE)) == set(stop) - {"changed", "failed", "diff", "invocation"}, stop
    assert set(documented_return(MODULE)["server"]["contains"]) == set(stop["server"])
    again = run["stop_again"]
    assert (again["changed"], again["previous_state"], again["stop_mark_found"]) == (False, "SHUTOFF", "nightly"), again
    assert (run["start_check"]["changed"], run["start_check"]["state"]) == (True, "SHUTOFF")
    start = run["start"]
    assert (start["changed"], start["previous_state"], start["state"], start["stop_mark_found"]) == (True, "SHUTOFF", "ACTIVE", "nightly")
    assert MARK not in start["server"]["metadata"]
    assert (run["start_again"]["changed"], run["start_again"]["stop_mark_found"]) == (False, None)
    assert server_state(os_conn, "web") == ("ACTIVE", {})
    if os_backend.journaled:
        calls = [(entry["action"], entry["status"]) for entry in os_backend.journal(service="compute") if entry["action"] in
                 ("updateServerMetadata", "os-stop", "os-start", "deleteServerMetadataItem")]
        assert calls == [("updateServerMetadata", 200), ("os-stop", 202), ("os-start", 202), ("deleteServerMetadataItem", 204)], calls


def test_another_runs_mark_is_left_alone_and_a_stale_own_mark_removed(os_backend, ansible, os_conn):
    os_backend.seed_server(boot="image", name="held", state="SHUTOFF", metadata={MARK: "someone-else"})
    os_backend.seed_server(boot="image", name="stale", metadata={MARK: "nightly", "owner": "ops"})
    os_backend.seed_server(boot="image", name="owned", state="SHUTOFF")
    run = ansible.run([
        power("held_stop", "held", "stopped", stop_mark="nightly"),
        power("stale_start", "stale", "started", stop_mark="nightly"),
        power("owned_stop", "owned", "stopped", stop_mark="nightly"),
    ])

    held = run["held_stop"]
    assert (held["changed"], held["stop_mark_found"]) == (False, "someone-else"), held
    assert any("someone-else" in warning and "left stopped" in warning for warning in held.get("warnings", [])), held
    stale = run["stale_start"]
    assert (stale["changed"], stale["stop_mark_found"], stale["state"]) == (False, "nightly", "ACTIVE"), stale
    owned = run["owned_stop"]
    assert (owned["changed"], owned["previous_state"], owned["stop_mark_found"]) == (False, "SHUTOFF", None), owned
    assert server_state(os_conn, "held") == ("SHUTOFF", {MARK: "someone-else"})
    assert server_state(os_conn, "stale") == ("ACTIVE", {"owner": "ops"})
    assert server_state(os_conn, "owned") == ("SHUTOFF", {}), "found stopped without a mark: not marked, not ours"


def test_bad_input_is_refused_before_any_api_call(sim, ansible):
    sim.seed_server(boot="image", name="web")
    sim.clear_journal()
    run = ansible.run([power("empty", "web", "stopped", stop_mark=""), power("long", "web", "stopped", stop_mark="m" * 256),
                       power("timeout", "web", "stopped", timeout=0)])

    assert run["empty"]["failed"] and "stop_mark: must not be empty" in run["empty"]["msg"], run["empty"]
    assert run["long"]["failed"] and "stop_mark: 256 characters, at most 255" in run["long"]["msg"], run["long"]
    assert run["timeout"]["failed"] and "timeout" in run["timeout"]["msg"], run["timeout"]
    assert sim.journal() == []


def test_a_start_refused_while_nova_uploads_a_snapshot_is_retried_until_the_upload_ends(sim, ansible, os_conn):
    server_id = sim.seed_server(boot="image", name="busy", state="SHUTOFF")["server_id"]
    sim.openstack_config(image_seconds_base=18000)  # 30 real seconds at 600x: longer than the playbook takes to start
    os_conn.compute.create_server_image(server_id, "busy-snap")
    sim.clear_journal()
    result = os_module(ansible, MODULE, server="busy", state="started")

    assert (result["changed"], result["previous_state"], result["state"]) == (True, "SHUTOFF", "ACTIVE"), result.get("msg")
    starts = [entry["status"] for entry in sim.journal(service="compute", action="os-start")]
    assert starts[0] == 409 and starts[-1] == 202 and set(starts[1:-1]) <= {409}, starts


def test_a_server_on_its_way_is_waited_for_and_not_sent_a_refused_call(sim, ansible, os_conn):
    sim.openstack_config(server_transition_seconds=3000)  # 5 real seconds at 600x
    starting = sim.seed_server(boot="image", name="starting", state="SHUTOFF")["server_id"]
    stopping = sim.seed_server(boot="image", name="stopping")["server_id"]
    os_conn.compute.start_server(starting)
    os_conn.compute.stop_server(stopping)
    sim.clear_journal()
    run = ansible.run([power("stop_starting", "starting", "stopped"), power("stop_stopping", "stopping", "stopped")])

    assert (run["stop_starting"]["changed"], run["stop_starting"]["state"]) == (True, "SHUTOFF"), run["stop_starting"]
    assert (run["stop_stopping"]["changed"], run["stop_stopping"]["state"]) == (False, "SHUTOFF"), run["stop_stopping"]
    assert [entry["status"] for entry in sim.journal(service="compute", action="os-stop")] == [202], "one stop, after the start ended"


def test_a_conflict_other_than_a_task_fails_at_once_with_novas_answer(sim, ansible):
    server_id = sim.seed_server(boot="image", name="locked")["server_id"]
    message = f"Instance {server_id} is locked"
    sim.inject_fault("compute", "os-stop", "conflictingRequest", status=409, message=message)
    sim.clear_journal()
    result = os_module(ansible, MODULE, server="locked", state="stopped", stop_mark="nightly")

    assert result["failed"] and message in result["msg"] and "HTTP 409" in result["msg"], result
    assert (result["previous_state"], result["stop_mark_found"]) == ("ACTIVE", None), "what was read is returned with the failure"
    assert [entry["status"] for entry in sim.journal(service="compute", action="os-stop")] == [409], "not retried"
    assert [entry["action"] for entry in mutating_calls(sim.journal())] == ["updateServerMetadata", "os-stop"]
