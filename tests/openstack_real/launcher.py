# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provision, configure, start and stop the real OpenStack services (2026.1 series from PyPI) on loopback.

Everything lives under ``.build/openstack-real/`` (``SNAPKIT_OPENSTACK_REAL_STATE`` overrides): the services' own
venv (installed from ``constraints.txt`` beside this file), MariaDB's data, RabbitMQ's, the configs, the logs,
the process groups of the running services and ``clouds.yaml``. A second start reuses all of it: the venv is
re-installed only when the constraints change, the databases are synced and the cloud seeded once.

The launcher itself runs in the collection's venv (it uses its openstacksdk to seed the cloud); every service runs
in the services' venv, each in its own process group, and is stopped by signalling the group (TERM, then KILL).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CONSTRAINTS = HERE / "constraints.txt"
DRIVERS = HERE / "drivers"
REQUIREMENTS = ("keystone==29.1.0", "nova==33.0.2", "openstack-placement==15.0.0", "cinder==28.0.0", "glance==32.0.0",
                "neutron==28.0.2", "cheroot", "PyMySQL", "python-memcached",
                # Libraries of the 2026.1 series, not the newer ones PyPI offers: placement 15 reads [oslo_policy]
                # enforce_scope, which oslo.policy 5 removed; neutron 28 imports fip64, which neutron-lib 4 removed.
                "oslo.policy<5", "neutron-lib<4", "SQLAlchemy<2.1")
DEBIAN_PACKAGES = ("mariadb-server", "rabbitmq-server")
MARIADBD = "/usr/sbin/mariadbd"
RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
HOST = "127.0.0.1"
REGION = "RegionOne"
PASSWORD = "snapkit-osreal-secret"  # loopback-only test cloud; the tests plant it to check it never leaks
MEMBER = {"project": "demo", "user": "demo", "password": "snapkit-osreal-member-Passw0rd"}
ADMIN_CLOUD = "devstack-admin"
CLOUD = "devstack"
WHEELS_ENV = "SNAPKIT_OPENSTACK_REAL_WHEELS"
SERVICE_USERS = ("nova", "placement", "glance", "cinder", "neutron")
DATABASES = ("keystone", "glance", "cinder", "placement", "nova_api", "nova_cell0", "nova", "neutron")
FLAVORS = (("1", "m1.tiny", 1, 512, 1), ("2", "m1.small", 1, 2048, 20), ("3", "m1.medium", 2, 4096, 40),
           ("4", "m1.large", 4, 8192, 80))
IMAGES = (("cirros-0.6.3-x86_64-disk", {}), ("windows-server-2022", {"os_type": "windows"}))
NETWORKS = (("private", "private-subnet", "10.0.0.0/24", "10.0.0.1", False),
            ("public", "public-subnet", "172.24.4.0/24", "172.24.4.1", True))


def base_port() -> int:
    return int(os.environ.get("SNAPKIT_OPENSTACK_REAL_PORT", "18500"))


def ports() -> dict:
    base = base_port()
    return {"keystone": base, "glance": base + 1, "placement": base + 2, "nova": base + 3, "neutron": base + 4,
            "cinder": base + 5, "glance_registry": base + 6, "rabbit": base + 10, "rabbit_dist": base + 11}


def state_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("SNAPKIT_OPENSTACK_REAL_STATE", REPO_ROOT / ".build" / "openstack-real")).resolve()


class LaunchError(RuntimeError):
    """The services could not be provisioned or started; the message says why and where the log is."""


def log(message: str) -> None:
    sys.stderr.write(f"openstack-real: {message}\n")
    sys.stderr.flush()


class Paths:
    def __init__(self, root: pathlib.Path):
        self.root = root
        self.venv = root / "venv"
        self.bin = self.venv / "bin"
        self.python = self.bin / "python"
        self.etc = root / "etc"
        self.logs = root / "logs"
        self.run = root / "run"
        self.data = root / "data"
        self.mysql = root / "mysql"
        self.socket = root / "run" / "mysqld.sock"
        self.rabbit = root / "rabbitmq"
        self.clouds_yaml = root / "clouds.yaml"
        self.services = root / "run" / "services.json"
        self.bootstrapped = root / ".bootstrapped"

    def make(self):
        for path in (self.etc, self.logs, self.run, self.data, self.mysql, self.rabbit):
            path.mkdir(parents=True, exist_ok=True)


# Provisioning ----------------------------------------------------------------------------------------


def ensure_debian_packages() -> None:
    if os.path.exists(MARIADBD) and os.path.exists(RABBITMQ_SERVER):
        return
    if os.geteuid() != 0:
        raise LaunchError(f"{' and '.join(DEBIAN_PACKAGES)} are missing and installing them needs root: "
                          f"run `apt-get install -y {' '.join(DEBIAN_PACKAGES)}` as root")
    if not shutil.which("apt-get"):
        raise LaunchError(f"{' and '.join(DEBIAN_PACKAGES)} are missing and this is no Debian-like system (no apt-get)")
    apt_install(DEBIAN_PACKAGES)


