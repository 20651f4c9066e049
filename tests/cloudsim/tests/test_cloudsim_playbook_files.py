# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Beside its endpoints file cloudsim writes what a playbook needs (vars file, environment file, clouds.yaml), and
removes them with the endpoints file when it stops."""

from __future__ import annotations

import yaml

from cloudsim.client import CloudSim
from cloudsim.playbook_files import companion_paths


def test_the_playbook_files_are_written_beside_the_endpoints_and_removed_on_exit(tmp_path):
    endpoints = tmp_path / "cloudsim-endpoints.json"
    paths = companion_paths(str(endpoints))
    assert paths == {"vars": str(tmp_path / "cloudsim-vars.yml"), "env": str(tmp_path / "cloudsim.env"),
                     "clouds": str(tmp_path / "cloudsim-clouds.yaml")}
    with CloudSim.start(speed=60, endpoints_file=str(endpoints), services=("ec2", "lightsail", "openstack", "windows")) as cloud:
        variables = yaml.safe_load((tmp_path / "cloudsim-vars.yml").read_text())
        assert variables["snapkit_cloudsim_ec2_endpoint_url"] == cloud.endpoints["ec2"]
        assert variables["lightsail_instance_snapshot_endpoint_url"] == cloud.endpoints["lightsail"]
        assert variables["lightsail_instance_snapshot_winrm_scheme"] == "http"
        assert variables["lightsail_instance_snapshot_winrm_transport"] == "basic"
        assert variables["snapkit_cloudsim_clouds_yaml"] == paths["clouds"]
        clouds = yaml.safe_load((tmp_path / "cloudsim-clouds.yaml").read_text())
        assert clouds["clouds"]["devstack"]["auth"]["auth_url"] == cloud.endpoints["openstack"]
        environment = (tmp_path / "cloudsim.env").read_text()
        assert f'export AWS_ENDPOINT_URL_EC2="{cloud.endpoints["ec2"]}"' in environment
        assert f'export OS_CLIENT_CONFIG_FILE="{paths["clouds"]}"' in environment
        assert cloud.endpoints["speed"] == 60
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_without_openstack_there_is_no_clouds_yaml(tmp_path):
    endpoints = tmp_path / "endpoints.json"
    with CloudSim.start(endpoints_file=str(endpoints), services=("ec2",)):
        assert sorted(path.name for path in tmp_path.iterdir()) == ["endpoints-vars.yml", "endpoints.env", "endpoints.json"]
