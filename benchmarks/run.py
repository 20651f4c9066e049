# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make bench``: ours against the anchor collections, side by side, on the same local clouds.

Every comparison runs both sides in one process against one cloudsim (EC2, Lightsail, emulated Windows guests and
OpenStack), on identical fresh fixtures, and reports ratios (ours / anchor) next to the raw figures. Times measured in
the simulated clock are converted back to real seconds at the comparison's clock speed.

* EBS, one instance with 8 volumes (``_ebs``): ``snapkit.cloud.ebs_multi_snapshot`` against ``amazon.aws.ec2_snapshot``
  looped over the instance's devices; EBS fleets of N instances x 4 volumes: our role with its one fleet wait, our module
  waiting per host, and the anchor loop per host, growing from 10 to 50 to 200 instances (``--anchor-max N`` stops the
  anchor loop at N instances: at 200 it is the longest part of the run, about 10 minutes on a quiet 2-core machine),
  with the role in fleet mode and ``ebs_fleet_snapshot`` (one task for the fleet), which alone goes on to 500 instances;
* Lightsail (``_lightsail``): ``lightsail_snapshot`` against ``community.aws.lightsail_snapshot`` (calls, detection
  latency), and the whole Windows procedure (role through WinRM on an emulated guest) against the seed's sequence with
  community.aws modules: simulated time the instance is not running;
* OpenStack (``_openstack``): ``os_volume_snapshot`` against ``openstack.cloud.volume_snapshot``, ``os_instance_snapshot``
  against createImage and a wait done by hand with openstacksdk (``openstack_sdk_image.py``);
* per-task overhead (``_overhead``): one read-only call repeated N times through ours and through the anchor's module, and
  each module's import time.

``--only`` measures some sections (``ebs_fleet`` and/or the one-instance ones) and ``--variants`` some fleet variants.
``_report`` writes results.json, results.md and the chart results.png (after every section, so a long run keeps what it
measured). ``--quick`` runs tiny fixtures into ``.build/bench-quick`` so that a test can check the whole script runs
without touching the committed results. docs/benchmarks.md explains every row.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import shlex
import sys
import tempfile

# _common first: it puts tests/ (cloudsim) and tools/demo/ (the demo chapters) on sys.path.
import _common  # noqa: F401  pylint: disable=unused-import
import _ebs
import _lightsail
import _openstack
import _overhead
import _report
from cloudsim.client import CloudSim

RESULTS = _common.REPO_ROOT / "benchmarks" / "results"
SERVICES = ("ec2", "lightsail", "windows", "openstack")
SPEEDS = {"EBS": _ebs.SPEED, "Lightsail": _lightsail.SPEED, "OpenStack": _openstack.SPEED, "overhead": _overhead.SPEED}
# --only names: the one-instance comparisons (the EBS fleets are "ebs_fleet").
SECTIONS = {"ebs_instance": _ebs.instance_section, "lightsail": _lightsail.section, "openstack": _openstack.section,
            "overhead": _overhead.section}


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny fixtures into .build/bench-quick: checks that the benchmark runs")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"fleet sizes (default {' '.join(map(str, _ebs.FLEET_SIZES))})")
    parser.add_argument("--anchor-max", type=int, help=f"largest fleet for the anchor loop (default {_ebs.ANCHOR_MAX})")
    parser.add_argument("--results", type=pathlib.Path, help="where results.json, results.md and results.png go (default benchmarks/results)")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS) + ["ebs_fleet"],
                        help="measure only these sections (default: all); the others are left out of the report")
    parser.add_argument("--variants", nargs="+", choices=list(_ebs.FLEET_VARIANTS),
                        help="the EBS fleet variants to measure (default: all)")
    return parser.parse_args()


def run_facts():
    return {"date": datetime.date.today().isoformat(), "command": shlex.join(["benchmarks/run.py", *sys.argv[1:]]),
            "load_average_start": _report.load_average(), "cpus": os.cpu_count()}


def main():
    args = arguments()
    sizes = tuple(args.sizes or (_ebs.QUICK["fleet_sizes"] if args.quick else _ebs.FLEET_SIZES))
    anchor_max = args.anchor_max if args.anchor_max is not None else (_ebs.QUICK["anchor_max"] if args.quick else _ebs.ANCHOR_MAX)
    snapshot_seconds = _ebs.QUICK["snapshot_seconds"] if args.quick else _ebs.FLEET_SNAPSHOT_SECONDS
    results_dir = args.results or (_common.REPO_ROOT / ".build" / "bench-quick" if args.quick else RESULTS)
    results_dir.mkdir(parents=True, exist_ok=True)
    run = run_facts()
    sections = []
    with CloudSim.start(speed=_ebs.SPEED, services=SERVICES) as sim, tempfile.TemporaryDirectory() as workdir:
        for name, measure in SECTIONS.items():
            if args.only is None or name in args.only:
                sections.append(measure(sim, workdir, args.quick))
                _report.write(results_dir, sections, run, SPEEDS)
        fleets = {}  # measured last (the longest part), reported right after the one-instance comparison
        place = min(1, len(sections))
        if args.only is None or "ebs_fleet" in args.only:
            sections.insert(place, _ebs.fleet_section(fleets, snapshot_seconds))
            for size in sizes:  # written after each size: a large fleet can take long, the smaller ones are kept
                fleets.update(_ebs.measure_fleets(sim, (size,), anchor_max, snapshot_seconds, workdir, args.variants))
                sections[place] = _ebs.fleet_section(fleets, snapshot_seconds)
                _report.write(results_dir, sections, run, SPEEDS)
    run["load_average_end"] = _report.load_average()
    _report.write(results_dir, sections, run, SPEEDS)
    print((results_dir / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