def apt_install(packages) -> None:
    log(f"installing {' '.join(packages)} from Debian")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *packages]):
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LaunchError(f"`{' '.join(command)}` failed (rc={done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def find_python() -> str:
    """Python 3.11 or 3.12 (the constraints were resolved on 3.11): $SNAPKIT_OPENSTACK_REAL_PYTHON, PATH, pyenv.
    Debian's python3 without its venv module gets python3-venv (as root)."""
    try:
        return find_python_once()
    except LaunchError:
        if os.geteuid() != 0 or not shutil.which("apt-get") or not os.path.exists("/usr/bin/python3.11"):
            raise
        apt_install(["python3-venv"])
        return find_python_once()


def find_python_once() -> str:
    candidates = [os.environ.get("SNAPKIT_OPENSTACK_REAL_PYTHON", "")]
    for version in ("3.11", "3.12"):
        candidates += [f"/usr/bin/python{version}", shutil.which(f"python{version}") or ""]
        candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            check = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; assert sys.version_info[:2] in ((3, 11), (3, 12))"],
                                   capture_output=True, check=False)
            if check.returncode == 0:
                return candidate
    raise LaunchError("no Python 3.11 or 3.12 with venv and ensurepip found (Debian: apt-get install python3-venv; "
                      "or set SNAPKIT_OPENSTACK_REAL_PYTHON)")


def venv_fingerprint() -> str:
    digest = hashlib.sha256(CONSTRAINTS.read_bytes())
    digest.update("\n".join(REQUIREMENTS).encode())
    return digest.hexdigest()


def wheel_cache() -> pathlib.Path:
    """The services' wheels, kept between clones on one machine (CI clones anew for every run): outside the clone, in
    the user's cache (``SNAPKIT_OPENSTACK_REAL_WHEELS`` to move it). pip's own cache does not serve here: the package
    index's answers carry no caching headers, so pip stores nothing and downloads everything again."""
    configured = os.environ.get(WHEELS_ENV)
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "snapkit-cloud" / "openstack-real-wheels"


def ensure_venv(paths: Paths) -> None:
    stamp = paths.venv / ".installed"
    if stamp.exists() and stamp.read_text() == venv_fingerprint() and paths.python.exists():
        install_drivers(paths)
        return
    started = time.monotonic()
    python = find_python()
    log(f"creating the services' venv {paths.venv} with {python} (about a minute or three)")
    shutil.rmtree(paths.venv, ignore_errors=True)
    run([python, "-m", "venv", str(paths.venv)], "create the venv")
    pip = [str(paths.python), "-m", "pip", "--disable-pip-version-check"]
    wheels = wheel_cache()
    wheels.mkdir(parents=True, exist_ok=True)
    pins = ["--quiet", "--progress-bar", "off", "--find-links", str(wheels), "-c", str(CONSTRAINTS), *REQUIREMENTS]
    try:
        run(pip + ["install", "--no-index", *pins], "install the services from the wheel cache", timeout=1800)
        log(f"installed from the wheel cache {wheels}")
    except LaunchError:  # not filled yet, or the pins changed: pip installs nothing when it cannot resolve everything
        log(f"fetching the services' wheels into {wheels} (once per machine and set of pins)")
        run(pip + ["wheel", "--wheel-dir", str(wheels), *pins], "fetch the services' wheels", timeout=1800)
        run(pip + ["install", "--no-index", *pins], "install the services", timeout=1800)
    run(pip + ["check"], "pip check of the services' venv")
    install_drivers(paths)
    stamp.write_text(venv_fingerprint())
    log(f"services' venv installed in {time.monotonic() - started:.0f}s")


