# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry of injected API faults.

A fault says: the next ``count`` calls of service S and action A (``*`` for any) fail with HTTP
status H, error code C and message M. Simulators ask :meth:`FaultRegistry.take` before handling a
call and render the fault in their own wire format. Faults are consumed in the order they were
injected.

A ``processed`` fault is a lost answer: the service carries the call out, then answers with the
error, as when a 500 or a dropped connection comes after the work was done. The client cannot tell
it from a call that did nothing; a create it sends again must not make a second resource.

A connection drop (``drop``) gives the call no HTTP answer at all: ``reset`` closes the connection
with a TCP RST at once, ``timeout`` keeps it silent for ``hold_seconds`` of real time (beyond the
client's read timeout), then resets it. With ``processed`` the call is carried out first. The base
pipeline (:class:`cloudsim.simulator.ApiSimulator`) carries drops out for every API simulator.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading

ANY = "*"
#: connection drop kinds and the error code they are journaled with
DROPS = {"reset": "ConnectionReset", "timeout": "ReadTimeout"}


@dataclasses.dataclass
class Fault:
    """One injected fault; ``remaining`` counts down as calls consume it."""

    fault_id: int
    service: str
    action: str
    status: int
    code: str
    message: str
    remaining: int
    processed: bool = False
    # Seconds for a Retry-After header, where the service sends one (OpenStack's 429s); None: the service's default.
    retry_after: int | None = None
    # A connection drop: "reset" or "timeout" (no HTTP answer; status 0); None for an HTTP error answer.
    drop: str | None = None
    # Real seconds a "timeout" drop keeps the connection silent; None: the pipeline's default.
    hold_seconds: float | None = None

    def matches(self, service: str, action: str) -> bool:
        return self.service in (ANY, service) and self.action in (ANY, action)

    def as_dict(self) -> dict:
        return {
            "id": self.fault_id, "service": self.service, "action": self.action, "status": self.status,
            "code": self.code, "message": self.message, "remaining": self.remaining, "processed": self.processed,
            "retry_after": self.retry_after, "drop": self.drop, "hold_seconds": self.hold_seconds,
        }


def default_message(code: str) -> str:
    """A message in the style of the real services for a few well-known codes."""
    known = {
        "RequestLimitExceeded": "Request limit exceeded.",
        "InternalError": "An internal error has occurred",
        "ServiceUnavailable": "The service is unavailable. Please try again shortly.",
        "Unavailable": "The server is overloaded and can't handle the request.",
        "ConcurrentSnapshotLimitExceeded": "Maximum allowed in-progress snapshots for a single volume exceeded.",
        "SnapshotCreationPerVolumeRateExceeded": "The maximum per volume CreateSnapshot request rate has been exceeded. "
                                                 "Use an increasing or variable sleep interval between requests.",
    }
    return known.get(code, f"Injected fault {code}")


class FaultRegistry:
    """Thread-safe FIFO of faults to inject."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        # Calls that met an injected fault since the simulator started (never reset: readers take differences).
        self.met = 0
        # Of those, the calls whose connection was dropped.
        self.dropped = 0

    def inject(self, service: str, action: str, code: str, status: int = 400, count: int = 1, message: str | None = None,
               processed: bool = False, retry_after: int | None = None) -> Fault:
        if int(count) < 1:
            raise ValueError("count must be >= 1")
        if not 400 <= int(status) <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if not code:
            raise ValueError("code is required")
        if retry_after is not None and (not str(retry_after).isdigit() or int(retry_after) > 3600):
            raise ValueError("retry_after must be whole seconds from 0 to 3600")
        fault = Fault(
            fault_id=next(self._ids), service=service or ANY, action=action or ANY, status=int(status),
            code=code, message=message if message is not None else default_message(code), remaining=int(count),
            processed=bool(processed), retry_after=None if retry_after is None else int(retry_after),
        )
        return self._add(fault)

    def inject_drop(self, service: str, action: str, drop: str = "reset", count: int = 1, processed: bool = False,
                    hold_seconds: float | None = None) -> Fault:
        """The next ``count`` matching calls get no answer: ``reset`` at once, ``timeout`` after ``hold_seconds``."""
        if drop not in DROPS:
            raise ValueError(f"drop must be one of {sorted(DROPS)}, got {drop!r}")
        if int(count) < 1:
            raise ValueError("count must be >= 1")
        if hold_seconds is not None and (drop != "timeout" or not 0 <= float(hold_seconds) <= 600):
            raise ValueError("hold_seconds is for drop timeout only, from 0 to 600 real seconds")
        fault = Fault(
            fault_id=next(self._ids), service=service or ANY, action=action or ANY, status=0, code=DROPS[drop],
            message=f"connection dropped ({drop})", remaining=int(count), processed=bool(processed), drop=drop,
            hold_seconds=None if hold_seconds is None else float(hold_seconds),
        )
        return self._add(fault)

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, service: str, action: str) -> Fault | None:
        """Consume one use of the first fault matching this call, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(service, action):
                    self.met += 1
                    self.dropped += 1 if fault.drop else 0
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return dataclasses.replace(fault)
        return None

    def pending(self) -> list[dict]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults = []
