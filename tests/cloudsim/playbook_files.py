# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a playbook needs to use the running local clouds, written beside the endpoints file.

For ``.build/cloudsim-endpoints.json``:

* ``.build/cloudsim-vars.yml``: Ansible variables, for ``ansible-playbook -e @.build/cloudsim-vars.yml``;
* ``.build/cloudsim.env``: the environment (credentials, the EC2 and Lightsail endpoints, ``OS_CLIENT_CONFIG_FILE``),
  for ``. .build/cloudsim.env``;
* ``.build/cloudsim-clouds.yaml``: a ``clouds.yaml`` with the cloud ``devstack``.

The emulated Windows guests listen on loopback ports of their own, not on the instances' addresses: the vars file
plays the NAT in front of them, asking the control API, when a task needs it, which loopback port forwards the
instance's WinRM port (5985) or RDP port (3389).
"""

from __future__ import annotations

import json
import os

import yaml

CLOUD_NAME = "devstack"
DUMMY_ACCESS_KEY = "AKIACLOUDSIMTESTING1"
DUMMY_SECRET_KEY = "cloudsim-dummy-secret"

# The control API's view of a Lightsail instance's guest, from a task (the role's own variables name the instance).
# The control API's view of a Lightsail instance's guest, asked when a task needs it (the role's own variables name the
# instance); {} while there is none (the role validates its arguments before the instance runs).
_GUEST = ("((lookup('ansible.builtin.url', snapkit_cloudsim_control_url ~ '/windows/guest?service=lightsail&region='"
          " ~ (lightsail_instance_snapshot_region | default(snapkit_cloudsim_region, true)) ~ '&instance=' ~ ({instance} | default('')),"
          " split_lines=false, use_proxy=false, errors='ignore') or '{{}}') | from_json)")


def companion_paths(endpoints_path: str) -> dict[str, str]:
    """The files written beside ``endpoints_path`` (``X-endpoints.json`` gives ``X-vars.yml``, ``X.env``, ``X-clouds.yaml``)."""
    directory, name = os.path.split(os.path.abspath(endpoints_path))
    stem = name[:-len(".json")] if name.endswith(".json") else name
    stem = stem[:-len("-endpoints")] if stem.endswith("-endpoints") else stem
    return {"vars": os.path.join(directory, f"{stem}-vars.yml"), "env": os.path.join(directory, f"{stem}.env"),
            "clouds": os.path.join(directory, f"{stem}-clouds.yaml")}


def playbook_vars(endpoints: dict, clouds_yaml_path: str | None) -> dict:
    """The Ansible variables: where the clouds are, and the role options that reach the emulated guests."""
    found = {
        "snapkit_cloudsim_control_url": endpoints["control"],
        "snapkit_cloudsim_region": endpoints["region"],
    }
    if "ec2" in endpoints:
        found["snapkit_cloudsim_ec2_endpoint_url"] = endpoints["ec2"]
    if "lightsail" in endpoints:
        found.update({
            "snapkit_cloudsim_lightsail_endpoint_url": endpoints["lightsail"],
            "lightsail_instance_snapshot_endpoint_url": endpoints["lightsail"],
        })
    if "windows" in endpoints:
        # The emulated guests speak WinRM over HTTP with basic authentication only, on loopback ports of their own.
        found.update({
            "lightsail_instance_snapshot_winrm_host": "127.0.0.1",
            "lightsail_instance_snapshot_winrm_port": "{{ " + _GUEST.format(instance="lightsail_instance_snapshot_instance_name")
                                                      + ".listeners['5985'].port | default(5985, true) }}",
            "lightsail_instance_snapshot_winrm_scheme": "http",
            "lightsail_instance_snapshot_winrm_transport": "basic",
            "lightsail_instance_snapshot_winrm_cert_validation": "ignore",
            "lightsail_instance_snapshot_verify_host": "127.0.0.1",
            # Windows: the RDP port of the temporary instance's guest; Linux instances have no emulated guest (22: nothing answers).
            "lightsail_instance_snapshot_verify_port": "{{ " + _GUEST.format(instance="lightsail_instance_snapshot_verify_name")
                                                       + ".rdp_port | default(22, true) }}",
        })
    if "openstack" in endpoints:
        found.update({
            "snapkit_cloudsim_clouds_yaml": clouds_yaml_path,
            "snapkit_cloudsim_cloud": CLOUD_NAME,
            # The servers' addresses are not reachable from here and Linux servers have no emulated guest (no SSH).
            "openstack_launch_copy_wait_for_ssh": False,
        })
    return found


def environment(endpoints: dict, clouds_yaml_path: str | None) -> dict:
    """What the modules read from the environment: credentials, the AWS endpoints (botocore's
    ``AWS_ENDPOINT_URL_<SERVICE>``), the clouds.yaml."""
    found = {"AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY}
    if "ec2" in endpoints:
        found["AWS_ENDPOINT_URL_EC2"] = endpoints["ec2"]
    if "lightsail" in endpoints:
        found["AWS_ENDPOINT_URL_LIGHTSAIL"] = endpoints["lightsail"]
    if clouds_yaml_path:
        found["OS_CLIENT_CONFIG_FILE"] = clouds_yaml_path
    return found


def write(endpoints_path: str, endpoints: dict, clouds_yaml: dict | None, write_atomically) -> dict[str, str]:
    """Write the three files (each atomically, with ``write_atomically(path, text)``); return their paths."""
    paths = companion_paths(endpoints_path)
    clouds_path = paths["clouds"] if clouds_yaml is not None else None
    header = (f"# Written by cloudsim (pid {endpoints['pid']}) beside {os.path.abspath(endpoints_path)}; removed when it stops.\n")
    write_atomically(paths["vars"], header + "# Use: ansible-playbook -e @" + paths["vars"] + " ...\n"
                     + yaml.safe_dump(playbook_vars(endpoints, clouds_path), sort_keys=False, width=1000))
    write_atomically(paths["env"], header + "# Use: . " + paths["env"] + "\n"
                     + "".join(f"export {name}={json.dumps(value)}\n" for name, value in environment(endpoints, clouds_path).items()))
    if clouds_path:
        write_atomically(clouds_path, header + yaml.safe_dump(clouds_yaml, sort_keys=False))
    else:
        paths.pop("clouds")
    return paths
