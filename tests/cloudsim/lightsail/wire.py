# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lightsail's JSON protocol on the wire, checked against botocore's Lightsail service model.

Requests are ``POST /`` with ``X-Amz-Target: Lightsail_20161128.<Action>`` and a JSON body (protocol
``json`` 1.1). Every request body is validated against the operation's input shape the way the
service does it (unknown members, missing required members, types, enums, patterns, lengths and
ranges); a violation is the service's ``InvalidInputException``. Errors are JSON documents with the
members of the model's error shapes (``code``, ``docs``, ``message``, ``tip``) plus ``__type``, which
botocore uses to pick the modelled exception class.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import uuid

import botocore.session

TARGET_PREFIX = "Lightsail_20161128."
CONTENT_TYPE = "application/x-amz-json-1.1"
DOCS_URL = "https://lightsail.aws.amazon.com/ls/docs"
_NUMBER_TYPES = {"integer": int, "long": int, "float": (int, float), "double": (int, float)}


class LightsailError(Exception):
    """A Lightsail API error: exception name (``__type``), message, HTTP status and the body's ``code``/``tip``."""

    def __init__(self, error_type: str, message: str, status: int = 400, code: str | None = None, tip: str = "") -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.status = status
        self.code = code or error_type
        self.tip = tip


def invalid_input(message: str) -> LightsailError:
    return LightsailError("InvalidInputException", message, code="InvalidInput",
                          tip="Please check the input values and try again.")


def not_found(resource_type: str, name: str) -> LightsailError:
    return LightsailError("NotFoundException", f"The {resource_type} does not exist: {name}", code="DoesNotExist",
                          tip="Please check the name of the resource and try again.")


def operation_failure(message: str) -> LightsailError:
    return LightsailError("OperationFailureException", message, code="OperationFailure",
                          tip="Please wait for the resource to reach a valid state and try again.")


@functools.lru_cache(maxsize=1)
def service_model():
    return botocore.session.get_session().get_service_model("lightsail")


def operation_names() -> frozenset:
    return frozenset(service_model().operation_names)


def new_request_id() -> str:
    return str(uuid.uuid4())


# Shape checks ------------------------------------------------------------------------------------

def _check_string(shape, value, path: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{path}: expected a string, got {type(value).__name__}"]
    problems = []
    metadata = shape.metadata
    if "enum" in metadata and value not in metadata["enum"]:
        problems.append(f"{path}: '{value}' is not one of {metadata['enum']}")
    # Smithy patterns are not implicitly anchored: the service searches, it does not full-match.
    if "pattern" in metadata and not re.search(metadata["pattern"], value):
        problems.append(f"{path}: '{value}' does not match the pattern {metadata['pattern']}")
    if len(value) < metadata.get("min", 0) or len(value) > metadata.get("max", len(value)):
        problems.append(f"{path}: length {len(value)} is outside [{metadata.get('min', 0)}, {metadata.get('max', '')}]")
    return problems


def _check_number(shape, value, path: str) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES[shape.type_name]):
        return [f"{path}: expected {shape.type_name}, got {type(value).__name__}"]
    metadata = shape.metadata
    if value < metadata.get("min", value) or value > metadata.get("max", value):
        return [f"{path}: {value} is outside [{metadata.get('min', '')}, {metadata.get('max', '')}]"]
    return []


def _check_list(shape, value, path: str, timestamps: tuple) -> list[str]:
    if not isinstance(value, list):
        return [f"{path}: expected a list, got {type(value).__name__}"]
    problems = []
    if len(value) < shape.metadata.get("min", 0) or len(value) > shape.metadata.get("max", len(value)):
        problems.append(f"{path}: {len(value)} items is outside the allowed count")
    for index, item in enumerate(value):
        problems += shape_problems(shape.member, item, f"{path}[{index}]", timestamps)
    return problems


