# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite for the OpenStack modules and roles: fault matrix, kill and rerun, bad input, secrets.

The steps of each procedure are the (service, action) pairs of a clean run's journal, so a call a module starts to make
is covered without editing this file. Faults are rendered by each service in its own error format (Nova and Cinder
``{"overLimit": {...}}``, Neutron's ``NeutronError``, Keystone's ``error``) with the status codes the services use:
429 and 503 (and 500, which the modules retry a few times), a rate-limiting proxy's 429 (an HTML page, no Retry-After),
Cinder's rate limiter's 413 ``overLimitFault`` with Retry-After, 403 Forbidden or over quota, 413 OverLimit (Cinder's
snapshot quota), 404; and connection drops (no HTTP answer; a change carried out before its answer is lost).
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import collections
import datetime

from _openstack import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _openstack import os_task
from _openstack import sim  # noqa: F401  pylint: disable=unused-import
from _reliability import changes
from cloudsim.openstack.simulator import PROXY_THROTTLED
from test_reliability_bad_input import refusals_that_miss
from test_reliability_bad_input import run_catalogue

# (status, fault key) as Nova and Cinder name them (nova/api/openstack/wsgi.py Fault._fault_names, same in Cinder).
THROTTLED = (429, "overLimit")
# A rate-limiting proxy in front of the service: 429, no Retry-After (the modules back off on their own).
PROXY_THROTTLED_KIND = (429, PROXY_THROTTLED)
UNAVAILABLE = (503, "serviceUnavailable")
SERVER_ERROR = (500, "computeFault")
TRANSIENT_KINDS = [THROTTLED, PROXY_THROTTLED_KIND, UNAVAILABLE, SERVER_ERROR]
FORBIDDEN = (403, "forbidden")
OVER_LIMIT = (413, "overLimit")
NOT_FOUND = (404, "itemNotFound")
HARD_KINDS = [FORBIDDEN, OVER_LIMIT, NOT_FOUND]
# Counted for the report (printed with -s).
FAULT_COUNT = collections.Counter()
CREATE_STEPS = {("volume", "createSnapshot"), ("compute", "createImage")}


def steps(journal):
    """The (service, action) pairs of a clean run, in the order of their first call."""
    return list(dict.fromkeys((entry["service"], entry["action"]) for entry in journal))


def inject(sim, step, kind, message=None):
    service, action = step
    status, code = kind
    sim.inject_fault(service, action, code, status=status, count=1, message=message)
    return (service, action, status)


def unmet_faults(sim, injected):
    """Injected (service, action, status) that no call met: the step was not exercised."""
    met = collections.Counter((entry["service"], entry["action"], entry["status"]) for entry in sim.journal())
    return [fault for fault in injected if not met[fault]]


# Procedures: (module, parameters) on a freshly seeded resource ----------------------------------------------------------

def attached_volume(sim, label):
    sim.seed_server(boot="image", name=f"{label}-srv", volumes=[{"size": 1, "name": f"{label}-data"}])
    return "os_volume_snapshot", {"volume": f"{label}-data", "name": f"{label}-snap"}


def image_booted(sim, label):
    sim.seed_server(boot="image", name=f"{label}-srv")
    return "os_instance_snapshot", {"server": f"{label}-srv", "name": f"{label}-snap"}


def volume_booted(sim, label):
    sim.seed_server(boot="volume", name=f"{label}-srv", volumes=[{"size": 1, "name": f"{label}-data"}])
    return "os_instance_snapshot", {"server": f"{label}-srv", "name": f"{label}-snap"}


PROCEDURES = {"volume": attached_volume, "image": image_booted, "bfv": volume_booted}
MODULE_OF = {"volume": "os_volume_snapshot", "image": "os_instance_snapshot", "bfv": "os_instance_snapshot"}


