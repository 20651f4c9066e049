# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One guest's WinRM service: its listeners, basic authentication on ``/wsman``, the Windows Remote Shell operations.

A stock Windows image has one listener, HTTP (port 5985 on the instance); an HTTPS listener (5986) exists only once
set up with a certificate (:meth:`WinRMEndpoint.serve_https`). Each listens on a loopback port of its own and both
serve the same shells. Shells and commands live here; what a command answers comes from the simulator's ``execute`` callback.
Every request is served in its own thread with socket timeouts, a Receive waits at most the request's
OperationTimeout (then the ``w:TimedOut`` fault pywinrm retries on), and :meth:`WinRMEndpoint.stop`
resets every open connection (TCP RST), as a guest that shuts down or loses its address does.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import http.server
import logging
import socket
import ssl
import struct
import threading
import uuid
from collections.abc import Callable

from cloudsim.windows import wsman
from cloudsim.windows.payload import command_line, needs_input
from cloudsim.windows.tls import TlsIdentity

LOG = logging.getLogger(__name__)
# Longest a Receive waits for a command that still reads input, whatever OperationTimeout the client asked for.
MAX_RECEIVE_WAIT = 20.0
SOCKET_TIMEOUT = 60.0

# execute(command line, stdin) -> (exit code, stdout, stderr)
Executor = Callable[[str, bytes], tuple[int, bytes, bytes]]


@dataclasses.dataclass
class Command:
    command_id: str
    line: str
    reads_input: bool
    stdin: bytearray = dataclasses.field(default_factory=bytearray)
    exit_code: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_sent: int = 0
    stderr_sent: int = 0
    done: threading.Event = dataclasses.field(default_factory=threading.Event)

    def finish(self, result: tuple[int, bytes, bytes]) -> None:
        self.exit_code, self.stdout, self.stderr = result
        self.done.set()


