# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One guest's Remote Desktop listener (TCP 3389 on the instance), on a loopback port of its own.

Windows Server answers RDP once it has booted (the Remote Desktop Services service starts with the machine) and stops
answering when it shuts down. A client opens with an X.224 Connection Request in a TPKT (ITU-T T.123, RFC 1006;
[MS-RDPBCGR] 2.2.1.1); the server answers with an X.224 Connection Confirm carrying an RDP Negotiation Response that
selects standard RDP security (2.2.1.2). Nothing more of RDP is emulated: a port check (``wait_for``) connects and
closes, an RDP client gets the confirm and then the connection ends.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading

# TPKT version 3; X.224 Connection Confirm (0xD0), class 0; RDP_NEG_RSP (2), flags 0, length 8, PROTOCOL_RDP (0).
_NEGOTIATION_RESPONSE = struct.pack("<BBHI", 0x02, 0x00, 8, 0)
_CONFIRM_BODY = bytes([6 + len(_NEGOTIATION_RESPONSE), 0xD0, 0, 0, 0x12, 0x34, 0]) + _NEGOTIATION_RESPONSE
CONNECTION_CONFIRM = struct.pack(">BBH", 3, 0, 4 + len(_CONFIRM_BODY)) + _CONFIRM_BODY
CONNECTION_REQUEST_CODE = 0xE0


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(5.0)
        try:
            header = self.request.recv(4)
            if len(header) < 4 or header[0] != 3:
                return
            body = self.request.recv(max(struct.unpack(">H", header[2:4])[0] - 4, 0))
            if len(body) >= 2 and body[1] & 0xF0 == CONNECTION_REQUEST_CODE:
                self.request.sendall(CONNECTION_CONFIRM)
        except OSError:
            return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class RdpListener:
    """Listens while the guest is up; keeps its loopback port across reboots when that port is still free."""

    def __init__(self) -> None:
        self._server: _Server | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None

    def start(self, host: str, port: int = 0) -> int:
        if self._server is None:
            try:
                self._server = _Server((host, port), _Handler)
            except OSError:
                self._server = _Server((host, 0), _Handler)
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             name=f"rdp-{self._server.server_address[1]}", daemon=True).start()
        return self._server.server_address[1]

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


def connection_request() -> bytes:
    """What an RDP client sends first (for tests): an X.224 Connection Request with an RDP Negotiation Request."""
    negotiation = struct.pack("<BBHI", 0x01, 0x00, 8, 0)
    body = bytes([6 + len(negotiation), CONNECTION_REQUEST_CODE, 0, 0, 0, 0, 0]) + negotiation
    return struct.pack(">BBH", 3, 0, 4 + len(body)) + body


def probe(host: str, port: int, timeout: float = 5.0) -> bytes:
    """Connect, send a Connection Request, return the answer (empty when the connection ended without one)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(connection_request())
        return connection.recv(64)
