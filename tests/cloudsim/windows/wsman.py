# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WS-Management (SOAP 1.2) messages of the Windows Remote Shell, as pywinrm and Ansible send them.

Parsing keeps what the shell operations need (action, message id, shell id, operation timeout, body);
rendering writes the envelopes a Windows WinRM service answers with, and its faults
(``WSManFault`` codes that pywinrm turns into ``WinRMOperationTimeoutError`` or ``WSManFaultError``).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
SHELL_CMD_URI = SHELL + "/cmd"
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = SHELL + "/Command"
ACTION_SEND = SHELL + "/Send"
ACTION_RECEIVE = SHELL + "/Receive"
ACTION_SIGNAL = SHELL + "/Signal"
STATE_DONE = SHELL + "/CommandState/Done"
STATE_RUNNING = SHELL + "/CommandState/Running"

# WSManFault codes of the real service.
CODE_TIMED_OUT = 2150858793
CODE_SHELL_NOT_FOUND = 2150858843
CODE_ACTION_NOT_SUPPORTED = 2150858754
CODE_INVALID_COMMAND = 2150858783
_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


class WsmanFault(Exception):
    """A request the shell service refuses; rendered as an HTTP 500 SOAP fault."""

    def __init__(self, code: int, subcode: str, reason: str, sender: bool = True) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.sender = sender


@dataclasses.dataclass
class WsmanRequest:
    action: str
    message_id: str
    shell_id: str | None
    operation_timeout: float
    options: dict
    body: ET.Element | None


def _child(element: ET.Element | None, namespace: str, name: str) -> ET.Element | None:
    return None if element is None else element.find(f"{{{namespace}}}{name}")


def parse_duration(text: str | None, default: float = 60.0) -> float:
    """``PT20S``, ``PT1M30S``: the ``xs:duration`` WS-Management uses for OperationTimeout."""
    found = _DURATION.match((text or "").strip())
    if not found or not any(found.groups()):
        return default
    hours, minutes, seconds = (float(value or 0) for value in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_request(data: bytes) -> WsmanRequest:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise WsmanFault(CODE_INVALID_COMMAND, "w:SchemaValidationError", f"The SOAP XML in the message does not match the schema: {error}") from error
    header = _child(root, SOAP, "Header")
    action = _child(header, ADDRESSING, "Action")
    message_id = _child(header, ADDRESSING, "MessageID")
    if action is None or message_id is None:
        raise WsmanFault(CODE_INVALID_COMMAND, "w:SchemaValidationError", "The WS-Management header has no Action or MessageID.")
    shell_id = None
    selectors = _child(header, WSMAN, "SelectorSet")
    for selector in [] if selectors is None else selectors:
        if selector.get("Name") == "ShellId":
            shell_id = (selector.text or "").strip()
    options = {}
    option_set = _child(header, WSMAN, "OptionSet")
    for option in [] if option_set is None else option_set:
        options[option.get("Name", "")] = (option.text or "").strip()
    timeout = _child(header, WSMAN, "OperationTimeout")
    body = _child(root, SOAP, "Body")
    return WsmanRequest(action=(action.text or "").strip(), message_id=(message_id.text or "").strip(), shell_id=shell_id,
                        operation_timeout=parse_duration(None if timeout is None else timeout.text), options=options,
                        body=None if body is None or len(body) == 0 else body[0])


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        f'<s:Envelope xml:lang="en-US" xmlns:s="{SOAP}" xmlns:a="{ADDRESSING}" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"'
        f' xmlns:w="{WSMAN}" xmlns:rsp="{SHELL}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        f"<s:Header><a:Action>{escape(action)}</a:Action><a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        f"<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode("utf-8")


def shell_created(request: WsmanRequest, address: str, shell_id: str) -> bytes:
    body = (
        f"<x:ResourceCreated><a:Address>{escape(address)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{SHELL_CMD_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">{shell_id}</w:Selector>"
        f"</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
        f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId><rsp:ResourceUri>{SHELL_CMD_URI}</rsp:ResourceUri>"
        f"<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
    )
    return _envelope(ACTION_CREATE + "Response", request.message_id, body)


def command_started(request: WsmanRequest, command_id: str) -> bytes:
    return _envelope(ACTION_COMMAND + "Response", request.message_id,
                     f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>")


def input_sent(request: WsmanRequest) -> bytes:
    return _envelope(ACTION_SEND + "Response", request.message_id, "<rsp:SendResponse/>")


def signalled(request: WsmanRequest) -> bytes:
    return _envelope(ACTION_SIGNAL + "Response", request.message_id, "<rsp:SignalResponse/>")


def shell_deleted(request: WsmanRequest) -> bytes:
    return _envelope(ACTION_DELETE + "Response", request.message_id, "")


def output_received(request: WsmanRequest, command_id: str, streams: list[tuple[str, str, bool]], exit_code: int | None) -> bytes:
    """``streams``: (name, base64 text, end); ``exit_code`` None while the command still runs."""
    command = quoteattr(command_id)
    parts = [f"<rsp:Stream Name={quoteattr(name)} CommandId={command}{' End=\"true\"' if end else ''}>{text}</rsp:Stream>"
             for name, text, end in streams]
    if exit_code is None:
        parts.append(f"<rsp:CommandState CommandId={command} State=\"{STATE_RUNNING}\"/>")
    else:
        parts.append(f"<rsp:CommandState CommandId={command} State=\"{STATE_DONE}\"><rsp:ExitCode>{int(exit_code)}</rsp:ExitCode></rsp:CommandState>")
    return _envelope(ACTION_RECEIVE + "Response", request.message_id, "<rsp:ReceiveResponse>" + "".join(parts) + "</rsp:ReceiveResponse>")


def render_fault(fault: WsmanFault, relates_to: str, machine: str) -> bytes:
    side = "s:Sender" if fault.sender else "s:Receiver"
    body = (
        f"<s:Fault><s:Code><s:Value>{side}</s:Value><s:Subcode><s:Value>{escape(fault.subcode)}</s:Value></s:Subcode></s:Code>"
        f"<s:Reason><s:Text xml:lang=\"en-US\">{escape(fault.reason)}</s:Text></s:Reason><s:Detail>"
        f"<f:WSManFault xmlns:f=\"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault\" Code=\"{fault.code}\" Machine={quoteattr(machine)}>"
        f"<f:Message>{escape(fault.reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


def timed_out() -> WsmanFault:
    return WsmanFault(CODE_TIMED_OUT, "w:TimedOut",
                      "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.", sender=False)


def shell_not_found(shell_id: str | None) -> WsmanFault:
    return WsmanFault(CODE_SHELL_NOT_FOUND, "w:InvalidSelectors",
                      f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was not found on the server. "
                      "Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server.")


def action_not_supported(action: str) -> WsmanFault:
    return WsmanFault(CODE_ACTION_NOT_SUPPORTED, "a:ActionNotSupported", f"The action is not supported by the service: {action}")
