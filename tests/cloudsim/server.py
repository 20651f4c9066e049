# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running cloudsim: simulators and the control API on loopback ports, plus the endpoints file."""

from __future__ import annotations

import email.utils
import ipaddress
import json
import os
import tempfile
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from cloudsim.control import ControlApp
from cloudsim.simulator import ConnectionDropped, SimContext, Simulator


def _ec2_simulator(context: SimContext) -> Simulator:
    # Imported here so that simulators that are not started do not cost their imports.
    from cloudsim.ec2.simulator import Ec2Simulator  # pylint: disable=import-outside-toplevel
    return Ec2Simulator(context)


def _lightsail_simulator(context: SimContext) -> Simulator:
    from cloudsim.lightsail.simulator import LightsailSimulator  # pylint: disable=import-outside-toplevel
    return LightsailSimulator(context)


def _openstack_simulator(context: SimContext) -> Simulator:
    from cloudsim.openstack.simulator import OpenStackSimulator  # pylint: disable=import-outside-toplevel
    return OpenStackSimulator(context)


def _windows_simulator(context: SimContext) -> Simulator:
    from cloudsim.windows.simulator import WindowsSimulator  # pylint: disable=import-outside-toplevel
    return WindowsSimulator(context)


SIMULATOR_FACTORIES = {
    "ec2": _ec2_simulator,
    "lightsail": _lightsail_simulator,
    "openstack": _openstack_simulator,
    "windows": _windows_simulator,
}


class DroppingRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, closing the connection with a TCP RST when the app drops it (a connection-drop fault).

    The app raises :class:`cloudsim.simulator.ConnectionDropped` after setting SO_LINGER to zero; werkzeug
    then sends nothing. The socket is closed here, before the server's own close would send a FIN first.
    """

    _reset = False

    def connection_dropped(self, error, environ=None) -> None:
        if isinstance(error, ConnectionDropped):
            self._reset = True
            self.close_connection = True
        super().connection_dropped(error, environ)

    def finish(self) -> None:
        super().finish()
        if self._reset:
            self.connection.close()


class QuietRequestHandler(DroppingRequestHandler):
    """Werkzeug's handler without one log line per request (the journal records calls)."""

    def log_request(self, code="-", size="-") -> None:
        return


class VerboseRequestHandler(DroppingRequestHandler):
    """Werkzeug's default request logging, for ``--log-requests``."""


def check_loopback(host: str) -> None:
    """cloudsim has no authentication: refuse to listen anywhere but on loopback."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"cloudsim only listens on loopback addresses, not {host!r}")


def clocked(handler: type, clock) -> type:
    """The handler class, with every response's Date header telling the simulated time.

    A real service sends its own clock in Date; clients that age resources by the server's time
    (snapkit.cloud's retention does, to be immune to a skewed controller clock) then see simulated ages.
    """

    class ClockedRequestHandler(handler):
        def date_time_string(self, timestamp=None) -> str:
            return email.utils.formatdate(clock.time() if timestamp is None else timestamp, usegmt=True)

    return ClockedRequestHandler


class RunningServer:
    """One threaded WSGI server on a free port, serving in a daemon thread."""

    def __init__(self, host: str, app, log_requests: bool = False, clock=None) -> None:
        handler = VerboseRequestHandler if log_requests else QuietRequestHandler
        if clock is not None:
            handler = clocked(handler, clock)
        self.server = make_server(host, 0, app, threaded=True, request_handler=handler)
        # A short poll interval makes shutdown quick (tests start and stop cloudsim often).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name=f"cloudsim-{self.server.server_port}", daemon=True)

    @property
    def url(self) -> str:
        host = self.server.server_address[0]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.server.server_port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CloudSimServer:
    """All simulators of one process, the control API and their ports."""

    def __init__(self, services: list[str], speed: float = 1.0, host: str = "127.0.0.1", log_requests: bool = False) -> None:
        check_loopback(host)
        unknown = [service for service in services if service not in SIMULATOR_FACTORIES]
        if unknown:
            raise ValueError(f"unknown services {unknown}; known: {sorted(SIMULATOR_FACTORIES)}")
        self.context = SimContext.create(speed=speed)
        self.simulators = [SIMULATOR_FACTORIES[service](self.context) for service in services]
        self.control = ControlApp(self.context, self.simulators)
        self.servers = {"control": RunningServer(host, self.control, log_requests)}
        for simulator in self.simulators:
            self.servers[simulator.name] = RunningServer(host, simulator.wsgi_app(), log_requests, clock=self.context.clock)
            # Simulators that hand out absolute URLs (OpenStack's service catalog) learn where they are served.
            if hasattr(simulator, "serving_at"):
                simulator.serving_at(self.servers[simulator.name].url)
        # Simulators that build on others (the Windows guests of Lightsail and OpenStack instances) meet them.
        for simulator in self.simulators:
            if hasattr(simulator, "meet_peers"):
                simulator.meet_peers({peer.name: peer for peer in self.simulators}, host)

    def start(self) -> None:
        for server in self.servers.values():
            server.start()

    def stop(self) -> None:
        for simulator in self.simulators:
            if hasattr(simulator, "release_held_connections"):
                simulator.release_held_connections()
        for server in self.servers.values():
            server.stop()

    def endpoints(self) -> dict:
        endpoints = {name: server.url for name, server in self.servers.items()}
        # A simulator may publish another URL than its root (OpenStack: the Keystone auth URL).
        endpoints.update({simulator.name: simulator.endpoint_url for simulator in self.simulators if hasattr(simulator, "endpoint_url")})
        endpoints.update({
            "region": self.context.region,
            "account_id": self.context.account_id,
            "speed": self.context.clock.speed,
            "pid": os.getpid(),
        })
        return endpoints


def write_endpoints_atomically(path: str, endpoints: dict) -> None:
    write_text_atomically(path, json.dumps(endpoints, indent=2, sort_keys=True) + "\n")


def write_text_atomically(path: str, text: str) -> None:
    """Readers never see a half-written file: write a temporary file, then rename it."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".cloudsim-", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def remove_endpoints_if_ours(path: str) -> bool:
    """Remove the endpoints file unless another cloudsim process has replaced it meanwhile; True if removed."""
    try:
        with open(path, encoding="utf-8") as handle:
            owner = json.load(handle).get("pid")
    except (OSError, ValueError):
        return False
    if owner == os.getpid():
        os.unlink(path)
        return True
    return False
