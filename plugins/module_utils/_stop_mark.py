# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The stop mark: one rule for every cloud (docs/reliability.md, "The stop mark").

Just before a run stops a running instance (EC2 instance, Lightsail instance, Nova server) it writes ``STOP_MARK_KEY``
on it (an EC2 tag, a Lightsail tag, a Nova server metadata item), its value the name of what the run makes: the snapshot
set (EC2), the snapshot (OpenStack), or the procedure (the Lightsail role, whose snapshot names change from run to run).
The mark is removed once the instance runs again. A run cut off in between (the controller killed, the job cancelled)
leaves the instance stopped with the mark, and:

* the next run with the same name finds its own mark on a stopped instance: the instance was running, and the run
  starts it again at the end (and removes the mark);
* its own mark on a running instance (a run cut off after its start): the run removes the mark;
* another name's mark on a stopped instance: the instance is treated as found stopped and left stopped, with a warning.

Writing and removing the mark are best effort: refused, the run warns and goes on.
"""

from __future__ import annotations

STOP_MARK_KEY = "snapkit:stopped-for-snapshot"


def foreign_mark_warning(what, state, found, kind):
    """The warning about ``what`` (an instance or server, named) found ``state`` with the mark ``found`` of a run for
    another ``kind`` (a snapshot set, a snapshot, a procedure)."""
    return (f"{what} is {state} with the stop mark {STOP_MARK_KEY}={found}: a run for {kind} {found} stopped it and was "
            f"cut off before it could start it again. It is left stopped: run {kind} {found} again to start it, or start it "
            "and remove the mark yourself")


def taken_over_warning(what, found, kind):
    """The warning about ``what`` found stopped with this run's own mark ``found``: the run starts it again."""
    return (f"{what} was left stopped by an earlier run for {kind} {found} that was cut off (stop mark {STOP_MARK_KEY}); "
            "it is started again")
