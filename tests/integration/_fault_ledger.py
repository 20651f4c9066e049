# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The reliability suite's own count of what it broke: exact figures for the report at the end of ``make integration``.

Counted in the test processes, from the simulators' control API (none of it is journaled):

* API faults *met*: the calls each cloudsim answered with an injected fault (its ``met`` counter, read before a reset or
  a stop), however the fault was injected (the client, or a playbook task posting to the control API): a fault no
  call met is not counted; of them, the connection drops (no HTTP answer at all: ``dropped``);
* throttled answers: the simulators' token-bucket counters, read before anything resets them;
* error states: ``fail_snapshots``, ``fail_lightsail_snapshot``, ``fail_openstack_snapshots`` (a snapshot that will end
  in ``error``);
* kill points: every ``run_and_kill`` of ``_reliability``.

``install()`` wraps the CloudSim client methods for the whole pytest process. The module is also a pytest plugin
(``pytest_plugins`` of conftest.py): it installs the ledger, adds each worker's figures up and prints the report.
"""

from __future__ import annotations

import collections
import functools

import pytest

from cloudsim.client import CloudSim
from cloudsim.client import CloudSimError

WORKER_FAULTS_KEY = "snapkit_faults"
WORKER_FAULTS_FIGURES_KEY = pytest.StashKey()
ERROR_STATE_METHODS = ("fail_snapshots", "fail_lightsail_snapshot", "fail_openstack_snapshots")
FIGURES = ("api faults met", "connections dropped", "throttled answers", "error states", "kill points")


class FaultLedger:
    """Per-process counters; ``figures()`` is what a worker sends to the controller."""

    def __init__(self):
        self.counts = collections.Counter()
        self._met_seen = {}  # cloudsim control URL: its ``met`` and ``dropped`` counters when last read
        self._patches = []

    def figures(self):
        return {name: self.counts.get(name, 0) for name in FIGURES}

    def count(self, name, amount=1):
        self.counts[name] += amount

    # Reading the simulator before it forgets ------------------------------------------------------------------------

    def _faults_met(self, sim):
        try:
            met = (sim.faults_met(), sim.connections_dropped())
        except (CloudSimError, OSError):
            return  # a cloudsim that is down has nothing to tell; its own error is reported elsewhere
        seen = self._met_seen.get(sim.control_url, (0, 0))
        self.counts["api faults met"] += met[0] - seen[0]
        self.counts["connections dropped"] += met[1] - seen[1]
        self._met_seen[sim.control_url] = met

    def _throttled(self, sim, service=None):
        try:
            limits = sim.throttle_counters()
        except (CloudSimError, OSError):
            return
        self.counts["throttled answers"] += sum(limit["throttled"] for limit in limits if service in (None, limit["service"]))

    # Wrappers ---------------------------------------------------------------------------------------------------------

    def _wrap(self, name, before):
        original = getattr(CloudSim, name)

        @functools.wraps(original)
        def wrapper(sim, *args, **kwargs):
            if "control" in sim.endpoints:  # a cloudsim that never came up has no control API to read
                before(sim, *args, **kwargs)
            return original(sim, *args, **kwargs)

        self._patches.append((name, original))
        setattr(CloudSim, name, wrapper)

    def install(self):
        def forgetting_everything(sim, *_args, **_kwargs):
            self._faults_met(sim)
            self._throttled(sim)

        def forgetting_a_limit(sim, service=None, *_args, **_kwargs):
            self._throttled(sim, service)

        def failing_a_snapshot(_sim, *_args, **_kwargs):
            self.count("error states")

        self._wrap("reset", forgetting_everything)
        self._wrap("stop", forgetting_everything)
        self._wrap("throttle", forgetting_a_limit)
        self._wrap("throttle_off", forgetting_a_limit)
        for name in ERROR_STATE_METHODS:
            self._wrap(name, failing_a_snapshot)

    def uninstall(self):
        for name, original in reversed(self._patches):
            setattr(CloudSim, name, original)
        self._patches = []


LEDGER = FaultLedger()


def summary(figures_list):
    """One report line from every process's figures."""
    total = collections.Counter()
    for figures in figures_list:
        total.update(figures)
    return (f"reliability: {total['api faults met']} calls met an injected API fault ({total['connections dropped']} of them a dropped "
            f"connection), {total['throttled answers']} throttled answers, "
            f"{total['error states']} error states, {total['kill points']} kill points")


# pytest plugin ----------------------------------------------------------------------------------------------------------


def pytest_configure(config):
    config.stash[WORKER_FAULTS_FIGURES_KEY] = []
    LEDGER.install()


def pytest_unconfigure(config):  # pylint: disable=unused-argument
    LEDGER.uninstall()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pylint: disable=unused-argument
    faults = getattr(node, "workeroutput", {}).get(WORKER_FAULTS_KEY)
    if faults:
        node.config.stash[WORKER_FAULTS_FIGURES_KEY].append(faults)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):  # pylint: disable=unused-argument
    """A worker sends its figures; the controller reports them, added up (nothing when nothing was broken)."""
    config = session.config
    if hasattr(config, "workerinput"):
        config.workeroutput[WORKER_FAULTS_KEY] = LEDGER.figures()
        return
    figures_list = config.stash[WORKER_FAULTS_FIGURES_KEY] or [LEDGER.figures()]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and any(any(figures.values()) for figures in figures_list):
        reporter.write_line("")  # after the progress dots
        reporter.write_line(summary(figures_list))
