# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Demo chapter: the Lightsail Windows snapshot procedure (backup, Sysprep, snapshot), ours and by hand.

Starts the local Lightsail cloud with emulated Windows guests (WinRM on loopback), makes a Windows
instance, runs playbooks/lightsail_instance_snapshot.yml (the AWX playbook) with Sysprep through the real
winrm connection, then the same seed sequence written with community.aws's modules on a second instance,
and prints for both: the API calls by action and how long (simulated) each instance was not running.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from cloudsim.client import CloudSim  # noqa: E402  pylint: disable=wrong-import-position
from cloudsim.sampler import PeriodicSampler  # noqa: E402  pylint: disable=wrong-import-position

TITLE = "Lightsail: a Windows Server snapshot with Sysprep, ours and by hand with community.aws"
SPEED = 10  # slow enough that both sides' polling (ours 1-5 s, community.aws a fixed 5 s) stays small in simulated time
SETTINGS = {"instance_transition_seconds": 30, "snapshot_seconds_base": 120, "snapshot_seconds_per_gib": 0, "windows_password_seconds": 60}


def collections_path():
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")


def playbook(sim, path, extra_vars):
    env = dict(os.environ, **sim.aws_env(), ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(path),
               "-e", json.dumps(dict(extra_vars, ansible_python_interpreter=sys.executable))]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


class DowntimeMeter(PeriodicSampler):
    """Samples the instance's state (control API, not journaled) and adds up the simulated time it is not running."""

    def __init__(self, sim, name):
        super().__init__(interval=0.05)
        self.sim, self.name, self.seconds = sim, name, 0.0
        self._last = None

    def _state(self):
        now = self.sim.clock()["epoch"]
        state = next(entry["state"] for entry in self.sim.lightsail_state()["instances"] if entry["name"] == self.name)
        return now, state

    def start(self):
        self._last = self._state()

    def sample(self):
        now, state = self._state()
        last_time, last_state = self._last
        if last_state != "running":
            self.seconds += now - last_time
        self._last = (now, state)


def calls_by_action(sim, since):
    counts = {}
    for entry in sim.journal(service="lightsail", since=since):
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    return counts


def describe(label, counts, downtime, wall):
    print(f"{label}: {sum(counts.values())} Lightsail API calls, the instance not running for {downtime / 60:.1f} simulated minutes "
          f"({wall:.0f} s real time).")
    print("  " + ", ".join(f"{action} {count}" for action, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))))


def run_ours(sim, workdir):
    sim.seed_lightsail_instance("win-1", blueprint="windows")
    guest = wait_for_reachable(sim, "win-1")
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    began = time.monotonic()
    with DowntimeMeter(sim, "win-1") as meter:
        process = playbook(sim, REPO_ROOT / "playbooks" / "lightsail_instance_snapshot.yml", {
            "lightsail_instance_snapshot_instance_name": "win-1", "lightsail_instance_snapshot_endpoint_url": sim.lightsail_url,
            "lightsail_instance_snapshot_winrm_cidr": "198.51.100.7/32", "lightsail_instance_snapshot_winrm_host": guest["host"],
            "lightsail_instance_snapshot_winrm_port": guest["port"], "lightsail_instance_snapshot_winrm_scheme": "http",
            "lightsail_instance_snapshot_winrm_transport": "basic", "lightsail_instance_snapshot_winrm_cert_validation": "ignore",
            "lightsail_instance_snapshot_password_file": str(workdir / "win-1-original-password"),
        })
    if process.returncode != 0:
        print(process.stdout[-3000:], process.stderr[-2000:])
        return None
    summary = next((line for line in process.stdout.splitlines() if '"msg": "win-1 (Windows)' in line), "").strip()
    print("Ours (snapkit.cloud.lightsail_instance_snapshot, Sysprep through WinRM on the emulated guest):")
    print(f"  the role's summary: {json.loads('{' + summary + '}')['msg'] if summary else '?'}")
    sysprep = [entry for entry in sim.journal(service="windows") if entry["action"] == "snapkit.cloud.win_ec2launch_sysprep"]
    print(f"  win_ec2launch_sysprep ran {len(sysprep)} time(s) on the guest over WinRM; the guest then shut itself down, which the role "
          "saw on the Lightsail API (no StopInstance for it).")
    mode = oct((workdir / "win-1-original-password").stat().st_mode & 0o777)
    print(f"  the original Administrator password went to a file with mode {mode}, never to the output.")
    return calls_by_action(sim, since), meter.seconds, time.monotonic() - began


def run_anchor(sim):
    sim.seed_lightsail_instance("win-2", blueprint="windows")
    since = sim.journal()[-1]["seq"]
    began = time.monotonic()
    with DowntimeMeter(sim, "win-2") as meter:
        process = playbook(sim, REPO_ROOT / "tools" / "demo" / "lightsail_windows_community_aws.yml",
                           {"demo_instance": "win-2", "demo_endpoint_url": sim.lightsail_url, "demo_control_url": sim.control_url})
    if process.returncode != 0:
        print(process.stdout[-3000:], process.stderr[-2000:])
        return None
    counts = calls_by_action(sim, since)
    print("By hand with community.aws (lightsail, lightsail_snapshot):")
    if counts.get("StopInstance", 0) > 1:
        print("  note: its 'state: stopped' called StopInstance while Sysprep was still shutting the guest down.")
    return counts, meter.seconds, time.monotonic() - began


def wait_for_reachable(sim, name, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        guest = sim.windows_guest("lightsail", name)
        if guest["reachable"] or time.monotonic() > deadline:
            return guest
        time.sleep(0.1)


def key_figure(output):
    """The summary's figure: calls and simulated time not running, ours against community.aws."""
    found = dict((label, (calls, minutes)) for label, calls, minutes in re.findall(
        r"^(snapkit\.cloud|community\.aws): (\d+) Lightsail API calls, the instance not running for ([\d.]+) simulated minutes",
        output, flags=re.MULTILINE))
    return "; ".join(f"{'ours' if label == 'snapkit.cloud' else label}: {calls} API calls, not running {minutes} simulated minutes"
                     for label, (calls, minutes) in found.items()) or "-"


def run():
    with CloudSim.start(speed=SPEED, services=("lightsail", "windows")) as sim, tempfile.TemporaryDirectory() as workdir:
        sim.lightsail_config(**SETTINGS)
        print(f"Local Lightsail cloud up at {sim.lightsail_url}, with emulated Windows guests answering WinRM on loopback "
              f"(simulated time runs {SPEED}x faster; a snapshot takes {SETTINGS['snapshot_seconds_base'] // 60} simulated minutes).")
        ours = run_ours(sim, pathlib.Path(workdir))
        if ours is None:
            print("The role's playbook failed.")
            return 1
        anchor = run_anchor(sim)
        if anchor is None:
            print("The community.aws playbook failed.")
            return 1
        print()
        describe("snapkit.cloud", *ours)
        describe("community.aws", *anchor)
    print("Local clouds stopped.")
    return 0
