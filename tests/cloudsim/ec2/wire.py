# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 query protocol on the wire, driven by botocore's EC2 service model.

Requests arrive form-encoded (``Action=CreateSnapshots&InstanceSpecification.InstanceId=...``);
responses are XML named after the model's ``locationName``s. Rendering is strict: a result key
that the operation's output shape does not have is a bug in the simulator, so it raises instead of
sending something botocore would silently drop.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from xml.sax.saxutils import escape

import botocore.session

from cloudsim.clock import iso8601

XML_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


class Ec2Error(Exception):
    """An EC2 API error: code, message and HTTP status as EC2 sends them."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@functools.lru_cache(maxsize=1)
def service_model():
    return botocore.session.get_session().get_service_model("ec2")


def operation_names() -> frozenset:
    return frozenset(service_model().operation_names)


def new_request_id() -> str:
    return str(uuid.uuid4())


# Requests ----------------------------------------------------------------------------------------

def _query_key(member_name: str, member_shape) -> str:
    """Name of a member in an EC2 query string (queryName, else capitalised locationName)."""
    serialization = member_shape.serialization
    if "queryName" in serialization:
        return serialization["queryName"]
    if "name" in serialization:
        name = serialization["name"]
        return name[0].upper() + name[1:]
    return member_name


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _parse_scalar(shape, key: str, raw: str):
    try:
        if shape.type_name == "boolean":
            return raw.strip().lower() == "true"
        if shape.type_name in ("integer", "long"):
            return int(raw)
        if shape.type_name in ("float", "double"):
            return float(raw)
    except ValueError as error:
        raise Ec2Error("InvalidParameterValue", f"Value ({raw}) for parameter {key} is invalid.") from error
    return raw


def _parse_list(shape, flat: dict, key: str):
    items = []
    while True:
        item = _parse_shape(shape.member, flat, f"{key}.{len(items) + 1}")
        if item is None:
            return items or None
        items.append(item)


def _parse_structure(shape, flat: dict, prefix: str):
    parsed = {}
    for member_name, member_shape in shape.members.items():
        value = _parse_shape(member_shape, flat, _join(prefix, _query_key(member_name, member_shape)))
        if value is not None:
            parsed[member_name] = value
    return parsed or None


def _parse_shape(shape, flat: dict, key: str):
    if shape.type_name == "structure":
        return _parse_structure(shape, flat, key)
    if shape.type_name == "list":
        return _parse_list(shape, flat, key)
    raw = flat.get(key)
    return None if raw is None else _parse_scalar(shape, key, raw)


def parse_params(action: str, flat: dict) -> dict:
    """Nest flat query parameters according to the operation's input shape (botocore member names)."""
    input_shape = service_model().operation_model(action).input_shape
    if input_shape is None:
        return {}
    return _parse_structure(input_shape, flat, "") or {}


# Responses ---------------------------------------------------------------------------------------

def _render_scalar(shape, value) -> str:
    if shape.type_name == "timestamp":
        if isinstance(value, datetime.datetime):
            return iso8601(value)
        return escape(str(value))
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def _render_structure(shape, value: dict, path: str) -> str:
    unknown = set(value) - set(shape.members)
    if unknown:
        raise KeyError(f"{path}: keys {sorted(unknown)} are not in shape {shape.name}")
    parts = []
    for member_name, member_shape in shape.members.items():
        member_value = value.get(member_name)
        if member_value is not None:
            element = member_shape.serialization.get("name", member_name)
            parts.append(_render_element(member_shape, member_value, element, f"{path}.{member_name}"))
    return "".join(parts)


def _render_element(shape, value, element: str, path: str) -> str:
    if shape.type_name == "structure":
        inner = _render_structure(shape, value, path)
    elif shape.type_name == "list":
        item_element = shape.member.serialization.get("name", "item")
        inner = "".join(_render_element(shape.member, item, item_element, f"{path}[]") for item in value)
    else:
        inner = _render_scalar(shape, value)
    return f"<{element}>{inner}</{element}>"


def render_result(action: str, result: dict, request_id: str) -> bytes:
    """XML response document for a successful call."""
    output_shape = service_model().operation_model(action).output_shape
    if output_shape is None:
        # Operations without an output shape still answer <return>true</return> on EC2.
        body = "<return>true</return>"
    else:
        body = _render_structure(output_shape, result, action)
    document = (
        f'{XML_HEADER}<{action}Response xmlns="{XML_NAMESPACE}">'
        f"<requestId>{request_id}</requestId>{body}</{action}Response>"
    )
    return document.encode("utf-8")


def render_error(code: str, message: str, request_id: str) -> bytes:
    """XML error document in EC2's format."""
    document = (
        f"{XML_HEADER}<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
    )
    return document.encode("utf-8")
