# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack simulator: every service on one port under a path prefix, as DevStack lays them out.

``/identity`` (Keystone v3), ``/compute`` (Nova), ``/volume`` (Cinder v3), ``/image`` (Glance v2)
and ``/network`` (Neutron). Each request: settle the lifecycles on the simulated clock, check the
token (version documents and token creation are public), negotiate the microversion, apply an
injected fault, run the handler, journal the call. Requests are served one at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
from collections.abc import Callable

from werkzeug.wrappers import Request, Response

from cloudsim.openstack import compute, identity, image, network, volume
from cloudsim.openstack import fixtures
from cloudsim.openstack.operations import Operations
from cloudsim.openstack.routing import Call, Reply, Route, find_route
from cloudsim.openstack.wire import REASONS, ApiError, Microversion, requested_microversion
from cloudsim.simulator import ControlError, ControlRequest, ControlRoute, SimContext, Simulator
from cloudsim.throttle import retry_after_headers, with_retry_after

LOG = logging.getLogger(__name__)
NAME = "openstack"


@dataclasses.dataclass
class Service:
    """One OpenStack API under its path prefix; ``name`` is the journal's and the faults' service."""

    name: str
    routes: list[Route]
    error_body: Callable[[ApiError], object]
    # (service type in OpenStack-API-Version, legacy header, minimum, maximum) for microversioned APIs.
    microversions: tuple | None = None


SERVICES = {
    identity.PREFIX: Service("identity", identity.ROUTES, identity.error_body),
    compute.PREFIX: Service("compute", compute.ROUTES, compute.error_body,
                            ("compute", "X-OpenStack-Nova-API-Version", compute.MIN_VERSION, compute.MAX_VERSION)),
    volume.PREFIX: Service("volume", volume.ROUTES, volume.error_body, ("volume", None, volume.MIN_VERSION, volume.MAX_VERSION)),
    image.PREFIX: Service("image", image.ROUTES, image.error_body),
    network.PREFIX: Service("network", network.ROUTES, network.error_body),
}


