# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make bench BENCH_ARGS=--quick``: the benchmark script runs end to end on tiny fixtures and its figures add up.

One run (module-scoped) feeds every check: each comparison's sides made the same snapshots, counted from the journal
the script read, and the report has its Markdown, JSON and a real PNG chart.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from conftest import collections_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUICK_REPEATS = 3


@pytest.fixture(name="bench", scope="module")
def quick_bench_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("bench-quick")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "tests"), ANSIBLE_COLLECTIONS_PATH=collections_path())
    process = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "run.py"), "--quick", "--results", str(results)],
                             env=env, capture_output=True, text=True, timeout=3600, check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return {"dir": results, "report": json.loads((results / "results.json").read_text()), "markdown": (results / "results.md").read_text()}


def test_ebs_counts_every_call(bench):
    report = bench["report"]
    assert report["ebs_instance"]["ours"]["api_calls_by_action"]["CreateSnapshots"] == 1
    assert report["ebs_instance"]["anchor"]["api_calls_by_action"]["CreateSnapshot"] == report["ebs_instance"]["anchor"]["snapshots"]
    sizes = report["ebs_fleet"]["sizes"]
    assert sorted(sizes) == ["1", "2"]
    for size, variants in sizes.items():
        for name in ("role, one fleet wait", "role, fleet mode", "module, wait per host", "fleet module, one task"):
            assert variants[name]["api_calls_by_action"]["CreateSnapshots"] == int(size), name
            assert variants[name]["start_spread_seconds"] is not None and variants[name]["start_spread_seconds"] >= 0, name
    # The fleet module tags identical records in one CreateTags: 4 devices, whatever the fleet's size.
    assert sizes["2"]["fleet module, one task"]["api_calls_by_action"]["CreateTags"] == 4
    assert sizes["1"]["anchor: ec2_snapshot loop per host"]["api_calls_by_action"]["CreateSnapshot"] == 4
    assert "anchor: ec2_snapshot loop per host" not in sizes["2"], "the anchor stops at --anchor-max"
    assert "how the figures grow with the fleet" in bench["markdown"] and "not run" in bench["markdown"]
    assert "Growth of `fleet module, one task`" in bench["markdown"]


def test_lightsail_sides_made_the_same_snapshots(bench):
    lightsail = bench["report"]["lightsail"]
    for side in ("ours", "anchor"):
        snapshot = lightsail["snapshot"][side]
        assert snapshot["api_calls_by_action"]["CreateInstanceSnapshot"] == 1, side
        assert snapshot["detection_latency_seconds"] is not None and snapshot["detection_latency_seconds"] >= 0, side
        assert snapshot["api_calls"] == sum(snapshot["api_calls_by_action"].values()), side
        windows = lightsail["windows"][side]
        assert windows["instance_snapshots"] == windows["api_calls_by_action"]["CreateInstanceSnapshot"] == 2, side  # backup + Sysprep
        assert windows["not_running_simulated_minutes"] > 0, f"{side}: the instance was stopped for each snapshot"
    # Sysprep shuts our guest down by itself: the role stops the instance once only (for the backup), never the shutting-down guest.
    assert lightsail["windows"]["ours"]["api_calls_by_action"]["StopInstance"] == 1


def test_openstack_sides_each_made_one_snapshot_or_image(bench):
    openstack = bench["report"]["openstack"]
    for side in ("ours", "anchor"):
        assert openstack["volume_snapshot"][side]["made"] == 1, side
        assert openstack["volume_snapshot"][side]["api_calls_by_action"]["volume createSnapshot"] == 1, side
        assert openstack["instance_snapshot"][side]["made"] == 1, side
        assert openstack["instance_snapshot"][side]["api_calls_by_action"]["compute createImage"] == 1, side


def test_overhead_ran_every_module_the_quick_number_of_times(bench):
    pairs = bench["report"]["overhead"]["pairs"]
    assert [pair["ours"]["module"].split(".")[:2] for pair in pairs] == [["snapkit", "cloud"]] * 3
    reads = {"snapkit.cloud.ebs_snapshot_set_info": "ec2 DescribeSnapshots", "amazon.aws.ec2_snapshot_info": "ec2 DescribeSnapshots",
             "snapkit.cloud.lightsail_snapshot_info": "lightsail GetInstanceSnapshots",
             "community.aws.lightsail_snapshot": "lightsail GetInstanceSnapshot",
             "snapkit.cloud.os_volume_snapshot_info": "volume listSnapshots", "openstack.cloud.volume_snapshot_info": "volume listSnapshots"}
    for pair in pairs:
        for side in ("ours", "anchor"):
            figures = pair[side]
            assert figures["repeats"] == QUICK_REPEATS
            assert figures["api_calls_by_action"][reads[figures["module"]]] == QUICK_REPEATS, figures["module"]
            assert figures["mean_task_seconds"] > 0 and figures["import_seconds"] > 0, figures["module"]
            mutating = [call for call in figures["api_calls_by_action"]  # "service Action"; a Keystone token is no change
                        if not call.startswith("identity ") and call.split()[1].startswith(("Create", "Delete", "Stop", "create", "delete"))]
            assert not mutating, f"{figures['module']} should only read: {mutating}"


def test_chart_is_a_png_referenced_from_the_markdown(bench):
    chart = bench["dir"] / "results.png"
    data = chart.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # IHDR, the first chunk
    assert data[12:16] == b"IHDR" and width > 0 and height > 0
    assert "](results.png)" in bench["markdown"]
    for heading in ("Lightsail, one instance", "Lightsail Windows procedure", "OpenStack, a snapshot of an attached volume",
                    "OpenStack, an instance snapshot", "Per-task overhead", "Notes on this run"):
        assert heading in bench["markdown"], heading
