# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EC2 simulator: moto's EC2 server app behind a realism layer.

Every request goes through the pipeline of :class:`cloudsim.simulator.ApiSimulator` (faults,
throttling, journal, connection drops); :class:`Ec2Simulator` parses the query request, answers the
actions of :data:`cloudsim.ec2.handlers.HANDLERS` (snapshots, instance state changes, volumes,
attachments, snapshot copies) itself and passes everything else to moto. Requests are handled one at
a time: moto's backends are not written for concurrent mutation and the calls are short.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import sys
import time
from urllib.parse import parse_qsl

from moto.core import utils as moto_utils
from moto.core.exceptions import ServiceException
from moto.ec2.models import ec2_backends
from moto.iam.models import get_account_id_from
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import create_backend_app

from cloudsim.ec2 import actions, fixtures, instances as instance_states, wire
from cloudsim.ec2.handlers import HANDLERS
from cloudsim.ec2.settings import Ec2Settings
from cloudsim.ec2.snapshots import SnapshotBook
from cloudsim.faults import Fault
from cloudsim.simulator import ApiCall, ApiReply, ApiSimulator, ControlError, ControlRequest, ControlRoute, SimContext

SERVICE = "ec2"
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")
_ERROR_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_INSTANCE_ID = re.compile(rb"<instanceId>(i-[0-9a-f]+)</instanceId>")


class Ec2Request:
    """What the layer needs from one HTTP request; the body is kept so moto can read it again."""

    def __init__(self, environ: dict, default_region: str) -> None:
        self.environ = environ
        self.request_id = wire.new_request_id()
        body = self._read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        self.flat = dict(pairs)
        self.action = self.flat.get("Action", "")
        auth = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        self.access_key = auth.group(1) if auth else self.flat.get("AWSAccessKeyId", "AKIAEXAMPLE")
        self.region = auth.group(2) if auth else default_region
        self.account_id = environ.get("HTTP_X_MOTO_ACCOUNT_ID") or os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(self.access_key)

    @staticmethod
    def _read_body(environ: dict) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        return environ["wsgi.input"].read(length) if length > 0 else b""

    def journal_params(self) -> dict:
        return {key: value for key, value in self.flat.items() if key not in ("Action", "Version")}


