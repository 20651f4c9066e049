# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Windows guest simulator: a guest for each Windows instance of the Lightsail and OpenStack simulators.

A watcher thread follows the clouds on the simulated clock (every ``WATCH_INTERVAL`` real seconds): a
guest appears with its instance, listens for WinRM on its own loopback port while the instance runs
and its NIC is usable, stops listening (open connections reset) when the instance stops, Sysprep
starts or the instance goes away. Scheduled work of the emulated modules (Sysprep, a deferred adapter
switch) runs when its simulated time comes. The simulator's own port only lists the guests.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import threading

from werkzeug.wrappers import Response

from cloudsim.simulator import ControlError, ControlRequest, ControlRoute, SimContext, Simulator
from cloudsim.windows import cloudbase, commands, modules, payload
from cloudsim.windows.endpoint import WinRMEndpoint
from cloudsim.windows.guest import Adapter, Guest, ScheduledWork, computer_name, new_password, seed_state
from cloudsim.windows.rdp import RdpListener
from cloudsim.windows.settings import WindowsSettings

LOG = logging.getLogger(__name__)
NAME = "windows"
WATCH_INTERVAL = 0.05
LIGHTSAIL_PREFIX = 20
WINDOWS_TEMP = "C:\\Users\\Administrator\\AppData\\Local\\Temp"
# Lightsail's Windows Server 2016/2019 blueprints come from AMIs with EC2Launch v1; 2022 ships EC2Launch v2.
LIGHTSAIL_AGENTS = {"windows_server_2016": "ec2launch_v1", "windows_server_2019": "ec2launch_v1", "windows_server_2022": "ec2launch_v2"}


@dataclasses.dataclass
class Observed:
    """What the cloud says about a guest's instance right now."""

    running: bool
    reachable: bool
    lease_ip: str | None
    prefix: int
    gateway: str | None
    password: str | None = None
    nic: dict | None = None
    # OpenStack: the user data and whether a config drive carries it (cloudbase-init reads it without network then).
    user_data: str | None = None
    config_drive: bool = False


