# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resources as the Lightsail API shows them (members of botocore's output shapes)."""

from __future__ import annotations

import base64
import functools

from cloudsim.lightsail.resources import (
    BUNDLES, DEFAULT_KEY_PAIR, LINUX_BLUEPRINTS, REGIONAL_ZONE, STATE_CODES, WINDOWS_BLUEPRINTS, Instance, InstanceSnapshot, Operation,
    PortRule, StaticIp,
)
from cloudsim.lightsail.wire import epoch, service_model


@functools.lru_cache(maxsize=1)
def operation_types() -> frozenset:
    return frozenset(service_model().shape_for("OperationType").metadata["enum"])


def location(zone: str, arn: str = "") -> dict:
    """ResourceLocation; a regional resource's zone is "all", its region comes from its ARN."""
    return {"availabilityZone": zone, "regionName": arn.split(":")[3] if zone == REGIONAL_ZONE else zone[:-1]}


def tag_list(tags: dict) -> list:
    return [{"key": key, "value": value} for key, value in tags.items()]


def support_code(arn: str) -> str:
    return f"{arn.split(':')[4]}/{arn.rsplit('/', 1)[1]}"


def state_view(instance: Instance) -> dict:
    return {"code": STATE_CODES[instance.state], "name": instance.state}


def system_disk(instance: Instance, created_at: float, zone: str) -> dict:
    return {
        "createdAt": epoch(created_at), "sizeInGb": instance.disk_size_gb, "isSystemDisk": True, "iops": 100 * 3,
        "path": "/dev/sda1" if instance.is_windows else "/dev/xvda", "attachedTo": instance.name,
        "attachmentState": "attached", "location": location(zone),
    }


def port_info_view(rule: PortRule) -> dict:
    cidr = ",".join(rule.cidrs) if rule.cidrs else ""
    return {
        "fromPort": rule.from_port, "toPort": rule.to_port, "protocol": rule.protocol, "accessFrom": "Anywhere (0.0.0.0/0)"
        if rule.cidrs == ["0.0.0.0/0"] else cidr or "Custom", "accessType": "Public", "commonName": "",
        "accessDirection": "inbound", "cidrs": list(rule.cidrs), "ipv6Cidrs": list(rule.ipv6_cidrs), "cidrListAliases": list(rule.cidr_list_aliases),
    }


def port_state_view(rule: PortRule) -> dict:
    return {"fromPort": rule.from_port, "toPort": rule.to_port, "protocol": rule.protocol, "state": "open",
            "cidrs": list(rule.cidrs), "ipv6Cidrs": list(rule.ipv6_cidrs), "cidrListAliases": list(rule.cidr_list_aliases)}


def blueprint_name(blueprint_id: str) -> str:
    return WINDOWS_BLUEPRINTS.get(blueprint_id) or LINUX_BLUEPRINTS.get(blueprint_id) or blueprint_id


def instance_view(instance: Instance) -> dict:
    cpus, ram, _disk, transfer = BUNDLES.get(instance.bundle_id, (2, 1.0, instance.disk_size_gb, 2048))
    view = {
        "name": instance.name, "arn": instance.arn, "supportCode": support_code(instance.arn), "createdAt": epoch(instance.created_at),
        "location": location(instance.zone), "resourceType": "Instance", "tags": tag_list(instance.tags),
        "blueprintId": instance.blueprint_id, "blueprintName": blueprint_name(instance.blueprint_id), "bundleId": instance.bundle_id,
        "addOns": [], "isStaticIp": bool(instance.static_ip_name), "privateIpAddress": instance.private_ip, "ipv6Addresses": [],
        "ipAddressType": "ipv4",
        "hardware": {"cpuCount": cpus, "ramSizeInGb": ram, "disks": [system_disk(instance, instance.created_at, instance.zone)]},
        "networking": {"monthlyTransfer": {"gbPerMonthAllocated": transfer}, "ports": [port_info_view(rule) for rule in instance.ports]},
        "state": state_view(instance), "username": "Administrator" if instance.is_windows else "ec2-user",
        "sshKeyName": instance.key_pair_name,
        "metadataOptions": {"state": "applied", "httpTokens": "optional", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 1,
                            "httpProtocolIpv6": "disabled"},
    }
    if instance.public_ip:
        view["publicIpAddress"] = instance.public_ip
    return view


