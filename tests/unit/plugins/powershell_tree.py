# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading our PowerShell files without PowerShell: tree-sitter-powershell syntax errors and literal values.

PowerShell cannot be installed on our machines, so the .ps1/.psm1 files of the collection are parsed with the
tree-sitter grammar (PyPI tree-sitter-powershell). It rejects a few valid constructs (see docs/windows.md); our
scripts stay in the subset it accepts, so any ERROR or MISSING node is a real mistake.
"""

from __future__ import annotations

import pathlib

import tree_sitter
import tree_sitter_powershell

COLLECTION_ROOT = pathlib.Path(__file__).resolve().parents[3]
POWERSHELL_SUFFIXES = (".ps1", ".psm1")

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


class LiteralError(ValueError):
    """A node that is not a literal this reader understands (a variable, a command, an expression ...)."""


def powershell_files(root=COLLECTION_ROOT):
    """Every PowerShell file of the collection (tests included), sorted, relative to the root."""
    skip = {"tests/output", ".build"}
    found = []
    for suffix in POWERSHELL_SUFFIXES:
        for path in root.rglob("*" + suffix):
            relative = path.relative_to(root).as_posix()
            if not any(relative == s or relative.startswith(s + "/") for s in skip):
                found.append(relative)
    return sorted(found)


def parse(source):
    """The tree-sitter tree of PowerShell source (str or bytes)."""
    if isinstance(source, str):
        source = source.encode("utf-8")
    return _PARSER.parse(source)


def syntax_errors(source):
    """(line, column, description) of each ERROR or MISSING node, 1-based lines and columns."""
    errors = []
    stack = [parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            errors.append((node.start_point[0] + 1, node.start_point[1] + 1, "missing %s" % node.type))
        elif node.type == "ERROR":
            text = node.text.decode("utf-8", "replace").splitlines()
            errors.append((node.start_point[0] + 1, node.start_point[1] + 1, "cannot parse %r" % (text[0][:60] if text else "")))
        if node.has_error:
            stack.extend(node.children)
    return sorted(errors)


def _collapse(node):
    """Skip the grammar's chains of single-child wrappers (pipeline > logical_expression > ... > unary_expression)."""
    while True:
        children = [child for child in node.named_children if child.type != "comment"]
        if len(children) == 1 and node.type not in ("hash_literal_expression", "array_expression") and \
                children[0].start_byte == node.start_byte and children[0].end_byte == node.end_byte:
            node = children[0]
        elif node.type in ("pipeline", "statement_list", "pipeline_chain") and len(children) == 1:
            node = children[0]
        else:
            return node


def _hash_entries(node):
    for child in node.named_children:
        if child.type == "hash_literal_body":
            yield from _hash_entries(child)
        elif child.type == "hash_entry":
            yield child


def _string_value(node):
    text = node.text.decode("utf-8")
    if node.type == "verbatim_string_characters":
        return text[1:-1].replace("''", "'")
    if "$" in text or "`" in text:
        raise LiteralError("expandable string with substitutions: %s" % text)
    return text[1:-1]


def literal(node):
    """The Python value of a PowerShell literal: hashtables, arrays, strings, integers, $true/$false/$null."""
    node = _collapse(node)
    kind = node.type
    if kind == "hash_literal_expression":
        result = {}
        for entry in _hash_entries(node):
            key_node, value_node = entry.named_children[0], entry.named_children[1]
            key = _collapse(key_node)
            name = _string_value(key) if key.type.endswith(("string_literal", "string_characters")) else key.text.decode()
            result[name] = literal(value_node)
        return result
    if kind == "cast_expression" and node.named_children[0].text.decode().lower() == "[ordered]":
        return literal(node.named_children[1])
    if kind == "array_expression":
        inner = [child for child in node.named_children if child.type != "comment"]
        if not inner:
            return []
        value = literal(inner[0])
        return value if _collapse(inner[0]).type == "array_literal_expression" else [value]
    if kind == "array_literal_expression":
        return [literal(child) for child in node.named_children if child.type != "comment"]
    if kind in ("verbatim_string_characters", "expandable_string_literal"):
        return _string_value(node)
    if kind == "decimal_integer_literal":
        return int(node.text.decode())
    if kind == "expression_with_unary_operator" and node.children[0].type == "-":
        return -literal(node.named_children[0])
    if kind == "variable":
        constants = {"$true": True, "$false": False, "$null": None}
        name = node.text.decode().lower()
        if name in constants:
            return constants[name]
    raise LiteralError("not a literal (%s): %s" % (kind, node.text.decode("utf-8", "replace")[:80]))


