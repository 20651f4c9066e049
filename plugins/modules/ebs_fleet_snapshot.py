#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ebs_fleet_snapshot
short_description: Crash-consistent snapshot sets of a whole fleet of EC2 instances in one task
version_added: 0.1.0
description:
  - Selects EC2 instances by O(filters) or O(instance_ids) in one region and makes, for each of them, what
    M(snapkit.cloud.ebs_multi_snapshot) makes for one instance - a crash-consistent snapshot set of its EBS volumes
    (one C(CreateSnapshots) call per instance), with the same options, the same refusals, the same tags and the same
    device and volume records - so that every set of the fleet has the same O(set_name).
  - The C(CreateSnapshots) calls (and, with O(stop_instance), the stops and starts) go out concurrently from at most
    O(max_concurrency) threads, within client-side token buckets, one per API as EC2 meters them, sized on EC2's default
    request-rate limits (O(request_rate), O(request_burst)); throttled calls are retried with jittered backoff. The
    sets of up to O(request_burst) instances therefore start within seconds of each other, and the later ones at
    O(request_rate) instances per second.
  - The device and volume records are written with one C(CreateTags) call per distinct record (device name, volume
    type and performance) for the whole fleet, not one per snapshot.
  - One wait for the whole fleet, within one O(wait_timeout), with one C(DescribeSnapshots) call per round for every
    200 instances.
  - One instance's failure never stops the others. RV(sets) has one entry per instance; the task fails only when a
    set failed, and only after every instance is back in the power state it was found in.
  - A re-run with the same O(set_name) finds the sets that exist and creates only the missing ones, and starts any
    instance that a cut-off run left stopped (see O(stop_instance)).
  - O(state=absent) deletes the sets with O(set_name) of every selected instance.
  - Runs on the controller, once for the fleet (for example with C(run_once=true) or on C(localhost)).
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  state:
    description:
      - V(present) creates the missing sets (and waits for them when O(wait=true)).
      - V(absent) deletes every snapshot of the sets named O(set_name) of the selected instances.
    type: str
    choices: [present, absent]
    default: present
  filters:
    description:
      - "EC2 C(DescribeInstances) filters that select the instances, as M(amazon.aws.ec2_instance_info) takes them,
        for example C({\"tag:Backup\": \"nightly\", \"instance-state-name\": [\"running\", \"stopped\"]})."
      - Instances that are C(shutting-down) or C(terminated) are left out.
      - Exactly one of O(filters) and O(instance_ids) is required.
    type: dict
  instance_ids:
    description:
      - The instances, for example V(i-0123456789abcdef0). An id EC2 does not know gives a failed set.
      - Exactly one of O(filters) and O(instance_ids) is required.
    type: list
    elements: str
  set_name:
    description:
      - The name of every set of the fleet, stored in the C(snapkit:set-name) tag of every snapshot.
      - With O(state=present), an instance that already has a set with this name keeps it; nothing new is created for
        it. This is what makes the task safe to re-run.
      - When omitted, the name is V(fleet-) and the UTC time, for example V(fleet-20261122T101500Z), and every run
        creates new sets. Required with O(state=absent).
      - "1 to 200 characters: letters, digits, spaces and C(. _ - : / = + @)."
  exclude_boot_volume:
    description:
      - Leave the root volume of every instance out of its set.
  exclude_data_volume_ids:
    description:
      - Data volumes to leave out. Each is left out of the set of the instance it is attached to; each must be
        attached to one of the selected instances, and must not be a root volume (use O(exclude_boot_volume)).
  description:
    description:
      - Description of every snapshot (at most 255 characters).
  tags:
    description:
      - Tags for every snapshot. EC2 allows 50 tags per snapshot; this module uses four of them.
      - Keys starting with C(aws:) or C(snapkit:) are reserved.
  stop_instance:
    description:
      - Stop each instance before creating its set and start it again as soon as its set is created, as
        M(snapkit.cloud.ebs_multi_snapshot) does. An instance that was already stopped stays stopped. If anything
        fails after an instance was stopped, it is started again.
      - Each instance is tagged C(snapkit:stopped-for-snapshot) just before it is stopped, and untagged once it runs again,
        so that a re-run with the same O(set_name) after a cut-off run starts it.
  wait:
    description:
      - Wait until every snapshot of every set is C(completed) (or a set failed).
  wait_timeout:
    description:
      - Seconds that bound the whole task. Each instance's stop and start waits, the
        retries while EC2 refuses new snapshots because a volume has too many pending ones, and the wait for the fleet
        all take from this one budget.
  delete_on_failure:
    description:
      - When a set fails (its snapshots are in C(error)), delete all of its snapshots.
  max_concurrency:
    description:
      - How many instances are worked on at the same time (C(CreateSnapshots), stop, start, delete), 1 to 100.
    type: int
    default: 20
  request_rate:
    description:
      - The most C(CreateSnapshots) calls per second this task sends, on average, after the burst of O(request_burst).
      - EC2 meters each API with a token bucket of its own; the defaults are EC2's default limits for C(CreateSnapshots)
        (a burst of 100, then 5 per second). The other calls that change something get EC2's default buckets for them
        scaled in the same proportion (C(DeleteSnapshot) 100 and 5 per second, C(CreateTags) and C(DeleteTags) 100 and
        10, C(StopInstances) 50 and 5, C(StartInstances) 5 and 2). Lower both options when other tools share the
        account's limits, raise them when AWS raised the account's.
    type: float
    default: 5.0
  request_burst:
    description:
      - How many C(CreateSnapshots) calls may go out at once before O(request_rate) applies (the size of its token bucket).
    type: int
    default: 100
notes:
  - The same refusals as M(snapkit.cloud.ebs_multi_snapshot) apply to each instance (hibernation configured, no volume
    left after the exclusions, more than 40 volumes, too many copied tags); they fail that instance's set only.
  - Bad options (ids, names, tags, numbers) are refused before any call.
  - "IAM permissions: those of M(snapkit.cloud.ebs_multi_snapshot): C(ec2:DescribeInstances), C(ec2:DescribeVolumes),
    C(ec2:DescribeSnapshots), C(ec2:CreateSnapshots), C(ec2:CreateTags), C(ec2:DeleteSnapshot), and
    C(ec2:StopInstances)/C(ec2:StartInstances)/C(ec2:DeleteTags) with O(stop_instance)."
seealso:
  - module: snapkit.cloud.ebs_multi_snapshot
    description: The set of one instance.
  - module: snapkit.cloud.ebs_snapshot_set_info
    description: Find the sets and wait for them.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._ebs_set_options
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
attributes:
  check_mode:
    support: full
    details:
      - Makes no change; returns, per instance, the volumes that would be snapshotted or the snapshots that would be
        deleted.
  diff_mode:
    support: full
  idempotent:
    support: partial
    details:
      - Idempotent when O(set_name) is given. Without it, every run creates new sets.
"""

EXAMPLES = r"""
- name: Nightly sets of every instance tagged Backup=nightly, in one task
  snapkit.cloud.ebs_fleet_snapshot:
    region: eu-north-1
    filters:
      "tag:Backup": nightly
    set_name: "nightly-{{ now(utc=true, fmt='%Y-%m-%d') }}"
    tags:
      Team: storage
  register: fleet

- name: The instances whose set failed
  ansible.builtin.debug:
    msg: "{{ fleet.sets | selectattr('failed') | map(attribute='instance_id') | list }}"

- name: The play's hosts, stopped for a consistent root volume, ten at a time
  snapkit.cloud.ebs_fleet_snapshot:
    instance_ids: "{{ ansible_play_hosts | map('extract', hostvars, 'instance_id') | list }}"
    set_name: cold-backup
    stop_instance: true
    max_concurrency: 10
  run_once: true
  delegate_to: localhost

- name: Delete the fleet's sets of that name
  snapkit.cloud.ebs_fleet_snapshot:
    state: absent
    filters:
      "tag:Backup": nightly
    set_name: nightly-2026-11-22
"""

RETURN = r"""
set_name:
  description: The name of every set of the fleet.
  returned: always
  type: str
  sample: nightly-2026-11-22
sets:
  description: One entry per selected instance (and per unknown id of O(instance_ids)), in instance id order.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      type: str
      sample: i-0123456789abcdef0
    set_name:
      description: The name of its set.
      type: str
      sample: nightly-2026-11-22
    state:
      description:
        - The state of the set - C(completed), C(pending) or C(error) (as M(snapkit.cloud.ebs_snapshot_set_info)
          reports it), or C(absent) when there is no set (not made, in check mode, or deleted).
      type: str
      sample: completed
    changed:
      description: Whether this instance's set (or power state) was changed.
      type: bool
      sample: true
    failed:
      description: Whether this instance's set failed.
      type: bool
      sample: false
    msg:
      description: Why it failed (empty when it did not).
      type: str
      sample: ""
    volumes:
      description: The volumes that are (or, in check mode, would be) snapshotted, as RV(snapkit.cloud.ebs_multi_snapshot#module:volumes).
      type: list
      elements: dict
    snapshots:
      description:
        - The snapshots of the set, in device order, as RV(snapkit.cloud.ebs_multi_snapshot#module:snapshots) (with
          O(state=absent), as they were before deletion).
      type: list
      elements: dict
    instance_stopped:
      description: Whether the module stopped the instance (in this run, or in a cut-off run of the same set).
      type: bool
      sample: false
    instance_restarted:
      description: Whether the module started the instance again after stopping it.
      type: bool
      sample: false
    deleted_snapshot_ids:
      description: The snapshots of this instance's failed set that were deleted (O(delete_on_failure)).
      returned: when the set failed and its snapshots were deleted
      type: list
      elements: str
      sample: [snap-0123456789abcdef0]
"""

from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import INSTANCE_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import RateLimitedClient
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import aws_error_text
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_instances_by_filters
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_instances_by_ids
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_volumes_by_ids
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2_power import DEAD_STATES
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2_power import PowerGuard
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import TokenBucket
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import run_bounded

MAX_CONCURRENCY = 100
# The calls that change something, each with EC2's default request-rate limit for it (bucket maximum capacity, refill
# rate per second): EC2 meters every API with a bucket of its own ("Request throttling for the Amazon EC2 API", request
# token bucket sizes; StopInstances is a plain mutating action). request_burst and request_rate set CreateSnapshots'
# bucket; the others are scaled in the same proportion.
EC2_REQUEST_LIMITS = {"create_snapshots": (100, 5.0), "delete_snapshot": (100, 5.0), "create_tags": (100, 10.0),
                      "delete_tags": (100, 10.0), "stop_instances": (50, 5.0), "start_instances": (5, 2.0)}
ABSENT = "absent"


def request_buckets(rate, burst):
    """{action: TokenBucket}: CreateSnapshots' bucket holds ``burst`` tokens refilled at ``rate`` per second, the others
    EC2's sizes for them scaled by the same factors (at least one token)."""
    base_burst, base_rate = EC2_REQUEST_LIMITS["create_snapshots"]
    return {action: TokenBucket(limit_rate * rate / base_rate, max(1, round(limit_burst * burst / base_burst)))
            for action, (limit_burst, limit_rate) in EC2_REQUEST_LIMITS.items()}


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        filters=dict(type="dict"),
        instance_ids=dict(type="list", elements="str"),
        max_concurrency=dict(type="int", default=20),
        request_rate=dict(type="float", default=5.0),
        request_burst=dict(type="int", default=100),
        **sets.set_option_spec(),
    )


def validate(params):
    """Reject bad input before any API call; every message names the option and the rule."""
    if (params["filters"] is None) == (params["instance_ids"] is None):
        raise InputError("filters, instance_ids: give exactly one of them to select the instances")
    if params["filters"] is not None and not params["filters"]:
        raise InputError("filters: at least one filter is needed (an empty filter would select every instance of the region)")
    if params["instance_ids"] is not None and not params["instance_ids"]:
        raise InputError("instance_ids: at least one instance id is needed")
    for instance_id in params["instance_ids"] or []:
        check_pattern("instance_ids", instance_id, INSTANCE_ID_PATTERN, "an EC2 instance id looks like i-0123456789abcdef0")
    if params["state"] == "absent" and not params["set_name"]:
        raise InputError("set_name: required with state=absent, to find the sets")
    if not 1 <= params["max_concurrency"] <= MAX_CONCURRENCY:
        raise InputError(f"max_concurrency: must be between 1 and {MAX_CONCURRENCY}, got {params['max_concurrency']}")
    if params["request_rate"] <= 0:
        raise InputError(f"request_rate: must be a positive number of calls per second, got {params['request_rate']}")
    if params["request_burst"] < 1:
        raise InputError(f"request_burst: must be at least 1, got {params['request_burst']}")
    sets.check_set_options(params)


class Fleet:
    """The instances of one run and their sets; each entry of ``entries`` becomes one item of the result's ``sets``."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.set_name = self.params["set_name"] or sets.default_set_name("fleet")
        extra = {"max_pool_connections": self.params["max_concurrency"] + 2}
        bucket = request_buckets(self.params["request_rate"], self.params["request_burst"])
        self.client = RateLimitedClient(module.client("ec2", config=extra), bucket)
        # botocore's own retries would resend CreateSnapshots blindly; this client sends each request exactly once.
        self.once = RateLimitedClient(module.client("ec2", config=dict(extra, retries={"total_max_attempts": 1})), bucket)
        self.entries = {}
        self.warnings = []
        # The one deadline of the run: every stop, start, create retry and the wait share the task's wait_timeout.
        self.deadline = Deadline(self.params["wait_timeout"])

    def entry(self, instance_id):
        return self.entries.setdefault(instance_id, {
            "instance_id": instance_id, "set_name": self.set_name, "state": ABSENT, "changed": False, "failed": False,
            "msg": "", "volumes": [], "snapshots": [], "instance_stopped": False, "instance_restarted": False,
        })

    def fail(self, instance_id, error):
        entry = self.entry(instance_id)
        entry["failed"] = True
        entry["msg"] = aws_error_text(error)
        entry.update(getattr(error, "result", {}))

    def select(self):
        """The selected instances (by filters, without terminated ones; or by ids, with a failed entry per unknown id)."""
        if self.params["filters"] is not None:
            found = describe_instances_by_filters(self.client, ansible_dict_to_boto3_filter_list(self.params["filters"]))
            found = [i for i in found if (i.get("State") or {}).get("Name") not in DEAD_STATES]
        else:
            found = describe_instances_by_ids(self.client, sorted(set(self.params["instance_ids"])))
            known = {i["InstanceId"] for i in found}
            for instance_id in sorted(set(self.params["instance_ids"]) - known):
                self.fail(instance_id, ModuleFailure(
                    f"Instance {instance_id} was not found in region {self.module.region}; check instance_ids and region"))
        instances = {i["InstanceId"]: i for i in found}
        for instance_id in instances:
            self.entry(instance_id)
        return dict(sorted(instances.items()))

    def find_sets(self, instance_ids):
        """{instance id: snapshots of its set} (one DescribeSnapshots per 200 instances), and EC2's time."""
        found = {}
        snapshots, server_time = sets.snapshots_of_sets(self.client, self.set_name, instance_ids)
        for snapshot in snapshots:
            tags = {tag["Key"]: tag["Value"] for tag in snapshot.get("Tags", [])}
            found.setdefault(tags.get(sets.INSTANCE_TAG), []).append(snapshot)
        return found, server_time

    def warn_all(self):
        for warning in self.warnings:
            self.module.warn(warning)
        self.warnings.clear()

    def summary(self):
        """The result's ``sets``, and the message naming every failed set (empty when none failed)."""
        entries = [self.entries[k] for k in sorted(self.entries)]
        failed = [e for e in entries if e["failed"]]
        msg = ""
        if failed:
            msg = f"{len(failed)} of {len(entries)} snapshot sets {self.set_name} failed: " + "; ".join(
                f"{e['instance_id']}: {e['msg']}" for e in failed)
        return entries, msg


class Plan:
    """What is done for one instance: its set exists (``existing``), or is made from ``volumes``."""

    def __init__(self, fleet, instance, existing):
        self.fleet = fleet
        self.instance_id = instance["InstanceId"]
        self.instance = instance
        self.devices = sets.device_map(instance)
        self.existing = existing
        self.selected = []
        self.volumes = []
        self.tags = {}
        self.created = []
        self.guard = PowerGuard(fleet.client, instance, fleet.set_name, fleet.deadline)

    @property
    def entry(self):
        return self.fleet.entry(self.instance_id)

    @property
    def snapshots(self):
        return self.existing or self.created


def plan_fleet(fleet, instances):
    """The plan of every instance that can have a set (the others get a failed entry), and the volume details read."""
    params = fleet.params
    existing, _server_time = fleet.find_sets(list(instances)) if params["set_name"] else ({}, None)
    attached = {v["volume_id"] for i in instances.values() for v in sets.attached_ebs_volumes(i)}
    stray = [v for v in params["exclude_data_volume_ids"] if v not in attached]
    if instances and stray:
        raise InputError(f"exclude_data_volume_ids: {', '.join(stray)} not attached to any of the selected instances")
    plans = []
    for instance_id, instance in instances.items():
        try:
            sets.check_instance(instance, instance_id, fleet.module.region)
            plan = Plan(fleet, instance, existing.get(instance_id, []))
            if not plan.existing:
                plan.selected = sets.select_volumes(instance, params["exclude_boot_volume"], params["exclude_data_volume_ids"], fleet=True)
        except ModuleFailure as error:
            fleet.fail(instance_id, error)
            continue
        fleet.warnings.extend(plan.guard.warnings)
        plan.guard.warnings.clear()
        plans.append(plan)
    volume_ids = [v["volume_id"] for plan in plans for v in plan.selected]
    details = {v["VolumeId"]: v for v in describe_volumes_by_ids(fleet.client, volume_ids)} if volume_ids else {}
    ready = []
    for plan in plans:
        if plan.selected:
            plan.volumes = sets.with_volume_details(plan.selected, details)
            plan.tags = sets.set_tags(fleet.set_name, plan.instance_id, params["tags"])
            try:
                if params["copy_tags_from_source"]:
                    sets.check_copied_tag_count(plan.volumes, plan.tags)
            except InputError as error:
                fleet.fail(plan.instance_id, error)
                continue
            plan.entry.update(volumes=sets.without_tags(plan.volumes), changed=True)
        else:
            plan.entry["state"] = sets.set_state(plan.existing)
            plan.entry["snapshots"] = sets.formatted(plan.existing, plan.devices)
            plan.entry["changed"] = plan.guard.left_down_by_a_cut_off_run
        ready.append(plan)
    return ready


def make_set(plan):
    """Stop (if asked), CreateSnapshots, start again: the worker of one instance. Never raises."""
    fleet, params, guard = plan.fleet, plan.fleet.params, plan.guard
    failure = None
    try:
        if params["stop_instance"] or guard.left_down_by_a_cut_off_run:
            guard.stop()
        excluded = [v for v in params["exclude_data_volume_ids"] if v in plan.devices]
        plan.created = sets.create_set(fleet.once, fleet.client, dict(params, exclude_data_volume_ids=excluded),
                                       plan.instance_id, fleet.set_name, plan.volumes, plan.tags, fleet.deadline)
    except Exception as error:  # pylint: disable=broad-exception-caught
        failure = error  # reported once the instance has its power state back
    restore(plan, guard.restore, failure)
    plan.entry["snapshots"] = sets.formatted(plan.created, plan.devices)
    if plan.created:
        plan.entry["state"] = sets.set_state(plan.created)
    return plan


def resume_existing(plan):
    """The set exists: start the instance if a cut-off run of this set left it stopped, and remove this set's stop mark
    (a run cut off after its StartInstances leaves a running instance still marked). Never raises."""
    if plan.guard.needs_resume:
        restore(plan, plan.guard.resume_cut_off_run, None)
    return plan


def restore(plan, restore_power, failure):
    """Give the instance its power state back; record the failure (``failure``, or EC2 refusing the start)."""
    try:
        sets.restart_or_report(plan.guard, plan.fleet.set_name, plan.created, failure, restore_power)
    except ModuleFailure as refused:
        failure = refused
    except Exception as error:  # pylint: disable=broad-exception-caught
        failure = failure or error
    plan.entry["instance_stopped"] = plan.guard.stopped
    plan.entry["instance_restarted"] = plan.guard.restarted
    if failure is not None:
        plan.fleet.fail(plan.instance_id, failure)


def record_volumes(fleet, plans):
    """Tag the new snapshots with their volume's device and attributes (sets.record_volumes: one CreateTags per distinct
    record, so a fleet of identical instances costs one call per device). Best effort: the restore falls back to the
    source volumes."""
    untagged = sets.record_volumes(fleet.client, [(plan.created, plan.volumes) for plan in plans])
    if untagged:
        fleet.warnings.append(
            f"The sets were created, but the device and volume attributes could not be recorded on {'; '.join(untagged)}; "
            "ebs_snapshot_set_restore will read them from the source volumes while those exist"
        )


def wait_for_fleet(fleet, plans):
    """One wait for every set (sets.wait_for_sets), within the task's deadline; then each set is reported."""
    expected = [s["SnapshotId"] for plan in plans for s in plan.snapshots]
    if not expected:
        return
    items, timed_out = sets.wait_for_sets(fleet.client, fleet.set_name, sorted({plan.instance_id for plan in plans}), expected,
                                          fleet.deadline, seen=[s["SnapshotId"] for plan in plans for s in plan.existing])
    current = {s["SnapshotId"]: s for s in items}
    for plan in plans:
        snapshots = [current[s["SnapshotId"]] for s in plan.snapshots]
        settle(fleet, plan, snapshots, timed_out)


def settle(fleet, plan, snapshots, timed_out):
    """Report one set after the wait: completed, failed (deleted if asked), or still pending at the deadline."""
    params, entry = fleet.params, plan.entry
    entry["snapshots"] = sets.formatted(snapshots, plan.devices)
    failed = [s for s in snapshots if s.get("State") in sets.FAILED_STATES + ("deleted",)]
    entry["state"] = "error" if failed else sets.set_state(snapshots)
    if failed:
        text = sets.describe(snapshots, plan.devices)
        if plan.existing and not plan.created:
            fleet.fail(plan.instance_id, ModuleFailure(sets.existing_set_failed_message(fleet.set_name, plan.instance_id, snapshots, plan.devices)))
            return
        deleted = sets.delete_all(fleet.client, [s for s in snapshots if s.get("State") != "deleted"]) if params["delete_on_failure"] else []
        if deleted:
            entry["state"] = ABSENT
        fleet.fail(plan.instance_id, ModuleFailure(sets.failed_set_message(fleet.set_name, plan.instance_id, deleted, text),
                                                   deleted_snapshot_ids=deleted))
    elif timed_out is not None and entry["state"] == "pending":
        pending = sets.describe(snapshots, plan.devices)
        fleet.fail(plan.instance_id, ModuleFailure(sets.timed_out_set_message(plan.instance_id, params["wait_timeout"], pending)))


def ensure_present(fleet, result):
    params, module = fleet.params, fleet.module
    plans = plan_fleet(fleet, fleet.select())
    new = [plan for plan in plans if not plan.existing]
    if module._diff:
        result["diff"] = {"before": {"sets": sorted(p.instance_id for p in plans if p.existing)},
                          "after": {"sets": sorted(p.instance_id for p in plans), "set_name": fleet.set_name}}
    if module.check_mode:
        return
    run_bounded(lambda plan: make_set(plan) if not plan.existing else resume_existing(plan), plans, params["max_concurrency"])
    for plan in plans:  # what the stops and starts had to say (a cut-off run's instance taken over, a tag refused)
        fleet.warnings.extend(plan.guard.warnings)
        plan.guard.warnings.clear()
    made = [plan for plan in new if plan.created]
    record_volumes(fleet, made)
    for plan in made:
        plan.entry["snapshots"] = sets.formatted(plan.created, plan.devices)
    for plan in plans:
        if plan.existing and any(s.get("State") in sets.FAILED_STATES for s in plan.existing):
            settle(fleet, plan, plan.existing, None)
    if params["wait"]:
        wait_for_fleet(fleet, [plan for plan in plans if plan.snapshots and not plan.entry["failed"]])


def ensure_absent(fleet, result):
    instances = fleet.select()
    instance_ids = sorted(set(fleet.params["instance_ids"] or instances))
    for instance_id in instance_ids:
        entry = fleet.entry(instance_id)  # an unknown id: nothing to delete, not a failure
        entry.update(failed=False, msg="")
    found, _server_time = fleet.find_sets(instance_ids)
    for instance_id, snapshots in found.items():
        devices = sets.device_map(instances.get(instance_id))
        fleet.entry(instance_id).update(snapshots=sets.formatted(snapshots, devices), changed=True)
    if fleet.module._diff:
        result["diff"] = {"before": {"snapshot_ids": sorted(s["SnapshotId"] for snapshots in found.values() for s in snapshots)},
                          "after": {}}
    if fleet.module.check_mode:
        return

    def delete(item):
        instance_id, snapshots = item
        try:
            sets.delete_all(fleet.client, snapshots)
        except Exception as error:  # pylint: disable=broad-exception-caught
            fleet.fail(instance_id, error)
            fleet.entry(instance_id)["state"] = sets.set_state(snapshots)

    run_bounded(delete, sorted(found.items()), fleet.params["max_concurrency"])


def run(module):
    params = module.params
    result = dict(changed=False, set_name=params["set_name"] or "", sets=[])

    def work():
        validate(params)  # before the client: bad input is reported as such, whatever else is missing
        fleet = Fleet(module)
        result["set_name"] = fleet.set_name
        try:
            (ensure_present if params["state"] == "present" else ensure_absent)(fleet, result)
        finally:
            fleet.warn_all()
            result["sets"], msg = fleet.summary()
            result["changed"] = any(entry["changed"] for entry in result["sets"])
        if msg:
            raise ModuleFailure(msg)

    module.subject = lambda: f"Snapshot sets {result['set_name']}"
    module.gave_up_wording = "Gave up waiting: {error}"
    run_module(module, result, work)


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
