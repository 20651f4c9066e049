# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: load. 200 module runs at once against the three local clouds, with throttling on.

One ``ansible-playbook`` with an inventory of 200 hosts (``ansible_connection: local``), 200 forks and the
``free`` strategy, so that every host runs its module as soon as a fork takes it: a third of the hosts
snapshot their own EC2 instance (``ebs_multi_snapshot``, waiting for the set), a third their own Lightsail
instance (``lightsail_snapshot``), a third their own Cinder volume (``os_volume_snapshot``). The clouds
throttle EC2, Lightsail, Cinder and Nova with token buckets (``cloudsim.throttle``) low enough that a good
share of the calls is refused with the service's throttling error; the journal proves it.

Every run must end as if nothing had been refused: ok, the right resource in its result, exactly one set or
snapshot per resource in the clouds' state (read through the control API, not journaled), one successful
create call per resource (a retried create never made a second one), every instance still running. The
run's peak memory (the proportional set size of ansible-playbook and everything it started) is printed.
"""

from __future__ import annotations

import collections
import json
import pathlib
import subprocess
import sys
import time

import psutil
import yaml

from _reliability import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _reliability import sim  # noqa: F401  pylint: disable=unused-import
from _reliability import ec2_power_states
from _reliability import task
from cloudsim.sampler import PeriodicSampler

HOSTS = {"ebs": 67, "lightsail": 67, "openstack": 66}
FORKS = 200
# Generous: a throttled module backs off for seconds at a time, and 200 of them share two cores.
MODULE_TIMEOUT = 900
PLAYBOOK_TIMEOUT = 1500
EBS_VOLUMES = [{"size": 8, "device": "/dev/xvda"}, {"size": 4, "device": "/dev/sdf"}]
# Requests per real second and burst, per action category (reads apart from writes), as EC2 meters an account.
# Well below what 67 modules starting together ask for, so that many calls meet an empty bucket (measured on the
# loaded 2-core machine: 60 to 75% of EC2's, Lightsail's and Cinder's calls; at 4 per second Lightsail's and Cinder's
# share fell to 20-25% in some runs, as their modules make fewer calls). os_volume_snapshot calls Cinder only, not Nova.
LIMITS = {"ec2": (4, 8), "lightsail": (2, 5), "volume": (2, 5)}
THROTTLING_CODES = {"ec2": "RequestLimitExceeded", "lightsail": "ThrottlingException", "volume": "overLimitFault"}
MIN_THROTTLED_SHARE = 0.10
RESULT_OF = {"ebs": "ebs_result", "lightsail": "lightsail_result", "openstack": "openstack_result"}


def seed_hosts(sim):  # pylint: disable=redefined-outer-name
    """{inventory name: host vars}: one instance, Lightsail instance or volume of its own for every host."""
    hosts = {}
    for number in range(HOSTS["ebs"]):
        seeded = sim.seed_instance(volumes=EBS_VOLUMES)
        hosts[f"ebs-{number:03d}"] = {"cloud": "ebs", "instance_id": seeded["instance_id"],
                                      "volume_ids": sorted(volume["volume_id"] for volume in seeded["volumes"])}
    for number in range(HOSTS["lightsail"]):
        hosts[f"lightsail-{number:03d}"] = {"cloud": "lightsail", "instance_name": sim.seed_lightsail_instance(f"load-{number:03d}")["name"]}
    for number in range(HOSTS["openstack"]):
        seeded = sim.seed_server(name=f"load-{number:03d}", volumes=[{"size": 1}])
        hosts[f"openstack-{number:03d}"] = {"cloud": "openstack", "server_id": seeded["server_id"], "volume_id": seeded["volumes"][0]["volume_id"]}
    return hosts


def snapshot_tasks(sim):  # pylint: disable=redefined-outer-name
    """One task per module; each host runs the one of its cloud (the others are skipped without starting a module)."""
    ebs = task(sim, "ebs_multi_snapshot", RESULT_OF["ebs"], instance_id="{{ instance_id }}", set_name="{{ inventory_hostname }}",
               wait=True, wait_timeout=MODULE_TIMEOUT)
    lightsail = task(sim, "lightsail_snapshot", RESULT_OF["lightsail"], instance_name="{{ instance_name }}",
                     snapshot_name="{{ inventory_hostname }}", wait=True, wait_timeout=MODULE_TIMEOUT)
    openstack = task(sim, "os_volume_snapshot", RESULT_OF["openstack"], volume="{{ volume_id }}", name="{{ inventory_hostname }}",
                     wait=True, timeout=MODULE_TIMEOUT)
    for cloud, entry in (("ebs", ebs), ("lightsail", lightsail), ("openstack", openstack)):
        entry.update({"when": f"cloud == '{cloud}'", "ignore_errors": True})
    return [ebs, lightsail, openstack]


def write_playbook(sim, workdir, hosts, results_file):  # pylint: disable=redefined-outer-name
    """The inventory and the playbook: the load play, then one task on localhost that saves every host's result."""
    inventory = workdir / "load-inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}))
    collect = ("{% set found = {} %}{% for host in groups['all'] %}"
               "{% set _ = found.update({host: hostvars[host][hostvars[host]['cloud'] ~ '_result'] | default(none)}) %}"
               "{% endfor %}{{ found | to_json }}")
    load_play = {"name": "Snapshots under load", "hosts": "all", "strategy": "free", "gather_facts": False,
                 "module_defaults": {"group/snapkit.cloud.aws": {"endpoint_url": sim.endpoints["ec2"]}}, "tasks": snapshot_tasks(sim)}
    save_play = {"name": "Save the results", "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": sys.executable},
                 "tasks": [{"name": "Save every host's result", "ansible.builtin.copy": {"dest": str(results_file), "content": collect, "mode": "0600"}}]}
    playbook = workdir / "load.yml"
    playbook.write_text(yaml.safe_dump([load_play, save_play], sort_keys=False))
    return inventory, playbook


