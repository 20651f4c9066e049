# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make demo`` ends with a one-screen summary: each procedure, passed or failed, its key figure, and what the demo
leaves out; its figures come from the simulated clock (dates, downtime in simulated minutes)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import types

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("snapkit_demo", ROOT / "tools" / "demo.py")
demo = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(demo)


def chapter(title, code, printed):
    def run():
        # As a playbook's subprocess writes (and print() does outside pytest's capture): to file descriptor 1.
        os.write(1, (printed + "\n").encode())
        return code
    return types.SimpleNamespace(TITLE=title, run=run)


def test_the_demo_ends_with_each_procedure_its_result_and_key_figure(monkeypatch, capfd):
    monkeypatch.setattr(demo, "chapters", lambda selection: [
        chapter("EBS: one crash-consistent snapshot set", 0,
                'TASK [Report]\n    "msg": "4 snapshots completed, instance down 1.5 simulated minutes"'),
        chapter("Lightsail: a Windows Server snapshot", 1, "The role's playbook failed."),
    ])
    assert demo.main() == 1
    output = capfd.readouterr().out
    summary = output[output.index("=== Summary ==="):].splitlines()
    assert len(summary) <= 24, "one screen"
    assert summary[2].startswith("EBS: one crash-consistent snapshot set") and " passed " in summary[2]
    assert summary[2].endswith("4 snapshots completed, instance down 1.5 simulated minutes")
    assert summary[3].startswith("Lightsail: a Windows Server snapshot") and " FAILED " in summary[3]
    assert summary[-1] == "1 of 2 procedures passed."


def test_the_summary_keeps_whole_names_and_says_what_the_demo_leaves_out(monkeypatch, capfd):
    title = "OpenStack: snapshot and copy an image-booted and a volume-booted server, on the simulator and the real one"
    figure = "image-booted server web: an image of 40 GiB; volume-booted server db: a Cinder snapshot of 25 GiB, 3 API calls"
    monkeypatch.setattr(demo, "chapters", lambda selection: [chapter(title, 0, figure)])
    assert demo.main() == 0
    output = capfd.readouterr().out
    summary = output[output.index("=== Summary ==="):].splitlines()
    assert len(summary) <= 24, "one screen"
    assert summary[2].startswith(title + " ") and summary[2].endswith(figure)
    left_out = "\n".join(summary[3:-1])
    for words in ("another region", "retention", "verify", "Linux", "Windows server"):
        assert words in left_out, left_out


def test_no_demo_file_carries_a_date():
    """Set names and the like come from the simulated clock, so a run in a year's time says that year."""
    dated = {path.name: found for path in sorted((ROOT / "tools").glob("demo*/*")) if path.is_file()
             for found in [re.findall(r"\b20\d\d-?[01]\d-?[0-3]\d\b", path.read_text(encoding="utf-8"))] if found}
    assert dated == {}


def test_the_fleet_chapter_gives_downtime_in_simulated_minutes(capsys):
    """The chapters report downtime in one unit: the fleet table too, from the journal's simulated times."""
    spec = importlib.util.spec_from_file_location("snapkit_demo_fleet", ROOT / "tools" / "demo" / "chapter_11_ebs_fleet_and_restore.py")
    fleet_chapter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fleet_chapter)
    fleet = {"app-1": "i-0aaaaaaaaaaaaaaa1", "batch-1": "i-0bbbbbbbbbbbbbbb2"}

    class Client:
        def describe_instances(self, InstanceIds):  # pylint: disable=invalid-name
            return {"Reservations": [{"Instances": [{"InstanceId": item, "State": {"Name": "running"}} for item in InstanceIds]}]}

        def describe_snapshots(self, OwnerIds):  # pylint: disable=invalid-name,unused-argument
            return {"Snapshots": []}

    journal = [
        {"action": "StopInstances", "params": {"InstanceId.1": fleet["app-1"]},
         "sim_time": "2030-01-01T00:00:00Z", "real_time": "2030-01-01T00:00:00Z"},
        {"action": "StartInstances", "params": {"InstanceId.1": fleet["app-1"]},
         "sim_time": "2030-01-01T00:03:00Z", "real_time": "2030-01-01T00:00:01Z"},
    ]
    fleet_chapter.report_fleet(Client(), fleet, {fleet["app-1"]: "running", fleet["batch-1"]: "stopped"}, journal)
    row = next(line for line in capsys.readouterr().out.splitlines() if fleet["app-1"] in line)
    assert row.endswith("3.0 simulated minutes"), row
