# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EBS: one instance with N volumes (``ebs_multi_snapshot`` against an ``ec2_snapshot`` loop) and fleets of instances."""

from __future__ import annotations

import pathlib
import sys

import boto3
import yaml

from _common import REPO_ROOT
from _common import ansible_playbook
from _common import chart_ratios
from _common import comparison_table
from _common import count_calls
from _common import fresh_clouds
from _common import local_play
from _common import ratio
from _common import when
from _common import write_play

SPEED = 600
FLEET_FORKS = 10
FLEET_SNAPSHOT_SECONDS = 1800  # simulated; 3 s of real time at 600x
FLEET_SIZES = (10, 50, 200, 500)
ANCHOR_MAX = 200
# The variants with a task per host take minutes per 100 hosts: they stop at 200 instances, the fleet module goes on.
PER_HOST_MAX = 200
QUICK = {"count": 2, "fleet_sizes": (1, 2), "anchor_max": 1, "snapshot_seconds": 60}
ANCHOR = "anchor: ec2_snapshot loop per host"
INSTANCE_METRICS = ("wall_seconds", "api_calls", "start_skew_seconds", "start_skew_simulated_seconds", "detection_latency_seconds")


def aws_env(sim):
    return {"AWS_ACCESS_KEY_ID": "AKIASNAPKITBENCH0001", "AWS_SECRET_ACCESS_KEY": "snapkit-bench-secret", "AWS_REGION": sim.endpoints["region"]}


def volumes(count):
    devices = ["/dev/xvda"] + [f"/dev/sd{chr(ord('f') + n)}" for n in range(count - 1)]
    return [{"size": 8 * (n + 1), "type": "gp3", "device": device} for n, device in enumerate(devices)]


def ours_tasks(instance_id, devices):
    del devices  # one call covers every volume
    return [{
        "name": "snapkit.cloud: one crash-consistent set",
        "snapkit.cloud.ebs_multi_snapshot": {"instance_id": instance_id, "set_name": "bench", "wait_timeout": 7200},
    }]


def anchor_tasks(instance_id, devices):
    return [{
        "name": "amazon.aws: one snapshot per device",
        "amazon.aws.ec2_snapshot": {"instance_id": instance_id, "device_name": "{{ item }}", "wait": True, "wait_timeout": 7200},
        "loop": devices,
    }]


def run_playbook(sim, tasks, workdir):
    defaults = {"group/snapkit.cloud.aws": {"endpoint_url": sim.endpoints["ec2"]}, "group/amazon.aws.aws": {"endpoint_url": sim.endpoints["ec2"]}}
    path = write_play(workdir, "bench.yml", local_play("benchmark", tasks, module_defaults=defaults))
    return ansible_playbook(path, aws_env(sim))


def measure(sim, make_tasks, volume_count, workdir):
    fresh_clouds(sim, SPEED)
    seeded = sim.seed_instance(volumes=volumes(volume_count))
    devices = [v["device"] for v in seeded["volumes"]]
    wall = run_playbook(sim, make_tasks(seeded["instance_id"], devices), workdir)
    journal = sim.journal(service="ec2")
    client = boto3.client("ec2", **sim.aws_client_kwargs())
    snapshots = client.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    starts = [s["StartTime"] for s in snapshots]
    completions = [s["CompletionTime"] for s in snapshots if s.get("CompletionTime")]
    polls = [when(e["sim_time"]) for e in journal if e["action"] == "DescribeSnapshots"]
    last_completion = max(completions)
    seen = min((p for p in polls if p >= last_completion), default=None)
    calls = count_calls(journal)
    return {
        "snapshots": len(snapshots),
        "wall_seconds": round(wall, 2),
        "api_calls": sum(calls.values()),
        "api_calls_by_action": calls,
        "start_skew_seconds": round((max(starts) - min(starts)).total_seconds() / SPEED, 3),
        "start_skew_simulated_seconds": round((max(starts) - min(starts)).total_seconds(), 3),
        "detection_latency_seconds": round((seen - last_completion).total_seconds() / SPEED, 3) if seen else None,
    }


def fleet_inventory(workdir, instance_ids):
    path = pathlib.Path(workdir) / "fleet.yml"
    path.write_text(yaml.safe_dump({"all": {
        "hosts": {f"host{n:03d}": {"instance_id": instance_id} for n, instance_id in enumerate(instance_ids)},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    }}))
    return path


def fleet_play(tasks):
    return [{"name": "fleet benchmark", "hosts": "all", "gather_facts": False, "tasks": tasks}]


