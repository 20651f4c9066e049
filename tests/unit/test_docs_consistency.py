# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The documentation agrees with the collection: every ``version_added`` is the version in galaxy.yml (nothing has
been released before it), as is the version the AWS modules send in their User-Agent."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSION = str(yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"])
PLUGINS = sorted(path for folder in ("modules", "lookup") for path in (ROOT / "plugins" / folder).glob("*.py") if path.name != "__init__.py")
ROLE_SPECS = sorted((ROOT / "roles").glob("*/meta/argument_specs.yml"))


def documentation(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "DOCUMENTATION" for target in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{path} has no DOCUMENTATION")


def versions_added(doc, where):
    """``(where, version_added)`` of a plugin or a role entry point (it must have one) and of its options, suboptions
    included, that have one."""
    found = [(where, doc.get("version_added"))]

    def walk(options, prefix):
        for name, option in (options or {}).items():
            if "version_added" in option:
                found.append((f"{prefix}:{name}", option["version_added"]))
            walk(option.get("suboptions"), f"{prefix}:{name}")

    walk(doc.get("options"), where)
    return found


@pytest.mark.parametrize("path", PLUGINS, ids=lambda path: path.stem)
def test_a_plugin_s_version_added_is_the_collection_s_version(path):
    wrong = [(where, added) for where, added in versions_added(documentation(path), path.stem) if str(added) != VERSION]
    assert wrong == [], f"galaxy.yml says {VERSION}"


@pytest.mark.parametrize("path", ROLE_SPECS, ids=lambda path: path.parts[-3])
def test_a_role_s_version_added_is_the_collection_s_version(path):
    wrong = []
    for entry, spec in yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"].items():
        wrong.extend((where, added) for where, added in versions_added(spec, f"{path.parts[-3]}.{entry}") if str(added) != VERSION)
    assert wrong == [], f"galaxy.yml says {VERSION}"


def test_the_user_agent_names_the_collection_s_version():
    source = (ROOT / "plugins" / "module_utils" / "_aws.py").read_text(encoding="utf-8")
    assert re.search(r'^COLLECTION_VERSION = "([^"]+)"', source, flags=re.MULTILINE).group(1) == VERSION
