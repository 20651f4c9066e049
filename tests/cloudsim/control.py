# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON control API of cloudsim (its own loopback port).

Generic routes: ``GET /health``, ``POST /reset``, ``GET|POST /clock``, ``GET|POST|DELETE /faults``,
``GET|POST|DELETE /throttle``, ``GET|DELETE /journal``. Each simulator adds its own routes (``/ec2/...``). Control calls are not
journaled: the journal is about cloud API calls only.
"""

from __future__ import annotations

import json
import logging

from werkzeug.wrappers import Request, Response

from cloudsim.simulator import ControlError, ControlRequest, ControlRoute, SimContext, Simulator

LOG = logging.getLogger(__name__)


def _json_response(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload, indent=1, sort_keys=True, default=str), status=status, mimetype="application/json")


def _parse_body(request: Request) -> dict:
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise ControlError(f"request body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise ControlError("request body must be a JSON object")
    return body


class ControlApp:
    """WSGI app serving the control API for one cloudsim process."""

    def __init__(self, context: SimContext, simulators: list[Simulator]) -> None:
        self.context = context
        self.simulators = simulators
        self._routes: dict[tuple[str, str], ControlRoute] = {}
        for route in self._generic_routes():
            self.add_route(route)
        for simulator in simulators:
            for route in simulator.control_routes():
                self.add_route(route)

    def add_route(self, route: ControlRoute) -> None:
        key = (route.method.upper(), route.path.rstrip("/") or "/")
        if key in self._routes:
            raise ValueError(f"duplicate control route {key}")
        self._routes[key] = route

    def _generic_routes(self) -> list[ControlRoute]:
        return [
            ControlRoute("GET", "/health", self._health),
            ControlRoute("POST", "/reset", self._reset),
            ControlRoute("GET", "/clock", self._get_clock),
            ControlRoute("POST", "/clock", self._set_clock),
            ControlRoute("GET", "/faults", self._list_faults),
            ControlRoute("POST", "/faults", self._inject_fault),
            ControlRoute("DELETE", "/faults", self._clear_faults),
            ControlRoute("GET", "/throttle", self._throttle_counters),
            ControlRoute("POST", "/throttle", self._set_throttle),
            ControlRoute("DELETE", "/throttle", self._throttle_off),
            ControlRoute("GET", "/journal", self._get_journal),
            ControlRoute("DELETE", "/journal", self._clear_journal),
        ]

    def __call__(self, environ: dict, start_response):
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        route = self._routes.get((request.method.upper(), path))
        if route is None:
            known_methods = sorted(method for method, known_path in self._routes if known_path == path)
            if known_methods:
                return _json_response({"error": f"method not allowed, use {', '.join(known_methods)}"}, 405)
            return _json_response({"error": f"no control route {request.method} {path}"}, 404)
        try:
            control_request = ControlRequest(body=_parse_body(request), query=request.args.to_dict())
            return _json_response(route.handler(control_request))
        except ControlError as error:
            return _json_response({"error": str(error)}, error.status)
        except (ValueError, TypeError, KeyError) as error:
            return _json_response({"error": f"{type(error).__name__}: {error}"}, 400)
        except Exception as error:  # pylint: disable=broad-exception-caught
            # A bug of the simulator's control code: say so in the answer and keep the traceback in cloudsim's log.
            LOG.exception("cloudsim control route %s %s failed", request.method, path)
            return _json_response({"error": f"cloudsim bug: {type(error).__name__}: {error}"}, 500)

    # Generic handlers -------------------------------------------------------------------------

    def _health(self, _request: ControlRequest) -> dict:
        return {"ok": True, "services": [simulator.name for simulator in self.simulators], "clock": self.context.clock.describe()}

    def _reset(self, request: ControlRequest) -> dict:
        for simulator in self.simulators:
            simulator.reset()
        self.context.journal.clear()
        self.context.faults.clear()
        for simulator in self.simulators:
            if hasattr(simulator, "release_held_connections"):
                simulator.release_held_connections()
        self.context.throttle.clear()
        if "speed" in request.body:
            self.context.clock.set_speed(request.body["speed"])
        return {"ok": True, "clock": self.context.clock.describe()}

    def _get_clock(self, _request: ControlRequest) -> dict:
        return self.context.clock.describe()

    def _set_clock(self, request: ControlRequest) -> dict:
        if "speed" not in request.body and "advance" not in request.body:
            raise ControlError('give "speed" and/or "advance"')
        if "speed" in request.body:
            self.context.clock.set_speed(request.body["speed"])
        if "advance" in request.body:
            self.context.clock.advance(request.body["advance"])
        return self.context.clock.describe()

    def _list_faults(self, _request: ControlRequest) -> dict:
        faults = self.context.faults
        return {"faults": faults.pending(), "met": faults.met, "dropped": faults.dropped}

    def _inject_fault(self, request: ControlRequest) -> dict:
        body = request.body
        if "drop" in body:
            unexpected = sorted(set(body) & {"code", "status", "message", "retry_after"})
            if unexpected:
                raise ControlError(f"a connection drop has no HTTP answer: leave out {unexpected}")
            fault = self.context.faults.inject_drop(
                service=body.get("service", "*"), action=body.get("action", "*"), drop=body["drop"], count=body.get("count", 1),
                processed=body.get("processed", False), hold_seconds=body.get("hold_seconds"),
            )
            return fault.as_dict()
        if "code" not in body:
            raise ControlError('"code" is required (or "drop" for a connection drop)')
        fault = self.context.faults.inject(
            service=body.get("service", "*"), action=body.get("action", "*"), code=body["code"],
            status=body.get("status", 400), count=body.get("count", 1), message=body.get("message"),
            processed=body.get("processed", False), retry_after=body.get("retry_after"),
        )
        return fault.as_dict()

    def _clear_faults(self, _request: ControlRequest) -> dict:
        self.context.faults.clear()
        return {"ok": True}

    def _throttle_counters(self, _request: ControlRequest) -> dict:
        return self.context.throttle.counters()

    def _set_throttle(self, request: ControlRequest) -> dict:
        body = request.body
        if "service" not in body or "rate" not in body:
            raise ControlError('"service" and "rate" are required')
        return self.context.throttle.limit(body["service"], body["rate"], body.get("burst", 1), body.get("scope", "category"))

    def _throttle_off(self, request: ControlRequest) -> dict:
        self.context.throttle.clear(request.body.get("service") or request.query.get("service"))
        return {"ok": True}

    def _get_journal(self, request: ControlRequest) -> dict:
        journal = self.context.journal
        entries = journal.entries(
            service=request.query.get("service") or None,
            action=request.query.get("action") or None,
            since=int(request.query.get("since") or 0),
        )
        return {"entries": entries, "last_seq": journal.last_seq}

    def _clear_journal(self, _request: ControlRequest) -> dict:
        self.context.journal.clear()
        return {"ok": True}
