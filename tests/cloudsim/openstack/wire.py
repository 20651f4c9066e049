# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack wire details shared by the services: errors, microversions, ids and timestamps."""

from __future__ import annotations

import dataclasses
import datetime
import re
import uuid

# Body keys Nova and Cinder use for their JSON faults (webob exception names, lowerCamelCase).
FAULT_KEYS = {
    400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "notAllowed",
    406: "notAcceptable", 409: "conflictingRequest", 413: "overLimit", 429: "overLimit", 500: "computeFault",
    501: "notImplemented", 503: "serviceUnavailable",
}
REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 300: "Multiple Choices", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    409: "Conflict", 413: "Request Entity Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
    501: "Not Implemented", 503: "Service Unavailable",
}


class ApiError(Exception):
    """An error answer; each service renders it in its own body format."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or FAULT_KEYS.get(status, "error")


def not_found(kind: str, resource_id: str) -> ApiError:
    return ApiError(404, f"{kind} {resource_id} could not be found.")


def new_id() -> str:
    return str(uuid.uuid4())


def timestamp(epoch: float, fraction: bool = False) -> str:
    """Nova/Cinder style UTC timestamps (``2026-01-02T03:04:05Z``; Cinder adds microseconds)."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    if fraction:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass(frozen=True, order=True)
class Microversion:
    """A ``major.minor`` API microversion, compared numerically (2.10 > 2.9)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Microversion:
        found = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text or "")
        if not found:
            raise ValueError(f"invalid microversion {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def requested_microversion(headers, service_type: str, legacy_header: str | None,
                           minimum: Microversion, maximum: Microversion) -> Microversion:
    """The microversion a request asks for: ``OpenStack-API-Version: <type> X.Y``, a legacy header, or the minimum.

    ``latest`` means the maximum; a version outside [minimum, maximum] is refused with 406, as the
    services do.
    """
    wanted = None
    for item in (headers.get("OpenStack-API-Version") or "").split(","):
        parts = item.strip().split()
        if len(parts) == 2 and parts[0].lower() == service_type:
            wanted = parts[1]
    if wanted is None and legacy_header:
        wanted = headers.get(legacy_header)
    if not wanted:
        return minimum
    if wanted.strip().lower() == "latest":
        return maximum
    try:
        version = Microversion.parse(wanted)
    except ValueError as error:
        raise ApiError(400, f"Invalid API version request: {wanted}") from error
    if not minimum <= version <= maximum:
        raise ApiError(406, f"Version {version} is not supported by the API. Minimum is {minimum} and maximum is {maximum}.")
    return version


# nova/api/validation/parameter_types.py ``metadata``: keys must match this pattern (jsonschema patternProperties with
# additionalProperties false), values are strings of at most 255 characters. Server create, createImage and the server
# metadata API all use it.
METADATA_KEY_PATTERN = "^[a-zA-Z0-9-_:. ]{1,255}$"


def check_metadata_keys(items: dict, field: str) -> None:
    """400 with jsonschema's message (as Nova words its validation errors) for keys outside METADATA_KEY_PATTERN."""
    if not isinstance(items, dict):
        raise ApiError(400, f"Invalid input for field/attribute {field}. Value: {items}. {items!r} is not of type 'object'")
    bad = sorted(str(key) for key in items if not re.search(METADATA_KEY_PATTERN, str(key)))
    if bad:
        verb = "does" if len(bad) == 1 else "do"
        raise ApiError(400, f"Invalid input for field/attribute {field}. Value: {items}. "
                            f"{', '.join(repr(key) for key in bad)} {verb} not match any of the regexes: '{METADATA_KEY_PATTERN}'")
