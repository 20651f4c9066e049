# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack simulator: every service on one port under a path prefix, as DevStack lays them out.

``/identity`` (Keystone v3), ``/compute`` (Nova), ``/volume`` (Cinder v3), ``/image`` (Glance v2)
and ``/network`` (Neutron), as :data:`cloudsim.openstack.handlers.HANDLERS` lists them. Parsing a
request settles the lifecycles on the simulated clock, finds the route, checks the token (version
documents and token creation are public) and negotiates the microversion; the pipeline of
:class:`cloudsim.simulator.ApiSimulator` does the rest (faults, throttling, the handler, journal,
connection drops). Requests are served one at a time.
"""

from __future__ import annotations

import dataclasses
import json

from werkzeug.wrappers import Request

from cloudsim.faults import Fault
from cloudsim.openstack import fixtures
from cloudsim.openstack.handlers import HANDLERS, Service
from cloudsim.openstack.operations import Operations
from cloudsim.openstack.routing import Call, Reply, Route, find_route, not_modelled
from cloudsim.openstack.wire import REASONS, ApiError, Microversion, requested_microversion
from cloudsim.simulator import ApiCall, ApiReply, ApiSimulator, ControlError, ControlRequest, ControlRoute, SimContext
from cloudsim.throttle import retry_after_headers, with_retry_after

NAME = "openstack"
# The fault code of a 429 from a rate-limiting proxy in front of a service (HAProxy, nginx, an API gateway): a short
# HTML page and no Retry-After, unlike the services' own limiters.
PROXY_THROTTLED = "proxyTooManyRequests"
PROXY_429_BODY = (b"<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time."
                  b"\n</body></html>\n")


@dataclasses.dataclass
class OpenStackRequest:
    """What the pipeline hooks need of one request beyond :class:`cloudsim.simulator.ApiCall`."""

    service: Service | None
    route: Route | None = None
    call: Call | None = None
    microversion: Microversion | None = None


class OpenStackSimulator(ApiSimulator):
    """Keystone, Nova, Cinder, Glance and Neutron subsets sharing one simulated cloud."""

    name = NAME

    def __init__(self, context: SimContext) -> None:
        super().__init__(context)
        self.base_url = ""
        self.cloud = fixtures.new_cloud(context.clock.time())

    # Simulator hooks ---------------------------------------------------------------------------

    def serving_at(self, url: str) -> None:
        """Told by the server where it listens: the catalog and clouds.yaml carry absolute URLs."""
        self.base_url = url

    @property
    def endpoint_url(self) -> str:
        """The endpoints file's ``openstack`` entry: the auth URL."""
        return self.base_url + "/identity"

    def reset(self) -> None:
        with self.lock:
            self.cloud = fixtures.new_cloud(self.context.clock.time(), self.cloud.identity)

    def control_routes(self) -> list[ControlRoute]:
        return [
            ControlRoute("POST", "/openstack/servers", self._seed_server),
            ControlRoute("POST", "/openstack/guest-nic", self._set_guest_nic),
            ControlRoute("POST", "/openstack/zones", lambda request: self._locked(fixtures.set_zones, self.cloud, request.body)),
            ControlRoute("POST", "/openstack/networks", lambda request: self._locked(fixtures.seed_network, self.cloud, request.body)),
            ControlRoute("POST", "/openstack/identity", lambda request: self._locked(fixtures.set_roles, self.cloud, request.body)),
            ControlRoute("GET", "/openstack/state", self._state),
            *self.settings_routes(lambda: self.cloud.settings, self.lock),
            ControlRoute("GET", "/openstack/clouds-yaml", self._clouds_yaml),
            ControlRoute("GET", "/openstack/snapshot-failures", self._list_failures),
            ControlRoute("POST", "/openstack/snapshot-failures", self._plan_failure),
            ControlRoute("DELETE", "/openstack/snapshot-failures", self._clear_failures),
        ]

    # Pipeline hooks ----------------------------------------------------------------------------

    def parse_request(self, environ: dict) -> ApiCall:
        request = Request(environ)
        prefix, _slash, rest = request.path.lstrip("/").partition("/")
        service = HANDLERS.get(prefix)
        native = OpenStackRequest(service)
        if service is None:
            refusal = not_modelled(request.method.upper(), request.path)
            return ApiCall(service=NAME, action="unsupported", native=native, refused=refusal, journaled=False)
        path = "/" + rest
        # Journaled too: a client using an API the simulator lacks shows up as "unsupported".
        call = ApiCall(service=service.name, action="unsupported", params={"method": request.method.upper(), "path": path}, native=native)
        try:
            native.route, path_params = find_route(service.routes, request.method.upper(), path, request.path)
            call.action = native.route.action
            native.call = self._call(request, path, path_params)
            call.now = native.call.now
            call.action = native.route.action_of(native.call)
            call.params = _journal_params(native.call)
            if not native.route.public:
                native.call.roles = self._authenticate(request)
            if service.microversions:
                native.microversion = requested_microversion(request.headers, *service.microversions)
                native.call.microversion = native.microversion
                # Journaled: tests of our modules check which microversion a call used (createImage 2.45, Cinder 3.65...).
                call.params["microversion"] = str(native.microversion)
        except Exception as error:  # pylint: disable=broad-exception-caught
            call.refused = error
        return call

    def dispatch(self, call: ApiCall) -> object:
        return call.native.route.handler(call.native.call)

    def render_result(self, call: ApiCall, result: object) -> ApiReply:
        return _api_reply(result)

    def render_error(self, call: ApiCall, error: Exception) -> ApiReply | None:
        if not isinstance(error, ApiError):
            return None
        service = call.native.service
        return _api_reply(Reply(error.status, service.error_body(error) if service else _generic_error_body(error)))

    def render_internal_error(self, call: ApiCall) -> ApiReply:
        return self.render_error(call, ApiError(500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/"))

    def render_fault(self, call: ApiCall, fault: Fault) -> ApiReply:
        """An injected fault or a throttled call in the service's error format (a 429 with its Retry-After); Cinder's
        rate limiter's 413 ``overLimitFault``; a proxy's 429 (:data:`PROXY_THROTTLED`)."""
        if fault.code == PROXY_THROTTLED:
            return ApiReply(fault.status, PROXY_429_BODY, {}, fault.code, "text/html", REASONS.get(fault.status, "Error"))
        if fault.code == "overLimitFault":
            # cinder/api/openstack/wsgi.py OverLimitFault: message, the limit's details, Retry-After (none: a fault
            # injected without retry_after, which no rate limiter sends).
            body = {"overLimitFault": {"code": fault.status, "message": fault.message, "details": self._limit_details(call)}}
            return _api_reply(Reply(fault.status, body, headers=retry_after_headers(fault) if fault.retry_after is not None else {}))
        body = call.native.service.error_body(ApiError(fault.status, fault.message, fault.code))
        return _api_reply(Reply(fault.status, with_retry_after(body, fault), headers=retry_after_headers(fault)))

    def _limit_details(self, call: ApiCall) -> str:
        """Cinder's limit text (rate_limit.py, Limit.error_message) for the service's throttle, else Cinder's default
        limit on POST (10 a minute, DEFAULT_LIMITS)."""
        limit = next((item for item in self.context.throttle.counters()["limits"] if item["service"] == call.service), None)
        method = call.native.call.method if call.native.call else "POST"
        if limit is None:
            return f"Only 10 {method} request(s) can be made to * every minute."
        return f"Only {max(1, round(limit['rate']))} {method} request(s) can be made to * every second."

    def finish(self, call: ApiCall, reply: ApiReply) -> ApiReply:
        if call.native.microversion is not None:
            self._add_microversion_headers(call.native.service, reply, call.native.microversion)
        if reply.status == 401:
            # keystonemiddleware tells the client where to authenticate.
            reply.headers["WWW-Authenticate"] = "Keystone uri=\"/identity\""
        return reply

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

    def _authenticate(self, request: Request) -> tuple:
        """The caller's role names, from its token (keystonemiddleware's X-Roles); 401 for an unknown token."""
        token = self.cloud.tokens.get(request.headers.get("X-Auth-Token", ""))
        if token is None:
            raise ApiError(401, "The request you have made requires authentication.", "Unauthorized")
        return tuple(role["name"] for role in token.get("roles") or [])

    @staticmethod
    def _add_microversion_headers(service: Service, reply: ApiReply, microversion: Microversion) -> None:
        service_type, legacy_header = service.microversions[0], service.microversions[1]
        reply.headers["OpenStack-API-Version"] = f"{service_type} {microversion}"
        reply.headers["Vary"] = "OpenStack-API-Version" + (f", {legacy_header}" if legacy_header else "")
        if legacy_header:
            reply.headers[legacy_header] = str(microversion)

    # Control routes ----------------------------------------------------------------------------

    def _seed_server(self, request: ControlRequest) -> dict:
        with self.lock:
            now = self.context.clock.time()
            self.cloud.settle(now)
            return fixtures.seed_server(Operations(self.cloud, now), request.body)

    def _locked(self, function, *args):
        with self.lock:
            return function(*args)

    def _set_guest_nic(self, request: ControlRequest) -> dict:
        with self.lock:
            return fixtures.set_guest_nic(self.cloud, request.body)

    def _state(self, _request: ControlRequest) -> dict:
        with self.lock:
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
        with self.lock:
            return fixtures.plan_snapshot_failure(self.cloud, request.body)

    def _clear_failures(self, _request: ControlRequest) -> dict:
        with self.lock:
            self.cloud.snapshot_failures.clear()
        return {"ok": True}


def _api_reply(reply: Reply) -> ApiReply:
    """A handler's reply as the pipeline sends it: JSON, the error body's fault name journaled."""
    error_code = _error_code(reply.body) if reply.status >= 400 else None
    if reply.status == 204 or reply.body is None:
        return ApiReply(reply.status, b"", dict(reply.headers), error_code, reason=REASONS.get(reply.status, "Error"))
    return ApiReply(reply.status, json.dumps(reply.body).encode("utf-8"), dict(reply.headers), error_code, "application/json",
                    REASONS.get(reply.status, "Error"))


def _generic_error_body(error: ApiError) -> dict:
    """The error body for a path under no service's prefix (Keystone's and Glance's format)."""
    return {"error": {"code": error.status, "title": REASONS.get(error.status, "Error"), "message": error.message}}


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