class OpenStackSimulator(Simulator):
    """Keystone, Nova, Cinder, Glance and Neutron subsets sharing one simulated cloud."""

    name = NAME

    def __init__(self, context: SimContext) -> None:
        super().__init__(context)
        self._lock = threading.RLock()
        self.base_url = ""
        self.cloud = fixtures.new_cloud(context.clock.time())

    # Simulator hooks ---------------------------------------------------------------------------

    def wsgi_app(self):
        return self

    def serving_at(self, url: str) -> None:
        """Told by the server where it listens: the catalog and clouds.yaml carry absolute URLs."""
        self.base_url = url

    @property
    def endpoint_url(self) -> str:
        """The endpoints file's ``openstack`` entry: the auth URL."""
        return self.base_url + "/identity"

    def reset(self) -> None:
        with self._lock:
            self.cloud = fixtures.new_cloud(self.context.clock.time(), self.cloud.identity)

    def control_routes(self) -> list[ControlRoute]:
        return [
            ControlRoute("POST", "/openstack/servers", self._seed_server),
            ControlRoute("POST", "/openstack/guest-nic", self._set_guest_nic),
            ControlRoute("POST", "/openstack/zones", lambda request: self._locked(fixtures.set_zones, self.cloud, request.body)),
            ControlRoute("GET", "/openstack/state", self._state),
            *self.settings_routes(lambda: self.cloud.settings, self._lock),
            ControlRoute("GET", "/openstack/clouds-yaml", self._clouds_yaml),
            ControlRoute("GET", "/openstack/snapshot-failures", self._list_failures),
            ControlRoute("POST", "/openstack/snapshot-failures", self._plan_failure),
            ControlRoute("DELETE", "/openstack/snapshot-failures", self._clear_failures),
        ]

    # WSGI --------------------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response):
        request = Request(environ)
        prefix, _slash, rest = request.path.lstrip("/").partition("/")
        service = SERVICES.get(prefix)
        with self._lock:
            reply, action, params = self._serve(service, request, "/" + rest)
        if service is not None and action:
            error_code = _error_code(reply.body) if reply.status >= 400 else None
            self.context.journal.record(service.name, action, params, reply.status, error_code)
        return self._response(reply)(environ, start_response)

    def _serve(self, service: Service | None, request: Request, path: str) -> tuple[Reply, str, dict]:
        if service is None:
            return Reply(404, {"error": {"code": 404, "title": "Not Found", "message": f"No OpenStack service at {request.path}"}}), "", {}
        microversion = None
        try:
            # Journaled too: a client using an API the simulator lacks shows up as "unsupported".
            action, params = "unsupported", {"method": request.method.upper(), "path": path}
            route, path_params = find_route(service.routes, request.method.upper(), path)
            action = route.action
            call = self._call(request, path, path_params)
            action = route.action_of(call)
            params = _journal_params(call)
            if not route.public:
                self._authenticate(request)
            if service.microversions:
                microversion = requested_microversion(request.headers, *service.microversions)
                call.microversion = microversion
                # Journaled: tests of our modules check which microversion a call used (createImage 2.45, Cinder 3.65...).
                params["microversion"] = str(microversion)
            fault = self.context.faults.take(service.name, action) or self.context.throttle.take(service.name, action)
            reply = route.handler(call) if fault is None else _fault_reply(service, fault, route, call)
        except ApiError as error:
            reply = Reply(error.status, service.error_body(error))
        except Exception:  # pylint: disable=broad-exception-caught
            # A simulator bug must look like a 500 to clients, and be visible in the log.
            LOG.exception("cloudsim OpenStack failed on %s %s", request.method, request.path)
            reply = Reply(500, service.error_body(ApiError(500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/")))
        if microversion is not None:
            self._add_microversion_headers(service, reply, microversion)
        return reply, action, params

    def _call(self, request: Request, path: str, path_params: dict) -> Call:
        now = self.context.clock.time()
        self.cloud.settle(now)
        body = {}
        if request.get_data():
            try:
                body = json.loads(request.get_data(as_text=True))
            except ValueError as error:
                raise ApiError(400, "Malformed request body") from error
        base_url = self.base_url or request.host_url.rstrip("/")
        return Call(method=request.method.upper(), path=path, query=request.args.to_dict(), body=body, headers=request.headers,
                    base_url=base_url, cloud=self.cloud, ops=Operations(self.cloud, now), now=now, params=path_params)

    def _authenticate(self, request: Request) -> None:
        if request.headers.get("X-Auth-Token", "") not in self.cloud.tokens:
            raise ApiError(401, "The request you have made requires authentication.", "Unauthorized")

    @staticmethod
    def _add_microversion_headers(service: Service, reply: Reply, microversion: Microversion) -> None:
        service_type, legacy_header = service.microversions[0], service.microversions[1]
        reply.headers["OpenStack-API-Version"] = f"{service_type} {microversion}"
        reply.headers["Vary"] = "OpenStack-API-Version" + (f", {legacy_header}" if legacy_header else "")
        if legacy_header:
            reply.headers[legacy_header] = str(microversion)

    @staticmethod
    def _response(reply: Reply) -> Response:
        headers = dict(reply.headers)
        if reply.status == 401:
            # keystonemiddleware tells the client where to authenticate.
            headers["WWW-Authenticate"] = "Keystone uri=\"/identity\""
        if reply.status == 204 or reply.body is None:
            return Response(b"", status=f"{reply.status} {REASONS.get(reply.status, 'Error')}", headers=headers)
        return Response(json.dumps(reply.body), status=f"{reply.status} {REASONS.get(reply.status, 'Error')}",
                        headers=headers, mimetype="application/json")

    # Control routes ----------------------------------------------------------------------------

    def _seed_server(self, request: ControlRequest) -> dict:
        with self._lock:
            now = self.context.clock.time()
            self.cloud.settle(now)
            return fixtures.seed_server(Operations(self.cloud, now), request.body)

    def _locked(self, function, *args):
        with self._lock:
            return function(*args)

    def _set_guest_nic(self, request: ControlRequest) -> dict:
        with self._lock:
            return fixtures.set_guest_nic(self.cloud, request.body)

    def _state(self, _request: ControlRequest) -> dict:
        with self._lock:
            now = self.context.clock.time()
            self.cloud.settle(now)
            return fixtures.state_view(self.cloud, now)

    def _clouds_yaml(self, request: ControlRequest) -> dict:
        return fixtures.clouds_yaml(self.cloud, self.endpoint_url, request.query.get("cloud_name") or "devstack",
                                    request.query.get("auth_type") or "password")

    def _list_failures(self, _request: ControlRequest) -> dict:
        return {"failures": [plan.as_dict() for plan in self.cloud.snapshot_failures]}

    def _plan_failure(self, request: ControlRequest) -> dict:
        if not request.body.get("volume_id") and not request.body.get("server_id"):
            raise ControlError('give "volume_id" or "server_id"')
        with self._lock:
            return fixtures.plan_snapshot_failure(self.cloud, request.body)

    def _clear_failures(self, _request: ControlRequest) -> dict:
        with self._lock:
            self.cloud.snapshot_failures.clear()
        return {"ok": True}


def _fault_reply(service: Service, fault, route: Route, call: Call) -> Reply:
    """An injected fault or a throttled call in the service's error format (a 429 with its Retry-After); a ``processed``
    fault is a lost answer: the call is carried out (or refused) first, and the client gets the fault either way."""
    if fault.processed:
        with contextlib.suppress(ApiError):
            route.handler(call)
    body = service.error_body(ApiError(fault.status, fault.message, fault.code))
    return Reply(fault.status, with_retry_after(body, fault), headers=retry_after_headers(fault))


def _journal_params(call: Call) -> dict:
    """Path parameters, query and body; passwords and secrets are never journaled."""
    params = dict(call.params)
    params.update(call.query)
    if isinstance(call.body, dict) and "auth" not in call.body:
        params.update(call.body)
    elif isinstance(call.body, dict):
        methods = ((call.body.get("auth") or {}).get("identity") or {}).get("methods")
        params["auth_methods"] = methods
    return params


def _error_code(body: object) -> str | None:
    """The fault name of an error body (``itemNotFound``, ``NeutronError`` type, Keystone's title)."""
    if not isinstance(body, dict) or len(body) != 1:
        return None
    key, value = next(iter(body.items()))
    if isinstance(value, dict):
        return value.get("type") or value.get("title") or key
    return key
