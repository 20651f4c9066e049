# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Lightsail simulator: Lightsail's JSON API on its own port, plus its control routes.

Each request is parsed and validated against botocore's model (:mod:`cloudsim.lightsail.wire`),
goes through the pipeline of :class:`cloudsim.simulator.ApiSimulator` (faults, throttling, journal,
connection drops) and is answered by the handlers of :data:`cloudsim.lightsail.actions.HANDLERS`.
Requests are served one at a time, after every due state transition has been applied.
"""

from __future__ import annotations

import re

from werkzeug.wrappers import Request

from cloudsim.faults import Fault
from cloudsim.lightsail import actions, views, wire
from cloudsim.lightsail.resources import (
    BUNDLES, DEFAULT_KEY_PAIR, LINUX_BLUEPRINTS, REGIONAL_ZONE, WINDOWS_BLUEPRINTS, Instance, LightsailBook, StaticIp, default_ports,
    new_password, region_zones,
)
from cloudsim.lightsail.settings import LightsailSettings
from cloudsim.simulator import ApiCall, ApiReply, ApiSimulator, ControlError, ControlRequest, ControlRoute, SimContext
SERVICE = "lightsail"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/")
SEEDABLE_STATES = ("running", "stopped")


class LightsailSimulator(ApiSimulator):
    """Lightsail instances, instance snapshots, static IPs and operations, on the simulated clock."""

    name = SERVICE

    def __init__(self, context: SimContext) -> None:
        super().__init__(context)
        self.settings = LightsailSettings()
        self.books: dict[str, LightsailBook] = {}

    # Simulator hooks ---------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.settings = LightsailSettings()
            self.books = {}

    def control_routes(self) -> list[ControlRoute]:
        return [
            ControlRoute("POST", "/lightsail/instances", self._seed_instance),
            *self.settings_routes(lambda: self.settings, self.lock),
            ControlRoute("POST", "/lightsail/snapshot-failures", self._plan_failure),
            ControlRoute("POST", "/lightsail/auto-snapshot", self._start_auto_snapshot),
            ControlRoute("POST", "/lightsail/guest-shutdown", self._guest_shutdown_route),
            ControlRoute("GET", "/lightsail/state", self._state),
        ]

    def book(self, region: str | None = None) -> LightsailBook:
        """Names are unique per region: each region has its own book."""
        region = region or self.context.region
        if region not in self.books:
            self.books[region] = LightsailBook(region, self.context.account_id)
        return self.books[region]

    def guest_shutdown(self, region: str | None, instance_name: str, delay_seconds: float, generalize: bool = True) -> dict:
        """The guest OS shuts itself down ``delay_seconds`` of simulated time from now, as Sysprep does.

        No API call is made or journaled: at that time the instance goes ``stopping`` -> ``stopped``
        as after a StopInstance. ``generalize`` (Sysprep) gives the disk's next boot, and copies from a
        snapshot taken after the shutdown, a new random Administrator password. The emulated Windows
        guest calls this; tests and the control route ``POST /lightsail/guest-shutdown`` too.
        """
        with self.lock:
            book = self.book(region)
            now = self.context.clock.time()
            book.settle(now)
            instance = book.instances.get(instance_name or "")
            if instance is None:
                raise ControlError(f"no Lightsail instance {instance_name!r} in {book.region}", 404)
            if instance.state != "running":
                raise ControlError(f"the guest of {instance_name} cannot shut down: the instance is {instance.state}", 409)
            if generalize and not instance.is_windows:
                raise ControlError(f"{instance_name} is not a Windows instance: only Sysprep generalizes (use generalize: false)")
            delay = float(delay_seconds)
            if delay < 0:
                raise ControlError(f"delay_seconds must be >= 0, got {delay_seconds}")
            instance.guest_shutdown = (now + delay, self.settings.instance_transition_seconds, bool(generalize))
            # A zero delay is visible at once, without waiting for the next API request to settle it.
            book.settle(now)
            return {"instance_name": instance.name, "region": book.region, "shutdown_at_epoch": now + delay, "generalize": bool(generalize)}

    # Pipeline hooks ----------------------------------------------------------------------------

    def region_of(self, environ: dict) -> str:
        found = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        return found.group(1) if found else self.context.region

    def parse_request(self, environ: dict) -> ApiCall:
        request = Request(environ)
        target = request.headers.get("X-Amz-Target", "")
        call = ApiCall(service=SERVICE, action=target.rpartition(".")[2] or "(none)", region=self.region_of(environ))
        try:
            call.action = wire.action_from_target(target)
            call.params = wire.parse_request(call.action, request.get_data())
        except wire.LightsailError as error:
            call.refused = error
        return call

    def prepare(self, call: ApiCall) -> None:
        self.book(call.region).settle(call.now)

    def dispatch(self, call: ApiCall) -> object:
        handler = actions.HANDLERS.get(call.action)
        if handler is None:
            raise wire.LightsailError("NotImplemented", f"cloudsim: {call.action} is not implemented by the Lightsail simulator", status=501)
        return handler(actions.LightsailCall(action=call.action, params=call.params, book=self.book(call.region), clock=self.context.clock,
                                             settings=self.settings))

    def render_result(self, call: ApiCall, result: object) -> ApiReply:
        return ApiReply(200, wire.render_result(call.action, result))

    def render_error(self, call: ApiCall, error: Exception) -> ApiReply | None:
        if not isinstance(error, wire.LightsailError):
            return None
        return ApiReply(error.status, wire.render_error(error.error_type, error.message, error.code, error.tip), error_code=error.error_type)

    def render_internal_error(self, call: ApiCall) -> ApiReply:
        return ApiReply(500, wire.render_error("ServiceException", "An internal error occurred."), error_code="ServiceException")

    def render_fault(self, call: ApiCall, fault: Fault) -> ApiReply:
        return ApiReply(fault.status, wire.render_error(fault.code, fault.message), error_code=fault.code)

    def finish(self, call: ApiCall, reply: ApiReply) -> ApiReply:
        reply.content_type = wire.CONTENT_TYPE
        reply.headers["x-amzn-RequestId"] = wire.new_request_id()
        if reply.error_code:
            reply.headers["x-amzn-ErrorType"] = f"{reply.error_code}:"
        return reply

    # Control routes ----------------------------------------------------------------------------

    def _seed_instance(self, request: ControlRequest) -> dict:
        with self.lock:
            book = self.book(request.body.get("region"))
            instance = seed_instance(book, self.context.clock.time(), request.body)
            return {"name": instance.name, "region": book.region, "arn": instance.arn, "public_ip": instance.public_ip,
                    "static_ip_name": instance.static_ip_name, "password": instance.password}

    def _plan_failure(self, request: ControlRequest) -> dict:
        name = request.body.get("instance_name")
        if not name:
            raise ControlError('"instance_name" is required')
        with self.lock:
            book = self.book(request.body.get("region"))
            book.failing_instances.append(name)
            return {"failing_instances": list(book.failing_instances)}

    def _start_auto_snapshot(self, request: ControlRequest) -> dict:
        with self.lock:
            book = self.book(request.body.get("region"))
            instance = book.instances.get(request.body.get("instance_name", ""))
            if instance is None:
                raise ControlError(f"no Lightsail instance {request.body.get('instance_name')!r}", 404)
            if instance.is_windows:
                raise ControlError("automatic snapshots exist for Linux/Unix instances only")
            seconds = float(request.body.get("seconds", self.settings.auto_snapshot_seconds))
            instance.auto_snapshot_until = self.context.clock.time() + seconds
            return {"instance_name": instance.name, "until_epoch": instance.auto_snapshot_until}

    def _guest_shutdown_route(self, request: ControlRequest) -> dict:
        body = request.body
        if not body.get("instance_name"):
            raise ControlError('"instance_name" is required')
        return self.guest_shutdown(body.get("region"), body["instance_name"], body.get("delay_seconds", 0), body.get("generalize", True))

    def _state(self, request: ControlRequest) -> dict:
        with self.lock:
            book = self.book(request.query.get("region"))
            now = self.context.clock.time()
            book.settle(now)
            return {
                "region": book.region,
                "instances": [state_entry(instance, now) for instance in book.instances.values()],
                "instance_snapshots": [{"name": snapshot.name, "instance": snapshot.instance.name, "state": snapshot.state(now),
                                        "seconds_left": max(0.0, snapshot.ready_at - now), "generalized": snapshot.generalized,
                                        "tags": dict(snapshot.tags)} for snapshot in book.snapshots.values()],
                "static_ips": [views.static_ip_view(static_ip) for static_ip in book.static_ips.values()],
                "operations": len(book.operations),
                "failing_instances": list(book.failing_instances),
            }


def state_entry(instance: Instance, now: float) -> dict:
    return {"name": instance.name, "state": instance.state, "target_state": instance.target_state,
            "seconds_left": max(0.0, instance.transition_ends - now) if instance.transition_ends else 0.0,
            "public_ip": instance.public_ip, "static_ip_name": instance.static_ip_name, "blueprint_id": instance.blueprint_id,
            "auto_snapshot_running": now < instance.auto_snapshot_until, "generalized": instance.generalized,
            "guest_shutdown_at": instance.guest_shutdown[0] if instance.guest_shutdown else None,
            "ports": [views.port_state_view(rule) for rule in instance.ports], "tags": dict(instance.tags)}


def _blueprint_id(body: dict) -> str:
    blueprint = body.get("blueprint", "linux")
    if blueprint == "linux":
        return "amazon_linux_2023"
    if blueprint == "windows":
        return "windows_server_2022"
    if blueprint not in LINUX_BLUEPRINTS and blueprint not in WINDOWS_BLUEPRINTS:
        raise ValueError(f"blueprint must be linux, windows or one of {sorted(LINUX_BLUEPRINTS) + sorted(WINDOWS_BLUEPRINTS)}")
    return blueprint


def seed_instance(book: LightsailBook, now: float, body: dict) -> Instance:
    """Create an instance directly in the book (not journaled, no faults, no operations)."""
    name = body.get("name") or ""
    if not actions.NEW_NAME.match(name) or name in book.names_in_use():
        raise ValueError(f"name {name!r} is invalid or already in use")
    blueprint_id = _blueprint_id(body)
    windows = blueprint_id.startswith("windows")
    bundle_id = body.get("bundle") or ("small_win_3_0" if windows else "micro_3_0")
    if bundle_id not in BUNDLES:
        raise ValueError(f"bundle must be one of {sorted(BUNDLES)}")
    state = body.get("state", "running")
    if state not in SEEDABLE_STATES:
        raise ValueError(f"state must be one of {SEEDABLE_STATES}")
    instance = Instance(
        name=name, arn=book.arn("Instance"), created_at=now, zone=seed_zone(book, body), blueprint_id=blueprint_id, bundle_id=bundle_id,
        key_pair_name=body.get("key_pair") or DEFAULT_KEY_PAIR, disk_size_gb=int(body.get("disk_size") or BUNDLES[bundle_id][2]),
        private_ip=book.new_private_ip(), public_ip=None if state == "stopped" else book.new_public_ip(), ports=default_ports(windows),
        tags={str(key): str(value) for key, value in (body.get("tags") or {}).items()}, state=state,
        password=(body.get("password") or new_password()) if windows else "",
    )
    if body.get("static_ip"):
        attach_seeded_static_ip(book, instance, now, body["static_ip"])
    book.instances[name] = instance
    return instance


def seed_zone(book: LightsailBook, body: dict) -> str:
    zone = body.get("zone") or region_zones(book.region)[0]
    if zone not in region_zones(book.region):
        raise ValueError(f"zone must be one of {region_zones(book.region)}")
    return zone


def attach_seeded_static_ip(book: LightsailBook, instance: Instance, now: float, static_ip_name) -> None:
    static_ip_name = static_ip_name if isinstance(static_ip_name, str) else f"StaticIp-{instance.name}"
    if static_ip_name in book.names_in_use() or static_ip_name == instance.name:
        raise ValueError(f"name {static_ip_name!r} is already in use")
    static_ip = StaticIp(name=static_ip_name, arn=book.arn("StaticIp"), created_at=now, zone=REGIONAL_ZONE, ip_address=book.new_public_ip(),
                         attached_to=instance.name)
    book.static_ips[static_ip_name] = static_ip
    instance.static_ip_name = static_ip_name
    instance.public_ip = static_ip.ip_address