def made_by(sim, label):
    """What exists for this case's snapshot name: {"images": [status], "snapshots": [status]} (control API, not journaled)."""
    state = sim.openstack_state()
    return {"images": [image["status"] for image in state["images"] if image["name"] == f"{label}-snap"],
            "snapshots": [item["status"] for item in state["snapshots"] if item["name"] == f"{label}-snap"]}


CLEAN_STEPS = {}


def clean_steps(sim, ansible, name):
    """The steps of a clean run of procedure ``name`` on a resource of its own (remembered for the other tests)."""
    if name not in CLEAN_STEPS:
        module, params = PROCEDURES[name](sim, f"clean-{name}")
        sim.clear_journal()
        run = ansible.run([os_task(module, "clean", **params)])
        assert run["clean"].get("failed") is not True, run["clean"].get("msg")
        CLEAN_STEPS[name] = steps(sim.journal())
        sim.clear_journal()
    return CLEAN_STEPS[name]


def new_steps(sim, ansible, same_code):
    """{procedure: the steps of its clean run that no earlier procedure of the same code made}: a step two procedures
    share goes through the same wrapper, and each fault costs a retry's backoff or a run of its own.
    ``same_code(procedure)`` groups the procedures whose steps count as the same."""
    seen, found = set(), {}
    for name in PROCEDURES:
        found[name] = [step for step in clean_steps(sim, ansible, name) if (same_code(name), step) not in seen]
        seen.update((same_code(name), step) for step in found[name])
    return found


# 1. Fault matrix ------------------------------------------------------------------------------------------------------

def test_transient_faults_at_every_step_are_retried_with_no_duplicate(sim, ansible):
    """429, 503 and 500 at every step (each distinct step once over the three procedures: the wrappers that retry are
    shared), the kind rotating from step to step (each retry backs off for a second or so of real time): each run ends
    with one snapshot or image, complete, and every fault was met."""
    number = 0
    for name, faulted_steps in new_steps(sim, ansible, lambda name: "any").items():
        injected = []
        for step in faulted_steps:
            injected.append(inject(sim, step, TRANSIENT_KINDS[number % len(TRANSIENT_KINDS)]))
            number += 1
        module, params = PROCEDURES[name](sim, name)
        result = ansible.run([os_task(module, "faulted", **params)])["faulted"]
        assert result.get("failed") is not True, (name, result.get("msg"))
        assert sim.faults() == [] and unmet_faults(sim, injected) == [], (name, sim.faults())
        FAULT_COUNT["transient"] += len(injected)
    assert made_by(sim, "volume") == {"images": [], "snapshots": ["available"]}
    assert made_by(sim, "image") == {"images": ["active"], "snapshots": []}
    assert made_by(sim, "bfv") == {"images": [], "snapshots": ["available"]}


def test_a_dropped_connection_at_every_step_is_retried_with_no_duplicate(sim, ansible):
    """No HTTP answer at every step (each distinct step once over the three procedures): reads dropped on the way in,
    changes (token, createSnapshot, createImage) carried out and their answer lost. Each run ends with one snapshot or
    image, complete, and every drop met its step."""
    by_procedure = new_steps(sim, ansible, lambda name: "any")
    # Snapshots and images that take longer than the retries after a lost create: the waits must still poll them.
    sim.openstack_config(snapshot_seconds_base=6000, image_seconds_base=6000)
    for name, dropped_steps in by_procedure.items():
        injected = []
        for service, action in dropped_steps:
            sim.drop_connection(service, action, processed=changes(action))
            injected.append((service, action, 0))
        module, params = PROCEDURES[name](sim, name)
        result = ansible.run([os_task(module, "dropped", **params)])["dropped"]
        assert result.get("failed") is not True, (name, result.get("msg"))
        assert sim.faults() == [] and unmet_faults(sim, injected) == [], (name, sim.faults())
        FAULT_COUNT["dropped"] += len(injected)
    assert made_by(sim, "volume") == {"images": [], "snapshots": ["available"]}
    assert made_by(sim, "image") == {"images": ["active"], "snapshots": []}
    assert made_by(sim, "bfv") == {"images": [], "snapshots": ["available"]}


