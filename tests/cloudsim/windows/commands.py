# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few plain commands the guest answers without PowerShell: enough for pywinrm's run_cmd/run_ps and ``raw``.

cmd lines: ``hostname``, ``whoami``, ``echo TEXT``, ``ipconfig``, ``exit /b N``. PowerShell scripts
(statements on lines or separated by ``;``): ``Write-Output``/``Write-Host``/``echo`` of a literal,
``hostname``, ``whoami``, ``$env:COMPUTERNAME``, ``$env:USERNAME``, ``Write-Error``, ``exit N``. Anything
else answers as Windows does for an unknown command (cmd's "is not recognized" message, or PowerShell's
CommandNotFoundException as CLIXML on stderr) with exit code 1: an unemulated command never looks
like a success.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from cloudsim.windows.guest import Guest

_LITERAL = re.compile(r"""^(?:'((?:[^']|'')*)'|"([^"]*)"|(\S+))$""")
_EXIT = re.compile(r"^exit(?:\s+/b)?(?:\s+(-?\d+))?$", re.IGNORECASE)


def _ipconfig(guest: Guest) -> str:
    lines = ["", "Windows IP Configuration", ""]
    for adapter in guest.adapters:
        lines += [f"Ethernet adapter {adapter.name}:", "", "   Connection-specific DNS Suffix  . : "]
        for address in adapter.addresses:
            lines.append(f"   IPv4 Address. . . . . . . . . . . : {address['ip_address']}")
            lines.append(f"   Subnet Mask . . . . . . . . . . . : {_mask(address['prefix_length'])}")
        lines.append(f"   Default Gateway . . . . . . . . . : {' '.join(adapter.default_gateways)}")
        lines.append("")
    return "\r\n".join(lines) + "\r\n"


def _mask(prefix: int) -> str:
    bits = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return ".".join(str((bits >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def run_cmd(line: str, guest: Guest) -> tuple[int, str, str]:
    words = line.strip().split(None, 1)
    verb = words[0].lower() if words else ""
    rest = words[1] if len(words) > 1 else ""
    if verb in ("hostname", "hostname.exe"):
        return 0, guest.computer_name + "\r\n", ""
    if verb in ("whoami", "whoami.exe"):
        return 0, f"{guest.computer_name.lower()}\\{guest.username.lower()}\r\n", ""
    if verb == "echo":
        return 0, rest + "\r\n", ""
    if verb in ("ipconfig", "ipconfig.exe") and not rest:
        return 0, _ipconfig(guest), ""
    exited = _EXIT.match(line.strip())
    if exited:
        return int(exited.group(1) or 0), "", ""
    return 1, "", f"'{words[0] if words else line}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"


def _literal(text: str) -> str | None:
    found = _LITERAL.match(text.strip())
    if not found:
        return None
    single, double, bare = found.groups()
    return single.replace("''", "'") if single is not None else double if double is not None else bare


def _clixml_error(message: str) -> str:
    text = escape(message).replace("\r\n", "_x000D__x000A_")
    return ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            f'<S S="Error">{text}_x000D__x000A_</S></Objs>')


def run_powershell(script: str, guest: Guest) -> tuple[int, str, str]:
    stdout, errors = [], []
    for statement in (part.strip() for line in script.splitlines() for part in line.split(";")):
        if not statement or statement.startswith("#"):
            continue
        verb, _space, argument = statement.partition(" ")
        lowered = verb.lower()
        exited = _EXIT.match(statement)
        if exited:
            return int(exited.group(1) or 0), "".join(stdout), "".join(errors)
        if lowered in ("write-output", "write-host", "echo") and _literal(argument) is not None:
            stdout.append(_literal(argument) + "\r\n")
        elif lowered == "write-error" and _literal(argument) is not None:
            errors.append(_clixml_error(f"{_literal(argument)}\r\n    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException"))
        elif statement.lower() in ("hostname", "$env:computername"):
            stdout.append(guest.computer_name + "\r\n")
        elif statement.lower() in ("whoami",):
            stdout.append(f"{guest.computer_name.lower()}\\{guest.username.lower()}\r\n")
        elif statement.lower() == "$env:username":
            stdout.append(guest.username + "\r\n")
        else:
            errors.append(_clixml_error(
                f"{verb} : The term '{verb}' is not recognized as the name of a cmdlet, function, script file, or operable program."
                "\r\n    + CategoryInfo          : ObjectNotFound: ({verb}:String) [], CommandNotFoundException"))
            return 1, "".join(stdout), "".join(errors)
    return (1 if errors else 0), "".join(stdout), "".join(errors)
