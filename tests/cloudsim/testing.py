# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for any test suite that runs against cloudsim; import them into a conftest.py.

``cloud`` is one real cloudsim subprocess per pytest worker for the whole session; ``fresh`` is
that cloud wiped (no resources, faults or journal) and running at ``FAST_SPEED``.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from cloudsim.client import CloudSim

# A 2-hour simulated snapshot takes 12 s of real time.
FAST_SPEED = 600
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# Where the fidelity tests find the Ansible collections they run (``make collections`` installs them).
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")


@pytest.fixture(scope="session")
def cloud():
    with CloudSim.start(speed=FAST_SPEED) as running:
        yield running


@pytest.fixture
def fresh(cloud):  # pylint: disable=redefined-outer-name
    """cloudsim wiped, running fast; tests that need exact timings freeze the clock (speed 0)."""
    cloud.reset(speed=FAST_SPEED)
    return cloud


def needs_collection(name: str):
    """A pytest mark that skips a test module when the collection ``namespace.name`` is not in COLLECTIONS."""
    path = pathlib.Path(COLLECTIONS, "ansible_collections", *name.split("."))
    return pytest.mark.skipif(not path.is_dir(), reason=f"{name} is not installed in the collections path")


def run_collection_tasks(collection: str, tmp_path: pathlib.Path, tasks: list[tuple], *, env: dict, module_args: dict,
                         ignore_errors: bool = False) -> list[dict]:
    """Run ``(module, args)`` tasks of ``collection`` (e.g. ``amazon.aws``) in one ansible-playbook run (one start-up),
    each with ``module_args`` added (the endpoint); their results. Unless ``ignore_errors``, every task must succeed."""
    task_options = {"ignore_errors": True} if ignore_errors else {}
    play = {"hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [{f"{collection}.{module}": dict(args, **module_args), **task_options} for module, args in tasks]}
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(json.dumps([play]))  # JSON is YAML
    env = dict(os.environ, **env, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert process.stdout.strip().startswith("{"), process.stdout + process.stderr
    assert ignore_errors or process.returncode == 0, process.stdout + process.stderr
    return [task["hosts"]["localhost"] for task in json.loads(process.stdout)["plays"][0]["tasks"]]
