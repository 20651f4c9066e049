# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulated clock shared by all simulators.

Simulated time runs ``speed`` times faster than real time, so a two-hour snapshot can finish in
seconds. ``now() = anchor_sim + (real_now - anchor_real) * speed``. Changing the speed re-anchors
the clock so simulated time never jumps or runs backwards; ``advance()`` jumps forward on purpose
(for retention-by-age tests). A speed of 0 freezes simulated time, which makes tests exact.
"""

from __future__ import annotations

import datetime
import threading
import time


class SimClock:
    """Thread-safe simulated UTC clock."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._speed = self._checked_speed(speed)
        self._anchor_real = time.monotonic()
        # Simulated time starts at the wall clock so timestamps look current.
        self._anchor_sim = time.time() if start is None else float(start)

    @staticmethod
    def _checked_speed(speed: float) -> float:
        speed = float(speed)
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        return speed

    def _sim_seconds_locked(self) -> float:
        return self._anchor_sim + (time.monotonic() - self._anchor_real) * self._speed

    def time(self) -> float:
        """Simulated POSIX timestamp in seconds."""
        with self._lock:
            return self._sim_seconds_locked()

    def now(self) -> datetime.datetime:
        """Simulated time as an aware UTC datetime."""
        return datetime.datetime.fromtimestamp(self.time(), tz=datetime.timezone.utc)

    @property
    def speed(self) -> float:
        with self._lock:
            return self._speed

    def set_speed(self, speed: float) -> None:
        """Change the speed; simulated time stays continuous across the change."""
        speed = self._checked_speed(speed)
        with self._lock:
            self._anchor_sim = self._sim_seconds_locked()
            self._anchor_real = time.monotonic()
            self._speed = speed

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward by ``seconds`` (never backwards)."""
        seconds = float(seconds)
        if seconds < 0:
            raise ValueError("the clock only advances forward")
        with self._lock:
            self._anchor_sim = self._sim_seconds_locked() + seconds
            self._anchor_real = time.monotonic()

    def real_seconds_for(self, sim_seconds: float) -> float | None:
        """How long ``sim_seconds`` of simulated time take in real time (None when frozen)."""
        speed = self.speed
        if speed == 0:
            return None
        return sim_seconds / speed

    def describe(self) -> dict:
        """JSON-friendly view used by the control API."""
        sim_time = self.time()
        return {
            "now": iso8601(datetime.datetime.fromtimestamp(sim_time, tz=datetime.timezone.utc)),
            "epoch": sim_time,
            "speed": self.speed,
        }


def iso8601(moment: datetime.datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z`` suffix, the way AWS writes timestamps.

    Naive datetimes are taken as UTC, which is how moto stores its times.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
