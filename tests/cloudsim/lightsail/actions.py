# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Lightsail actions the simulator answers.

Each handler takes a :class:`LightsailCall` (parameters already validated against the input shape)
and returns a result in the operation's output shape. Mutating actions log :class:`Operation`s that
``GetOperation`` can follow until they are terminal.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable

from cloudsim.clock import SimClock
from cloudsim.lightsail import views
from cloudsim.lightsail.resources import (
    BUNDLES, DEFAULT_KEY_PAIR, LINUX_BLUEPRINTS, REGIONAL_ZONE, REGIONS, WINDOWS_BLUEPRINTS, Instance, InstanceSnapshot, LightsailBook,
    LightsailSettings, Operation, PortRule, StaticIp, default_ports, new_password, region_zones,
)
from cloudsim.lightsail.wire import LightsailError, invalid_input, not_found, operation_failure

# The service's naming rule for new resources (stricter than the model's unanchored pattern).
NEW_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,253}[A-Za-z0-9]$")
AUTO_SNAPSHOT_MESSAGE = "You cannot create a manual snapshot while an automatic snapshot is being created. Try again later."


@dataclasses.dataclass
class LightsailCall:
    action: str
    params: dict
    book: LightsailBook
    clock: SimClock
    settings: LightsailSettings

    @property
    def now(self) -> float:
        return self.clock.time()


# Helpers -----------------------------------------------------------------------------------------

def visible(call: LightsailCall, resources: dict) -> list:
    """The resources the API shows now, by name: a new one is hidden until its visibility delay has passed."""
    return [resource for _name, resource in sorted(resources.items()) if resource.visible_at <= call.now]


def find(call: LightsailCall, resources: dict, resource_type: str, name: str):
    resource = resources.get(name)
    if resource is None or resource.visible_at > call.now:
        raise not_found(resource_type, name)
    return resource


def find_instance(call: LightsailCall, name: str) -> Instance:
    return find(call, call.book.instances, "Instance", name)


def find_snapshot(call: LightsailCall, name: str) -> InstanceSnapshot:
    return find(call, call.book.snapshots, "InstanceSnapshot", name)


def find_static_ip(call: LightsailCall, name: str) -> StaticIp:
    return find(call, call.book.static_ips, "StaticIp", name)


def visible_from(call: LightsailCall, name: str) -> float:
    """When a resource created by this call shows in the API (its name is taken at once)."""
    return call.now + call.settings.visibility_delay(call.book.region, name)


def check_zone(call: LightsailCall, zone: str) -> None:
    """A new instance needs one availability zone of the call's region; "all" (a regional resource's) is none."""
    if zone not in region_zones(call.book.region):
        raise invalid_input(f"The Availability Zone {zone} is not valid in the region {call.book.region}. "
                            f"Use one of {', '.join(region_zones(call.book.region))} (GetRegions with includeAvailabilityZones).")


def check_new_name(call: LightsailCall, name: str) -> None:
    if not NEW_NAME.match(name):
        # The service's wording (quoted in hashicorp/terraform-provider-aws#8647).
        raise invalid_input(f"{name} is not a valid resource name. Resource names must be at least 2 characters long and contain only "
                            "alphanumerics, -, _, and .")
    if name in call.book.names_in_use():
        raise invalid_input(f"Some names are already in use: {name}")


def log_operation(call: LightsailCall, resource_name: str, resource_type: str, duration: float = 0.0, details: str = "",
                  error_code: str | None = None, operation_type: str | None = None) -> Operation:
    now = call.now
    # An instance's operations are in its zone; those of regional resources (snapshots, static IPs) in "all".
    instance = call.book.instances.get(resource_name) if resource_type == "Instance" else None
    operation = Operation(op_id=str(uuid.uuid4()), resource_name=resource_name, resource_type=resource_type,
                          operation_type=operation_type or call.action, created_at=now, zone=instance.zone if instance else REGIONAL_ZONE,
                          region=call.book.region, ends_at=now + duration, details=details, error_code=error_code)
    call.book.operations.append(operation)
    return operation


def operations_result(call: LightsailCall, *operations: Operation) -> dict:
    return {"operations": [views.operation_view(operation, call.now) for operation in operations]}


