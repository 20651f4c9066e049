# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX job template definitions in awx/job_templates/ agree with the playbooks and their roles.

An AWX admin loads these definitions as they are; a survey question for a variable the role does
not know, a type AWX would reject, or a required role variable with neither a question nor a value
would only show when a job fails in production. This test finds them first.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
# AWX's survey question types and the credential types AWX ships (managed credential types).
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
AWX_CREDENTIAL_TYPES = {"Amazon Web Services", "OpenStack", "Machine", "Source Control", "Vault", "Network"}
# Which survey types can carry a value of each argument_specs type.
SURVEY_TYPES_FOR = {
    "str": {"text", "textarea", "password", "multiplechoice"},
    "path": {"text"},
    "int": {"integer"},
    "float": {"float"},
    "bool": {"multiplechoice"},
    "list": {"multiselect"},
}


def definitions():
    return sorted((ROOT / "awx" / "job_templates").glob("*.yml"))


def load(path):
    return yaml.safe_load(path.read_text())


def roles_of(playbook):
    """The collection roles a playbook runs (``roles:`` entries and include/import_role tasks)."""
    names = []
    for play in load(playbook):
        for entry in play.get("roles", []):
            names.append(entry["role"] if isinstance(entry, dict) else entry)
        for section in ("pre_tasks", "tasks", "post_tasks"):
            for task in play.get(section, []):
                for action in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                    if action in task:
                        names.append(task[action]["name"])
    return [name.removeprefix("snapkit.cloud.") for name in names if name.startswith("snapkit.cloud.")]


def role_options(playbook):
    options = {}
    for role in roles_of(playbook):
        spec = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")
        options.update(spec["argument_specs"]["main"]["options"])
    return options


def problems_of(definition):
    """Every way a definition disagrees with AWX's rules or with its playbook's roles, as messages."""
    found = []
    playbook = ROOT / definition["playbook"]
    if not playbook.is_file():
        return [f"playbook {definition['playbook']} does not exist"]
    options = role_options(playbook)
    playbook_text = playbook.read_text()
    found += [f"credential type {name!r} is not one AWX ships" for name in definition["credential_types"] if name not in AWX_CREDENTIAL_TYPES]
    questions = definition["survey"]["spec"]
    variables = [question["variable"] for question in questions]
    found += [f"survey variable {name} asked twice" for name in {v for v in variables if variables.count(v) > 1}]
    for question in questions:
        found += question_problems(question, options.get(question["variable"]), playbook_text)
    for name in definition.get("extra_vars", {}):
        if name not in options and name not in playbook_text:
            found.append(f"extra var {name} is neither a role option nor used by the playbook")
    asked = {question["variable"] for question in questions if question["required"]} | set(definition.get("extra_vars", {}))
    for name, option in options.items():
        if option.get("required") and "default" not in option and name not in asked:
            found.append(f"required role variable {name} has no required survey question and no extra var")
    return found


def question_problems(question, option, playbook_text):
    name, kind = question["variable"], question["type"]
    found = []
    if kind not in SURVEY_TYPES:
        return [f"{name}: survey type {kind!r} is not one of AWX's {sorted(SURVEY_TYPES)}"]
    if option is None:
        return [] if name in playbook_text else [f"{name}: not an option of the playbook's roles nor used by the playbook"]
    option_type = option.get("type", "str")
    if kind not in SURVEY_TYPES_FOR.get(option_type, set()):
        found.append(f"{name}: a {option_type} option cannot take a {kind} answer")
    if option.get("no_log") and kind != "password":
        found.append(f"{name}: a no_log option must be a password question")
    if kind in ("multiplechoice", "multiselect"):
        choices = question.get("choices") or []
        if option_type == "bool" and sorted(choices) != ["false", "true"]:
            found.append(f"{name}: a bool question offers exactly 'true' and 'false'")
        if option.get("choices") and not {str(c) for c in choices} <= {str(c) for c in option["choices"]}:
            found.append(f"{name}: choices {choices} are not all among the role's {option['choices']}")
        if "default" in question and str(question["default"]) not in choices:
            found.append(f"{name}: default {question['default']!r} is not one of the choices")
    if kind in ("integer", "float") and "default" in question:
        if not question.get("min", float("-inf")) <= question["default"] <= question.get("max", float("inf")):
            found.append(f"{name}: default {question['default']} is outside min/max")
    return found


def test_every_playbook_has_exactly_one_job_template_definition():
    defined = sorted(load(path)["playbook"] for path in definitions())
    assert defined == sorted(f"playbooks/{path.name}" for path in (ROOT / "playbooks").glob("*.yml"))


@pytest.mark.parametrize("path", definitions(), ids=lambda path: path.stem)
def test_definition_agrees_with_awx_and_with_the_roles_argument_specs(path):
    definition = load(path)
    assert definition["survey"]["spec"], "a job template without survey questions needs its extra vars typed in by hand"
    assert problems_of(definition) == []


def test_the_checks_catch_a_wrong_definition():
    definition = load(definitions()[0])
    options = role_options(ROOT / definition["playbook"])
    required = next(name for name, option in options.items() if option.get("required") and "default" not in option)
    definition["survey"]["spec"] = [question for question in definition["survey"]["spec"] if question["variable"] != required] + [
        {"question_name": "typo", "variable": "no_such_variable_anywhere", "type": "text", "required": False},
        {"question_name": "bad type", "variable": next(iter(options)), "type": "dropdown", "required": False},
    ]
    definition["credential_types"] = ["Amazon Web Services", "A Type AWX Does Not Ship"]
    problems = problems_of(definition)
    assert any(required in problem and "no required survey question" in problem for problem in problems)
    assert any("no_such_variable_anywhere" in problem for problem in problems)
    assert any("dropdown" in problem for problem in problems)
    assert any("A Type AWX Does Not Ship" in problem for problem in problems)