class WindowsSimulator(Simulator, modules.GuestEffects):
    """Guests, their WinRM endpoints and the watcher that keeps them in step with the clouds."""

    name = NAME

    def __init__(self, context: SimContext) -> None:
        super().__init__(context)
        self._lock = threading.RLock()
        self.settings = WindowsSettings()
        self.host = "127.0.0.1"
        self.peers: dict[str, Simulator] = {}
        self.guests: dict[str, Guest] = {}
        self.endpoints: dict[str, WinRMEndpoint] = {}
        self.rdp: dict[str, RdpListener] = {}
        self._was_running: dict[str, bool] = {}
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="cloudsim-windows-watcher", daemon=True)

    # Simulator hooks ---------------------------------------------------------------------------

    def meet_peers(self, simulators: dict, host: str = "127.0.0.1") -> None:
        """Told by the server which simulators run beside it (the guests belong to their instances)."""
        self.peers = {name: simulator for name, simulator in simulators.items() if name in ("lightsail", "openstack")}
        self.host = host
        if not self._watcher.is_alive():
            self._watcher.start()

    def wsgi_app(self):
        return self._listing_app

    def reset(self) -> None:
        with self._lock:
            for endpoint in [*self.endpoints.values(), *self.rdp.values()]:
                endpoint.stop()
            self.endpoints, self.rdp, self.guests, self._was_running = {}, {}, {}, {}
            self.settings = WindowsSettings()

    def control_routes(self) -> list[ControlRoute]:
        return [
            ControlRoute("GET", "/windows/guests", self._list_route),
            ControlRoute("GET", "/windows/guest", self._guest_route),
            ControlRoute("POST", "/windows/guest", self._seed_route),
            *self.settings_routes(lambda: self.settings, self._lock),
        ]

    def _listing_app(self, environ: dict, start_response):
        with self._lock:
            body = {"guests": [self._view(guest) for guest in self.guests.values()]}
        return Response(json.dumps(body, indent=1), mimetype="application/json")(environ, start_response)

    # Watching the clouds ------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL):
            try:
                self.sync()
            except Exception:  # pylint: disable=broad-exception-caught
                LOG.exception("cloudsim Windows guests: watcher failed")

    def sync(self) -> None:
        """Bring every guest in step with its instance: create, boot, run due work, listen or not, forget."""
        with self._lock:
            now = self.context.clock.time()
            seen = set()
            for key, guest, observed in self._observe(now):
                seen.add(key)
                guest = self.guests.setdefault(key, guest)
                self._step(guest, observed, now)
            for key in set(self.guests) - seen:
                self._forget(key)

    def _observe(self, now: float):
        yield from self._observe_lightsail(now)
        yield from self._observe_openstack(now)

    def _observe_lightsail(self, now: float):
        lightsail = self.peers.get("lightsail")
        if lightsail is None:
            return
        with lightsail.lock:
            for region, book in list(lightsail.books.items()):
                book.settle(now)
                for instance in book.instances.values():
                    if not instance.is_windows:
                        continue
                    key = f"lightsail/{region}/{instance.arn}"
                    guest = self.guests.get(key) or self._new_lightsail_guest(key, region, instance)
                    # The same rule as OpenStack's port security: DHCP, or a static address that is the instance's own.
                    adapter = guest.adapters[0]
                    usable = adapter.dhcp_enabled or any(address["ip_address"] == instance.private_ip for address in adapter.addresses)
                    yield key, guest, Observed(running=instance.state == "running", reachable=usable, lease_ip=instance.private_ip,
                                               prefix=LIGHTSAIL_PREFIX, gateway=None, password=instance.password)

    def _new_lightsail_guest(self, key: str, region: str, instance) -> Guest:
        guest = Guest(key=key, service="lightsail", instance=instance.name, region=region, computer_name=computer_name(instance.name))
        guest.set_agent(LIGHTSAIL_AGENTS.get(instance.blueprint_id, "ec2launch_v2"))
        adapter = Adapter(name="Ethernet", interface_index=6, mac_address=_mac_for(instance.private_ip))
        adapter.lease(instance.private_ip, LIGHTSAIL_PREFIX)
        guest.adapters = [adapter]
        return guest

    def _observe_openstack(self, now: float):
        openstack = self.peers.get("openstack")
        if openstack is None:
            return
        with openstack.lock:
            cloud = openstack.cloud
            cloud.settle(now)
            for server in cloud.servers.values():
                if not server.windows:
                    continue
                key = f"openstack/{server.server_id}"
                port = next((cloud.ports[port_id] for port_id in server.port_ids if port_id in cloud.ports), None)
                lease_ip = port.fixed_ips[0]["ip_address"] if port and port.fixed_ips else None
                subnet = cloud.subnet_for(port.network_id, lease_ip) if lease_ip else None
                prefix = ipaddress.ip_network(subnet.cidr).prefixlen if subnet else 24
                guest = self.guests.get(key) or self._new_openstack_guest(key, server, port)
                yield key, guest, Observed(running=server.status == "ACTIVE" and server.task_state is None, reachable=cloud.server_reachable(server),
                                           lease_ip=lease_ip, prefix=prefix, gateway=subnet.gateway_ip if subnet else None,
                                           nic=dict(server.guest_nic), user_data=server.user_data, config_drive=bool(server.config_drive))

    def _new_openstack_guest(self, key: str, server, port) -> Guest:
        guest = Guest(key=key, service="openstack", instance=server.server_id, region="RegionOne", computer_name=computer_name(server.name),
                      password=new_password())
        guest.set_agent("none")
        guest.cloudbase_init = {"installed": True, "user_data": None}
        mac = (port.mac_address if port else "fa:16:3e:00:00:01").replace(":", "-").upper()
        guest.adapters = [Adapter(name="Ethernet", interface_index=4, mac_address=mac)]
        return guest

    def _step(self, guest: Guest, observed: Observed, now: float) -> None:
        self.now = now
        if observed.password is not None:
            guest.password = observed.password
        primary = guest.adapters[0]
        # The cloud's network answers DHCP on the first adapter with the instance's address.
        primary.dhcp_server, primary.prefix = observed.lease_ip, observed.prefix
        primary.gateway = observed.gateway or primary.gateway
        if observed.nic is not None:
            _apply_nic(primary, observed)
        elif primary.dhcp_enabled and not primary.is_static and not primary.lease_pending and not primary.dhcp_blocked and \
                [item["ip_address"] for item in primary.addresses] != [observed.lease_ip]:
            # Lightsail's DHCP hands out the instance's private address.
            primary.lease(observed.lease_ip, observed.prefix)
        was_running = self._was_running.get(guest.key, False)
        if observed.running and not was_running:
            self._boot(guest, observed, now)
        self._was_running[guest.key] = observed.running
        if observed.running:
            for adapter in guest.adapters:
                if adapter.lease_pending:
                    # DHCP was turned on: the DHCP client's exchange ends (a lease, or APIPA), renew asked or not.
                    adapter.answer_dhcp()
        for work in guest.due(now):
            # Work dies with a machine that is off (its task does not run again at the next boot).
            if observed.running:
                self._run_work(guest, work, observed)
        self._listen(guest, observed.running and observed.reachable and not guest.sysprep_running)

    def _boot(self, guest: Guest, observed: Observed, now: float) -> None:
        """A new boot: Sysprep (if it ran) is over, one-shot tasks whose time passed while off never run, the agents' boot tasks run."""
        guest.boot_time = now
        guest.sysprep_running = False
        guest.generalization_state = 7
        guest.scheduled = []
        guest.next_boot_password = False
        for agent in guest.agents.values():
            # v2 runs its once-tasks (setAdminAccount among them) and marks them done; v1's scheduled initialisation runs once.
            agent.run_once_done = True
            agent.initialize_scheduled = False
        if guest.cloudbase_init.get("installed"):
            self._run_user_data(guest, observed)

    def _run_work(self, guest: Guest, work: ScheduledWork, observed: Observed) -> None:
        if work.kind == "sysprep":
            self._run_sysprep(guest, work)
            return
        if work.kind == "adapter_switch":
            self._deferred_switch(guest, work, observed)

    def _log(self, guest: Guest, line: str) -> None:
        guest.files.setdefault("sysprep.log", []).append(line)

    def _run_sysprep(self, guest: Guest, work: ScheduledWork) -> None:
        """The Sysprep task's script after its delay: the agent's command, as the agent and Windows would run it."""
        state = guest.files.setdefault("sysprep.json", {"phase": "waiting", "agent": work.detail["agent"], "started_epoch": self.now})
        agent = guest.agents.get(work.detail["agent"])
        if state["phase"] == "waiting":
            state["phase"] = "running"
            self._log(guest, f"running: {modules.SYSPREP_COMMANDS[work.detail['agent']]}")
        if agent is None:
            self._sysprep_failed(guest, state, f"{work.detail['agent']} is not installed any more", None)
            return
        if agent.name == "ec2launch_v2" and agent.is_busy(work.at):
            # --block: EC2Launch waits until its service has finished its boot stages ("service is still running").
            if not work.detail.get("busy_logged"):
                self._log(guest, "EC2Launch v2 service is still running its boot stages; waiting (--block)")
                work.detail["busy_logged"] = True
            work.at = agent.busy_until if agent.busy == "booting" else max(work.at, self.now) + 60
            guest.scheduled.append(work)
            return
        if agent.name == "ec2launch_v1" and agent.initialize_fails:
            self._sysprep_failed(guest, state, "InitializeInstance.ps1 -Schedule threw: Cannot bind argument to parameter 'Path' "
                                 "because it is null. SysprepInstance.ps1 was not run", None)
            return
        if guest.pending_reboot:
            self._sysprep_failed(guest, state, f"{modules.SYSPREP_COMMANDS[agent.name]} exited with code 1 "
                                 "(Sysprep: a reboot is pending)", 1)
            return
        # The agent resets what runs at the next boot, then sysprep.exe generalises: WinRM stops now, the machine shuts down.
        if agent.name == "ec2launch_v2":
            agent.run_once_done = False
        elif agent.name == "ec2launch_v1":
            agent.initialize_scheduled = True
        guest.next_boot_password = agent.sets_random_password()
        guest.sysprep_running = True
        guest.generalization_state = 4
        lightsail = self.peers.get("lightsail")
        if guest.service == "lightsail" and lightsail is not None:
            # Sysprep ends with a shutdown the hypervisor sees: the instance goes stopping -> stopped on its own.
            lightsail.guest_shutdown(guest.region, guest.instance, 0, generalize=guest.next_boot_password)

    def _sysprep_failed(self, guest: Guest, state: dict, error: str, exit_code: int | None) -> None:
        """The wrapped task body: the failure logged with its exit code, the state file says failed, the task and script removed."""
        state.update(phase="failed", error=error, exit_code=exit_code)
        self._log(guest, f"FAILED: {error}")

    def _deferred_switch(self, guest: Guest, work: ScheduledWork, observed: Observed) -> None:
        """The deferred task: the same switch, then up to DEFERRED_LEASE_SECONDS for a lease, else the saved static configuration back."""
        detail = work.detail
        adapter = guest.adapter(detail["interface_index"])
        result = {"finished_epoch": self.now}
        try:
            outcome = modules.dhcp_switch(adapter, reset_dns=detail["reset_dns"], remove_default_gateway=detail["remove_default_gateway"],
                                          renew=detail["renew"])
            adapter.answer_dhcp()
            if not any(address["prefix_origin"] == "Dhcp" for address in adapter.addresses):
                modules.restore_static(adapter, detail["before"])
                result.update(failed=True, restored=True, msg=f"no DHCP lease within {modules.DEFERRED_LEASE_SECONDS} seconds; "
                              "the static configuration was restored")
            else:
                result.update(failed=False, restored=False, before=outcome["before"], after=adapter.config())
        except modules.ModuleFailure as failure:
            modules.restore_static(adapter, detail["before"])
            result.update(failed=True, restored=True, msg=f"{failure}; the static configuration was restored")
        guest.files[f"win_reset_static_ip-{adapter.interface_index}.json"] = result
        if not result["failed"]:
            self._switched_to_dhcp(guest, observed)
        else:
            self._drop(guest)

    def _run_user_data(self, guest: Guest, observed: Observed) -> None:
        """cloudbase-init's UserData plugin, once per instance: the win_dhcp_userdata script is applied, other scripts are not emulated."""
        state = guest.cloudbase_init
        if state.get("exit_code") in (0, 1, 1001) or not observed.user_data:
            return
        if not (observed.config_drive or observed.reachable):
            # No config drive and no network: the metadata service is out of reach, cloudbase-init finds no user data.
            state["user_data"] = "unreachable (no config drive, no network)"
            return
        request = cloudbase.dhcp_switch_request(observed.user_data)
        if request is None:
            state.update(user_data="not emulated", exit_code=0)
            return
        state.update(cloudbase.run_dhcp_switch(guest, request))
        if any(adapter.dhcp_enabled for adapter in guest.adapters[:1]) and state["exit_code"] == 0:
            self._switched_to_dhcp(guest, observed)

    def _switched_to_dhcp(self, guest: Guest, observed: Observed) -> None:
        """The first adapter went to DHCP: the cloud's view follows (OpenStack port security), established connections die."""
        openstack = self.peers.get("openstack")
        if guest.service == "openstack" and openstack is not None:
            from cloudsim.openstack import fixtures  # pylint: disable=import-outside-toplevel
            with openstack.lock:
                fixtures.set_guest_nic(openstack.cloud, {"server_id": guest.instance, "mode": "dhcp"})
                observed.reachable = openstack.cloud.server_reachable(openstack.cloud.servers[guest.instance])
            observed.nic = {"mode": "dhcp"}
        primary = guest.adapters[0]
        if primary.dhcp_enabled and not primary.is_static and not primary.dhcp_blocked:
            primary.lease(observed.lease_ip, observed.prefix)
        self._drop(guest)

    def _drop(self, guest: Guest) -> None:
        # The address the session used was removed (and leased again, or restored): established connections do not survive it.
        endpoint = self.endpoints.get(guest.key)
        if endpoint is not None:
            endpoint.drop_connections()

    def _listen(self, guest: Guest, should_listen: bool) -> None:
        endpoint = self.endpoints.get(guest.key)
        if should_listen and (endpoint is None or not endpoint.listening):
            if endpoint is None:
                endpoint = WinRMEndpoint(guest.computer_name, lambda user, password, key=guest.key: self._authorize(key, user, password),
                                         lambda line, stdin, key=guest.key: self.execute(key, line, stdin),
                                         lambda: self.settings.receive_chunk_bytes)
                self.endpoints[guest.key] = endpoint
            guest.port = endpoint.start(self.host, guest.port)
        elif not should_listen and endpoint is not None and endpoint.listening:
            endpoint.stop(silent=bool(self.settings.silent_drop))
        if endpoint is not None:
            guest.https_port = endpoint.serve_https(self.host, guest.https_port, guest.https) or guest.https_port
        # Remote Desktop answers from boot to shutdown, as the WinRM service does.
        rdp = self.rdp.setdefault(guest.key, RdpListener())
        if should_listen:
            guest.rdp_port = rdp.start(self.host, guest.rdp_port)
        else:
            rdp.stop()

    def _forget(self, key: str) -> None:
        for listeners in (self.endpoints, self.rdp):
            endpoint = listeners.pop(key, None)
            if endpoint is not None:
                endpoint.stop()
        self.guests.pop(key, None)
        self._was_running.pop(key, None)

    # The WinRM side -----------------------------------------------------------------------------

    def _authorize(self, key: str, user: str, password: str) -> bool:
        with self._lock:
            guest = self.guests.get(key)
            if guest is None:
                return False
            # Windows compares user names case-insensitively; ".\\" and "COMPUTER\\" prefixes name the local account.
            name = user.rsplit("\\", 1)[-1].lower()
            return name == guest.username.lower() and password == guest.password

    def execute(self, key: str, line: str, stdin: bytes) -> tuple[int, bytes, bytes]:
        """Run one command on the guest: decode it, then emulate it. Never raises to the endpoint."""
        with self._lock:
            guest = self.guests.get(key)
            if guest is None:
                return 1, b"", b"The guest is gone.\r\n"
            self.now = self.context.clock.time()
            try:
                invocation = payload.decode(line, stdin)
            except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as error:
                return 1, b"", f"cloudsim Windows guest: cannot decode the exec wrapper input: {error}\r\n".encode()
            if invocation.kind == "cmd":
                return _encoded(commands.run_cmd(invocation.text, guest))
            if invocation.kind == "powershell":
                return _encoded(commands.run_powershell(invocation.text, guest))
            if invocation.kind == "module":
                exit_code, result = modules.run_module(invocation, guest, self)
                self._journal(guest, invocation, exit_code)
                return exit_code, (json.dumps(result) + "\r\n").encode("utf-8"), b""
            return _encoded(self._exec_action(invocation))

    def _journal(self, guest: Guest, invocation: payload.Invocation, exit_code: int) -> None:
        """Module runs are journaled (service ``windows``, action = the module): option names only, values may be secrets."""
        options = sorted(key for key in invocation.args if not key.startswith("_ansible_"))
        params = {"service": guest.service, "instance": guest.instance, "check_mode": invocation.check_mode, "diff": invocation.diff_mode,
                  "options": options}
        self.context.journal.record(NAME, invocation.module, params, 200, "ModuleFailed" if exit_code else None)

    @staticmethod
    def _exec_action(invocation: payload.Invocation) -> tuple[int, str, str]:
        """Ansible's helper scripts (the winrm connection pipelines modules, so it rarely needs them)."""
        if invocation.action == "powershell_mkdtemp.ps1":
            name = invocation.action_params.get("Name") or "ansible-tmp"
            return 0, f"{WINDOWS_TEMP}\\{name}\r\n", ""
        if invocation.action == "powershell_expand_user.ps1":
            path = str(invocation.action_params.get("Path") or "~")
            return 0, ("C:\\Users\\Administrator" + path[1:] if path.startswith("~") else path) + "\r\n", ""
        return 1, "", f"cloudsim Windows guest: Ansible's {invocation.action} is not emulated\r\n"

    # GuestEffects (called by the emulated modules, under the lock) -----------------------------------

    def schedule_sysprep(self, guest: Guest, delay_seconds: float) -> None:
        guest.scheduled.append(ScheduledWork(task_name=modules.SYSPREP_TASK, at=self.now + delay_seconds, kind="sysprep",
                                             detail={"agent": guest.files["sysprep.json"]["agent"]}))

    def schedule_adapter_switch(self, guest: Guest, adapter: Adapter, delay_seconds: float, detail: dict) -> None:
        guest.scheduled.append(ScheduledWork(task_name=f"snapkit.cloud-win_reset_static_ip-{adapter.interface_index}", at=self.now + delay_seconds,
                                             kind="adapter_switch", detail={"interface_index": adapter.interface_index, **detail}))

    # Control routes ----------------------------------------------------------------------------

    def find_guest(self, service: str, instance: str, region: str | None = None) -> Guest:
        self.sync()
        for guest in self.guests.values():
            if guest.service == service and guest.instance == instance and (region is None or guest.region == region or service != "lightsail"):
                return guest
        raise ControlError(f"no Windows guest for {service} instance {instance!r} (is it a Windows instance of a running simulator?)", 404)

    def _view(self, guest: Guest) -> dict:
        endpoint = self.endpoints.get(guest.key)
        sysprep = guest.pending("sysprep")
        return {
            "service": guest.service, "instance": guest.instance, "region": guest.region, "computer_name": guest.computer_name,
            "host": self.host, "port": guest.port or None, "username": guest.username, "password": guest.password,
            "reachable": bool(endpoint and endpoint.listening), "agent": guest.agent, "password_option": guest.password_option,
            "listeners": guest.listeners(bool(endpoint and endpoint.listening)),
            "rdp_port": guest.rdp_port if guest.key in self.rdp and self.rdp[guest.key].listening else None,
            "nic": [dict(adapter.config(), name=adapter.name, interface_index=adapter.interface_index, mac_address=adapter.mac_address)
                    for adapter in guest.adapters],
            "sysprep_scheduled": sysprep.view() if sysprep else None, "sysprep_running": guest.sysprep_running,
            "scheduled": [work.view() for work in guest.scheduled], "cloudbase_init": dict(guest.cloudbase_init) or None,
            "agents": {name: dataclasses.asdict(agent) for name, agent in guest.agents.items()},
            "generalization_state": guest.generalization_state, "pending_reboot": list(guest.pending_reboot),
            "task_folder": guest.task_folder, "files": guest.files, "next_boot_password": guest.next_boot_password,
            "adapters": [dataclasses.asdict(adapter) for adapter in guest.adapters],
        }

    def _list_route(self, _request: ControlRequest) -> dict:
        self.sync()
        with self._lock:
            return {"guests": [self._view(guest) for guest in self.guests.values()]}

    def _guest_route(self, request: ControlRequest) -> dict:
        with self._lock:
            return self._view(self.find_guest(request.query.get("service", ""), request.query.get("instance", ""), request.query.get("region")))

    def _seed_route(self, request: ControlRequest) -> dict:
        """Set up a guest: ``agent`` (and ``password_option``), ``password`` (OpenStack), ``nic`` (``dhcp`` or ``static`` + ``ip``)."""
        body = request.body
        with self._lock:
            guest = self.find_guest(body.get("service", ""), body.get("instance", ""), body.get("region"))
            if "agent" in body:
                guest.set_agent(body["agent"], body.get("password_option", "default"))
            elif "password_option" in body:
                guest.set_agent(guest.agent, body["password_option"])
            if "cloudbase_init" in body:
                if guest.service != "openstack":
                    raise ControlError("cloudbase-init is emulated on OpenStack guests only")
                guest.cloudbase_init["installed"] = bool(body["cloudbase_init"])
            if "password" in body:
                if guest.service == "lightsail":
                    raise ControlError("a Lightsail guest's password is the instance's: seed it with POST /lightsail/instances")
                guest.password = str(body["password"])
            if "nic" in body:
                self._seed_nic(guest, body)
            if "state" in body:
                seed_state(guest, body["state"], self.context.clock.time(), self._primary_ip(guest))
            if "winrm_https" in body:
                guest.set_https_listener(bool(body["winrm_https"]), self.host)
            self.sync()
            return self._view(guest)

    def _primary_ip(self, guest: Guest) -> str | None:
        """The address the cloud gives the guest's first adapter."""
        if guest.service == "lightsail":
            lightsail = self.peers["lightsail"]
            with lightsail.lock:
                return lightsail.book(guest.region).instances[guest.instance].private_ip
        return guest.adapters[0].dhcp_server

    def _seed_nic(self, guest: Guest, body: dict) -> None:
        mode = body["nic"]
        if guest.service == "openstack":
            from cloudsim.openstack import fixtures  # pylint: disable=import-outside-toplevel
            openstack = self.peers["openstack"]
            with openstack.lock:
                fixtures.set_guest_nic(openstack.cloud, {"server_id": guest.instance, "mode": mode, "ip": body.get("ip")})
            return
        adapter = guest.adapters[0]
        if mode == "static" and body.get("ip"):
            adapter.set_static(body["ip"], LIGHTSAIL_PREFIX, body.get("gateway"), body.get("dns_servers") or [])
        elif mode == "dhcp":
            adapter.lease(None, LIGHTSAIL_PREFIX)
        else:
            raise ControlError('give "nic": "dhcp", or "nic": "static" with "ip"')