FLEET_MODULE = "fleet module, one task"
ROLE_FLEET = "role, fleet mode"
ROLE_PLAYBOOK = REPO_ROOT / "playbooks" / "ebs_instance_snapshot.yml"
# name: (play, or None for playbooks/ebs_instance_snapshot.yml itself; extra vars of the role)
FLEET_VARIANTS = {
    "role, one fleet wait": (None, {}),
    ROLE_FLEET: (None, {"ebs_instance_snapshot_fleet_mode": True}),
    "module, wait per host": (fleet_play([{
        "name": "One set per host, each host waiting for its own",
        "snapkit.cloud.ebs_multi_snapshot": {"instance_id": "{{ instance_id }}", "set_name": "bench", "wait_timeout": 7200,
                                             "endpoint_url": "{{ bench_endpoint }}"},
        "delegate_to": "localhost",
    }]), {}),
    FLEET_MODULE: (fleet_play([{
        "name": "Every set of the fleet in one task, one wait",
        "snapkit.cloud.ebs_fleet_snapshot": {"instance_ids": "{{ ansible_play_hosts | map('extract', hostvars, 'instance_id') | list }}",
                                             "set_name": "bench", "wait_timeout": 7200, "endpoint_url": "{{ bench_endpoint }}"},
        "delegate_to": "localhost",
        "run_once": True,
    }]), {}),
    ANCHOR: (fleet_play([{
        "name": "One snapshot per device, waiting for each",
        "amazon.aws.ec2_snapshot": {"instance_id": "{{ instance_id }}", "device_name": "{{ item }}", "wait": True,
                                    "wait_timeout": 7200, "endpoint_url": "{{ bench_endpoint }}"},
        "loop": ["/dev/xvda", "/dev/sdf", "/dev/sdg", "/dev/sdh"],
        "delegate_to": "localhost",
    }]), {}),
}


def run_fleet_variant(sim, variant, instance_ids, workdir):
    play, role_vars = variant
    inventory = fleet_inventory(workdir, instance_ids)
    if play is None:
        playbook = ROLE_PLAYBOOK
        extra = {"ebs_instance_snapshot_set_name": "bench", "ebs_instance_snapshot_endpoint_url": sim.endpoints["ec2"],
                 "ebs_instance_snapshot_wait_timeout": 7200, **role_vars}
    else:
        playbook = write_play(workdir, "fleet-play.yml", play)
        extra = {"bench_endpoint": sim.endpoints["ec2"]}
    return ansible_playbook(playbook, dict(aws_env(sim), ANSIBLE_FORKS=str(FLEET_FORKS)), inventory=inventory, extra_vars=extra)


def start_spread(sim):
    """Real seconds between the first and the last snapshot's start time (EC2's own StartTime, simulated clock)."""
    client = boto3.client("ec2", **sim.aws_client_kwargs())
    starts = [s["StartTime"] for page in client.get_paginator("describe_snapshots").paginate(OwnerIds=["self"]) for s in page["Snapshots"]]
    return round((max(starts) - min(starts)).total_seconds() / SPEED, 2) if starts else None


def measure_fleet(sim, variant, count, workdir, snapshot_seconds):
    fresh_clouds(sim, SPEED)
    sim.ec2_config(snapshot_seconds_base=snapshot_seconds, snapshot_seconds_per_gib=0)
    instance_ids = [sim.seed_instance(volumes=volumes(4))["instance_id"] for _index in range(count)]
    wall = run_fleet_variant(sim, variant, instance_ids, workdir)
    calls = count_calls(sim.journal(service="ec2"))
    limit = snapshot_seconds / SPEED
    return {"instances": count, "wall_seconds": round(wall, 2), "wall_over_snapshot_duration": round(wall / limit, 1),
            "start_spread_seconds": start_spread(sim),
            "api_calls": sum(calls.values()), "api_calls_per_instance": round(sum(calls.values()) / count, 2),
            "api_calls_by_action": calls}


def runs_at(name, count, anchor_max, variants):
    """Whether ``name`` is measured at ``count`` instances: chosen, and within its largest fleet."""
    if variants and name not in variants:
        return False
    largest = {ANCHOR: anchor_max, FLEET_MODULE: None}.get(name, PER_HOST_MAX)
    return largest is None or count <= largest


def measure_fleets(sim, sizes, anchor_max, snapshot_seconds, workdir, variants=None):
    """{size: {variant: figures}} for every fleet size; the anchor loop only up to ``anchor_max`` instances, the other
    per-host variants up to PER_HOST_MAX; ``variants``: only these (names of FLEET_VARIANTS)."""
    return {count: {name: measure_fleet(sim, variant, count, workdir, snapshot_seconds)
                    for name, variant in FLEET_VARIANTS.items() if runs_at(name, count, anchor_max, variants)}
            for count in sizes}