def page(call: LightsailCall, items: list, key: str) -> dict:
    """One page of ``items``; the token is the index of the next item (opaque to clients)."""
    token = call.params.get("pageToken")
    start = 0
    if token:
        if not token.isdigit() or int(token) > len(items):
            raise invalid_input(f"The page token is invalid: {token}")
        start = int(token)
    end = start + call.settings.page_size
    result = {key: items[start:end]}
    if end < len(items):
        result["nextPageToken"] = str(end)
    return result


def tags_of(call: LightsailCall) -> dict:
    tags = {}
    for tag in call.params.get("tags") or []:
        check_tag(tag.get("key", ""), tag.get("value", ""))
        tags[tag["key"]] = tag.get("value", "")
    return tags


_TAG_TEXT = re.compile(r"^[\w\s+\-=.:/@]*$")


def check_tag(key: str, value: str) -> None:
    if not key or len(key) > 128 or not _TAG_TEXT.match(key):
        raise invalid_input(f"Tag key '{key}' is invalid: 1 to 128 letters, numbers, spaces or + - = . _ : / @")
    if len(value) > 256 or not _TAG_TEXT.match(value):
        raise invalid_input(f"Tag value '{value}' is invalid: up to 256 letters, numbers, spaces or + - = . _ : / @")


# Instances ---------------------------------------------------------------------------------------

def get_instance(call: LightsailCall) -> dict:
    return {"instance": views.instance_view(find_instance(call, call.params["instanceName"]))}


def get_instances(call: LightsailCall) -> dict:
    instances = [views.instance_view(instance) for instance in visible(call, call.book.instances)]
    return page(call, instances, "instances")


def get_instance_state(call: LightsailCall) -> dict:
    return {"state": views.state_view(find_instance(call, call.params["instanceName"]))}