def _check_map(shape, value, path: str, timestamps: tuple) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected a map, got {type(value).__name__}"]
    problems = []
    for key, item in value.items():
        problems += shape_problems(shape.key, key, f"{path} key", timestamps)
        problems += shape_problems(shape.value, item, f"{path}.{key}", timestamps)
    return problems


def _check_structure(shape, value, path: str, timestamps: tuple) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected a structure, got {type(value).__name__}"]
    problems = [f"{path}: unknown member '{name}'" for name in value if name not in shape.members]
    problems += [f"{path}: missing required member '{name}'" for name in shape.required_members if name not in value]
    for name, member in shape.members.items():
        if name in value:
            problems += shape_problems(member, value[name], f"{path}.{name}" if path else name, timestamps)
    return problems


def _check_boolean(_shape, value, path: str) -> list[str]:
    return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {type(value).__name__}"]


def _check_timestamp(_shape, value, path: str, timestamps: tuple) -> list[str]:
    ok = isinstance(value, timestamps) and not isinstance(value, bool)
    return [] if ok else [f"{path}: expected a timestamp, got {type(value).__name__}"]


_CONTAINER_CHECKS = {"structure": _check_structure, "list": _check_list, "map": _check_map, "timestamp": _check_timestamp}
_SCALAR_CHECKS = {"string": _check_string, "boolean": _check_boolean, **{name: _check_number for name in _NUMBER_TYPES}}


def shape_problems(shape, value, path: str = "", timestamps: tuple = (int, float)) -> list[str]:
    """Everything in ``value`` that does not fit ``shape`` (empty when it fits).

    ``timestamps`` are the Python types accepted for timestamp members: numbers on the wire (epoch
    seconds), ``datetime`` once botocore has parsed a response. Blobs are not checked (Lightsail's
    instance actions have none).
    """
    if shape.type_name in _CONTAINER_CHECKS:
        return _CONTAINER_CHECKS[shape.type_name](shape, value, path, timestamps)
    if shape.type_name in _SCALAR_CHECKS:
        return _SCALAR_CHECKS[shape.type_name](shape, value, path)
    return []


# Requests ----------------------------------------------------------------------------------------

def action_from_target(target: str) -> str:
    """The action named by ``X-Amz-Target`` (``UnknownOperationException`` when it names none)."""
    if not target.startswith(TARGET_PREFIX) or target[len(TARGET_PREFIX):] not in operation_names():
        raise LightsailError("UnknownOperationException", f"Unknown operation {target or '(no X-Amz-Target)'}", code="UnknownOperation")
    return target[len(TARGET_PREFIX):]


def parse_request(action: str, body: bytes) -> dict:
    """The request's parameters, validated against the action's input shape."""
    try:
        params = json.loads(body.decode("utf-8") or "{}")
    except ValueError as error:
        raise LightsailError("SerializationException", f"The request body is not valid JSON: {error}", code="Serialization") from error
    input_shape = service_model().operation_model(action).input_shape
    problems = shape_problems(input_shape, params) if input_shape is not None else []
    if problems:
        raise invalid_input("; ".join(problems))
    return params


# Responses ---------------------------------------------------------------------------------------

def epoch(moment: float | datetime.datetime) -> float:
    """Timestamps go out as epoch seconds with millisecond precision, as the service sends them."""
    if isinstance(moment, datetime.datetime):
        moment = moment.timestamp()
    return round(float(moment), 3)


def render_result(action: str, result: dict) -> bytes:
    """JSON body of a successful call; a result that breaks the output shape is a simulator bug."""
    output_shape = service_model().operation_model(action).output_shape
    problems = shape_problems(output_shape, result) if output_shape is not None else []
    if problems:
        raise ValueError(f"cloudsim Lightsail {action} result breaks the output shape: {problems}")
    return json.dumps(result).encode("utf-8")


def render_error(error_type: str, message: str, code: str | None = None, tip: str = "") -> bytes:
    document = {"__type": error_type, "code": code or error_type, "docs": DOCS_URL, "message": message, "tip": tip}
    return json.dumps(document).encode("utf-8")
