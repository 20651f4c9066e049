# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routing for the OpenStack services: one request context, one reply type, regex routes."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from cloudsim.openstack.operations import Operations
from cloudsim.openstack.state import OpenStackCloud
from cloudsim.openstack.wire import ApiError, Microversion


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: object = None
    headers: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Call:
    """One API request as a handler sees it."""

    method: str
    path: str
    query: dict
    body: dict
    headers: object
    base_url: str
    cloud: OpenStackCloud
    ops: Operations
    now: float
    microversion: Microversion | None = None
    params: dict = dataclasses.field(default_factory=dict)
    # The caller's role names on the project, from its token (empty for the public routes).
    roles: tuple = ()

    def body_object(self, key: str) -> dict:
        """The request body's ``{key: {...}}`` object, or 400 as the services answer."""
        value = self.body.get(key) if isinstance(self.body, dict) else None
        if not isinstance(value, dict):
            raise ApiError(400, f"Invalid input for field/attribute {key}. The request body must contain a '{key}' object.")
        return value

    @property
    def is_admin(self) -> bool:
        """The new default policies' ``role:admin`` (project-scoped admin)."""
        return "admin" in self.roles

    def at_least(self, major: int, minor: int) -> bool:
        return self.microversion is not None and self.microversion >= Microversion(major, minor)


Handler = Callable[[Call], Reply]


@dataclasses.dataclass
class Route:
    method: str
    pattern: str
    action: str
    handler: Handler
    # Version discovery documents are public, as in the real services.
    public: bool = False
    # For routes that carry several actions (Nova's POST /servers/{id}/action): the journal's action name.
    namer: Callable[[Call], str] | None = None

    def action_of(self, call: Call) -> str:
        return self.namer(call) if self.namer else self.action

    def match(self, method: str, path: str) -> dict | None:
        if method != self.method:
            return None
        found = re.fullmatch(self.pattern, path)
        return found.groupdict() if found else None


def not_modelled(method: str, path: str) -> ApiError:
    """501 for a call the simulator does not model: a 404 or 405 would tell clients "does not exist" or "not allowed"."""
    return ApiError(501, f"cloudsim does not model {method} {path}: the simulator implements only the calls its documentation "
                         "lists (docs/cloudsim.md); use a real OpenStack for others.")


def find_route(routes: list[Route], method: str, path: str, shown_path: str | None = None) -> tuple[Route, dict]:
    """The route for this request; 501 naming the method and the route (``shown_path``, else ``path``) when no route
    serves it, whether the path is unknown or known with another method: the service may well serve it."""
    for route in routes:
        params = route.match(method, path)
        if params is not None:
            return route, params
    raise not_modelled(method, shown_path or path)
