# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The execution environment: ``ansible-builder create`` renders a build context that holds our
collection and its dependency collections, and the image it builds gets our run-time Python
requirements and none of our test tools.

No container engine runs here, so the image is not built. The test does the two steps of the build
that decide what goes into the image, with the very scripts the build context carries: it installs
the collection tarball from the context (the Containerfile's galaxy stage) and runs the context's
``introspect.py`` over it (the builder stage), then reads the requirements that the final stage
would install.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from conftest import REPO_ROOT, collections_path

BIN = pathlib.Path(sys.executable).parent
CONTEXT_TARBALL = "/build/collections/snapkit-cloud.tar.gz"


def requirement_names(path):
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~;\[ ]", line, 1)[0].lower())
    return names


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context, rendered by ``ansible-builder create`` from our execution-environment.yml."""
    work = tmp_path_factory.mktemp("ee")
    collection = pathlib.Path(collections_path()) / "ansible_collections" / "snapkit" / "cloud"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(work / "dist"), str(collection)],
                   check=True, capture_output=True)
    files = work / ".build" / "ee-files"
    files.mkdir(parents=True)
    shutil.copy(next((work / "dist").glob("snapkit-cloud-*.tar.gz")), files / "snapkit-cloud.tar.gz")
    shutil.copy(REPO_ROOT / "execution-environment.yml", work / "execution-environment.yml")
    subprocess.run([str(BIN / "ansible-builder"), "create", "--file", str(work / "execution-environment.yml"), "--context", str(work / "context"),
                    "--output-filename", "Containerfile"], check=True, capture_output=True, cwd=work)
    return work / "context"


@pytest.fixture(scope="module")
def image_requirements(context, tmp_path_factory):
    """What the builder stage writes for the final stage: pip and bindep requirements from the installed collections."""
    work = tmp_path_factory.mktemp("image")
    installed = work / "usr" / "share" / "ansible" / "collections"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "--force", "-p", str(installed),
                    str(context / "_build" / "collections" / "snapkit-cloud.tar.gz")], check=True, capture_output=True)
    pip, bindep = work / "requirements.txt", work / "bindep.txt"
    subprocess.run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(installed),
                    f"--write-pip={pip}", f"--write-bindep={bindep}"], check=True, capture_output=True)
    return pip, bindep


def test_context_installs_our_tarball_and_the_dependency_collections_of_galaxy_yml(context):
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile and "COPY _build /build" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    wanted = {entry["name"]: entry for entry in requirements["collections"]}
    assert wanted[CONTEXT_TARBALL]["type"] == "file"
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    # The image must satisfy the same dependency ranges the collection declares.
    assert {name: wanted[name]["version"] for name in galaxy["dependencies"]} == galaxy["dependencies"]
    with tarfile.open(context / "_build" / "collections" / "snapkit-cloud.tar.gz") as tarball:
        manifest = json.load(tarball.extractfile("MANIFEST.json"))
        shipped = set(tarball.getnames())
    assert (manifest["collection_info"]["namespace"], manifest["collection_info"]["name"]) == ("snapkit", "cloud")
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt"} <= shipped
    assert not shipped & {"requirements-test.txt", "constraints.txt", "Makefile", "execution-environment.yml"}
    assert not [name for name in shipped if name.startswith(("tools/", ".build/", "benchmarks/results"))]


def test_image_gets_our_run_time_requirements_and_no_test_tool(image_requirements):
    pip, bindep = image_requirements
    ours = requirement_names(pip)
    assert {"boto3", "botocore", "openstacksdk", "pywinrm"} <= ours
    assert "snapkit.cloud" in pip.read_text()  # introspect names the collection each line came from
    test_only = requirement_names(REPO_ROOT / "requirements-test.txt") - requirement_names(REPO_ROOT / "requirements.txt")
    assert test_only, "requirements-test.txt lists the test tools"
    assert not ours & test_only
    assert requirement_names(REPO_ROOT / "meta" / "ee-requirements.txt") == ours
    # No system packages: introspect writes no bindep file when no collection of ours asks for one.
    assert not bindep.exists() or requirement_names(bindep) == set()