def snapshot_view(snapshot: InstanceSnapshot, now: float) -> dict:
    source = snapshot.instance
    return {
        "name": snapshot.name, "arn": snapshot.arn, "supportCode": support_code(snapshot.arn), "createdAt": epoch(snapshot.created_at),
        "location": location(snapshot.zone, snapshot.arn), "resourceType": "InstanceSnapshot", "tags": tag_list(snapshot.tags),
        "state": snapshot.state(now), "fromAttachedDisks": [], "fromInstanceName": source.name, "fromInstanceArn": source.arn,
        "fromBlueprintId": source.blueprint_id, "fromBundleId": source.bundle_id, "isFromAutoSnapshot": False,
        "sizeInGb": source.disk_size_gb,
    }


def static_ip_view(static_ip: StaticIp) -> dict:
    view = {
        "name": static_ip.name, "arn": static_ip.arn, "supportCode": support_code(static_ip.arn), "createdAt": epoch(static_ip.created_at),
        "location": location(static_ip.zone, static_ip.arn), "resourceType": "StaticIp", "ipAddress": static_ip.ip_address,
        "isAttached": static_ip.attached_to is not None,
    }
    if static_ip.attached_to:
        view["attachedTo"] = static_ip.attached_to
    return view


def operation_view(operation: Operation, now: float) -> dict:
    status = operation.status(now)
    view = {
        "id": operation.op_id, "resourceName": operation.resource_name, "resourceType": operation.resource_type,
        "createdAt": epoch(operation.created_at), "location": {"availabilityZone": operation.zone, "regionName": operation.region},
        "isTerminal": status != "Started",
        "operationDetails": operation.details, "status": status,
        "statusChangedAt": epoch(operation.created_at if status == "Started" else operation.ends_at),
    }
    # The model's OperationType enum has no TagResource/UntagResource: leave the optional member out there.
    if operation.operation_type in operation_types():
        view["operationType"] = operation.operation_type
    if status == "Failed":
        view["errorCode"] = operation.error_code
        view["errorDetails"] = operation.error_details or ""
    return view


def access_details_view(instance: Instance, protocol: str | None, now: float) -> dict:
    protocol = protocol or ("rdp" if instance.is_windows else "ssh")
    view = {"protocol": protocol, "instanceName": instance.name, "ipAddress": instance.public_ip or "", "ipv6Addresses": [],
            "username": "Administrator" if instance.is_windows else "ec2-user"}
    if instance.is_windows:
        # A copy of a snapshot taken before Sysprep: the service has no password to give, ever (the AWS guide
        # "Create a Windows Server snapshot": such copies keep the original's password and the browser RDP client
        # cannot connect); both members stay empty, as for a password not ready yet.
        ready = now >= instance.password_ready_at and instance.password_known
        default_key = instance.key_pair_name == DEFAULT_KEY_PAIR
        # Lightsail decrypts the password only for its default key pair; ciphertext is always there once ready.
        view["password"] = instance.password if ready and default_key else ""
        ciphertext = base64.b64encode(f"cloudsim-encrypted:{instance.password}".encode()).decode() if ready else ""
        view["passwordData"] = {"ciphertext": ciphertext, "keyPairName": instance.key_pair_name}
    if protocol == "ssh":
        view["certKey"] = "ssh-rsa-cert-v01@openssh.com AAAA-cloudsim-cert"
        view["privateKey"] = "-----BEGIN RSA PRIVATE KEY-----\ncloudsim-not-a-key\n-----END RSA PRIVATE KEY-----\n"
        view["expiresAt"] = epoch(now + 12 * 3600)
        view["hostKeys"] = []
    return view