def stop_instance(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    force = bool(call.params.get("force"))
    # force exists for instances stuck in "stopping"; it ends the stop at once.
    if instance.state == "stopping" and force:
        instance.transition_ends = call.now
        call.book.settle(call.now)
        return operations_result(call, log_operation(call, instance.name, "Instance", 0.0, "force"))
    if instance.state != "running":
        raise operation_failure(f"The instance {instance.name} cannot be stopped while it is {instance.state}.")
    duration = call.settings.instance_transition_seconds
    instance.begin("stopping", "stopped", call.now + duration)
    return operations_result(call, log_operation(call, instance.name, "Instance", duration))


def start_instance(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    duration = call.settings.instance_transition_seconds
    if instance.state == "stopped" and instance.target_state == "pending":
        # Started a moment ago and still reads stopped: the start is under way, a second one changes nothing.
        return operations_result(call, log_operation(call, instance.name, "Instance", duration))
    if instance.state != "stopped":
        raise operation_failure(f"The instance {instance.name} cannot be started while it is {instance.state}.")
    # The state reads "stopped" for the first start_lag_seconds of the start, then "pending"; running when it ends.
    lag = min(call.settings.start_lag_seconds, duration)
    instance.begin("stopped", "pending", call.now + lag)
    instance.then = ("pending", "running", duration - lag)
    if instance.public_ip is None:
        instance.public_ip = call.book.new_public_ip()
    if instance.generalized:
        # Sysprep's out-of-box boot: EC2Launch sets a new random Administrator password, readable once it has run.
        instance.password, instance.generalized, instance.password_known = new_password(), False, True
        instance.password_ready_at = call.now + duration + call.settings.windows_password_seconds
    call.book.settle(call.now)  # without a lag: pending at once
    return operations_result(call, log_operation(call, instance.name, "Instance", duration))


def reboot_instance(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    if instance.state != "running":
        raise operation_failure(f"The instance {instance.name} cannot be rebooted while it is {instance.state}.")
    # A reboot keeps the instance "running" and its public IP; only the operation takes time.
    return operations_result(call, log_operation(call, instance.name, "Instance", call.settings.reboot_seconds))


def delete_instance(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    if instance.static_ip_name in call.book.static_ips:
        call.book.static_ips[instance.static_ip_name].attached_to = None
    operation = log_operation(call, instance.name, "Instance")
    del call.book.instances[instance.name]
    # Snapshots outlive their instance; they keep pointing at its name and ARN.
    return operations_result(call, operation)


def not_modelled(call: LightsailCall, *members: str) -> None:
    """Members the simulator does not model answer HTTP 501, never a silent half answer."""
    for member in members:
        if member in call.params:
            raise LightsailError("NotImplemented", f"cloudsim: {call.action} with {member} is not implemented by the Lightsail simulator",
                                 status=501)


def check_blueprint_and_bundle(blueprint_id: str, bundle_id: str) -> None:
    if blueprint_id not in LINUX_BLUEPRINTS and blueprint_id not in WINDOWS_BLUEPRINTS:
        raise not_found("Blueprint", blueprint_id)
    if bundle_id not in BUNDLES:
        raise not_found("Bundle", bundle_id)
    # Windows blueprints run on the _win_ bundles only, Linux ones on the others (GetBundles' supportedPlatforms).
    if blueprint_id.startswith("windows") != ("_win_" in bundle_id):
        raise invalid_input(f"The bundle {bundle_id} does not support the blueprint {blueprint_id}.")


def new_instance_names(call: LightsailCall) -> list:
    names = call.params["instanceNames"]
    if not names or len(set(names)) != len(names):
        raise invalid_input("instanceNames must list unique names.")
    for name in names:
        check_new_name(call, name)
    return names


def create_instances(call: LightsailCall) -> dict:
    params = call.params
    not_modelled(call, "customImageName", "addOns")
    check_zone(call, params["availabilityZone"])
    check_blueprint_and_bundle(params["blueprintId"], params["bundleId"])
    names = new_instance_names(call)
    tags = tags_of(call)
    duration = call.settings.instance_transition_seconds
    windows = params["blueprintId"].startswith("windows")
    operations = []
    for name in names:
        instance = Instance(
            name=name, arn=call.book.arn("Instance"), created_at=call.now, zone=params["availabilityZone"],
            blueprint_id=params["blueprintId"], bundle_id=params["bundleId"], key_pair_name=params.get("keyPairName") or DEFAULT_KEY_PAIR,
            disk_size_gb=BUNDLES[params["bundleId"]][2], private_ip=call.book.new_private_ip(), public_ip=call.book.new_public_ip(),
            ports=default_ports(windows), tags=dict(tags), password=new_password() if windows else "",
            password_ready_at=call.now + duration + call.settings.windows_password_seconds, visible_at=visible_from(call, name),
        )
        instance.begin("pending", "running", call.now + duration)
        call.book.instances[name] = instance
        operations.append(log_operation(call, name, "Instance", duration, operation_type="CreateInstance"))
    return operations_result(call, *operations)


def get_instance_access_details(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    if instance.state != "running":
        raise operation_failure(f"The instance {instance.name} must be running to get access details; it is {instance.state}.")
    return {"accessDetails": views.access_details_view(instance, call.params.get("protocol"), call.now)}


# Ports -------------------------------------------------------------------------------------------

def port_rule(port_info: dict) -> PortRule:
    if "fromPort" not in port_info or "toPort" not in port_info or "protocol" not in port_info:
        raise invalid_input("portInfo needs fromPort, toPort and protocol.")
    if port_info["protocol"] in ("tcp", "udp", "all") and port_info["fromPort"] > port_info["toPort"]:
        raise invalid_input(f"fromPort {port_info['fromPort']} is greater than toPort {port_info['toPort']}.")
    cidrs = port_info.get("cidrs")
    ipv6_cidrs = port_info.get("ipv6Cidrs")
    aliases = port_info.get("cidrListAliases") or []
    if not cidrs and not ipv6_cidrs and not aliases:
        cidrs = ["0.0.0.0/0"]  # the API's documented default: all IPv4 addresses
    # The API gives an empty list no meaning of its own. We read one sent next to other addresses as "no restriction"
    # for its IP version (the dangerous reading, so that clients are tested against it): send only what you mean.
    if cidrs == [] and (ipv6_cidrs or aliases):
        cidrs = ["0.0.0.0/0"]
    if ipv6_cidrs == [] and (cidrs or aliases):
        ipv6_cidrs = ["::/0"]
    return PortRule(port_info["fromPort"], port_info["toPort"], port_info["protocol"], cidrs or [], ipv6_cidrs or [], aliases)


def open_instance_public_ports(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    rule = port_rule(call.params["portInfo"])
    instance.ports = [existing for existing in instance.ports if existing.key != rule.key] + [rule]
    return {"operation": views.operation_view(log_operation(call, instance.name, "Instance"), call.now)}


def close_instance_public_ports(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    rule = port_rule(call.params["portInfo"])
    instance.ports = [existing for existing in instance.ports if existing.key != rule.key]
    return {"operation": views.operation_view(log_operation(call, instance.name, "Instance"), call.now)}


def put_instance_public_ports(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    # Put replaces the whole firewall: every port not listed is closed.
    instance.ports = [port_rule(port_info) for port_info in call.params["portInfos"]]
    return {"operation": views.operation_view(log_operation(call, instance.name, "Instance"), call.now)}


def get_instance_port_states(call: LightsailCall) -> dict:
    instance = find_instance(call, call.params["instanceName"])
    return {"portStates": [views.port_state_view(rule) for rule in instance.ports]}


# Snapshots ---------------------------------------------------------------------------------------

def create_instance_snapshot(call: LightsailCall) -> dict:
    name = call.params["instanceSnapshotName"]
    instance = find_instance(call, call.params["instanceName"])
    check_new_name(call, name)
    tags = tags_of(call)
    if call.now < instance.auto_snapshot_until:
        raise operation_failure(AUTO_SNAPSHOT_MESSAGE)
    if instance.state not in ("running", "stopped"):
        raise operation_failure(f"The instance {instance.name} cannot be snapshotted while it is {instance.state}.")
    duration = call.settings.snapshot_duration(instance.disk_size_gb)
    fails = call.book.take_failure(instance.name)
    snapshot = InstanceSnapshot(name=name, arn=call.book.arn("InstanceSnapshot"), created_at=call.now, zone=REGIONAL_ZONE,
                                instance=instance, tags=tags, ready_at=call.now + duration, fails=fails, password=instance.password,
                                generalized=instance.generalized, visible_at=visible_from(call, name))
    call.book.snapshots[name] = snapshot
    error_code = "SnapshotCreationFailed" if fails else None
    # Lightsail answers with two operations: one on the snapshot and one on the source instance.
    return operations_result(
        call,
        log_operation(call, name, "InstanceSnapshot", duration, instance.name, error_code),
        log_operation(call, instance.name, "Instance", duration, name, error_code),
    )


def get_instance_snapshot(call: LightsailCall) -> dict:
    return {"instanceSnapshot": views.snapshot_view(find_snapshot(call, call.params["instanceSnapshotName"]), call.now)}


def get_instance_snapshots(call: LightsailCall) -> dict:
    snapshots = [views.snapshot_view(snapshot, call.now) for snapshot in visible(call, call.book.snapshots)]
    return page(call, snapshots, "instanceSnapshots")


def delete_instance_snapshot(call: LightsailCall) -> dict:
    snapshot = find_snapshot(call, call.params["instanceSnapshotName"])
    if snapshot.state(call.now) == "pending":
        raise operation_failure(f"The instance snapshot {snapshot.name} cannot be deleted while it is pending.")
    del call.book.snapshots[snapshot.name]
    return operations_result(call, log_operation(call, snapshot.name, "InstanceSnapshot"))


def create_instances_from_snapshot(call: LightsailCall) -> dict:
    params = call.params
    if "instanceSnapshotName" not in params:
        raise invalid_input("cloudsim supports CreateInstancesFromSnapshot from an instanceSnapshotName only.")
    snapshot = find_snapshot(call, params["instanceSnapshotName"])
    if snapshot.state(call.now) != "available":
        raise operation_failure(f"The instance snapshot {snapshot.name} is not available; it is {snapshot.state(call.now)}.")
    check_zone(call, params["availabilityZone"])
    if params["bundleId"] not in BUNDLES:
        raise invalid_input(f"The bundle {params['bundleId']} does not exist.")
    names = new_instance_names(call)
    tags = tags_of(call)
    duration = call.settings.instance_transition_seconds
    operations = []
    for name in names:
        source = snapshot.instance
        instance = Instance(
            name=name, arn=call.book.arn("Instance"), created_at=call.now, zone=params["availabilityZone"], blueprint_id=source.blueprint_id,
            bundle_id=params["bundleId"], key_pair_name=params.get("keyPairName", source.key_pair_name),
            disk_size_gb=max(source.disk_size_gb, BUNDLES[params["bundleId"]][2]), private_ip=call.book.new_private_ip(),
            public_ip=call.book.new_public_ip(), ports=default_ports(source.is_windows), tags=dict(tags),
            # A copy keeps the Administrator password the disk had, unless Sysprep generalized it: then it gets a new one.
            password=new_password() if snapshot.generalized else snapshot.password,
            password_ready_at=call.now + duration + call.settings.windows_password_seconds, password_known=snapshot.generalized,
            visible_at=visible_from(call, name),
        )
        instance.begin("pending", "running", call.now + duration)
        call.book.instances[name] = instance
        operations.append(log_operation(call, name, "Instance", duration, snapshot.name))
    return operations_result(call, *operations)


# Static IPs --------------------------------------------------------------------------------------

def allocate_static_ip(call: LightsailCall) -> dict:
    name = call.params["staticIpName"]
    check_new_name(call, name)
    call.book.static_ips[name] = StaticIp(name=name, arn=call.book.arn("StaticIp"), created_at=call.now, zone=REGIONAL_ZONE,
                                          ip_address=call.book.new_public_ip(), visible_at=visible_from(call, name))
    return operations_result(call, log_operation(call, name, "StaticIp"))


def attach_static_ip(call: LightsailCall) -> dict:
    static_ip = find_static_ip(call, call.params["staticIpName"])
    instance = find_instance(call, call.params["instanceName"])
    if static_ip.attached_to and static_ip.attached_to != instance.name:
        raise invalid_input(f"The static IP {static_ip.name} is already attached to {static_ip.attached_to}.")
    if instance.static_ip_name and instance.static_ip_name != static_ip.name and instance.static_ip_name in call.book.static_ips:
        call.book.static_ips[instance.static_ip_name].attached_to = None  # an instance has one static IP at most
    static_ip.attached_to = instance.name
    instance.static_ip_name = static_ip.name
    instance.public_ip = static_ip.ip_address
    return operations_result(call, log_operation(call, static_ip.name, "StaticIp", details=instance.name),
                             log_operation(call, instance.name, "Instance", details=static_ip.name))


def detach(call: LightsailCall, static_ip: StaticIp) -> Operation | None:
    """Detach the static IP from its instance, which gets a new dynamic public IP if it has one at all (running)."""
    instance = call.book.instances.get(static_ip.attached_to or "")
    static_ip.attached_to = None
    if instance is None:
        return None
    instance.static_ip_name = None
    instance.public_ip = call.book.new_public_ip() if instance.state in ("pending", "running") else None
    return log_operation(call, instance.name, "Instance", details=static_ip.name)


def detach_static_ip(call: LightsailCall) -> dict:
    static_ip = find_static_ip(call, call.params["staticIpName"])
    if not static_ip.attached_to:
        raise invalid_input(f"The static IP {static_ip.name} is not attached to an instance.")
    instance_operation = detach(call, static_ip)
    operations = [log_operation(call, static_ip.name, "StaticIp", details=instance_operation.resource_name if instance_operation else "")]
    return operations_result(call, *operations, *([instance_operation] if instance_operation else []))


def release_static_ip(call: LightsailCall) -> dict:
    static_ip = find_static_ip(call, call.params["staticIpName"])
    # An attached static IP is detached first; its instance gets a new dynamic public IP.
    instance_operation = detach(call, static_ip) if static_ip.attached_to else None
    operation = log_operation(call, static_ip.name, "StaticIp")
    del call.book.static_ips[static_ip.name]
    return operations_result(call, operation, *([instance_operation] if instance_operation else []))


def get_static_ip(call: LightsailCall) -> dict:
    return {"staticIp": views.static_ip_view(find_static_ip(call, call.params["staticIpName"]))}


def get_static_ips(call: LightsailCall) -> dict:
    return page(call, [views.static_ip_view(static_ip) for static_ip in visible(call, call.book.static_ips)], "staticIps")


# Regions -----------------------------------------------------------------------------------------

def get_regions(call: LightsailCall) -> dict:
    regions = []
    for name, (continent, display_name, _letters) in REGIONS.items():
        region = {"continentCode": continent, "description": f"This region is recommended to serve users in {display_name}",
                  "displayName": display_name, "name": name}
        if call.params.get("includeAvailabilityZones"):
            region["availabilityZones"] = [{"zoneName": zone, "state": "available"} for zone in region_zones(name)]
        if call.params.get("includeRelationalDatabaseAvailabilityZones"):
            region["relationalDatabaseAvailabilityZones"] = [{"zoneName": zone, "state": "available"} for zone in region_zones(name)]
        regions.append(region)
    return {"regions": regions}


# Operations and tags -----------------------------------------------------------------------------

def get_operation(call: LightsailCall) -> dict:
    for operation in call.book.operations:
        if operation.op_id == call.params["operationId"]:
            return {"operation": views.operation_view(operation, call.now)}
    raise not_found("Operation", call.params["operationId"])


def get_operations(call: LightsailCall) -> dict:
    newest_first = [views.operation_view(operation, call.now) for operation in reversed(call.book.operations)]
    return page(call, newest_first, "operations")


def get_operations_for_resource(call: LightsailCall) -> dict:
    name = call.params["resourceName"]
    if name not in call.book.names_in_use():
        raise not_found("Resource", name)
    mine = [views.operation_view(operation, call.now) for operation in reversed(call.book.operations) if operation.resource_name == name]
    return page(call, mine, "operations")


def taggable(call: LightsailCall) -> tuple[dict, str]:
    name = call.params["resourceName"]
    for resources, resource_type in ((call.book.instances, "Instance"), (call.book.snapshots, "InstanceSnapshot")):
        if name in resources and resources[name].visible_at <= call.now:
            return resources[name].tags, resource_type
    raise not_found("Resource", name)


def tag_resource(call: LightsailCall) -> dict:
    tags, resource_type = taggable(call)
    tags.update(tags_of(call))
    return operations_result(call, log_operation(call, call.params["resourceName"], resource_type))


def untag_resource(call: LightsailCall) -> dict:
    tags, resource_type = taggable(call)
    for key in call.params["tagKeys"]:
        tags.pop(key, None)
    return operations_result(call, log_operation(call, call.params["resourceName"], resource_type))


HANDLERS: dict[str, Callable[[LightsailCall], dict]] = {
    "GetInstance": get_instance,
    "GetInstances": get_instances,
    "GetInstanceState": get_instance_state,
    "StopInstance": stop_instance,
    "StartInstance": start_instance,
    "RebootInstance": reboot_instance,
    "DeleteInstance": delete_instance,
    "CreateInstances": create_instances,
    "GetInstanceAccessDetails": get_instance_access_details,
    "OpenInstancePublicPorts": open_instance_public_ports,
    "CloseInstancePublicPorts": close_instance_public_ports,
    "PutInstancePublicPorts": put_instance_public_ports,
    "GetInstancePortStates": get_instance_port_states,
    "CreateInstanceSnapshot": create_instance_snapshot,
    "GetInstanceSnapshot": get_instance_snapshot,
    "GetInstanceSnapshots": get_instance_snapshots,
    "DeleteInstanceSnapshot": delete_instance_snapshot,
    "CreateInstancesFromSnapshot": create_instances_from_snapshot,
    "AllocateStaticIp": allocate_static_ip,
    "AttachStaticIp": attach_static_ip,
    "GetStaticIp": get_static_ip,
    "GetStaticIps": get_static_ips,
    "DetachStaticIp": detach_static_ip,
    "ReleaseStaticIp": release_static_ip,
    "GetRegions": get_regions,
    "GetOperation": get_operation,
    "GetOperations": get_operations,
    "GetOperationsForResource": get_operations_for_resource,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}
