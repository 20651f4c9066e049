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
import re
import sys
import threading
import time

DEMO_DIR = pathlib.Path(__file__).resolve().parent / "demo"


def chapters(selection):
    for path in sorted(DEMO_DIR.glob("chapter_*.py")):
        if selection and not any(word in path.stem for word in selection):
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


# The line of a chapter's output that carries its key figure: the last one with a number and one of these words.
KEY_WORDS = re.compile(r"(?i)\b(downtime|not running|API calls?|minutes?|seconds?|snapshots?|copies|copy|volumes?|sets?)\b")
TITLE_WIDTH = 40
# What the chapters do not show, said in the summary so nobody takes the demo for the whole collection.
LEFT_OUT = (
    "Not shown here (each has its integration tests and its doc):",
    "  EBS: copying a set to another region (ebs_snapshot_set_copy) and retention (ebs_snapshot_set_retention);"
    " docs/ebs_multi_snapshot.md.",
    "  Lightsail: the verify step (an instance made from the Sysprep snapshot) and the Linux procedure;"
    " docs/lightsail_instance_snapshot.md.",
    "  OpenStack: the copy of a Windows server (its static IP switched to DHCP over WinRM);"
    " docs/openstack_snapshot_and_copy.md.",
)


class Tee:
    """Everything written to file descriptor 1 (ours and the playbooks' subprocesses') while active, still shown."""

    def __init__(self):
        self.chunks = []

    def __enter__(self):
        sys.stdout.flush()
        self._saved = os.dup(1)
        reader, writer = os.pipe()
        os.dup2(writer, 1)
        os.close(writer)
        self._thread = threading.Thread(target=self._copy, args=(reader,), daemon=True)
        self._thread.start()
        return self

    def _copy(self, reader):
        with os.fdopen(reader, "rb") as pipe:
            for chunk in iter(lambda: pipe.read1(65536), b""):
                os.write(self._saved, chunk)
                self.chunks.append(chunk)

    def __exit__(self, *_exc):
        sys.stdout.flush()
        os.dup2(self._saved, 1)
        self._thread.join()
        os.close(self._saved)

    @property
    def text(self):
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def key_figure(chapter, output):
    """The chapter's own ``key_figure(output)`` if it has one, else the last line of its output with a number and a
    key word (the playbooks' summaries and the chapter's comparisons), without Ansible's JSON framing."""
    if hasattr(chapter, "key_figure"):
        return chapter.key_figure(output)
    for line in reversed(output.splitlines()):
        text = line.strip().removeprefix('"msg": ').strip('",')
        if re.search(r"\d", text) and KEY_WORDS.search(text) and not text.startswith(("TASK", "PLAY", "ok:", "changed:", "localhost")):
            return text
    return "-"


def summary(rows):
    """One screen: each procedure, passed or failed, its key figure and how long it took (names and figures whole: a
    long line wraps), then what the demo leaves out."""
    lines = ["", "=== Summary ===", f"{'Procedure':<{TITLE_WIDTH}} {'Result':<7} {'Time':>6}  Key figure"]
    for title, passed, seconds, figure in rows:
        lines.append(f"{title:<{TITLE_WIDTH}} {'passed' if passed else 'FAILED':<7} {seconds:>5.0f}s  {figure}")
    lines.extend(LEFT_OUT)
    passed = sum(1 for row in rows if row[1])
    lines.append(f"{passed} of {len(rows)} procedures passed.")
    return "\n".join(lines)


def main():
    selection = os.environ.get("CHAPTERS", "").split()
    rows = []
    for chapter in chapters(selection):
        print(f"\n=== {chapter.TITLE} ===")
        began = time.monotonic()
        with Tee() as tee:
            passed = chapter.run() == 0
        rows.append((chapter.TITLE, passed, time.monotonic() - began, key_figure(chapter, tee.text)))
    print(summary(rows))
    return 0 if all(row[1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