def fleet_table(count, results, snapshot_seconds):
    names = list(results)
    anchor = results.get(ANCHOR)
    compared = [n for n in names if n != ANCHOR] if anchor else []
    rows = [f"### EBS fleet: {count} instances x 4 volumes, every snapshot {snapshot_seconds} simulated s "
            f"({snapshot_seconds / SPEED:.0f} s real), {FLEET_FORKS} forks", "",
            "| metric | " + " | ".join(names) + "".join(f" | {n} / anchor" for n in compared) + " |",
            "| --- |" + " ---: |" * (len(names) + len(compared))]
    for metric in ("wall_seconds", "wall_over_snapshot_duration", "start_spread_seconds", "api_calls", "api_calls_per_instance"):
        rows.append(f"| {metric} | " + " | ".join(str(results[n].get(metric)) for n in names)
                    + "".join(f" | {ratio(results[n].get(metric), anchor.get(metric))}" for n in compared) + " |")
    for action in sorted({a for r in results.values() for a in r["api_calls_by_action"]}):
        values = {n: results[n]["api_calls_by_action"].get(action, 0) for n in names}
        rows.append(f"| calls: {action} | " + " | ".join(str(values[n]) for n in names)
                    + "".join(f" | {ratio(values[n], values[ANCHOR])}" for n in compared) + " |")
    return "\n".join(rows) + "\n"


def scaling_table(fleets, snapshot_seconds):
    """How each variant's figures grow with the fleet: one column per size."""
    sizes = sorted(fleets)
    rows = [f"### EBS fleet: how the figures grow with the fleet (4 volumes each, every snapshot {snapshot_seconds} simulated s)", "",
            "| variant | metric | " + " | ".join(f"{size} instances" for size in sizes) + " |",
            "| --- | --- |" + " ---: |" * len(sizes)]
    for name in [n for n in FLEET_VARIANTS if any(n in fleets[size] for size in sizes)]:  # the variants measured
        for metric, read in (("wall_seconds", lambda r: r["wall_seconds"]),
                             ("wall / snapshot duration", lambda r: r["wall_over_snapshot_duration"]),
                             ("start spread (s)", lambda r: r.get("start_spread_seconds")),
                             ("api_calls", lambda r: r["api_calls"]),
                             ("DescribeSnapshots", lambda r: r["api_calls_by_action"].get("DescribeSnapshots", 0)),
                             ("api_calls per instance", lambda r: r["api_calls_per_instance"])):
            cells = [str(read(fleets[size][name])) if name in fleets[size] else "not run" for size in sizes]
            rows.append(f"| {name} | {metric} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n\n" + growth_curve(fleets)


def growth_curve(fleets, width=50):
    """The fleet module's wall time per fleet size as a text chart, with how it grows against the fleet."""
    points = [(size, fleets[size][FLEET_MODULE]["wall_seconds"]) for size in sorted(fleets) if FLEET_MODULE in fleets[size]]
    if not points:
        return ""
    top = max(wall for _size, wall in points) or 1.0
    lines = [f"Growth of `{FLEET_MODULE}` (wall seconds; x instances / x wall against the smallest fleet):", "", "```"]
    first_size, first_wall = points[0]
    for size, wall in points:
        histogram_bar = "#" * max(1, round(width * wall / top))
        lines.append(f"{size:>5} instances | {histogram_bar:<{width}} {wall:7.2f} s  (x{size / first_size:.0f} instances, x{wall / first_wall:.1f} wall)")
    return "\n".join(lines + ["```", ""])


def instance_section(sim, workdir, quick):
    """The one-instance comparison as a report section."""
    count = QUICK["count"] if quick else 8
    title = f"EBS, one instance with {count} volumes: snapkit.cloud.ebs_multi_snapshot vs amazon.aws.ec2_snapshot loop"
    ours = measure(sim, ours_tasks, count, workdir)
    anchor = measure(sim, anchor_tasks, count, workdir)
    return {"key": "ebs_instance", "json": {"title": title, "ours": ours, "anchor": anchor},
            "markdown": comparison_table(title, ours, anchor, INSTANCE_METRICS),
            "ratios": chart_ratios("EBS instance", ours, anchor, ("wall_seconds", "api_calls", "start_skew_seconds", "detection_latency_seconds"))}


def fleet_section(fleets, snapshot_seconds):
    """The fleet figures measured so far as a report section (it is rewritten after each size)."""
    markdown = scaling_table(fleets, snapshot_seconds) + "".join("\n" + fleet_table(size, fleets[size], snapshot_seconds) for size in sorted(fleets))
    ratios = [(f"EBS fleet {size}: {name}: {metric}", variants[name][metric] / variants[ANCHOR][metric])
              for size, variants in sorted(fleets.items()) if ANCHOR in variants
              for name in variants if name != ANCHOR for metric in ("wall_seconds", "api_calls")]
    return {"key": "ebs_fleet", "json": {"snapshot_seconds": snapshot_seconds, "forks": FLEET_FORKS, "sizes": {str(k): v for k, v in fleets.items()}},
            "markdown": markdown, "ratios": ratios}
