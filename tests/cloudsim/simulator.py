# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every simulator shares and provides.

Each simulator (EC2 today; Lightsail, OpenStack and a WinRM guest later) gets one
:class:`SimContext` (clock, journal, faults, throttle) and offers a WSGI app for its API port, a
``reset()`` and its own control routes, mounted by :mod:`cloudsim.control`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cloudsim import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from cloudsim.clock import SimClock
from cloudsim.faults import FaultRegistry
from cloudsim.journal import Journal
from cloudsim.throttle import ThrottleRegistry


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
