# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite for the role openstack_instance_snapshot with ``stop_server``: the server's power state.

* Every step of a clean run from the stop mark on refused once (403): the role fails, or carries on where the step is best effort (the stop
  mark), and the server ends as it started: ACTIVE, with no mark. Two exceptions: the start itself refused leaves the
  server SHUTOFF with its mark, and the next run of the same snapshot starts it; the mark's removal refused leaves the
  mark on the running server, and the next run removes it.
* Kill and rerun: ``ansible-playbook`` killed (SIGKILL, the whole process tree) at random points, one of them between
  the stop and the start; the rerun ends with the server ACTIVE, the mark gone and one image.
* Kill and rerun of the whole procedure on a volume-booted server (the AWX playbook's two roles: the root volume's
  Cinder snapshot with the server stopped, then the copy booted from a new volume in the original's network): killed at
  random points over every service's calls, one of them between the snapshot's creation and the copy's boot; the rerun
  ends with one snapshot, one copy, one root volume of the copy, and the original ACTIVE with no mark.
* A snapshot that fails while Nova is still uploading the stopped server's disk: the start Nova refuses meanwhile
  (409, "in task_state image_uploading") is retried until the upload ends; the server ends ACTIVE with no mark.
* The mark's other cases: a server stopped for another snapshot is left stopped (with a warning); a mark left on a
  running server is removed.
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

from _openstack import CLOUD_NAME
from _reliability import kill_points
from _reliability import kill_points_in_window
from _reliability import kill_rng  # noqa: F401  pylint: disable=unused-import
from _reliability import module_command
from _reliability import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _reliability import run_and_kill
from _reliability import run_to_the_end
from _reliability import sim  # noqa: F401  pylint: disable=unused-import
from test_reliability_openstack import DISCOVERY_STEPS
from test_reliability_openstack import FORBIDDEN
from test_reliability_openstack import fault_task
from test_reliability_openstack import steps

ROLE = "snapkit.cloud.openstack_instance_snapshot"
MARK = "snapkit:stopped-for-snapshot"
# Best effort in the role: refused, the run carries on and succeeds.
UNMARK = ("compute", "deleteServerMetadataItem")
BEST_EFFORT = {("compute", "updateServerMetadata"), UNMARK}
START = ("compute", "os-start")


def include_role(server, name, **extra):
    variables = {"openstack_instance_snapshot_server": server, "openstack_instance_snapshot_name": name,
                 "openstack_instance_snapshot_stop_server": True, "openstack_instance_snapshot_cloud": CLOUD_NAME, **extra}
    return {"name": f"Snapshot {server}", "ansible.builtin.include_role": {"name": ROLE}, "vars": variables}


def role_case(register, server, name):
    """The role in a block whose rescue keeps the failure (message, task) in a registered fact instead of ending the play."""
    failure = {"failed": True, "msg": "{{ ansible_failed_result.msg | default('') }}", "task": "{{ ansible_failed_task.name }}"}
    return [
        # ignore_errors would reach the role's tasks through the block (the conftest runner sets it on every task).
        {"name": f"Case {register}", "block": [include_role(server, name)], "ignore_errors": False,
         "rescue": [{"name": "Keep the failure", "ansible.builtin.set_fact": {"openstack_case_failure": failure}}]},
        {"name": f"Keep {register}", "register": register,
         "ansible.builtin.set_fact": {register: "{{ openstack_case_failure | default({'failed': false}, true) }}", "openstack_case_failure": ""}},
    ]


def outcome(run, register):
    return run[register]["ansible_facts"][register]


def servers(sim):
    """{name: (status, metadata)} from the control API (not journaled)."""
    return {server["name"]: (server["status"], server["metadata"]) for server in sim.openstack_state()["servers"]}


def images(sim, name):
    return [image["status"] for image in sim.openstack_state()["images"] if image["name"] == name]


def clean_run(sim, ansible):
    """The (service, action) steps and the compute calls of a clean run of the role with stop_server."""
    sim.seed_server(boot="image", name="clean-srv")
    sim.clear_journal()
    command, environment = module_command(sim, ansible, [include_role("clean-srv", "clean-snap")], "clean")
    finished = run_to_the_end(command, environment)
    assert finished.returncode == 0, finished.stdout[-3000:]
    journal = sim.journal()
    sim.clear_journal()
    assert servers(sim)["clean-srv"] == ("ACTIVE", {}) and images(sim, "clean-snap") == ["active"]
    return steps(journal), [entry for entry in journal if entry["service"] == "compute"]


def test_each_step_refused_leaves_the_server_as_it_started(sim, ansible):
    role_steps, _calls = clean_run(sim, ansible)
    assert {("compute", "updateServerMetadata"), ("compute", "os-stop"), START, UNMARK} <= set(role_steps)
    # The power state is at stake from the mark on: every step first called from there, and one read before it.
    marked = role_steps.index(("compute", "updateServerMetadata"))
    cases = [step for step in role_steps[marked - 1:] if step not in DISCOVERY_STEPS]
    tasks = []
    for number, step in enumerate(cases):
        sim.seed_server(boot="image", name=f"case{number}-srv")
        tasks += [fault_task(sim, step, FORBIDDEN), *role_case(f"case{number}", f"case{number}-srv", f"case{number}-snap")]
    run = ansible.run(tasks)

    problems = []
    state = servers(sim)
    for number, step in enumerate(cases):
        result, (status, metadata) = outcome(run, f"case{number}"), state[f"case{number}-srv"]
        expected = {START: ("SHUTOFF", {MARK: f"case{number}-snap"}), UNMARK: ("ACTIVE", {MARK: f"case{number}-snap"})}.get(step, ("ACTIVE", {}))
        if (status, metadata) != expected:
            problems.append(f"{step}: server {status} {metadata}, expected {expected}")
        if step in BEST_EFFORT and result["failed"]:
            problems.append(f"{step}: a best-effort step failed the run: {result}")
        if step not in BEST_EFFORT and not result["failed"] and images(sim, f"case{number}-snap") != ["active"]:
            problems.append(f"{step}: neither failed nor made its image: {images(sim, f'case{number}-snap')}")
    assert not problems, "\n".join(problems)
    assert sim.faults() == [], "every fault met its step"

    # The start that was refused: the next run of the same snapshot starts the server and removes the mark.
    refused_start = f"case{cases.index(START)}"
    command, environment = module_command(sim, ansible, [include_role(f"{refused_start}-srv", f"{refused_start}-snap")], "resume")
    assert run_to_the_end(command, environment).returncode == 0
    assert servers(sim)[f"{refused_start}-srv"] == ("ACTIVE", {})


def test_a_snapshot_failing_while_nova_still_uploads_it_does_not_leave_the_server_stopped(sim, ansible):
    """The image read refused right after createImage fails the snapshot while Nova is still uploading the stopped
    server's disk: Nova refuses the start with 409 "in task_state image_uploading" until the upload ends. The role
    starts the server once Nova lets it, and removes the mark (this was a race in CI: the start came too soon)."""
    sim.seed_server(boot="image", name="busy-srv")
    sim.openstack_config(image_seconds_base=6000)  # 10 real seconds at 600x: the first start is refused
    run = ansible.run([fault_task(sim, ("image", "showImage"), FORBIDDEN), *role_case("busy", "busy-srv", "busy-snap")])

    failure = outcome(run, "busy")
    assert failure["failed"] and "HTTP 403" in failure["msg"], failure
    starts = [entry["status"] for entry in sim.journal(service="compute", action="os-start")]
    assert starts[0] == 409 and starts[-1] == 202 and set(starts[1:-1]) <= {409}, starts
    assert servers(sim)["busy-srv"] == ("ACTIVE", {})
    assert images(sim, "busy-snap") == ["active"], "the image Nova was uploading is kept (the module reported it)"


def test_killed_between_stop_and_start_the_rerun_starts_the_server(sim, ansible, kill_rng):
    _steps, clean_calls = clean_run(sim, ansible)
    for point in kill_points_in_window(kill_rng, clean_calls, "os-stop", "os-start"):
        server, name = f"web{point}-srv", f"web{point}-snap"
        sim.seed_server(boot="image", name=server)
        command, environment = module_command(sim, ansible, [include_role(server, name)], f"killed-{point}")
        seen = [entry["action"] for entry in run_and_kill(sim, command, environment, "compute", point)]
        rerun = run_to_the_end(*module_command(sim, ansible, [include_role(server, name)], f"rerun-{point}"))

        assert rerun.returncode == 0, (point, seen, rerun.stdout[-3000:])
        assert servers(sim)[server] == ("ACTIVE", {}), (point, seen)
        assert images(sim, name) == ["active"], (point, seen)


def test_a_foreign_mark_is_left_alone_and_a_stale_own_mark_is_removed(sim, ansible):
    sim.seed_server(boot="image", name="held-srv", state="SHUTOFF", metadata={MARK: "someone-else"})
    sim.seed_server(boot="image", name="stale-srv", metadata={MARK: "stale-snap"})
    run = ansible.run([*role_case("held", "held-srv", "held-snap"), *role_case("stale", "stale-srv", "stale-snap")])

    assert outcome(run, "held") == {"failed": False} and outcome(run, "stale") == {"failed": False}
    assert "is left stopped" in run.output and "someone-else" in run.output
    state = servers(sim)
    assert state["held-srv"] == ("SHUTOFF", {MARK: "someone-else"})
    assert state["stale-srv"] == ("ACTIVE", {})
    assert images(sim, "held-snap") == ["active"] and images(sim, "stale-snap") == ["active"]


def snapshot_and_copy(server, name, copy):
    """The AWX playbook's procedure as two role includes: snapshot (server stopped), then the copy from its launch source."""
    copy_vars = {"openstack_launch_copy_name": copy, "openstack_launch_copy_launch_source": "{{ openstack_instance_snapshot_launch_source }}",
                 "openstack_launch_copy_cloud": CLOUD_NAME, "openstack_launch_copy_wait_for_ssh": False}
    return [include_role(server, name), {"name": f"Copy {server}", "ansible.builtin.include_role": {"name": "snapkit.cloud.openstack_launch_copy"},
                                         "vars": copy_vars}]


def made_by_the_procedure(sim, name, copy):
    """What exists of the procedure's output: snapshot states, copy server states, copy root volume states."""
    state = sim.openstack_state()
    return ([snapshot["status"] for snapshot in state["snapshots"] if snapshot["name"] == name],
            [server["status"] for server in state["servers"] if server["name"] == copy],
            [volume["status"] for volume in state["volumes"] if volume["name"] == f"{copy}-root"])


def test_volume_booted_snapshot_and_copy_killed_and_rerun(sim, ansible, kill_rng):
    sim.seed_server(boot="volume", name="clean-srv", root_size=12)
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    clean = run_to_the_end(*module_command(sim, ansible, snapshot_and_copy("clean-srv", "clean-snap", "clean-copy"), "clean"))
    assert clean.returncode == 0, clean.stdout[-3000:]
    clean_calls = sim.journal(since=since)
    actions = [entry["action"] for entry in clean_calls]
    window = range(actions.index("createSnapshot") + 1, actions.index("createServer") + 1)
    points = kill_points(kill_rng, clean_calls, besides=[kill_rng.choice(window)])
    for point in points:
        server, name, copy = f"db{point}-srv", f"db{point}-snap", f"db{point}-copy"
        sim.seed_server(boot="volume", name=server, root_size=12)
        command, environment = module_command(sim, ansible, snapshot_and_copy(server, name, copy), f"killed-{point}")
        seen = [entry["action"] for entry in run_and_kill(sim, command, environment, None, point)]
        rerun = run_to_the_end(*module_command(sim, ansible, snapshot_and_copy(server, name, copy), f"rerun-{point}"))

        assert rerun.returncode == 0, (point, seen[-5:], rerun.stdout[-3000:])
        assert made_by_the_procedure(sim, name, copy) == (["available"], ["ACTIVE"], ["in-use"]), (point, seen[-5:])
        assert servers(sim)[server] == ("ACTIVE", {}), (point, seen[-5:])
    assert len(points) >= 2