def test_a_429_is_retried_no_sooner_than_its_retry_after_asks(sim, ansible):
    """Nova and Cinder say how long to wait with a 429 (``Retry-After``): the next call comes no sooner (a retry within
    the backoff's first second or two would only be refused again), and the run ends with one snapshot."""
    module, params = attached_volume(sim, "retry-after")
    sim.clear_journal()
    sim.inject_fault("volume", "createSnapshot", "overLimit", status=429, retry_after=4)
    result = ansible.run([os_task(module, "throttled", **params)])["throttled"]
    assert result.get("failed") is not True, result.get("msg")
    journal = sim.journal()
    refused = next(index for index, entry in enumerate(journal) if entry["status"] == 429)
    waited = (real_time(journal[refused + 1]) - real_time(journal[refused])).total_seconds()
    assert waited >= 3.99, f"the call after the 429 came {waited:.3f} s later; Retry-After asked for 4"
    assert made_by(sim, "retry-after") == {"images": [], "snapshots": ["available"]}
    FAULT_COUNT["transient"] += 1


def real_time(entry):
    return datetime.datetime.fromisoformat(entry["real_time"].replace("Z", "+00:00"))


# Version discovery: openstacksdk falls back to the catalog's endpoint when a service's version document fails (Keystone's
# cannot: it is retried, and refused it fails the run). Not part of the hard matrix: nothing to fail.
DISCOVERY_STEPS = {("compute", "showVersion"), ("volume", "versions"), ("image", "versions"), ("network", "versions")}
# Lookups by name try the name as an id first and take 403 or 404 there as "not an id" (openstacksdk Resource.find), then
# list by name; a flavor that cannot be found any more is reported by its name only.
BENIGN = {("compute", "showServer"): (FORBIDDEN, NOT_FOUND), ("volume", "showVolume"): (FORBIDDEN, NOT_FOUND),
          ("compute", "showFlavor"): (FORBIDDEN, NOT_FOUND), ("compute", "listFlavors"): (NOT_FOUND,)}


def hard_cases(sim, ansible):
    """[(label, module, params, step, kind)]: one hard fault per distinct step of each module, the kind rotating from
    step to step; the create steps meet each kind."""
    cases = []
    by_module = new_steps(sim, ansible, MODULE_OF.get)
    for name, module_steps in by_module.items():
        for step in module_steps:
            if step in DISCOVERY_STEPS:
                continue
            kinds = HARD_KINDS if step in CREATE_STEPS else [HARD_KINDS[len(cases) % len(HARD_KINDS)]]
            for kind in kinds:
                label = f"{name}-{len(cases)}"
                module, params = PROCEDURES[name](sim, label)
                cases.append((label, module, params, step, kind))
    return cases


def fault_task(sim, step, kind):
    """A task that injects one fault through the control API, right before the case that must meet it."""
    (service, action), (status, code) = step, kind
    return {"name": f"Inject {status} on {service} {action}", "ansible.builtin.uri": {
        "url": sim.control_url + "/faults", "method": "POST", "body_format": "json",
        "body": {"service": service, "action": action, "code": code, "status": status, "count": 1}}}


def reported(result):
    """The ids of the images and snapshots a result reports."""
    ids = {item["id"] for item in result.get("volume_snapshots") or []}
    for key in ("image", "volume_snapshot"):
        if result.get(key) and result[key].get("id"):
            ids.add(result[key]["id"])
    return ids


def made_ids(sim, label):
    state = sim.openstack_state()
    return {item["id"] for kind in ("images", "snapshots") for item in state[kind] if item["name"] == f"{label}-snap"}


