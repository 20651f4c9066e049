# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Journal of every cloud API call the simulators receive.

Tests and benchmarks read it to count calls, check parameters and compare the actions used with
the documented IAM policy. Sequence numbers keep growing across ``clear()`` so a reader can keep
polling with ``since=<last seq>`` without missing or repeating entries.
"""

from __future__ import annotations

import datetime
import threading

from cloudsim.clock import SimClock, iso8601

# Request parameters that carry credentials or signatures: never recorded.
_SECRET_PARAM_PREFIXES = ("X-Amz-",)
_SECRET_PARAMS = frozenset({
    "AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SecurityToken", "Timestamp", "Expires",
})


def is_secret_param(name: str) -> bool:
    """True for request parameters that belong to authentication, not to the API call."""
    return name in _SECRET_PARAMS or name.startswith(_SECRET_PARAM_PREFIXES)


class Journal:
    """Thread-safe, append-only list of API calls."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._last_seq = 0

    def record(self, service: str, action: str, params: dict, status: int, error_code: str | None = None) -> dict:
        """Append one call and return the stored entry."""
        clean_params = {key: value for key, value in params.items() if not is_secret_param(key)}
        with self._lock:
            self._last_seq += 1
            entry = {
                "seq": self._last_seq,
                "service": service,
                "action": action,
                "params": clean_params,
                "sim_time": iso8601(self._clock.now()),
                "real_time": iso8601(datetime.datetime.now(datetime.timezone.utc)),
                "status": int(status),
                "error_code": error_code,
            }
            self._entries.append(entry)
        return entry

    def entries(self, service: str | None = None, action: str | None = None, since: int = 0) -> list[dict]:
        """Entries with ``seq > since``, optionally limited to one service and/or action."""
        with self._lock:
            selected = [entry for entry in self._entries if entry["seq"] > since]
        if service:
            selected = [entry for entry in selected if entry["service"] == service]
        if action:
            selected = [entry for entry in selected if entry["action"] == action]
        return [dict(entry) for entry in selected]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._last_seq

    def clear(self) -> None:
        with self._lock:
            self._entries = []
