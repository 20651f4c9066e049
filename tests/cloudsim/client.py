# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Python client for cloudsim, used by pytest fixtures and benchmarks (standard library only).

::

    with CloudSim.start(speed=600) as cloud:
        seeded = cloud.seed_instance(volumes=[{"size": 8}, {"size": 100, "type": "st1"}])
        ec2 = boto3.client("ec2", **cloud.aws_client_kwargs())
        ...
        cloud.journal(service="ec2", action="CreateSnapshots")
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

# The directory that contains the cloudsim package: PYTHONPATH for the subprocess.
TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMMY_ACCESS_KEY = "AKIACLOUDSIMTESTING1"
DUMMY_SECRET_KEY = "cloudsim-dummy-secret-key-not-a-secret"


class CloudSimError(RuntimeError):
    """cloudsim could not be started, or a control call failed."""


class CloudSim:
    """A running cloudsim: either started here (and owned) or attached to through its endpoints file."""

    def __init__(self, endpoints: dict, process: subprocess.Popen | None = None, endpoints_file: str | None = None,
                 temp_dir: str | None = None, stderr_path: str | None = None) -> None:
        self.endpoints = endpoints
        self.process = process
        self.endpoints_file = endpoints_file
        self._temp_dir = temp_dir
        self._stderr_path = stderr_path

    # Life cycle --------------------------------------------------------------------------------

    @classmethod
    def start(cls, speed: float = 1.0, endpoints_file: str | None = None, env: dict | None = None,
              services: tuple = ("ec2",), timeout: float = 180.0) -> CloudSim:
        """Launch ``python -m cloudsim`` with this interpreter and wait for its endpoints file."""
        temp_dir = tempfile.mkdtemp(prefix="cloudsim-")
        endpoints_file = endpoints_file or os.path.join(temp_dir, "endpoints.json")
        stderr_path = os.path.join(temp_dir, "stderr.log")
        command = [sys.executable, "-m", "cloudsim", "--endpoints", endpoints_file, "--speed", str(speed), "--services", ",".join(services)]
        child_env = dict(os.environ if env is None else env)
        child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [TESTS_DIR, child_env.get("PYTHONPATH")]))
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(command, env=child_env, stdout=subprocess.DEVNULL, stderr=stderr)  # pylint: disable=consider-using-with
        cloud = cls({}, process=process, endpoints_file=endpoints_file, temp_dir=temp_dir, stderr_path=stderr_path)
        cloud.endpoints = cloud._wait_for_endpoints(timeout)
        return cloud

    @classmethod
    def attach(cls, endpoints_file: str) -> CloudSim:
        """Talk to a cloudsim that is already running (for example ``make cloudsim``)."""
        with open(endpoints_file, encoding="utf-8") as handle:
            return cls(json.load(handle), endpoints_file=endpoints_file)

    def _stderr_tail(self, limit: int = 4000) -> str:
        if not self._stderr_path or not os.path.exists(self._stderr_path):
            return ""
        with open(self._stderr_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-limit:]

    def _wait_for_endpoints(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CloudSimError(f"cloudsim exited with status {self.process.returncode} before it was ready:\n{self._stderr_tail()}")
            endpoints = self._read_endpoints_file()
            if endpoints and endpoints.get("pid") == self.process.pid:
                return endpoints
            time.sleep(0.05)
        self.stop()
        raise CloudSimError(f"cloudsim did not write {self.endpoints_file} within {timeout:.0f}s:\n{self._stderr_tail()}")

    def _read_endpoints_file(self) -> dict | None:
        try:
            with open(self.endpoints_file, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate a cloudsim started by :meth:`start` (kill if it does not exit in time)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> CloudSim:
        return self

    def __exit__(self, *_exc_info) -> None:
        self.stop()

    # Addresses ---------------------------------------------------------------------------------

    @property
    def control_url(self) -> str:
        return self.endpoints["control"]

    @property
    def ec2_url(self) -> str:
        return self.endpoints["ec2"]

    @property
    def region(self) -> str:
        return self.endpoints["region"]

    @property
    def account_id(self) -> str:
        return self.endpoints["account_id"]

    def aws_client_kwargs(self, service: str = "ec2") -> dict:
        """Keyword arguments for ``boto3.client(service, **kwargs)`` (dummy credentials)."""
        return {
            "endpoint_url": self.endpoints[service], "region_name": self.region,
            "aws_access_key_id": DUMMY_ACCESS_KEY, "aws_secret_access_key": DUMMY_SECRET_KEY,
        }

    def aws_env(self) -> dict:
        """Environment variables that point AWS CLI / botocore based tools at cloudsim."""
        env = {
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
        }
        if "ec2" in self.endpoints:
            env["AWS_ENDPOINT_URL_EC2"] = self.endpoints["ec2"]
        if "lightsail" in self.endpoints:
            env["AWS_ENDPOINT_URL_LIGHTSAIL"] = self.endpoints["lightsail"]
        return env

    # Control API -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        url = self.control_url + path
        if query:
            url += "?" + urllib.parse.urlencode({key: value for key, value in query.items() if value is not None})
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", errors="replace")
            raise CloudSimError(f"{method} {path} failed with HTTP {error.code}: {detail}") from error

    def health(self) -> dict:
        return self._call("GET", "/health")

    def reset(self, speed: float | None = None) -> dict:
        """Wipe all simulator state, the journal, the faults and the throttling (clock speed kept unless given)."""
        return self._call("POST", "/reset", {} if speed is None else {"speed": speed})

    def clock(self) -> dict:
        return self._call("GET", "/clock")

    def set_speed(self, speed: float) -> dict:
        return self._call("POST", "/clock", {"speed": speed})

    def advance(self, seconds: float) -> dict:
        return self._call("POST", "/clock", {"advance": seconds})

    def inject_fault(self, service: str, action: str, code: str, status: int = 400, count: int = 1, message: str | None = None,
                     processed: bool = False, retry_after: int | None = None) -> dict:
        """The next ``count`` calls of ``action`` fail with ``code``; ``processed``: they are carried out first (a lost answer);
        ``retry_after``: the seconds of the Retry-After header an OpenStack service sends with it (1 for a 429 by default)."""
        body = {"service": service, "action": action, "code": code, "status": status, "count": count, "processed": processed}
        if retry_after is not None:
            body["retry_after"] = retry_after
        if message is not None:
            body["message"] = message
        return self._call("POST", "/faults", body)

    def drop_connection(self, service: str, action: str, kind: str = "reset", count: int = 1, processed: bool = False,
                        hold_seconds: float | None = None) -> dict:
        """The next ``count`` calls of ``action`` get no HTTP answer: ``kind="reset"`` closes the connection at once (TCP
        RST), ``"timeout"`` keeps it silent ``hold_seconds`` real seconds (default 65: past botocore's read timeout) first;
        ``processed``: the call is carried out before the connection drops (a lost answer)."""
        body = {"service": service, "action": action, "drop": kind, "count": count, "processed": processed}
        if hold_seconds is not None:
            body["hold_seconds"] = hold_seconds
        return self._call("POST", "/faults", body)

    def connections_dropped(self) -> int:
        """How many calls had their connection dropped since cloudsim started (not reset by ``reset``)."""
        return self._call("GET", "/faults")["dropped"]

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")["faults"]

    def faults_met(self) -> int:
        """How many calls met an injected fault since cloudsim started (not reset by ``reset``)."""
        return self._call("GET", "/faults")["met"]

    def clear_faults(self) -> dict:
        return self._call("DELETE", "/faults")

    def throttle(self, service: str, rate: float, burst: int = 1, scope: str = "category") -> dict:
        """Rate-limit ``service`` (``ec2``, ``lightsail``, ``compute``, ``volume``...): ``rate`` requests per real second,
        ``burst`` at once, one bucket per action category (``scope="category"``) or for the whole service."""
        return self._call("POST", "/throttle", {"service": service, "rate": rate, "burst": burst, "scope": scope})

    def throttle_counters(self) -> list[dict]:
        """Each throttled service's limit with its ``allowed`` and ``throttled`` call counts."""
        return self._call("GET", "/throttle")["limits"]

    def throttle_off(self, service: str | None = None) -> dict:
        """No more throttling of ``service``, or of any service."""
        return self._call("DELETE", "/throttle", query={"service": service})

    def journal(self, service: str | None = None, action: str | None = None, since: int = 0) -> list[dict]:
        return self._call("GET", "/journal", query={"service": service, "action": action, "since": since})["entries"]

    def clear_journal(self) -> dict:
        return self._call("DELETE", "/journal")

    # EC2 ---------------------------------------------------------------------------------------

    def ec2_config(self, **settings) -> dict:
        """Read, or change, snapshot_seconds_base / snapshot_seconds_per_gib / instance_transition_seconds."""
        if settings:
            return self._call("POST", "/ec2/config", settings)
        return self._call("GET", "/ec2/config")

    def seed_instance(self, volumes: list[dict] | None = None, hibernation: bool = False, state: str = "running",
                      tags: dict | None = None, root_device: str | None = None, **extra) -> dict:
        """Create an instance with exactly these EBS volumes (first = root); not journaled.

        ``volumes`` items: ``size`` (GiB), ``type``, ``device``, ``tags``, ``encrypted``, ``iops``.
        ``extra``: ``instance_type``, ``image_id``, ``platform``, ``region``.
        """
        body = {"volumes": volumes or [{"size": 8}], "hibernation": hibernation, "state": state, "tags": tags or {}}
        if root_device:
            body["root_device"] = root_device
        body.update(extra)
        return self._call("POST", "/ec2/instances", body)

    def fail_snapshots(self, volume_id: str | None = None, instance_id: str | None = None, at_progress: float = 50) -> dict:
        """The next snapshot of the volume (or of any volume of the instance) goes to error at ``at_progress``%."""
        body = {"at_progress": at_progress}
        if volume_id:
            body["volume_id"] = volume_id
        if instance_id:
            body["instance_id"] = instance_id
        return self._call("POST", "/ec2/snapshot-failures", body)

    def clear_snapshot_failures(self) -> dict:
        return self._call("DELETE", "/ec2/snapshot-failures")

    def ec2_state(self, region: str | None = None) -> dict:
        return self._call("GET", "/ec2/state", query={"region": region})

    # Lightsail ---------------------------------------------------------------------------------

    @property
    def lightsail_url(self) -> str:
        return self.endpoints["lightsail"]

    def lightsail_config(self, **settings) -> dict:
        """Read, or change, the Lightsail simulator's durations (``instance_transition_seconds``, ...) and ``page_size``."""
        if settings:
            return self._call("POST", "/lightsail/config", settings)
        return self._call("GET", "/lightsail/config")

    def seed_lightsail_instance(self, name: str, blueprint: str = "linux", state: str = "running", **extra) -> dict:
        """Create a Lightsail instance directly (not journaled).

        ``blueprint``: ``linux``, ``windows`` or a blueprint id. ``extra``: ``bundle``, ``disk_size`` (GB),
        ``key_pair``, ``tags`` (dict), ``static_ip`` (true or a name), ``password`` (Windows), ``region``.
        """
        return self._call("POST", "/lightsail/instances", dict(extra, name=name, blueprint=blueprint, state=state))

    def fail_lightsail_snapshot(self, instance_name: str, region: str | None = None) -> dict:
        """The next snapshot of this instance ends in ``error`` instead of ``available``."""
        return self._call("POST", "/lightsail/snapshot-failures", {"instance_name": instance_name, "region": region})

    def start_lightsail_auto_snapshot(self, instance_name: str, seconds: float | None = None, region: str | None = None) -> dict:
        """An automatic snapshot of this (Linux) instance runs for ``seconds`` of simulated time."""
        body = {"instance_name": instance_name, "region": region}
        if seconds is not None:
            body["seconds"] = seconds
        return self._call("POST", "/lightsail/auto-snapshot", body)

    def lightsail_guest_shutdown(self, instance_name: str, delay_seconds: float = 0, generalize: bool = True, region: str | None = None) -> dict:
        """The guest OS of this running instance shuts itself down after ``delay_seconds`` (simulated), as Sysprep does.

        No API call is journaled; the instance goes stopping -> stopped. ``generalize`` (Sysprep, Windows
        only): the next boot, and copies from a snapshot taken after it, get a new Administrator password.
        """
        body = {"instance_name": instance_name, "delay_seconds": delay_seconds, "generalize": generalize, "region": region}
        return self._call("POST", "/lightsail/guest-shutdown", body)

    def lightsail_state(self, region: str | None = None) -> dict:
        return self._call("GET", "/lightsail/state", query={"region": region})

    # OpenStack ---------------------------------------------------------------------------------

    @property
    def openstack_auth_url(self) -> str:
        """The Keystone v3 auth URL (``/identity`` on the OpenStack simulator's port)."""
        return self.endpoints["openstack"]

    def clouds_yaml(self, cloud_name: str = "devstack", auth_type: str = "password") -> dict:
        """A clouds.yaml document (dict) for openstacksdk/openstackclient; ``auth_type`` may be ``v3applicationcredential``."""
        return self._call("GET", "/openstack/clouds-yaml", query={"cloud_name": cloud_name, "auth_type": auth_type})

    def seed_server(self, boot: str = "image", volumes: list[dict] | None = None, **extra) -> dict:
        """Create an OpenStack server with its port and volumes; not journaled.

        ``boot``: ``image`` or ``volume`` (its root volume is then the first attached volume, ``/dev/vda``).
        ``extra``: ``name``, ``image``, ``flavor``, ``root_size``, ``network``, ``fixed_ip``, ``state``,
        ``windows``, ``guest_nic`` (``static``/``dhcp``), ``metadata``.
        """
        return self._call("POST", "/openstack/servers", {"boot": boot, "volumes": volumes or [], **extra})

    def openstack_config(self, **settings) -> dict:
        """Read, or change, the simulated durations (``snapshot_seconds_base``, ``server_build_seconds``...)."""
        if settings:
            return self._call("POST", "/openstack/config", settings)
        return self._call("GET", "/openstack/config")

    def fail_openstack_snapshots(self, volume_id: str | None = None, server_id: str | None = None) -> dict:
        """The next Cinder snapshot of the volume (or of any volume of the server) ends in ``error``."""
        return self._call("POST", "/openstack/snapshot-failures", {"volume_id": volume_id, "server_id": server_id})

    def clear_openstack_snapshot_failures(self) -> dict:
        return self._call("DELETE", "/openstack/snapshot-failures")

    def set_guest_nic(self, server_id: str, mode: str, ip: str | None = None) -> dict:
        """What the emulated Windows guest did to its NIC (``dhcp``, or ``static`` with ``ip``); answers ``reachable``."""
        return self._call("POST", "/openstack/guest-nic", {"server_id": server_id, "mode": mode, "ip": ip})

    def openstack_state(self) -> dict:
        return self._call("GET", "/openstack/state")

    # Windows guests ----------------------------------------------------------------------------

    def windows_guest(self, service: str, instance: str, region: str | None = None) -> dict:
        """The emulated Windows guest of a Lightsail instance (name) or an OpenStack server (id).

        Answers ``host``, ``port`` (WinRM over HTTP, path ``/wsman``, basic auth), ``listeners`` (by port on the
        instance, ``"5985"`` and, once set up, ``"5986"`` with its ``certificate``), ``username``, ``password``,
        ``reachable`` (listening now), ``agent``, ``password_option``, ``nic`` (adapters with their IPv4
        configuration), ``sysprep_scheduled``, ``sysprep_running``, ``scheduled``.
        """
        return self._call("GET", "/windows/guest", query={"service": service, "instance": instance, "region": region})

    def seed_windows_guest(self, service: str, instance: str, region: str | None = None, **setup) -> dict:
        """Set up a guest: ``agent`` (``ec2launch_v2``/``ec2launch_v1``/``ec2config``/``none``), ``password_option``,
        ``password`` (OpenStack guests), ``nic`` (``dhcp``, or ``static`` with ``ip``), ``winrm_https`` (an HTTPS
        listener with a self-signed certificate beside the stock HTTP one, or none)."""
        return self._call("POST", "/windows/guest", dict(setup, service=service, instance=instance, region=region))

    def windows_guests(self) -> list[dict]:
        return self._call("GET", "/windows/guests")["guests"]

    def windows_config(self, **settings) -> dict:
        """Read, or change, the guests' settings (``receive_chunk_bytes``, ``silent_drop``)."""
        if settings:
            return self._call("POST", "/windows/config", settings)
        return self._call("GET", "/windows/config")