def hard_fault_problems(sim, result, label, step, kind):
    """What is wrong with a case: it fails with a message naming its server or volume and the HTTP status, reporting
    whatever it made (a step whose failure is expected - discovery, a by-id lookup answered 404 - may instead succeed
    with one complete snapshot)."""
    made = made_ids(sim, label)
    if result.get("failed") is not True:
        benign = kind in BENIGN.get(step, ())
        complete = made_by(sim, label) in ({"images": ["active"], "snapshots": []}, {"images": [], "snapshots": ["available"]})
        return [] if benign and complete else [f"did not fail: {made_by(sim, label)}"]
    problems = []
    message = result["msg"]
    if f"{label}-srv" not in message and f"{label}-data" not in message:
        problems.append(f"message names neither {label}-srv nor {label}-data: {message}")
    if f"HTTP {kind[0]}" not in message and not (kind == NOT_FOUND and "not found" in message):
        problems.append(f"message does not give HTTP {kind[0]}: {message}")
    if made - reported(result):
        problems.append(f"made but not reported: {sorted(made - reported(result))}; result: {sorted(reported(result))}")
    return problems


def test_hard_faults_at_each_step_fail_naming_the_resource_and_report_what_was_made(sim, ansible):
    cases = hard_cases(sim, ansible)
    tasks = []
    for label, module, params, step, kind in cases:
        tasks += [fault_task(sim, step, kind), os_task(module, label.replace("-", "_"), **params)]
    run = ansible.run(tasks)

    problems = []
    for label, _module, _params, step, kind in cases:
        problems += [f"{label} {step} {kind[0]}: {problem}" for problem in hard_fault_problems(sim, run[label.replace("-", "_")], label, step, kind)]
    assert not problems, "\n".join(problems)
    assert sim.faults() == [], "every fault met its step"
    FAULT_COUNT["hard"] += len(cases)


# 3. Bad input --------------------------------------------------------------------------------------------------------
# (module, parameters, what the message must name); each is refused before the first API call (not even a token), on top
# of the four OpenStack cases of test_reliability_bad_input.py.

LONG = "x" * 256
BAD_INPUTS = [
    ("os_volume_snapshot", {"volume": "", "name": "snap-1"}, "volume"),
    ("os_volume_snapshot", {"volume": "data", "name": ""}, "name"),
    ("os_volume_snapshot", {"volume": "data", "name": LONG}, "name"),
    ("os_volume_snapshot", {"volume": "data", "name": "snap-1", "description": LONG}, "description"),
    ("os_volume_snapshot", {"volume": "data", "name": "snap-1", "metadata": {"": "x"}}, "metadata"),
    ("os_volume_snapshot", {"volume": "data", "name": "snap-1", "metadata": {"purpose": LONG}}, "metadata"),
    ("os_volume_snapshot", {"volume": "data", "name": "snap-1", "metadata": ["purpose"]}, "metadata"),
    ("os_volume_snapshot", {"volume": "data", "name": "snap-1", "timeout": 0}, "timeout"),
    ("os_volume_snapshot", {"volume": "data", "name": "snap-1", "force": "perhaps"}, "force"),
    ("os_volume_snapshot", {"volume": "data", "name": "snap-1", "state": "deleted"}, "state"),
    ("os_instance_snapshot", {"server": "", "name": "snap-1"}, "server"),
    ("os_instance_snapshot", {"server": "web-1", "name": "   "}, "name"),
    ("os_instance_snapshot", {"server": "web-1", "name": "snap-1", "timeout": -1}, "timeout"),
    ("os_instance_snapshot", {"server": "web-1", "name": "snap-1", "metadata": {LONG: "v"}}, "metadata"),
    # Nova's metadata key pattern, for an instance snapshot (createImage).
    ("os_instance_snapshot", {"server": "web-1", "name": "snap-1", "method": "image", "metadata": {"owner/team": "v"}}, "metadata"),
    ("os_instance_snapshot", {"server": "web-1", "name": "snap-1", "wait": "later"}, "wait"),
    ("os_volume_snapshot_info", {"status": "ready"}, "status"),
    ("os_volume_snapshot_info", {"volume": "data", "server": "web-1"}, "volume"),
    ("os_volume_snapshot_info", {"name": ""}, "name"),
]


