# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: planted secrets never reach output, logs or files.

The procedures run at ``-vvvv`` with planted values: AWS keys and a session token in the environment
(as AWX injects temporary credentials), the OpenStack password in clouds.yaml, and a Lightsail Windows
Administrator password that the simulator hands out. ANSIBLE_LOG_PATH and the local temporary
directory point into the run's work directory; stdout, stderr and every file left there are searched,
except the password file the playbook was asked to write, which must hold the password with mode 0600,
and clouds.yaml, which the user wrote.
"""

from __future__ import annotations

import stat
import subprocess

from _openstack import CLOUD_NAME
from _reliability import PLANTED_SESSION_TOKEN
from _reliability import module_command
from _reliability import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _reliability import role_command
from _reliability import sim  # noqa: F401  pylint: disable=unused-import
from _reliability import task
from conftest import PLANTED_ACCESS_KEY
from conftest import PLANTED_SECRET_KEY

WINDOWS_PASSWORD = "Planted-Win-Passw0rd-h8!"
TWO_VOLUMES = [{"size": 8, "device": "/dev/xvda"}, {"size": 4, "device": "/dev/sdf"}]


def leaks(text, secrets):
    return [secret for secret in secrets if secret in text]


def run_verbose(command, environment, workdir):
    environment = dict(environment, ANSIBLE_LOG_PATH=str(workdir / "ansible.log"), ANSIBLE_LOCAL_TEMP=str(workdir / "local-tmp"))
    return subprocess.run([*command, "-vvvv"], env=environment, capture_output=True, text=True, timeout=600, check=False)


def test_no_planted_secret_in_output_logs_or_files(sim, ansible):  # pylint: disable=redefined-outer-name
    openstack_password = sim.clouds_yaml(CLOUD_NAME)["clouds"][CLOUD_NAME]["auth"]["password"]
    secrets = [PLANTED_ACCESS_KEY, PLANTED_SECRET_KEY, PLANTED_SESSION_TOKEN, WINDOWS_PASSWORD, openstack_password]
    sim.lightsail_config(windows_password_seconds=0)
    sim.seed_lightsail_instance("win-1", blueprint="windows", password=WINDOWS_PASSWORD)
    instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    server = sim.seed_server(boot="volume", volumes=[{"size": 10}])
    password_file = ansible.workdir / "win-1-administrator-password"
    tasks = [
        task(sim, "ebs_multi_snapshot", "ebs", instance_id=instance_id, set_name="secret-scan", stop_instance=True),
        task(sim, "lightsail_snapshot", "lightsail", instance_name="win-1", snapshot_name="win-1-scan"),
        task(sim, "os_volume_snapshot", "openstack", server=server["server_id"], name="root-scan"),
        {"name": "Password to a file the user asked for", "no_log": True, "block": [
            task(sim, "lightsail_instance_password", "access", instance_name="win-1"),
            {"name": "Save it", "ansible.builtin.copy": {"content": "{{ access.password }}", "dest": str(password_file), "mode": "0600"}},
        ]},
    ]
    modules = run_verbose(*module_command(sim, ansible, tasks, "secrets"), ansible.workdir)
    fleet = {"web0": sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]}
    role = run_verbose(*role_command(sim, ansible, fleet, ebs_instance_snapshot_set_name="secret-scan"), ansible.workdir)

    assert modules.returncode == 0, modules.stdout[-3000:]
    assert role.returncode == 0, role.stdout[-3000:]
    assert "<localhost> ESTABLISH LOCAL CONNECTION" in modules.stdout, "the runs were verbose"
    assert password_file.read_text() == WINDOWS_PASSWORD
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    for process in (modules, role):
        assert leaks(process.stdout + process.stderr, secrets) == []
    written = [path for path in ansible.workdir.rglob("*") if path.is_file() and path not in (password_file, sim.clouds_yaml_path)]
    assert ansible.workdir / "ansible.log" in written
    assert {str(path): leaks(path.read_text(errors="replace"), secrets) for path in written} == {str(path): [] for path in written}
