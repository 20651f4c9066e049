# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remote Desktop on the emulated Windows guests: an instance made from a Sysprep snapshot answers RDP once it has
booted, and stops answering when it shuts down, as Windows Server does."""

from __future__ import annotations

import boto3

from cloudsim.windows import rdp
from cloudsim.windows.testing import wait_for_guest

CONFIRM_CODE = 0xD0


def test_a_copy_from_a_sysprep_snapshot_answers_rdp_once_booted(windows_frozen):
    cloud = windows_frozen
    cloud.seed_lightsail_instance("win-1", blueprint="windows")
    wait_for_guest(cloud, "lightsail", "win-1")
    cloud.lightsail_guest_shutdown("win-1", 0, generalize=True)
    cloud.advance(600)
    wait_for_guest(cloud, "lightsail", "win-1", reachable=False)
    lightsail = boto3.client("lightsail", **cloud.aws_client_kwargs("lightsail"))
    lightsail.create_instance_snapshot(instanceName="win-1", instanceSnapshotName="win-1-sysprep")
    cloud.advance(3600)
    lightsail.create_instances_from_snapshot(instanceNames=["win-1-verify"], availabilityZone=f"{cloud.region}a",
                                             instanceSnapshotName="win-1-sysprep", bundleId="medium_win_3_0")
    cloud.advance(3600)
    guest = wait_for_guest(cloud, "lightsail", "win-1-verify", until=lambda found: found["rdp_port"])
    answer = rdp.probe(guest["host"], guest["rdp_port"])
    # TPKT version 3, then an X.224 Connection Confirm.
    assert answer[0] == 3 and answer[5] == CONFIRM_CODE
    port = guest["rdp_port"]
    lightsail.stop_instance(instanceName="win-1-verify")
    cloud.advance(600)
    stopped = wait_for_guest(cloud, "lightsail", "win-1-verify", reachable=False, until=lambda found: found["rdp_port"] is None)
    assert stopped["rdp_port"] is None
    try:
        rdp.probe(guest["host"], port, timeout=2)
    except OSError:
        pass
    else:
        raise AssertionError("RDP still answered on a stopped instance")