def test_bad_input_is_refused_before_any_api_call_naming_the_field(sim, ansible):
    outcomes = run_catalogue(sim, ansible, BAD_INPUTS)
    assert refusals_that_miss(outcomes) == []
    assert sim.journal() == [], "argument checks come before the first API call, Keystone's included"


# 4. Timeouts ----------------------------------------------------------------------------------------------------------

def test_a_wait_that_outlasts_the_timeout_fails_naming_the_resource_and_reports_what_was_made(sim, ansible):
    """Snapshots and images that take days of simulated time: each module gives up at its timeout, names the volume or
    server and what it waited for, reports the snapshot or image it made, and leaves the server as it was."""
    sim.openstack_config(snapshot_seconds_base=10 ** 7, image_seconds_base=10 ** 7)
    cases = {name: PROCEDURES[name](sim, f"slow-{name}") for name in PROCEDURES}
    run = ansible.run([os_task(module, name, timeout=3, **params) for name, (module, params) in cases.items()])

    servers = {server["name"]: server["status"] for server in sim.openstack_state()["servers"]}
    for name, (module, params) in cases.items():
        result, label = run[name], f"slow-{name}"
        assert result.get("failed") is True, (name, result)
        message = result["msg"]
        assert (params.get("server") or params.get("volume")) in message and "gave up at timeout=3 seconds" in message, (name, message)
        assert made_ids(sim, label) and made_ids(sim, label) <= reported(result), (name, made_by(sim, label), result)
        assert servers[f"{label}-srv"] == "ACTIVE", (name, servers)


def test_cinders_rate_limit_413_at_every_cinder_step_is_retried_with_no_duplicate(sim, ansible):
    """Cinder's own rate limiter answers 413 ``overLimitFault`` with ``Retry-After`` (cinder/api/openstack/wsgi.py
    OverLimitFault), unlike its quota 413: at every Cinder step of the three procedures it is waited out and retried,
    and each run ends with one complete snapshot."""
    for name, faulted_steps in new_steps(sim, ansible, lambda name: "any").items():
        injected = []
        for service, action in faulted_steps:
            if service == "volume":
                sim.inject_fault(service, action, "overLimitFault", status=413, count=1, retry_after=1,
                                 message="This request was rate-limited.")
                injected.append((service, action, 413))
        module, params = PROCEDURES[name](sim, f"{name}-limited")
        result = ansible.run([os_task(module, "faulted", **params)])["faulted"]
        assert result.get("failed") is not True, (name, result.get("msg"))
        assert sim.faults() == [] and unmet_faults(sim, injected) == [], (name, sim.faults())
        FAULT_COUNT["rate_limited"] += len(injected)
    assert made_by(sim, "volume-limited") == {"images": [], "snapshots": ["available"]}
    assert made_by(sim, "bfv-limited") == {"images": [], "snapshots": ["available"]}


def test_a_run_under_cinders_own_rate_limiter_waits_out_its_413s(sim, ansible):
    """Cinder limited to bursts of 4 calls, 2 more a second (its limiter: 413 ``overLimitFault``, Retry-After): the run
    waits as asked, retries, and ends with one snapshot; a module taking such a 413 for a quota would fail. (A burst
    below a wrapper's calls would refuse its last call at every retry: openstacksdk's lookup by name makes two.)"""
    module, params = attached_volume(sim, "cinder-limiter")
    sim.clear_journal()
    sim.throttle("volume", rate=2, burst=4, scope="service")
    try:
        result = ansible.run([os_task(module, "limited", timeout=120, **params)])["limited"]
    finally:
        sim.throttle_off("volume")
    assert result.get("failed") is not True, result.get("msg")
    refused = [entry for entry in sim.journal(service="volume") if entry["status"] == 413]
    assert refused and {entry["error_code"] for entry in refused} == {"overLimitFault"}
    assert made_by(sim, "cinder-limiter") == {"images": [], "snapshots": ["available"]}
    FAULT_COUNT["rate_limited"] += len(refused)
