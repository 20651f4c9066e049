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