class PeakMemory(PeriodicSampler):
    """The peak proportional set size of a process and everything below it."""

    def __init__(self, pid, interval=2.0):
        super().__init__(interval)
        self.root = psutil.Process(pid)
        self.peak_bytes = 0
        self.peak_processes = 0

    def sample(self):
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return  # the playbook has ended; the with block ends too
        total = 0
        for process in processes:
            try:
                total += process.memory_full_info().pss
            except psutil.Error:
                continue
        self.peak_bytes = max(self.peak_bytes, total)
        self.peak_processes = max(self.peak_processes, len(processes))


def run_load(ansible, inventory, playbook):
    """ansible-playbook with FORKS forks; (CompletedProcess-like rc and output, seconds, PeakMemory)."""
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook), "--forks", str(FORKS)]
    started = time.monotonic()
    with subprocess.Popen(command, env=ansible.environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        with PeakMemory(process.pid) as memory:
            output, _errors = process.communicate(timeout=PLAYBOOK_TIMEOUT)
    return process.returncode, output, time.monotonic() - started, memory


def successful_creates(sim, service, action, resource_of):  # pylint: disable=redefined-outer-name
    """{resource: number of create calls that succeeded}, from the journal."""
    return collections.Counter(resource_of(entry["params"]) for entry in sim.journal(service=service, action=action) if entry["status"] < 400)


def throttled_shares(sim):  # pylint: disable=redefined-outer-name
    """{service: (throttled calls, all calls)} from the journal."""
    shares = {}
    for service, code in THROTTLING_CODES.items():
        entries = sim.journal(service=service)
        shares[service] = (sum(1 for entry in entries if entry["error_code"] == code), len(entries))
    return shares


def check_results(hosts, results):
    """Every host ok, and its result names its own resource."""
    problems = []
    for name, host in hosts.items():
        result = results.get(name) or {}
        if result.get("failed") or result.get("skipped") or not result:
            problems.append(f"{name}: {result.get('msg') or result}")
            continue
        if host["cloud"] == "ebs":
            reported = (result["instance_id"], result["set_name"], sorted(snapshot["volume_id"] for snapshot in result["snapshots"]))
            expected = (host["instance_id"], name, host["volume_ids"])
        elif host["cloud"] == "lightsail":
            reported = (result["snapshot"]["name"], result["snapshot"]["from_instance_name"], result["snapshot"]["state"])
            expected = (name, host["instance_name"], "available")
        else:
            reported = (result["volume_snapshot"]["name"], result["volume_snapshot"]["volume_id"], result["volume_snapshot"]["status"])
            expected = (name, host["volume_id"], "available")
        if reported != expected:
            problems.append(f"{name}: reported {reported}, expected {expected}")
    return problems


def ebs_sets_per_instance(sim, hosts):  # pylint: disable=redefined-outer-name
    """{instance id: {set id: sorted snapshot states}} from the EC2 state."""
    instance_of = {volume_id: host["instance_id"] for host in hosts.values() if host["cloud"] == "ebs" for volume_id in host["volume_ids"]}
    sets = collections.defaultdict(lambda: collections.defaultdict(list))
    for snapshot in sim.ec2_state()["snapshots"]:
        if snapshot["volume_id"] in instance_of:
            sets[instance_of[snapshot["volume_id"]]][snapshot["set_id"]].append(snapshot["state"])
    return {instance: {set_id: sorted(states) for set_id, states in found.items()} for instance, found in sets.items()}


def snapshots_per_source(snapshots, source_key, state_key):
    """{source: [states of its snapshots]} of a Lightsail or Cinder state view."""
    found = collections.defaultdict(list)
    for snapshot in snapshots:
        found[snapshot[source_key]].append(snapshot[state_key])
    return dict(found)


def of_cloud(hosts, cloud, key):
    return sorted(host[key] for host in hosts.values() if host["cloud"] == cloud)


def test_200_module_runs_at_once_with_throttling_on(sim, ansible):  # pylint: disable=redefined-outer-name
    hosts = seed_hosts(sim)
    for service, (rate, burst) in LIMITS.items():
        sim.throttle(service, rate=rate, burst=burst)
    results_file = ansible.workdir / "load-results.json"
    returncode, output, seconds, memory = run_load(ansible, *write_playbook(sim, ansible.workdir, hosts, results_file))
    shares = throttled_shares(sim)
    counters = {limit["service"]: limit["throttled"] for limit in sim.throttle_counters()}
    print(f"\nload: {len(hosts)} hosts, {FORKS} forks, {seconds:.0f} s, peak memory (PSS) {memory.peak_bytes / 2**30:.1f} GiB "
          f"over at most {memory.peak_processes} processes; throttled calls (throttled/all): {shares}")

    assert results_file.exists(), output[-5000:]
    problems = check_results(hosts, json.loads(results_file.read_text()))
    assert not problems, (problems[:20], output[-3000:])
    assert returncode == 0, output[-5000:]
    # Throttling was on: a good share of every service's calls was refused, and each refusal is in the journal.
    for service, (throttled, calls) in shares.items():
        assert throttled >= MIN_THROTTLED_SHARE * calls, (service, throttled, calls)
        assert throttled == counters[service], (service, throttled, counters)

    # Exactly one complete set or snapshot per resource, in the clouds' own state.
    ebs_instances = of_cloud(hosts, "ebs", "instance_id")
    sets = ebs_sets_per_instance(sim, hosts)
    assert sorted(sets) == ebs_instances
    assert {instance: list(found.values()) for instance, found in sets.items()} == {instance: [["completed"] * 2] for instance in ebs_instances}
    lightsail_instances = of_cloud(hosts, "lightsail", "instance_name")
    lightsail_state = sim.lightsail_state()
    assert snapshots_per_source(lightsail_state["instance_snapshots"], "instance", "state") == {name: ["available"] for name in lightsail_instances}
    volumes = of_cloud(hosts, "openstack", "volume_id")
    openstack_state = sim.openstack_state()
    assert snapshots_per_source(openstack_state["snapshots"], "volume_id", "status") == {volume: ["available"] for volume in volumes}

    # No create was sent twice with success for one resource (a throttled create made nothing, and its retry found nothing).
    assert successful_creates(sim, "ec2", "CreateSnapshots", lambda params: params["InstanceSpecification.InstanceId"]) == dict.fromkeys(ebs_instances, 1)
    assert successful_creates(sim, "lightsail", "CreateInstanceSnapshot", lambda params: params["instanceName"]) == dict.fromkeys(lightsail_instances, 1)
    assert successful_creates(sim, "volume", "createSnapshot", lambda params: params["snapshot"]["volume_id"]) == dict.fromkeys(volumes, 1)

    # Every instance and server in the power state it started in.
    assert ec2_power_states(sim, ebs_instances) == dict.fromkeys(ebs_instances, "running")
    assert {instance["name"]: instance["state"] for instance in lightsail_state["instances"]} == dict.fromkeys(lightsail_instances, "running")
    assert {server["id"]: server["status"] for server in openstack_state["servers"]} == dict.fromkeys(of_cloud(hosts, "openstack", "server_id"), "ACTIVE")


FLEET_INSTANCES = 200


def test_ebs_fleet_snapshot_over_200_instances_with_throttling_on(sim, ansible):  # pylint: disable=redefined-outer-name
    """One ebs_fleet_snapshot task for 200 instances (its pool at the default 20 threads and its own token bucket at
    EC2's defaults) against an EC2 that throttles far below that: every set is made once, and the throttled calls
    were retried, not failed."""
    fleet = sorted(sim.seed_instance(volumes=EBS_VOLUMES)["instance_id"] for _index in range(FLEET_INSTANCES))
    rate, burst = LIMITS["ec2"]
    sim.throttle("ec2", rate=rate * 4, burst=burst * 4)
    run = ansible.run([task(sim, "ebs_fleet_snapshot", "fleet", instance_ids=fleet, set_name="load", wait_timeout=MODULE_TIMEOUT)])
    result = run["fleet"]
    shares = throttled_shares(sim)
    print(f"\nfleet load: {FLEET_INSTANCES} instances, throttled calls (throttled/all): {shares}")

    assert result.get("failed") is not True, str(result.get("msg"))[:3000]
    assert [entry["instance_id"] for entry in result["sets"]] == fleet
    assert {entry["state"] for entry in result["sets"]} == {"completed"}
    throttled, calls = shares["ec2"]
    assert throttled >= MIN_THROTTLED_SHARE * calls, (throttled, calls)
    sets = collections.Counter(snapshot["set_id"] for snapshot in sim.ec2_state()["snapshots"] if snapshot["state"] == "completed")
    assert len(sets) == FLEET_INSTANCES and set(sets.values()) == {2}
    assert successful_creates(sim, "ec2", "CreateSnapshots", lambda params: params["InstanceSpecification.InstanceId"]) == dict.fromkeys(fleet, 1)
    assert ec2_power_states(sim, fleet) == dict.fromkeys(fleet, "running")