def assigned_literal(source, variable):
    """The literal assigned to `$variable` at the top level of a script (the first such assignment)."""
    wanted = "$" + variable.lower()
    stack = [parse(source).root_node]
    while stack:
        node = stack.pop(0)
        if node.type == "assignment_expression":
            target = _collapse(node.named_children[0])
            if target.type == "variable" and target.text.decode().lower() == wanted:
                return literal(node.named_children[-1])
        if node.type in ("program", "statement_list", "pipeline", "assignment_expression"):
            stack.extend(node.named_children)
    raise LookupError("no top-level assignment to $%s" % variable)


def nodes_of_type(source, node_type):
    """Every node of one type, in source order."""
    found = []
    stack = [parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == node_type:
            found.append(node)
        stack.extend(reversed(node.children))
    return found


# Parameters every advanced function and cmdlet accepts.
COMMON_PARAMETERS = frozenset((
    "verbose", "debug", "erroraction", "warningaction", "informationaction", "errorvariable", "warningvariable",
    "informationvariable", "outvariable", "outbuffer", "pipelinevariable", "whatif", "confirm",
))


def function_parameters(source):
    """{function name: {parameter names}} of the functions a script defines, names lower-cased."""
    functions = {}
    for statement in nodes_of_type(source, "function_statement"):
        name = next(child for child in statement.named_children if child.type == "function_name").text.decode().lower()
        parameters = set()
        for block in (child for child in statement.named_children if child.type == "script_block"):
            for param_block in (child for child in block.named_children if child.type == "param_block"):
                for parameter in nodes_of_type_in(param_block, "script_parameter"):
                    variable = next(child for child in parameter.named_children if child.type == "variable")
                    parameters.add(variable.text.decode()[1:].lower())
        functions[name] = parameters
    return functions


def nodes_of_type_in(node, node_type):
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == node_type:
            found.append(current)
        stack.extend(reversed(current.children))
    return found


def command_calls(source):
    """(command name, [named parameters], line) of every command invocation, names lower-cased."""
    calls = []
    for command in nodes_of_type(source, "command"):
        name_node = next((child for child in command.named_children if child.type == "command_name"), None)
        if name_node is None:
            continue
        parameters = [node.text.decode().lstrip("-").rstrip(":").lower() for node in nodes_of_type_in(command, "command_parameter")
                      if _owning_command(node) == command]
        calls.append((name_node.text.decode().lower(), parameters, command.start_point[0] + 1))
    return calls


def _owning_command(node):
    node = node.parent
    while node is not None and node.type != "command":
        node = node.parent
    return node


def embedded_scripts(source):
    """The bodies of single-quoted here-strings: in our modules, pieces of scripts that scheduled tasks run."""
    scripts = []
    for node in nodes_of_type(source, "verbatim_here_string_characters"):
        text = node.text.decode()
        scripts.append((node.start_point[0] + 1, text[text.index("\n") + 1:text.rindex("\n")]))
    return scripts


def unknown_parameters(source, functions):
    """Calls of `functions` (as function_parameters returns) with a named parameter the function does not declare."""
    problems = []
    for name, parameters, line in command_calls(source):
        if name in functions:
            for parameter in parameters:
                if parameter not in functions[name] and parameter not in COMMON_PARAMETERS:
                    problems.append("line %d: %s has no parameter -%s" % (line, name, parameter))
    return problems


def assignment_value(source, variable):
    """The right-hand node of the first assignment to `$variable`, anywhere in the script."""
    wanted = "$" + variable.lower()
    for node in nodes_of_type(source, "assignment_expression"):
        target = _collapse(node.named_children[0])
        if target.type == "variable" and target.text.decode().lower() == wanted:
            return node.named_children[-1]
    raise LookupError("no assignment to $%s" % variable)


def script_parameters(source):
    """The parameter names (lower-cased) of a script's own param() block, in order."""
    root = parse(source).root_node
    blocks = [child for child in root.named_children if child.type == "param_block"]
    if not blocks:
        return []
    return [next(c for c in p.named_children if c.type == "variable").text.decode()[1:].lower()
            for p in nodes_of_type_in(blocks[0], "script_parameter")]