def install_drivers(paths: Paths) -> None:
    """Our drivers on the venv's path (a .pth) and the ML2 driver's entry point (a dist-info the venv can see)."""
    site = pathlib.Path(subprocess.run([str(paths.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                       capture_output=True, text=True, check=True).stdout.strip())
    (site / "snapkit_osreal_drivers.pth").write_text(f"{DRIVERS}\n{HERE}\n")
    info = site / "snapkit_osreal_drivers-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: snapkit-osreal-drivers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[neutron.ml2.mechanism_drivers]\nsnapkit_bind_every_port = snapkit_osreal_drivers.ml2_driver:BindEveryPortDriver\n")
    (info / "top_level.txt").write_text("snapkit_osreal_drivers\n")


def run(command, what, env=None, cwd=None, timeout=900) -> str:
    done = subprocess.run([str(part) for part in command], env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise LaunchError(f"{what} failed (rc={done.returncode}): {' '.join(str(part) for part in command)}\n"
                          f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


# Configuration ------------------------------------------------------------------------------------


def ini(sections: dict) -> str:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


def db_url(paths: Paths, name: str) -> str:
    return f"mysql+pymysql://openstack:{PASSWORD}@localhost/{name}?unix_socket={paths.socket}&charset=utf8"


def transport_url() -> str:
    return f"rabbit://guest:guest@{HOST}:{ports()['rabbit']}/"


def auth_url() -> str:
    return f"http://{HOST}:{ports()['keystone']}/v3"


def authtoken(user: str) -> dict:
    return {"www_authenticate_uri": auth_url(), "auth_url": auth_url(), "auth_type": "password", "project_domain_name": "Default",
            "user_domain_name": "Default", "project_name": "service", "username": user, "password": PASSWORD,
            "service_token_roles_required": "true", "service_token_roles": "service", "region_name": REGION}


def service_auth(user: str) -> dict:
    return {"auth_url": auth_url(), "auth_type": "password", "project_domain_name": "Default", "user_domain_name": "Default",
            "project_name": "service", "username": user, "password": PASSWORD, "region_name": REGION}


POLICY = {"enforce_scope": "true", "enforce_new_defaults": "true"}


def write_configs(paths: Paths) -> None:
    port = ports()
    etc, data, logs = paths.etc, paths.data, paths.logs
    common = {"debug": "false", "log_dir": str(logs), "use_stderr": "false"}
    for name in ("keystone", "glance", "placement", "nova", "neutron", "cinder"):
        (etc / name).mkdir(parents=True, exist_ok=True)
        (data / name).mkdir(parents=True, exist_ok=True)
    for source, target in (("nova/api-paste.ini", "nova/api-paste.ini"), ("neutron/api-paste.ini", "neutron/api-paste.ini"),
                           ("cinder/api-paste.ini", "cinder/api-paste.ini"), ("glance/glance-api-paste.ini", "glance/glance-api-paste.ini")):
        shutil.copyfile(paths.venv / "etc" / source, etc / target)

    (etc / "keystone" / "keystone.conf").write_text(ini({
        "DEFAULT": dict(common, log_file="keystone.log"),
        "database": {"connection": db_url(paths, "keystone")},
        "token": {"provider": "fernet"},
        "identity": {"password_hash_rounds": "4"},
        "fernet_tokens": {"key_repository": str(data / "keystone" / "fernet-keys")},
        "fernet_receipts": {"key_repository": str(data / "keystone" / "fernet-receipts")},
        "credential": {"key_repository": str(data / "keystone" / "credential-keys")},
        "oslo_policy": POLICY,
    }))
    (etc / "placement" / "placement.conf").write_text(ini({
        "DEFAULT": dict(common, log_file="placement.log"),
        "placement_database": {"connection": db_url(paths, "placement")},
        "api": {"auth_strategy": "keystone"},
        "keystone_authtoken": authtoken("placement"),
        "oslo_policy": POLICY,
    }))
    (etc / "glance" / "glance-api.conf").write_text(ini({
        "DEFAULT": dict(common, log_file="glance-api.log", bind_host=HOST, bind_port=port["glance"], workers="1",
                        enabled_backends="file:file", transport_url=transport_url()),
        "database": {"connection": db_url(paths, "glance")},
        "glance_store": {"default_backend": "file"},
        "file": {"filesystem_store_datadir": str(data / "glance" / "images")},
        "os_glance_staging_store": {"filesystem_store_datadir": str(data / "glance" / "staging")},
        "os_glance_tasks_store": {"filesystem_store_datadir": str(data / "glance" / "tasks")},
        "keystone_authtoken": authtoken("glance"),
        "paste_deploy": {"flavor": "keystone", "config_file": str(etc / "glance" / "glance-api-paste.ini")},
        "oslo_concurrency": {"lock_path": str(data / "glance" / "locks")},
        "oslo_policy": POLICY,
    }))
    (etc / "neutron" / "neutron.conf").write_text(ini({
        "DEFAULT": dict(common, log_file="neutron-server.log", bind_host=HOST, bind_port=port["neutron"], core_plugin="ml2",
                        service_plugins="router", transport_url=transport_url(), auth_strategy="keystone",
                        api_paste_config=str(etc / "neutron" / "api-paste.ini"), api_workers="0", rpc_workers="0",
                        rpc_state_report_workers="0", dhcp_agent_notification="false", allow_overlapping_ips="true",
                        notify_nova_on_port_status_changes="false", notify_nova_on_port_data_changes="false",
                        state_path=str(data / "neutron")),
        "database": {"connection": db_url(paths, "neutron")},
        "keystone_authtoken": authtoken("neutron"),
        "nova": service_auth("nova"),
        "oslo_concurrency": {"lock_path": str(data / "neutron" / "locks")},
        "oslo_policy": POLICY,
        "agent": {"report_interval": "0"},
    }))
    (etc / "neutron" / "ml2_conf.ini").write_text(ini({
        "ml2": {"type_drivers": "flat,vlan,vxlan", "tenant_network_types": "vxlan",
                "mechanism_drivers": "snapkit_bind_every_port", "extension_drivers": "port_security"},
        "ml2_type_flat": {"flat_networks": "*"},
        "ml2_type_vxlan": {"vni_ranges": "1:1000"},
    }))
    (etc / "nova" / "nova.conf").write_text(ini({
        "DEFAULT": dict(common, transport_url=transport_url(), state_path=str(data / "nova"),
                        instances_path=str(data / "nova" / "instances"), compute_driver="snapkit_fake.SnapkitFakeDriver",
                        my_ip=HOST, host="snapkit-osreal", vif_plugging_is_fatal="false", vif_plugging_timeout="0",
                        osapi_compute_workers="1", metadata_workers="1"),
        "api_database": {"connection": db_url(paths, "nova_api")},
        "database": {"connection": db_url(paths, "nova")},
        "api": {"auth_strategy": "keystone"},
        "wsgi": {"api_paste_config": str(etc / "nova" / "api-paste.ini")},
        "keystone_authtoken": authtoken("nova"),
        "service_user": dict(service_auth("nova"), send_service_user_token="true"),
        "placement": service_auth("placement"),
        "neutron": service_auth("neutron"),
        "cinder": dict(service_auth("cinder"), os_region_name=REGION, catalog_info="volumev3:cinderv3:publicURL"),
        "glance": {"region_name": REGION},
        "conductor": {"workers": "1"},
        "scheduler": {"workers": "1", "discover_hosts_in_cells_interval": "2"},
        "vnc": {"enabled": "false"},
        "oslo_concurrency": {"lock_path": str(data / "nova" / "locks")},
        "oslo_policy": POLICY,
        "compute": {"resource_provider_association_refresh": "300"},
    }))
    (etc / "cinder" / "cinder.conf").write_text(ini({
        "DEFAULT": dict(common, transport_url=transport_url(), state_path=str(data / "cinder"), auth_strategy="keystone",
                        osapi_volume_listen=HOST, osapi_volume_listen_port=port["cinder"], osapi_volume_workers="1",
                        api_paste_config=str(etc / "cinder" / "api-paste.ini"), enabled_backends="fake",
                        default_volume_type="__DEFAULT__", host="snapkit-osreal", my_ip=HOST,
                        glance_api_servers=f"http://{HOST}:{port['glance']}",
                        # the filters a non-admin may use in list calls; without the file only admins may filter
                        resource_query_filters_file=str(paths.venv / "etc" / "cinder" / "resource_filters.json")),
        "database": {"connection": db_url(paths, "cinder")},
        "keystone_authtoken": authtoken("cinder"),
        "service_user": dict(service_auth("cinder"), send_service_user_token="true"),
        "nova": service_auth("nova"),
        "fake": {"volume_driver": "snapkit_osreal_drivers.cinder_driver.SnapkitFakeVolumeDriver", "volume_backend_name": "fake"},
        "oslo_concurrency": {"lock_path": str(data / "cinder" / "locks")},
        "oslo_policy": POLICY,
    }))


# Processes -------------------------------------------------------------------------------------


def service_commands(paths: Paths) -> list:
    """(name, command, env): each started in its own process group, in this order."""
    port, etc, py, bin_ = ports(), paths.etc, str(paths.python), paths.bin
    serve = [py, str(HERE / "serve_wsgi.py")]
    nova = ["--config-file", str(etc / "nova" / "nova.conf")]
    cinder = ["--config-file", str(etc / "cinder" / "cinder.conf")]
    neutron = ["--config-file", str(etc / "neutron" / "neutron.conf"), "--config-file", str(etc / "neutron" / "ml2_conf.ini")]
    return [
        ("keystone", serve + ["keystone.wsgi.api", HOST, port["keystone"]], {"OS_KEYSTONE_CONFIG_DIR": str(etc / "keystone")}),
        ("placement", serve + ["placement.wsgi.api", HOST, port["placement"]], {"OS_PLACEMENT_CONFIG_DIR": str(etc / "placement")}),
        ("glance-api", [py, str(bin_ / "glance-api"), "--config-file", str(etc / "glance" / "glance-api.conf")], {}),
        ("neutron-server", serve + ["neutron.wsgi.api", HOST, port["neutron"], "--", *neutron],
         {"OS_NEUTRON_CONFIG_DIR": str(etc / "neutron"), "OS_NEUTRON_CONFIG_FILES": "neutron.conf;ml2_conf.ini"}),
        ("nova-api", serve + ["nova.wsgi.osapi_compute", HOST, port["nova"], "--", *nova], {"OS_NOVA_CONFIG_DIR": str(etc / "nova")}),
        ("nova-conductor", [py, str(bin_ / "nova-conductor"), *nova], {}),
        ("nova-scheduler", [py, str(bin_ / "nova-scheduler"), *nova], {}),
        ("nova-compute", [py, str(HERE / "run_nova_compute.py"), *nova], {}),
        ("cinder-api", serve + ["cinder.wsgi.api", HOST, port["cinder"], "--", *cinder], {}),
        ("cinder-scheduler", [py, str(bin_ / "cinder-scheduler"), *cinder], {}),
        ("cinder-volume", [py, str(bin_ / "cinder-volume"), *cinder], {}),
    ]


def start_process(paths: Paths, name: str, command: list, env: dict | None = None) -> int:
    logfile = open(paths.logs / f"{name}.out", "ab")  # pylint: disable=consider-using-with
    full_env = dict(os.environ, **(env or {}))
    for key in ("PYTHONPATH", "OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "VIRTUAL_ENV"):
        full_env.pop(key, None)
    full_env["PATH"] = f"{paths.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}:/usr/sbin:/sbin"
    process = subprocess.Popen([str(part) for part in command], stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                               env=full_env, start_new_session=True, cwd=str(paths.run))
    logfile.close()
    record = read_services(paths)
    record[name] = process.pid
    paths.services.write_text(json.dumps(record))
    return process.pid


def read_services(paths: Paths) -> dict:
    try:
        return json.loads(paths.services.read_text())
    except (OSError, ValueError):
        return {}


def group_alive(pgid: int) -> bool:
    try:
        os.waitpid(pgid, os.WNOHANG)  # reap our own exited child (the group leader), or it stays a zombie that answers
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_groups(paths: Paths, timeout: float = 15.0) -> list:
    """TERM every recorded process group, then KILL what is left after ``timeout``; epmd too. The names stopped."""
    record = read_services(paths)
    for pgid in record.values():
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(group_alive(pgid) for pgid in record.values()):
        time.sleep(0.2)
    for pgid in record.values():
        if group_alive(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    stop_epmd(paths)
    try:
        paths.services.unlink()
    except FileNotFoundError:
        pass
    return sorted(record)


def stop_epmd(paths: Paths) -> None:
    """epmd daemonizes out of RabbitMQ's process group; it was started for our node, ask it to go (it owns no data)."""
    epmd = shutil.which("epmd") or next(iter(glob.glob("/usr/lib/erlang/erts-*/bin/epmd")), None)
    if epmd:
        subprocess.run([epmd, "-kill"], env=dict(os.environ, ERL_EPMD_ADDRESS=HOST), capture_output=True, check=False, timeout=10)
    pid_file = paths.run / "epmd.pid"
    if pid_file.exists():
        pid_file.unlink()


def wait_for(what: str, check, timeout: float, paths: Paths, logname: str | None = None, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # pylint: disable=broad-exception-caught
            last_error = error
        if logname and paths.services.exists():
            pgid = read_services(paths).get(logname)
            if pgid is not None and not group_alive(pgid):
                raise LaunchError(f"{logname} exited while waiting for {what}; see {paths.logs}/{logname}.out:\n"
                                  + tail(paths.logs / f"{logname}.out"))
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    where = f"; see {paths.logs}/{logname}.out:\n" + tail(paths.logs / f"{logname}.out") if logname else ""
    raise LaunchError(f"timed out after {timeout:.0f}s waiting for {what}{detail}{where}")


def tail(path: pathlib.Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((HOST, port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # nosec: loopback
            return answer.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500


# MariaDB and RabbitMQ ----------------------------------------------------------------------------


def start_mariadb(paths: Paths) -> None:
    datadir = paths.mysql / "data"
    if not (datadir / "mysql").exists():
        shutil.rmtree(datadir, ignore_errors=True)
        run(["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", "--user=root", "--skip-test-db",
             "--auth-root-authentication-method=socket"], "mariadb-install-db")
    start_process(paths, "mariadb", [MARIADBD, "--no-defaults", f"--datadir={datadir}", f"--socket={paths.socket}",
                                     f"--pid-file={paths.run / 'mysqld.pid'}", "--skip-networking", "--user=root",
                                     f"--log-error={paths.logs / 'mariadb.log'}", "--innodb-buffer-pool-size=64M",
                                     "--max-connections=500", "--character-set-server=utf8mb4"])
    wait_for("MariaDB", lambda: mariadb(paths, "SELECT 1", check=False) is not None, 60, paths, "mariadb")


def mariadb(paths: Paths, sql: str, check: bool = True):
    done = subprocess.run(["mariadb", "--no-defaults", f"--socket={paths.socket}", "-uroot", "-N", "-e", sql],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        if check:
            raise LaunchError(f"MariaDB: {sql}: {done.stderr}")
        return None
    return done.stdout


def rabbit_env(paths: Paths) -> dict:
    port = ports()
    return {"RABBITMQ_NODENAME": "snapkit-osreal@localhost", "RABBITMQ_NODE_IP_ADDRESS": HOST, "RABBITMQ_NODE_PORT": str(port["rabbit"]),
            "RABBITMQ_DIST_PORT": str(port["rabbit_dist"]), "ERL_EPMD_ADDRESS": HOST, "RABBITMQ_MNESIA_BASE": str(paths.rabbit / "mnesia"),
            "RABBITMQ_LOG_BASE": str(paths.logs / "rabbitmq"), "RABBITMQ_ENABLED_PLUGINS_FILE": str(paths.rabbit / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(paths.rabbit / "rabbitmq"), "RABBITMQ_PID_FILE": str(paths.run / "rabbitmq.pid"),
            "HOME": str(paths.rabbit), "RABBITMQ_ALLOW_INPUT": "", "RABBITMQ_SERVER_ERL_ARGS": "+S 1:1 +A 4"}


def start_rabbitmq(paths: Paths) -> None:
    (paths.rabbit / "enabled_plugins").write_text("[].\n")
    (paths.rabbit / "rabbitmq.conf").write_text("loopback_users.guest = false\nlisteners.tcp.default = "
                                                f"{HOST}:{ports()['rabbit']}\nlog.console = false\n")
    start_process(paths, "rabbitmq", [RABBITMQ_SERVER], rabbit_env(paths))
    wait_for("RabbitMQ", lambda: port_open(ports()["rabbit"]), 120, paths, "rabbitmq")


# Databases and identity ---------------------------------------------------------------------------


def sync_databases(paths: Paths) -> None:
    for name in DATABASES:
        mariadb(paths, f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4")
    mariadb(paths, f"CREATE USER IF NOT EXISTS 'openstack'@'localhost' IDENTIFIED BY '{PASSWORD}'; "
                   "GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'localhost'; FLUSH PRIVILEGES")
    bin_, etc, data = paths.bin, paths.etc, paths.data
    keystone_conf = ["--config-file", etc / "keystone" / "keystone.conf"]
    nova_conf = ["--config-file", etc / "nova" / "nova.conf"]
    steps = [
        ([paths.python, bin_ / "keystone-manage", *keystone_conf, "db_sync"], "keystone db_sync"),
        ([paths.python, bin_ / "keystone-manage", *keystone_conf, "fernet_setup", "--keystone-user", "root", "--keystone-group", "root"], "fernet_setup"),
        ([paths.python, bin_ / "keystone-manage", *keystone_conf, "credential_setup",
          "--keystone-user", "root", "--keystone-group", "root"], "credential_setup"),
        ([paths.python, bin_ / "keystone-manage", *keystone_conf, "bootstrap", "--bootstrap-password", PASSWORD, "--bootstrap-region-id", REGION,
          "--bootstrap-admin-url", auth_url(), "--bootstrap-public-url", auth_url(), "--bootstrap-internal-url", auth_url()],
         "keystone bootstrap"),
        ([paths.python, bin_ / "glance-manage", "--config-file", etc / "glance" / "glance-api.conf", "db_sync"], "glance db_sync"),
        ([paths.python, bin_ / "cinder-manage", "--config-file", etc / "cinder" / "cinder.conf", "db", "sync"], "cinder db sync"),
        ([paths.python, "-c", "import sys; from placement.cmd.manage import main; sys.exit(main())", "--config-file",
          etc / "placement" / "placement.conf", "db", "sync"], "placement db sync"),
        ([paths.python, bin_ / "nova-manage", *nova_conf, "api_db", "sync"], "nova api_db sync"),
        ([paths.python, bin_ / "nova-manage", *nova_conf, "cell_v2", "map_cell0", "--database_connection", db_url(paths, "nova_cell0")], "map_cell0"),
        ([paths.python, bin_ / "nova-manage", *nova_conf, "db", "sync"], "nova db sync"),
        ([paths.python, bin_ / "neutron-db-manage", "--config-file", etc / "neutron" / "neutron.conf", "--config-file", etc / "neutron" / "ml2_conf.ini",
          "upgrade", "heads"], "neutron db upgrade"),
    ]
    for command, what in steps:
        started = time.monotonic()
        run(command, what, cwd=str(paths.run))
        log(f"{what}: {time.monotonic() - started:.0f}s")
    cells = run([paths.python, bin_ / "nova-manage", *nova_conf, "cell_v2", "list_cells"], "list cells")
    if " cell1 " not in cells:
        run([paths.python, bin_ / "nova-manage", *nova_conf, "cell_v2", "create_cell", "--name", "cell1"], "create cell1")
    for sub in ("keystone/fernet-keys", "glance/images", "glance/staging", "glance/tasks", "nova/instances"):
        (data / sub).mkdir(parents=True, exist_ok=True)


def relocate(paths: Paths) -> None:
    """A state directory moved or copied from elsewhere: the databases still name the old one in nova's cell mappings
    (the cells' database URLs, with MariaDB's socket path) and glance's image locations (file:// URLs). Rewrite them."""
    found = mariadb(paths, "SELECT database_connection FROM nova_api.cell_mappings WHERE name = 'cell0'").strip()
    marker = "unix_socket="
    if marker not in found:
        return
    old_socket = found.split(marker, 1)[1].split("&", 1)[0]
    old_root = old_socket[: -len("/run/mysqld.sock")] if old_socket.endswith("/run/mysqld.sock") else ""
    if not old_root or old_root == str(paths.root):
        return
    log(f"state moved from {old_root}: rewriting nova's cell mappings and glance's image locations")
    new_root = str(paths.root)
    mariadb(paths, f"UPDATE nova_api.cell_mappings SET database_connection = REPLACE(database_connection, '{old_root}/', '{new_root}/'); "
                   f"UPDATE glance.image_locations SET value = REPLACE(value, 'file://{old_root}/', 'file://{new_root}/')")


def connect(cloud: str, paths: Paths):
    import openstack  # pylint: disable=import-outside-toplevel
    return openstack.connect(load_yaml_config=False, load_envvars=False, **cloud_config(cloud))


def cloud_config(cloud: str) -> dict:
    if cloud == CLOUD:
        auth = {"auth_url": auth_url(), "username": MEMBER["user"], "password": MEMBER["password"], "project_name": MEMBER["project"],
                "user_domain_name": "Default", "project_domain_name": "Default"}
    elif cloud == "system-admin":
        auth = {"auth_url": auth_url(), "username": "admin", "password": PASSWORD, "system_scope": "all", "user_domain_name": "Default"}
    else:  # the admin user with the admin role on the member's project: it seeds servers there, for test setup only
        auth = {"auth_url": auth_url(), "username": "admin", "password": PASSWORD, "project_name": MEMBER["project"],
                "user_domain_name": "Default", "project_domain_name": "Default"}
    return {"auth_type": "password", "auth": auth, "region_name": REGION, "interface": "public", "identity_api_version": 3,
            "volume_api_version": 3}


def write_clouds_yaml(paths: Paths) -> pathlib.Path:
    document = {"clouds": {CLOUD: cloud_config(CLOUD), ADMIN_CLOUD: cloud_config(ADMIN_CLOUD)}}
    temporary = paths.clouds_yaml.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2))  # JSON is YAML
    os.chmod(temporary, 0o600)
    temporary.replace(paths.clouds_yaml)
    return paths.clouds_yaml


def ensure_identity(paths: Paths) -> None:
    """Service users, the catalog, and the project with its member user (all idempotent)."""
    port = ports()
    system = connect("system-admin", paths)
    identity = system.identity
    default = identity.find_domain("default", ignore_missing=False)
    roles = {name: identity.find_role(name) or identity.create_role(name=name) for name in ("admin", "member", "reader", "service")}
    service_project = identity.find_project("service", domain_id=default.id) or identity.create_project(
        name="service", domain_id=default.id)
    for name in SERVICE_USERS:
        user = identity.find_user(name, domain_id=default.id) or identity.create_user(name=name, password=PASSWORD, domain_id=default.id)
        for role in ("admin", "service"):
            identity.assign_project_role_to_user(service_project, user, roles[role])
    catalog = (("placement", "placement", f"http://{HOST}:{port['placement']}"), ("glance", "image", f"http://{HOST}:{port['glance']}"),
               ("nova", "compute", f"http://{HOST}:{port['nova']}/v2.1"), ("neutron", "network", f"http://{HOST}:{port['neutron']}"),
               ("cinderv3", "volumev3", f"http://{HOST}:{port['cinder']}/v3/$(project_id)s"),
               ("cinder", "block-storage", f"http://{HOST}:{port['cinder']}/v3/$(project_id)s"))
    for name, kind, url in catalog:
        service = next((item for item in identity.services() if item.type == kind), None)
        if service is None:
            service = identity.create_service(name=name, type=kind)
        existing = {item.interface for item in identity.endpoints(service_id=service.id)}
        for interface in ("public", "internal", "admin"):
            if interface not in existing:
                identity.create_endpoint(service_id=service.id, interface=interface, url=url, region_id=REGION)
    project = identity.find_project(MEMBER["project"], domain_id=default.id) or identity.create_project(
        name=MEMBER["project"], domain_id=default.id)
    user = identity.find_user(MEMBER["user"], domain_id=default.id) or identity.create_user(
        name=MEMBER["user"], password=MEMBER["password"], domain_id=default.id, default_project_id=project.id)
    identity.assign_project_role_to_user(project, user, roles["member"])
    admin_project = identity.find_project("admin", domain_id=default.id, ignore_missing=False)
    admin_user = identity.find_user("admin", domain_id=default.id, ignore_missing=False)
    identity.assign_project_role_to_user(project, admin_user, roles["admin"])
    identity.assign_project_role_to_user(admin_project, admin_user, roles["admin"])
    system.close()


def ensure_cloud(paths: Paths) -> None:
    """DevStack's shape, as the simulator's: flavors m1.*, a cirros and a Windows image, a private and a public network."""
    admin = connect(ADMIN_CLOUD, paths)
    project = admin.identity.find_project(MEMBER["project"], ignore_missing=False)
    existing_flavors = {flavor.id for flavor in admin.compute.flavors(is_public=None)}
    for flavor_id, name, vcpus, ram, disk in FLAVORS:
        if flavor_id not in existing_flavors:
            admin.compute.create_flavor(id=flavor_id, name=name, vcpus=vcpus, ram=ram, disk=disk)
    for name, properties in IMAGES:
        if not list(admin.image.images(name=name)):
            image = admin.image.create_image(name=name, disk_format="raw", container_format="bare", visibility="public",
                                             data=b"snapkit-osreal base image\n" + bytes(8192), **properties)
            admin.image.wait_for_status(image, "active", wait=60)
    for name, subnet_name, cidr, gateway, external in NETWORKS:
        network = admin.network.find_network(name, project_id=project.id)
        if network is None:
            network = admin.network.create_network(name=name, project_id=project.id, is_router_external=external,
                                                   provider_network_type="flat", provider_physical_network=f"phys{name}")
        if not network.subnet_ids:
            admin.network.create_subnet(name=subnet_name, network_id=network.id, project_id=project.id, ip_version=4, cidr=cidr,
                                        gateway_ip=gateway, is_dhcp_enabled=True)
    for group in admin.network.security_groups(project_id=project.id, name="default"):
        break
    else:
        admin.network.create_security_group(name="default", project_id=project.id)
    unlimited = {"instances": -1, "cores": -1, "ram": -1}
    admin.compute.update_quota_set(project.id, **unlimited)
    admin.block_storage.update_quota_set(project.id, volumes=-1, snapshots=-1, gigabytes=-1)
    admin.network.update_quota(project.id, port=-1, network=-1, subnet=-1, security_group=-1, security_group_rule=-1)
    admin.close()


def services_report_up(paths: Paths) -> bool:
    admin = connect(ADMIN_CLOUD, paths)
    try:
        compute = [item for item in admin.compute.services() if item.binary == "nova-compute"]
        volume = [item for item in admin.block_storage.services() if item.binary == "cinder-volume"]
        hypervisors = list(admin.compute.hypervisors())
        return (bool(compute) and all(item.state == "up" for item in compute) and bool(volume)
                and all(item.state == "up" for item in volume) and bool(hypervisors))
    finally:
        admin.close()


# Start and stop ---------------------------------------------------------------------------------


def running(paths: Paths) -> bool:
    record = read_services(paths)
    return bool(record) and all(group_alive(pgid) for pgid in record.values())


def start(paths: Paths | None = None) -> pathlib.Path:
    """Provision what is missing, start everything, wait until nova-compute and cinder-volume report up; clouds.yaml."""
    paths = paths or Paths(state_dir())
    paths.make()
    started = time.monotonic()
    try:
        if running(paths):
            log("already running")
        else:
            stop_groups(paths, timeout=5)  # leftovers of a run that did not stop cleanly
            launch(paths)
        first = not paths.bootstrapped.exists()
        write_clouds_yaml(paths)
        wait_for("nova-compute and cinder-volume to report up", lambda: services_report_up(paths), 240, paths, "nova-compute", interval=2)
        if first:
            ensure_cloud(paths)
            paths.bootstrapped.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        log(f"services up in {time.monotonic() - started:.0f}s; clouds.yaml: {paths.clouds_yaml}")
    except BaseException:
        if os.environ.get("SNAPKIT_OPENSTACK_REAL_KEEP") != "1":
            stop_groups(paths)
        raise
    return paths.clouds_yaml


def launch(paths: Paths) -> None:
    ensure_debian_packages()
    ensure_venv(paths)
    write_configs(paths)
    start_mariadb(paths)
    start_rabbitmq(paths)
    synced = paths.root / ".databases-synced"
    if not synced.exists():
        sync_databases(paths)
        synced.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    else:
        relocate(paths)
    port = ports()
    commands = service_commands(paths)
    start_process(paths, *commands[0])
    wait_for("keystone", lambda: http_ok(f"http://{HOST}:{port['keystone']}/v3"), 180, paths, "keystone")
    if not paths.bootstrapped.exists():
        ensure_identity(paths)  # before the services that authenticate with their users start
    for name, command, env in commands[1:]:
        start_process(paths, name, command, env)
    for name, url in (("placement", f"http://{HOST}:{port['placement']}/"),
                      ("glance-api", f"http://{HOST}:{port['glance']}/versions"), ("neutron-server", f"http://{HOST}:{port['neutron']}/"),
                      ("nova-api", f"http://{HOST}:{port['nova']}/"), ("cinder-api", f"http://{HOST}:{port['cinder']}/")):
        wait_for(f"{name} at {url}", lambda url=url: http_ok(url), 180, paths, name)


def stop(paths: Paths | None = None) -> list:
    paths = paths or Paths(state_dir())
    stopped = stop_groups(paths)
    log(f"stopped {', '.join(stopped) if stopped else 'nothing'}")
    return stopped


def memory_rss_kib(paths: Paths | None = None) -> int:
    """Resident memory of every process in our process groups, in KiB (epmd aside)."""
    paths = paths or Paths(state_dir())
    groups = set(read_services(paths).values())
    total = 0
    for status in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = pathlib.Path(status).read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) in groups:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    return total
