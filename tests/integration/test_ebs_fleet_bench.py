# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make bench BENCH_ARGS=--quick``: the benchmark script runs end to end on tiny fixtures and its figures add up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import REPO_ROOT
from conftest import collections_path


def test_quick_benchmark_runs_and_counts_every_call(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "tests"), ANSIBLE_COLLECTIONS_PATH=collections_path())
    process = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "run.py"), "--quick", "--results", str(tmp_path)],
                             env=env, capture_output=True, text=True, timeout=900, check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["ebs_instance"]["ours"]["api_calls_by_action"]["CreateSnapshots"] == 1
    assert report["ebs_instance"]["anchor"]["api_calls_by_action"]["CreateSnapshot"] == report["ebs_instance"]["anchor"]["snapshots"]
    sizes = report["ebs_fleet"]["sizes"]
    assert sorted(sizes) == ["1", "2"]
    for size, variants in sizes.items():
        assert variants["role, one fleet wait"]["api_calls_by_action"]["CreateSnapshots"] == int(size)
        assert variants["module, wait per host"]["api_calls_by_action"]["CreateSnapshots"] == int(size)
    assert sizes["1"]["anchor: ec2_snapshot loop per host"]["api_calls_by_action"]["CreateSnapshot"] == 4
    assert "anchor: ec2_snapshot loop per host" not in sizes["2"], "the anchor stops at --anchor-max"
    markdown = (tmp_path / "results.md").read_text()
    assert "how the figures grow with the fleet" in markdown and "not run" in markdown
