# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every simulator shares and provides.

Each simulator (EC2, Lightsail, OpenStack, the Windows guests) gets one :class:`SimContext` (clock,
journal, faults, throttle) and offers a WSGI app for its API port, a ``reset()`` and its own control
routes, mounted by :mod:`cloudsim.control`. The API simulators share one request pipeline,
:class:`ApiSimulator`: fault, throttle, the call carried out (also under a ``processed`` fault),
answer, journal, a 500 on a simulator bug, connection drops. A cloud only parses, dispatches and
renders, through the hooks of that class.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import struct
import threading
from collections.abc import Callable

from werkzeug.wrappers import Response

from cloudsim import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from cloudsim.clock import SimClock
from cloudsim.faults import Fault, FaultRegistry
from cloudsim.journal import Journal
from cloudsim.throttle import ThrottleRegistry, category_of

LOG = logging.getLogger(__name__)


class ControlError(Exception):
    """A control API request that cannot be served; becomes a JSON error with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class ControlRequest:
    """A parsed control API request handed to route handlers."""

    body: dict
    query: dict


# A handler returns the JSON payload; it raises ControlError (or ValueError) to refuse.
ControlHandler = Callable[[ControlRequest], object]


@dataclasses.dataclass
class ControlRoute:
    method: str
    path: str
    handler: ControlHandler


@dataclasses.dataclass
class SimContext:
    """State shared by all simulators of one cloudsim process."""

    clock: SimClock
    journal: Journal
    faults: FaultRegistry
    throttle: ThrottleRegistry = dataclasses.field(default_factory=ThrottleRegistry)
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID

    @classmethod
    def create(cls, speed: float = 1.0, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID) -> SimContext:
        clock = SimClock(speed)
        return cls(clock=clock, journal=Journal(clock), faults=FaultRegistry(), region=region, account_id=account_id)


@dataclasses.dataclass
class SimSettings:
    """Base of a simulator's tunable numbers (durations in simulated seconds, page sizes).

    Subclasses declare the fields; ``update`` refuses unknown names and negative values, keeps
    each field's declared type, and calls ``check`` for any rule of the subclass's own.
    """

    def update(self, values: dict) -> None:
        fields = {field.name: field for field in dataclasses.fields(self)}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(fields)}")
        for key, value in values.items():
            number = float(value)
            if number < 0:
                raise ValueError(f"{key} must be >= 0, got {value}")
            typed = int(number) if fields[key].type in (int, "int") else number
            self.check(key, typed)
            setattr(self, key, typed)

    def check(self, key: str, value: float) -> None:
        """Raise ValueError if ``value`` breaks a rule of this simulator's own; none by default."""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class Simulator:
    """Base class of the simulators; subclasses override the three hooks below."""

    #: key of the simulator's API endpoint in the endpoints JSON
    name = ""

    def __init__(self, context: SimContext) -> None:
        self.context = context

    def wsgi_app(self) -> Callable:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def control_routes(self) -> list[ControlRoute]:
        return []

    def settings_routes(self, settings: Callable[[], SimSettings], lock) -> list[ControlRoute]:
        """``GET`` and ``POST /<name>/config``: read or change the simulator's settings.

        ``settings`` is called on every request because a reset replaces the settings object.
        """

        def read(_request: ControlRequest) -> dict:
            return settings().as_dict()

        def change(request: ControlRequest) -> dict:
            with lock:
                settings().update(request.body)
                return settings().as_dict()

        return [ControlRoute("GET", f"/{self.name}/config", read), ControlRoute("POST", f"/{self.name}/config", change)]


@dataclasses.dataclass
class ApiCall:
    """One API request as the pipeline sees it; ``native`` is the cloud's own parsed request."""

    #: the journal's, faults' and throttle's service name (OpenStack: ``compute``, ``volume``...)
    service: str
    #: the journal's action (the API operation)
    action: str
    #: the journal's params (never secrets)
    params: dict = dataclasses.field(default_factory=dict)
    region: str = ""
    #: simulated time when the request arrived
    now: float = 0.0
    native: object = None
    #: the service's own error when the request is refused before it is carried out (bad input, unknown action,
    #: authentication): such a request meets no fault and is answered with this error at once
    refused: Exception | None = None
    #: False: the call is not journaled (a request no service can name)
    journaled: bool = True

    @property
    def reads(self) -> bool:
        """True for the actions that change nothing (``Describe*``, ``Get*``, ``List*``, OpenStack ``list*``/``show*``)."""
        return category_of(self.action) == "non-mutating"


@dataclasses.dataclass
class ApiReply:
    """An HTTP answer: ``body`` is bytes; ``error_code`` is journaled."""

    status: int
    body: bytes = b""
    headers: dict = dataclasses.field(default_factory=dict)
    error_code: str | None = None
    content_type: str | None = None
    #: the reason phrase of the status line; werkzeug's by default
    reason: str | None = None


class ConnectionDropped(ConnectionResetError):
    """Raised out of the WSGI app to drop the connection without an answer.

    werkzeug's request handler treats a ``ConnectionError`` from the app as a connection the client
    dropped: it sends nothing. :mod:`cloudsim.server`'s handler then closes the socket with a TCP RST.
    """