class Ec2Simulator(ApiSimulator):
    """EC2 on moto 5.2.5 with simulated snapshot and instance lifecycles."""

    name = SERVICE

    def __init__(self, context: SimContext) -> None:
        super().__init__(context)
        # moto would load ~1300 public AMIs (and their snapshots) into every region: slow resets
        # and foreign snapshots in DescribeSnapshots. Read when a backend is created, not at import.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        use_simulated_clock_in_moto_ec2(context.clock)
        self._moto_app = create_backend_app(SERVICE)
        self.settings = Ec2Settings()
        self.book = SnapshotBook()

    # Simulator hooks ---------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            moto_api_backend.reset()
            self.settings = Ec2Settings()
            self.book = SnapshotBook()

    def control_routes(self) -> list[ControlRoute]:
        return [
            ControlRoute("POST", "/ec2/instances", self._seed_instance),
            *self.settings_routes(lambda: self.settings, self.lock),
            ControlRoute("GET", "/ec2/snapshot-failures", self._list_failures),
            ControlRoute("POST", "/ec2/snapshot-failures", self._plan_failure),
            ControlRoute("DELETE", "/ec2/snapshot-failures", self._clear_failures),
            ControlRoute("GET", "/ec2/state", self._state),
        ]

    def backend(self, account_id: str | None = None, region: str | None = None):
        return ec2_backends[account_id or self.context.account_id][region or self.context.region]

    # Pipeline hooks ----------------------------------------------------------------------------

    def parse_request(self, environ: dict) -> ApiCall:
        request = Ec2Request(environ, self.context.region)
        return ApiCall(service=SERVICE, action=request.action or "(none)", params=request.journal_params(), region=request.region,
                       native=request)

    def dispatch(self, call: ApiCall) -> object:
        request: Ec2Request = call.native
        if not request.action:
            raise wire.Ec2Error("MissingAction", "The request must contain the parameter Action")
        if request.action not in wire.operation_names():
            raise wire.Ec2Error("InvalidAction", f"The action {request.action} is not valid for this web service.")
        handler = HANDLERS.get(request.action)
        if handler is None:
            return self._forward_to_moto(request, request.environ)
        ec2_call = actions.Ec2Call(
            action=request.action, params=wire.parse_params(request.action, request.flat),
            backend=self.backend(request.account_id, request.region), account_id=request.account_id,
            region=request.region, clock=self.context.clock, settings=self.settings, book=self.book,
        )
        return 200, wire.render_result(request.action, handler(ec2_call), request.request_id), None

    def render_result(self, call: ApiCall, result: object) -> ApiReply:
        status, body, error_code = result
        return ApiReply(status, body, error_code=error_code)

    def render_error(self, call: ApiCall, error: Exception) -> ApiReply | None:
        request_id = call.native.request_id
        if isinstance(error, wire.Ec2Error):
            return ApiReply(error.status, wire.render_error(error.code, error.message, request_id), error_code=error.code)
        if isinstance(error, ServiceException):
            return ApiReply(400, wire.render_error(error.code, error.message, request_id), error_code=error.code)
        if isinstance(error, NotImplementedError):
            message = f"cloudsim: {call.native.action} is not implemented by the simulator ({error})"
            return ApiReply(501, wire.render_error("NotImplemented", message, request_id), error_code="NotImplemented")
        return None

    def render_internal_error(self, call: ApiCall) -> ApiReply:
        return ApiReply(500, wire.render_error("InternalError", "An internal error has occurred", call.native.request_id),
                        error_code="InternalError")

    def render_fault(self, call: ApiCall, fault: Fault) -> ApiReply:
        return ApiReply(fault.status, wire.render_error(fault.code, fault.message, call.native.request_id), error_code=fault.code)

    def finish(self, call: ApiCall, reply: ApiReply) -> ApiReply:
        if call.action == "CreateSnapshots" and self.settings.create_snapshots_answer_seconds:
            time.sleep(self.settings.create_snapshots_answer_seconds)  # outside the lock: concurrent calls overlap
        reply.content_type = "text/xml;charset=UTF-8"
        reply.headers.update({"x-amzn-RequestId": self._request_id_of(reply.body), "Server": "AmazonEC2"})
        return reply

    @staticmethod
    def _request_id_of(body: bytes) -> str:
        found = re.search(rb"<(?:requestId|RequestID)>([^<]*)<", body)
        return found.group(1).decode() if found else wire.new_request_id()

    def _forward_to_moto(self, request: Ec2Request, environ: dict) -> tuple[int, bytes, str | None]:
        captured: dict = {}

        def capture_start(status, _headers, _exc_info=None):
            captured["status"] = int(status.split()[0])
            return lambda _data: None

        iterable = self._moto_app(environ, capture_start)
        try:
            body = b"".join(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        status = captured.get("status", 500)
        if status >= 400:
            found = _ERROR_CODE.search(body)
            return status, body, found.group(1).decode() if found else None
        if request.action == "RunInstances":
            self._after_run_instances(request, body)
        return status, body, None

    def _after_run_instances(self, request: Ec2Request, body: bytes) -> None:
        """New instances are pending for a while; and AWS always reports HibernationOptions."""
        backend = self.backend(request.account_id, request.region)
        for instance_id in _INSTANCE_ID.findall(body):
            instance = backend.get_instance(instance_id.decode())
            instance_states.begin_launch(instance, self.context.clock, self.settings.instance_transition_seconds)
            if not (instance.hibernation_options or {}).get("Configured"):
                instance.hibernation_options = {"Configured": False}

    # Control routes ----------------------------------------------------------------------------

    def _control_backend(self, request: ControlRequest):
        return self.backend(request.body.get("account_id") or request.query.get("account_id"),
                            request.body.get("region") or request.query.get("region"))

    def _seed_instance(self, request: ControlRequest) -> dict:
        with self.lock:
            return fixtures.seed_instance(self._control_backend(request), self.context.clock, request.body)

    def _list_failures(self, _request: ControlRequest) -> dict:
        return {"failures": [plan.as_dict() for plan in self.book.failure_plans]}

    def _plan_failure(self, request: ControlRequest) -> dict:
        body = request.body
        if not body.get("volume_id") and not body.get("instance_id"):
            raise ControlError('give "volume_id" or "instance_id"')
        with self.lock:
            plan = self.book.plan_failure(body.get("at_progress", 50), volume_id=body.get("volume_id"), instance_id=body.get("instance_id"))
        return plan.as_dict()

    def _clear_failures(self, _request: ControlRequest) -> dict:
        with self.lock:
            self.book.failure_plans.clear()
        return {"ok": True}

    def _state(self, request: ControlRequest) -> dict:
        with self.lock:
            return fixtures.state_view(self._control_backend(request), self.book, self.context.clock)


def use_simulated_clock_in_moto_ec2(clock) -> None:
    """Make moto's EC2 timestamps (LaunchTime, AttachTime, CreateTime...) come from the simulated clock.

    moto's EC2 model modules import ``moto.core.utils.utcnow`` by name; rebinding that name in
    those modules keeps their times consistent with snapshot StartTimes when the clock runs fast.
    """
    def simulated_utcnow() -> datetime.datetime:
        return clock.now().replace(tzinfo=None)

    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("moto.ec2.") and getattr(module, "utcnow", None) is moto_utils.utcnow:
            module.utcnow = simulated_utcnow