def _apply_nic(adapter: Adapter, observed: Observed) -> None:
    """The OpenStack disk's NIC mode is the simulator's; the guest keeps the details (gateway, DNS) beside it."""
    nic = observed.nic or {}
    if nic.get("mode") == "static":
        current = adapter.addresses[0]["ip_address"] if adapter.addresses else None
        if adapter.dhcp_enabled or current != nic.get("ip"):
            adapter.set_static(nic["ip"], observed.prefix, observed.gateway, [observed.gateway] if observed.gateway else [])
    elif nic.get("mode") == "dhcp":
        if not adapter.dhcp_enabled:
            adapter.lease(observed.lease_ip, observed.prefix)
            adapter.default_gateways, adapter.dns_servers = [], []
        elif adapter.addresses and adapter.addresses[0]["ip_address"] != observed.lease_ip:
            adapter.lease(observed.lease_ip, observed.prefix)
        elif not adapter.addresses and observed.lease_ip:
            adapter.lease(observed.lease_ip, observed.prefix)


def _mac_for(address: str) -> str:
    """A stable MAC for an address (AWS MACs are 0A/0E-prefixed, locally administered)."""
    octets = [int(part) for part in address.split(".")]
    return "0A-" + "-".join(f"{value:02X}" for value in [0x1B] + octets)


def _encoded(result: tuple[int, str, str]) -> tuple[int, bytes, bytes]:
    exit_code, stdout, stderr = result
    return exit_code, stdout.encode("utf-8"), stderr.encode("utf-8")