def reset_on_close(environ: dict) -> None:
    """Make the close of this request's connection a TCP RST (SO_LINGER with a zero timeout)."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


#: real seconds a ``timeout`` drop keeps the connection silent unless the fault says: beyond botocore's 60 s default
DEFAULT_HOLD_SECONDS = 65.0


class ApiSimulator(Simulator):
    """A simulator of a cloud API: the request pipeline every cloud shares.

    For each request: ``parse_request`` (a refused request is answered at once), then an injected
    fault or throttling, then, without a fault or with a ``processed`` one, the call carried out:
    ``prepare`` (settle lifecycles; visibility), ``dispatch``, ``render_result``; the service's own
    errors through ``render_error``, anything else is a simulator bug answered by
    ``render_internal_error``. A fault is answered by ``render_fault``, a connection drop by no answer.
    Every call is journaled; ``finish`` adds the headers every answer carries. Requests are served
    one at a time under ``lock``.
    """

    def __init__(self, context: SimContext) -> None:
        super().__init__(context)
        self.lock = threading.RLock()
        # Connection drops being held (timeout kind): a reset wakes them up.
        self._drops_released = threading.Event()

    # Hooks of a cloud ------------------------------------------------------------------------------

    def parse_request(self, environ: dict) -> ApiCall:
        """The call; the service's refusals before any work go into ``refused`` (never raised)."""
        raise NotImplementedError

    def region_of(self, environ: dict) -> str:
        """The region a request is for; the context's region by default."""
        return self.context.region

    def prepare(self, call: ApiCall) -> None:
        """Before every dispatch, under the lock: settle what is due at ``call.now``; a cloud that models
        eventual consistency decides here what this call may see (``call.reads``, ``call.now``)."""

    def dispatch(self, call: ApiCall) -> object:
        """Carry the call out: the handler from the cloud's ``HANDLERS``; raises the service's errors."""
        raise NotImplementedError

    def render_result(self, call: ApiCall, result: object) -> ApiReply:
        raise NotImplementedError

    def render_error(self, call: ApiCall, error: Exception) -> ApiReply | None:
        """The service's error answer for one of its own errors; None for anything else (a simulator bug)."""
        raise NotImplementedError

    def render_internal_error(self, call: ApiCall) -> ApiReply:
        """The service's 500, for a simulator bug."""
        raise NotImplementedError

    def render_fault(self, call: ApiCall, fault: Fault) -> ApiReply:
        """An injected fault or a throttled call in the service's wire format."""
        raise NotImplementedError

    def finish(self, call: ApiCall, reply: ApiReply) -> ApiReply:
        """Headers every answer carries (request ids, microversions); the reply as it is by default."""
        return reply

    # The pipeline ------------------------------------------------------------------------------------

    def wsgi_app(self):
        return self

    def __call__(self, environ: dict, start_response):
        with self.lock:
            call = self.parse_request(environ)
            call.now = call.now or self.context.clock.time()
            reply, drop = self._serve(call)
        if call.journaled:
            if drop is not None:
                self.context.journal.record(call.service, call.action, call.params, 0, drop.code)
            else:
                self.context.journal.record(call.service, call.action, call.params, reply.status, reply.error_code)
        if drop is not None:
            self._drop(environ, drop)
        reply = self.finish(call, reply)
        return self._response(reply)(environ, start_response)

    def _serve(self, call: ApiCall) -> tuple[ApiReply | None, Fault | None]:
        if call.refused is not None:
            return self._render_failure(call, call.refused), None
        fault = self.context.faults.take(call.service, call.action) or self.context.throttle.take(call.service, call.action)
        if fault is None:
            return self._answer(call), None
        if fault.processed:
            self._answer(call)  # carried out (or refused); the client gets the fault either way
        if fault.drop:
            return None, fault
        return self.render_fault(call, fault), None

    def _answer(self, call: ApiCall) -> ApiReply:
        """The call carried out and answered, the service's own errors included."""
        try:
            self.prepare(call)
            return self.render_result(call, self.dispatch(call))
        except Exception as error:  # pylint: disable=broad-exception-caught
            return self._render_failure(call, error)

    def _render_failure(self, call: ApiCall, error: Exception) -> ApiReply:
        reply = self.render_error(call, error)
        if reply is not None:
            return reply
        # A simulator bug must look like the service's 500 to clients, and be visible in the log.
        LOG.error("cloudsim %s failed on %s", self.name, call.action, exc_info=error)
        return self.render_internal_error(call)

    def _drop(self, environ: dict, fault: Fault) -> None:
        """No answer: a reset at once, or silence for the hold time and then a reset (outside the lock)."""
        if fault.drop == "timeout":
            self._drops_released.wait(DEFAULT_HOLD_SECONDS if fault.hold_seconds is None else fault.hold_seconds)
        reset_on_close(environ)
        raise ConnectionDropped(f"cloudsim: connection dropped ({fault.drop}) for {fault.service} {fault.action}")

    def release_held_connections(self) -> None:
        """Stop holding the connections of ``timeout`` drops (on reset and stop); later drops hold again."""
        self._drops_released.set()
        self._drops_released = threading.Event()

    @staticmethod
    def _response(reply: ApiReply) -> Response:
        status = f"{reply.status} {reply.reason}" if reply.reason else reply.status
        response = Response(reply.body, status=status, content_type=reply.content_type)
        for key, value in reply.headers.items():
            response.headers[key] = value
        return response
