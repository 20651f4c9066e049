# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The documentation agrees with the collection: every ``version_added`` is the version in galaxy.yml (nothing has
been released before it), as is the version the AWS modules send in their User-Agent; every module's requirements, as
ansible-doc renders them with their doc fragments, are the README's support matrix."""

from __future__ import annotations

import ast
import os
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


# The README's support-matrix row of each requirement a module may name (``python`` is the controller's Python: the
# modules run on the controller), and what each family of modules needs.
MATRIX_ROWS = {"python": "Python on the controller", "boto3": "boto3 / botocore", "botocore": "boto3 / botocore",
               "openstacksdk": "openstacksdk"}
FAMILIES = {"ebs_": ("python", "boto3", "botocore"), "lightsail_": ("python", "boto3", "botocore"),
            "os_": ("python", "openstacksdk")}
MODULES = sorted(path for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem.startswith(tuple(FAMILIES)))


def support_matrix():
    """``{row: minimum version}`` of the README's support matrix ("Supported" column: ``>= X`` or ``X and later``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## Support matrix", 1)[1].split("\n## ", 1)[0]
    minimums = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("", "---"):
            continue
        found = re.match(r"^>= ?([0-9][0-9.]*)", cells[2]) or re.match(r"^([0-9][0-9.]*) and later", cells[2])
        if found:
            minimums[cells[0]] = found.group(1)
    return minimums


def rendered_requirements(path):
    """The module's ``requirements`` with its doc fragments merged in, as ansible-doc shows them."""
    # pylint: disable=import-outside-toplevel
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    from ansible.utils.plugin_docs import get_docstring
    if not any(isinstance(finder, _AnsibleCollectionFinder) for finder in __import__("sys").meta_path):
        # Run outside ansible-test: the collections tree this copy is in (make collections), or ANSIBLE_COLLECTIONS_PATH.
        paths = [str(ROOT.parents[2])] if ROOT.parent.parent.name == "ansible_collections" else []
        paths += [item for item in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if item]
        _AnsibleCollectionFinder(paths=paths)._install()  # pylint: disable=protected-access
    doc = get_docstring(str(path), fragment_loader, collection_name="snapkit.cloud", is_module=True)[0]
    return doc.get("requirements") or []


def test_the_support_matrix_names_every_minimum_the_modules_need():
    minimums = support_matrix()
    assert set(MATRIX_ROWS.values()) <= set(minimums), minimums


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.stem)
def test_a_module_s_requirements_are_the_readme_s_support_matrix(path):
    minimums = support_matrix()
    needed = next(names for prefix, names in FAMILIES.items() if path.stem.startswith(prefix))
    expected = sorted(f"{name} >= {minimums[MATRIX_ROWS[name]]}" for name in needed)
    assert sorted(rendered_requirements(path)) == expected, "README.md's support matrix"
