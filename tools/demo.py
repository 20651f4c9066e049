# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make demo``: the collection's procedures on the local test clouds, told in plain words.

Each chapter is a module ``tools/demo/chapter_NN_<name>.py`` with a ``TITLE`` and a ``run()``
that starts the clouds it needs, runs a playbook, prints what happened and returns an exit code.
Chapters run in the order of their number; ``make demo CHAPTERS=ebs`` runs those whose file name
contains one of the given words. ``OPENSTACK_BACKENDS="sim real"`` runs the OpenStack chapter on the simulator and on
the real OpenStack services (tests/openstack_real), see tools/demo/chapter_30_openstack.py.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys

DEMO_DIR = pathlib.Path(__file__).resolve().parent / "demo"


def chapters(selection):
    for path in sorted(DEMO_DIR.glob("chapter_*.py")):
        if selection and not any(word in path.stem for word in selection):
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def main():
    selection = os.environ.get("CHAPTERS", "").split()
    failed = []
    for chapter in chapters(selection):
        print(f"\n=== {chapter.TITLE} ===")
        if chapter.run() != 0:
            failed.append(chapter.TITLE)
    if failed:
        print("\nChapters that failed: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
