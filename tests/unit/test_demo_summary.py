# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make demo`` ends with a one-screen summary: each procedure, passed or failed, its key figure."""

from __future__ import annotations

import importlib.util
import os
import pathlib
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
