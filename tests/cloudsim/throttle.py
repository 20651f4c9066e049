# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""API request throttling: a token bucket per service and action category, as the real services rate-limit.

EC2 meters each account's requests with token buckets, one per category of actions (non-mutating
``Describe*``/``Get*``/``List*`` calls apart from mutating ones); a request that finds its bucket empty
is refused (EC2 API reference, "Request throttling"). A bucket holds at most ``burst`` tokens and
refills at ``rate`` tokens per second of *real* time: clients back off in real seconds, whatever the
simulated clock's speed. cloudsim serves one account, so a bucket per service is a bucket per account.

A refused call is answered with the service's own throttling error, through the same path as an
injected fault (so it is journaled with its error code):

* ``ec2``: HTTP 503 ``RequestLimitExceeded`` (EC2 API reference, "Request throttling" and "Error codes").
* ``lightsail``: HTTP 400 ``ThrottlingException``, the AWS JSON protocols' throttling error (Lightsail's
  botocore model has no shape of its own for it; botocore's ``_retry.json`` defines
  ``throttling_exception`` as code ``ThrottlingException`` with status 400).
* OpenStack ``compute``, ``image``, ``network``, ``identity``: HTTP 429 ``overLimit`` with a ``Retry-After`` header
  (seconds), as the (old) Nova ``RateLimitFault`` answered (``{"overLimit": {"code": 429, "message": ..., "retryAfter": ...}}``).
* OpenStack ``volume``: HTTP 413 ``overLimitFault`` with a ``Retry-After`` header, as Cinder's own rate limiter answers
  (cinder/api/middleware/rate_limit.py and cinder/api/openstack/wsgi.py ``OverLimitFault``).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable

from cloudsim.faults import Fault

# Prefixes of the actions that change nothing: EC2's non-mutating category, OpenStack's read operations.
READ_PREFIXES = ("Describe", "Get", "List", "Search", "list", "show", "get", "versions", "check", "validate")
SCOPES = ("category", "service")
OPENSTACK_SERVICES = ("compute", "volume", "image", "network", "identity")


@dataclasses.dataclass(frozen=True)
class ThrottleAnswer:
    """How a service says "throttled" on the wire."""

    status: int
    code: str
    message: str


ANSWERS = {
    "ec2": ThrottleAnswer(503, "RequestLimitExceeded", "Request limit exceeded."),
    "lightsail": ThrottleAnswer(400, "ThrottlingException", "Rate exceeded"),
    **{service: ThrottleAnswer(429, "overLimit", "This request was rate-limited.") for service in OPENSTACK_SERVICES},
    "volume": ThrottleAnswer(413, "overLimitFault", "This request was rate-limited."),
}


def category_of(action: str) -> str:
    """``non-mutating`` for reads, ``mutating`` for everything else (EC2's two main action categories)."""
    return "non-mutating" if action.startswith(READ_PREFIXES) else "mutating"


@dataclasses.dataclass
class Throttled(Fault):
    """A call refused because its bucket was empty; ``retry_after`` is the whole seconds until a token is back."""

    retry_after: int | None = 1


# Seconds Nova's and Cinder's 429 asks for when an injected fault does not say (their rate limits count per minute,
# so the real value is up to 60; one keeps the tests quick).
DEFAULT_RETRY_AFTER = 1


def retry_after_of(fault: Fault) -> int | None:
    """The Retry-After seconds of an OpenStack answer: every 429 has one (throttled or injected), and any fault injected
    with ``retry_after``; None for the rest."""
    if fault.retry_after is not None:
        return fault.retry_after
    return DEFAULT_RETRY_AFTER if fault.status == 429 else None


def retry_after_headers(fault: Fault) -> dict:
    """The ``Retry-After`` header OpenStack sends with a 429."""
    seconds = retry_after_of(fault)
    return {} if seconds is None else {"Retry-After": str(seconds)}


def with_retry_after(body: object, fault: Fault) -> object:
    """Nova's and Cinder's ``overLimit`` body carries ``retryAfter`` too; other bodies are left as they are."""
    seconds = retry_after_of(fault)
    if seconds is not None and isinstance(body, dict) and isinstance(body.get(fault.code), dict):
        body[fault.code]["retryAfter"] = str(seconds)
    return body


class TokenBucket:
    """At most ``burst`` tokens, ``rate`` more per second; a request takes one or is refused."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def seconds_to_next_token(self) -> float:
        return (1 - self.tokens) / self.rate if self.tokens < 1 else 0.0


@dataclasses.dataclass
class ServiceLimit:
    """The limit set on one service, its buckets and its counters."""

    service: str
    rate: float
    burst: int
    scope: str
    answer: ThrottleAnswer
    buckets: dict = dataclasses.field(default_factory=dict)
    allowed: int = 0
    throttled: int = 0

    def as_dict(self) -> dict:
        return {"service": self.service, "rate": self.rate, "burst": self.burst, "scope": self.scope,
                "status": self.answer.status, "code": self.answer.code, "allowed": self.allowed, "throttled": self.throttled}


class ThrottleRegistry:
    """Thread-safe rate limits, off until a service is given one."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._limits: dict[str, ServiceLimit] = {}

    def limit(self, service: str, rate: float, burst: int, scope: str = "category") -> dict:
        """Throttle ``service`` (``ec2``, ``lightsail``, ``compute``...); replaces its previous limit and counters."""
        if service not in ANSWERS:
            raise ValueError(f"unknown service {service!r}; known: {sorted(ANSWERS)}")
        if float(rate) <= 0:
            raise ValueError(f"rate must be > 0 requests per second, got {rate}")
        if int(burst) < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {list(SCOPES)}, got {scope!r}")
        limit = ServiceLimit(service=service, rate=float(rate), burst=int(burst), scope=scope, answer=ANSWERS[service])
        with self._lock:
            self._limits[service] = limit
            return limit.as_dict()

    def take(self, service: str, action: str) -> Throttled | None:
        """None if the call may go on (or the service is not throttled); else the refusal to answer."""
        with self._lock:
            limit = self._limits.get(service)
            if limit is None:
                return None
            key = category_of(action) if limit.scope == "category" else service
            now = self._monotonic()
            bucket = limit.buckets.setdefault(key, TokenBucket(limit.rate, limit.burst, now))
            if bucket.take(now):
                limit.allowed += 1
                return None
            limit.throttled += 1
            answer = limit.answer
            return Throttled(fault_id=0, service=service, action=action, status=answer.status, code=answer.code,
                             message=answer.message, remaining=0, retry_after=max(1, math.ceil(bucket.seconds_to_next_token())))

    def counters(self) -> dict:
        """``{"limits": [{service, rate, burst, scope, status, code, allowed, throttled}, ...]}``."""
        with self._lock:
            return {"limits": [limit.as_dict() for limit in self._limits.values()]}

    def clear(self, service: str | None = None) -> None:
        """Throttling off for ``service``, or for every service."""
        with self._lock:
            if service is None:
                self._limits = {}
            else:
                self._limits.pop(service, None)
