# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a WinRM command asks for: Ansible's PowerShell exec wrapper payload, a PowerShell script or a cmd line.

Ansible (2.19 and later, ``ansible.executor.powershell.module_manifest``) runs every module and helper as
``powershell ... -EncodedCommand <bootstrap_wrapper.ps1>`` and sends on stdin: a JSON line naming the
exec wrapper, a line of four NUL characters, then the exec manifest (JSON: ``scripts`` by name, base64,
and ``actions``, the last one ``module_wrapper.ps1`` with the module's ``Script`` name and its arguments
as the global variable ``complex_args``). The module arguments carry ``_ansible_check_mode``,
``_ansible_diff`` and the other ``_ansible_*`` settings.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re

_ENCODED_COMMAND = re.compile(r"-(?:e|ec|enc|encodedcommand)\s+([A-Za-z0-9+/=]+)", re.IGNORECASE)
_SEPARATOR = b"\n\0\0\0\0\n"
_MODULE_SCRIPT = re.compile(r"^ansible_collections\.(\w+)\.(\w+)\.plugins\.modules\.(\w+)\.ps1$")
# Wrappers that only change how the module runs (as another user, in the background, with coverage).
UNSUPPORTED_WRAPPERS = ("become_wrapper.ps1", "async_wrapper.ps1", "async_watchdog.ps1", "coverage_wrapper.ps1")


@dataclasses.dataclass
class Invocation:
    """One command decoded: ``kind`` is ``module``, ``exec_action`` (an Ansible helper script), ``powershell`` or ``cmd``."""

    kind: str
    text: str = ""
    module: str = ""
    args: dict = dataclasses.field(default_factory=dict)
    action: str = ""
    action_params: dict = dataclasses.field(default_factory=dict)
    wrappers: list = dataclasses.field(default_factory=list)
    extra_input: bytes = b""

    @property
    def check_mode(self) -> bool:
        return bool(self.args.get("_ansible_check_mode"))

    @property
    def diff_mode(self) -> bool:
        return bool(self.args.get("_ansible_diff"))


def command_line(command: str, arguments: str) -> str:
    """WinRS joins the command and its arguments with a space, as the connection plugin notes."""
    return f"{command} {arguments}".strip() if arguments else command.strip()


def encoded_script(line: str) -> str | None:
    """The script of ``powershell ... -EncodedCommand <base64 UTF-16-LE>``, or None for any other command."""
    first = line.split(None, 1)[0].strip('"').lower() if line.strip() else ""
    if not first.rsplit("\\", 1)[-1].startswith(("powershell", "pwsh")):
        return None
    found = _ENCODED_COMMAND.search(line)
    if not found:
        return None
    try:
        return base64.b64decode(found.group(1)).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError):
        return None


def is_bootstrap_wrapper(script: str) -> bool:
    """Ansible's bootstrap_wrapper.ps1: reads a JSON manifest from input up to a line of four NULs."""
    return "`0`0`0`0" in script and "ConvertFrom-Json" in script


def needs_input(line: str) -> bool:
    """Whether the command reads stdin before it can answer (the bootstrap wrapper does)."""
    script = encoded_script(line)
    return script is not None and is_bootstrap_wrapper(script)


def decode(line: str, stdin: bytes) -> Invocation:
    script = encoded_script(line)
    if script is None:
        return Invocation(kind="cmd", text=line)
    if not is_bootstrap_wrapper(script):
        return Invocation(kind="powershell", text=script)
    return decode_exec_input(stdin)


def decode_exec_input(stdin: bytes) -> Invocation:
    """The bootstrap input: exec wrapper line, NULs, exec manifest, optionally NULs and the action's own input."""
    parts = stdin.split(_SEPARATOR, 2)
    if len(parts) < 2:
        raise ValueError("the exec wrapper input has no manifest after the four NUL characters")
    bootstrap = json.loads(parts[0].decode("utf-8"))
    if bootstrap.get("name") != "exec_wrapper":
        raise ValueError(f"the bootstrap input names {bootstrap.get('name')!r}, not exec_wrapper")
    manifest = json.loads(parts[1].decode("utf-8"))
    actions = manifest.get("actions") or []
    if not actions:
        raise ValueError("the exec manifest has no actions")
    names = [action.get("name", "") for action in actions]
    final = actions[-1]
    invocation = Invocation(kind="exec_action", action=final.get("name", ""), action_params=dict(final.get("params") or {}),
                            wrappers=names[:-1], extra_input=parts[2] if len(parts) > 2 else b"")
    if invocation.action == "module_wrapper.ps1":
        invocation.kind = "module"
        invocation.module = module_name(invocation.action_params.get("Script", ""))
        for variable in invocation.action_params.get("Variables") or []:
            if variable.get("Name") == "complex_args":
                invocation.args = dict(variable.get("Value") or {})
    return invocation


def module_name(script_name: str) -> str:
    """``ansible_collections.ansible.windows.plugins.modules.win_ping.ps1`` -> ``ansible.windows.win_ping``."""
    found = _MODULE_SCRIPT.match(script_name)
    if found:
        return ".".join(found.groups())
    return script_name[:-4] if script_name.endswith(".ps1") else script_name