@dataclasses.dataclass
class Shell:
    shell_id: str
    commands: dict = dataclasses.field(default_factory=dict)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, endpoint: WinRMEndpoint, tls: TlsIdentity | None = None) -> None:
        self.endpoint = endpoint
        self.tls = tls
        self.open_sockets: set = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self):
        connection, address = super().get_request()
        connection.settimeout(SOCKET_TIMEOUT)
        if self.tls is not None:
            # The handshake happens in the request's own thread (_Handler.setup): a slow client holds no other.
            connection = self.tls.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        with self.sockets_lock:
            self.open_sockets.add(connection)
        return connection, address

    def handle_error(self, request, client_address) -> None:
        # A connection reset on purpose (the guest went away) is no error worth a traceback on cloudsim's stderr.
        LOG.debug("winrm %s: request from %s ended with an error", self.server_address, client_address, exc_info=True)

    def shutdown_request(self, request) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def reset_connections(self) -> None:
        with self.sockets_lock:
            sockets, self.open_sockets = list(self.open_sockets), set()
        for connection in sockets:
            try:
                # Linger 0: the close sends a TCP RST, what a client sees when the host drops off the network mid-conversation.
                # shutdown() first wakes the handler thread blocked reading the next request (close() alone would not).
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            # A client that does not trust the certificate ends the handshake: no request, the connection closes.
            self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        LOG.debug("winrm %s: " + format, self.server.server_address, *args)

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        endpoint: WinRMEndpoint = self.server.endpoint
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if not endpoint.voice.is_set() or self.server in endpoint.muted_servers:
            # The guest went away silently: no answer, ever (the client's read timeout ends the wait).
            endpoint.voice.wait(SOCKET_TIMEOUT)
            self.close_connection = True
            return
        if self.path.split("?", 1)[0].rstrip("/").lower() != "/wsman":
            self._send(404, b"", "text/html")
            return
        if not endpoint.authorized(self.headers.get("Authorization", "")):
            self._send(401, b"", "text/html", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        if not data:
            # pywinrm may probe with an empty POST; the real service answers an empty SOAP body with a fault.
            self._send(500, b"", "application/soap+xml;charset=UTF-8")
            return
        status, body = endpoint.handle(data)
        self._send(status, body, "application/soap+xml;charset=UTF-8")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class WinRMEndpoint:
    """The listener of one guest; ``authorize(user, password)`` and ``execute`` are the simulator's."""

    def __init__(self, machine: str, authorize: Callable[[str, str], bool], execute: Executor, chunk_bytes: Callable[[], int]) -> None:
        self.machine = machine
        self._authorize = authorize
        self._execute = execute
        self._chunk_bytes = chunk_bytes
        self._lock = threading.Lock()
        self.shells: dict[str, Shell] = {}
        self._server: _Server | None = None
        self._https: _Server | None = None
        # A silent stop: the sockets stay open and accept nothing (connections wait, then time out); set = speaking again.
        self._mute: list[_Server] = []
        self.voice = threading.Event()
        self.voice.set()

    # Listening ------------------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        return self._server is not None

    @property
    def muted_servers(self) -> list:
        return self._mute

    def start(self, host: str, port: int = 0) -> int:
        """Listen for HTTP on ``port`` (the guest keeps its port across reboots when it is still free), else on a free one."""
        self._close_mute()
        self._server = self._serve(host, port, None)
        return self._server.server_port

    def serve_https(self, host: str, port: int, tls: TlsIdentity | None) -> int:
        """The HTTPS listener while the HTTP one listens: started with ``tls`` (on ``port`` when free), removed
        without; its port, 0 when there is none."""
        if tls is None or self._server is None:
            server, self._https = self._https, None
            if server is not None:
                _close(server)
            return 0
        if self._https is None or self._https.tls is not tls:
            if self._https is not None:
                _close(self._https)
            self._https = self._serve(host, port, tls)
        return self._https.server_port

    def _serve(self, host: str, port: int, tls: TlsIdentity | None) -> _Server:
        try:
            server = _Server((host, port), _Handler, self, tls)
        except OSError:
            server = _Server((host, 0), _Handler, self, tls)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"winrm-{server.server_port}", daemon=True).start()
        return server

    def stop(self, silent: bool = False) -> None:
        """Stop listening and reset open connections; the guest's shells die with it.

        ``silent``: as a host that vanished without a word, the port keeps accepting connections (the kernel's
        backlog) and nothing ever answers, so clients wait for their read timeout instead of seeing a reset.
        """
        servers = [server for server in (self._server, self._https) if server is not None]
        self._server = self._https = None
        if not servers:
            if not silent:
                self._close_mute()
            return
        for server in servers:
            server.shutdown()
            if silent:
                self.voice.clear()
                self._mute.append(server)
            else:
                server.server_close()
                server.reset_connections()
        with self._lock:
            for shell in self.shells.values():
                for command in shell.commands.values():
                    command.done.set()
            self.shells = {}

    def _close_mute(self) -> None:
        mute, self._mute = self._mute, []
        for server in mute:
            server.server_close()
            server.reset_connections()
        self.voice.set()

    def drop_connections(self) -> None:
        """The address the connections use went away (the adapter was switched): they are reset, the listeners stay."""
        for server in (self._server, self._https):
            if server is not None:
                server.reset_connections()

    # Requests -------------------------------------------------------------------------------------

    def authorized(self, header: str) -> bool:
        scheme, _space, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _colon, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return self._authorize(user, password)

    def handle(self, data: bytes) -> tuple[int, bytes]:
        request = None
        try:
            request = wsman.parse_request(data)
            return 200, self._dispatch(request)
        except wsman.WsmanFault as fault:
            return 500, wsman.render_fault(fault, request.message_id if request else "", self.machine)

    def _dispatch(self, request: wsman.WsmanRequest) -> bytes:
        action = request.action
        if action == wsman.ACTION_CREATE:
            shell = Shell(shell_id=str(uuid.uuid4()).upper())
            with self._lock:
                self.shells[shell.shell_id] = shell
            address = f"http://{self._server.server_address[0]}:{self._server.server_port}/wsman" if self._server else ""
            return wsman.shell_created(request, address, shell.shell_id)
        shell = self._shell(request)
        if action == wsman.ACTION_DELETE:
            with self._lock:
                self.shells.pop(shell.shell_id, None)
            return wsman.shell_deleted(request)
        if action == wsman.ACTION_COMMAND:
            return self._command(request, shell)
        if action == wsman.ACTION_SEND:
            return self._send_input(request, shell)
        if action == wsman.ACTION_RECEIVE:
            return self._receive(request, shell)
        if action == wsman.ACTION_SIGNAL:
            command_id = request.body.get("CommandId", "") if request.body is not None else ""
            with self._lock:
                shell.commands.pop(command_id.upper(), None)
            return wsman.signalled(request)
        raise wsman.action_not_supported(action)

    def _shell(self, request: wsman.WsmanRequest) -> Shell:
        with self._lock:
            shell = self.shells.get((request.shell_id or "").upper())
        if shell is None:
            raise wsman.shell_not_found(request.shell_id)
        return shell

    def _command(self, request: wsman.WsmanRequest, shell: Shell) -> bytes:
        line_node = request.body
        if line_node is None:
            raise wsman.WsmanFault(wsman.CODE_INVALID_COMMAND, "w:SchemaValidationError", "The Command request has no CommandLine.")
        command_text = "".join(node.text or "" for node in line_node if node.tag.endswith("}Command"))
        arguments = " ".join(node.text or "" for node in line_node if node.tag.endswith("}Arguments"))
        line = command_line(command_text, arguments)
        command = Command(command_id=str(uuid.uuid4()).upper(), line=line, reads_input=needs_input(line))
        with self._lock:
            shell.commands[command.command_id] = command
        if not command.reads_input:
            command.finish(self._execute(line, b""))
        return wsman.command_started(request, command.command_id)

    def _command_of(self, shell: Shell, command_id: str) -> Command:
        with self._lock:
            command = shell.commands.get((command_id or "").upper())
        if command is None:
            raise wsman.WsmanFault(wsman.CODE_INVALID_COMMAND, "w:InvalidParameter", f"The command {command_id} does not exist in this shell.")
        return command

    def _send_input(self, request: wsman.WsmanRequest, shell: Shell) -> bytes:
        stream = request.body.find(f"{{{wsman.SHELL}}}Stream") if request.body is not None else None
        if stream is None:
            raise wsman.WsmanFault(wsman.CODE_INVALID_COMMAND, "w:SchemaValidationError", "The Send request has no Stream.")
        command = self._command_of(shell, stream.get("CommandId", ""))
        if stream.text:
            command.stdin.extend(base64.b64decode(stream.text))
        if stream.get("End", "").lower() == "true" and not command.done.is_set():
            command.finish(self._execute(command.line, bytes(command.stdin)))
        return wsman.input_sent(request)

    def _receive(self, request: wsman.WsmanRequest, shell: Shell) -> bytes:
        desired = request.body.find(f"{{{wsman.SHELL}}}DesiredStream") if request.body is not None else None
        command = self._command_of(shell, desired.get("CommandId", "") if desired is not None else "")
        if not command.done.wait(min(request.operation_timeout, MAX_RECEIVE_WAIT)):
            raise wsman.timed_out()
        if command.exit_code is None:
            # The listener stopped while the command waited: the guest went away.
            raise wsman.timed_out()
        chunk = max(1, self._chunk_bytes())
        streams = []
        stdout_part = command.stdout[command.stdout_sent:command.stdout_sent + chunk]
        stderr_part = command.stderr[command.stderr_sent:command.stderr_sent + chunk]
        command.stdout_sent += len(stdout_part)
        command.stderr_sent += len(stderr_part)
        finished = command.stdout_sent >= len(command.stdout) and command.stderr_sent >= len(command.stderr)
        if stdout_part:
            streams.append(("stdout", base64.b64encode(stdout_part).decode("ascii"), False))
        if stderr_part:
            streams.append(("stderr", base64.b64encode(stderr_part).decode("ascii"), False))
        if finished:
            streams += [("stdout", "", True), ("stderr", "", True)]
        return wsman.output_received(request, command.command_id, streams, command.exit_code if finished else None)


def _close(server: _Server) -> None:
    server.shutdown()
    server.server_close()
    server.reset_connections()
