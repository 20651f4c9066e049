# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Lightsail API wrappers: one function per API call, each with retries and an error handler.

amazon.aws has no Lightsail helpers, so every call we use is wrapped here. Lightsail tags are
lists of lowercase ``key``/``value`` pairs (EC2 uses ``Key``/``Value``).
"""

from __future__ import annotations

import time

try:
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from botocore.exceptions import HTTPClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.cloud import CloudRetry
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import error_code
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import TAG_PREFIX
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import throttling_retry
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

# AWSRetry's defaults know EC2's throttling codes ("Throttling", "RequestLimitExceeded") and the generic 5xx codes, but
# not the JSON services' "ThrottlingException", which is what Lightsail answers when throttled, nor Lightsail's own
# server error "ServiceException" (HTTP 500, botocore's lightsail model and the Lightsail API Reference).
LIGHTSAIL_RETRIED_CODES = ["ThrottlingException", "ServiceException"]
# Attempts of a call whose connection failed, the first included: botocore's own retries (legacy mode, which the EC2
# modules' default clients use) make 5. Our Lightsail client makes one attempt (retries live on the wrappers), so
# without these a reset or a read timeout would fail the module at once.
CONNECTION_ATTEMPTS = 5


def _connection_failures_maybe():
    """botocore's connection-level exception classes, its ``ConnectionError`` and ``HTTPClientError`` kinds (none
    without botocore, whose absence AnsibleAWSModule reports)."""
    try:
        return (BotocoreConnectionError, HTTPClientError)
    except NameError:
        return type(None)


class ConnectionRetry(CloudRetry):
    """Retries of a call that got no answer: botocore's connection-level failures (``EndpointConnectionError``,
    ``ConnectionClosedError``, ``ReadTimeoutError``, ``ConnectTimeoutError``...), those botocore itself retries."""

    base_class = _connection_failures_maybe()

    @staticmethod
    def status_code_from_exception(error):
        return type(error).__name__

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        return True


def retry_connection_failures(func):
    """``func`` again after a connection failure, up to CONNECTION_ATTEMPTS attempts with a short jittered backoff."""
    return ConnectionRetry.jittered_backoff(retries=CONNECTION_ATTEMPTS, delay=1, backoff=2.0, max_delay=15)(func)


def lightsail_retry():
    """The collection's jittered backoff, plus Lightsail's throttling and server error codes (not among AWSRetry's
    defaults), and the call sent again when its connection failed (a reset, a read timeout).

    A call whose connection failed may have been carried out, so every wrapper with this retry must be safe to send
    again, as botocore takes EC2's reads to be: reads; writes whose second sending changes nothing more (tags, ports,
    deletes: a second delete finds nothing to delete); creates, whose second sending meets the name the first one took
    and ``create_or_adopt`` adopts it. Stop and start look before they send again (``change_unless_done``).
    """
    throttled = throttling_retry(extra_codes=LIGHTSAIL_RETRIED_CODES)
    return lambda func: retry_connection_failures(throttled(func))


def change_unless_done(send, done):
    """``send()`` with retries; before sending again (after a failure that may hide a call Lightsail carried out: a lost
    connection, a 500), ``done()`` reads whether the first sending did the work, and then nothing is sent."""
    attempts = []

    @lightsail_retry()
    def attempt():
        if attempts and done():
            return []
        attempts.append(True)
        return send()
    return attempt()


class LightsailErrorHandler(AWSErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NotFoundException")


def error_message(error):
    response = getattr(getattr(error, "exception", None), "response", None) or {}
    return response.get("Error", {}).get("Message") or ""


# Lightsail is eventually consistent: a resource just created can answer NotFoundException (and be missing from
# listings) for a moment. Right after our own create, "not found" means "not visible yet" until the resource has been
# seen once or this long has passed.
VISIBILITY_GRACE_SECONDS = 30.0


class NotVisibleYet(dict):
    """Stands in a wait's poll for a resource this run created that Lightsail does not show yet (never done, never failed)."""


def just_created(read, placeholder, grace=VISIBILITY_GRACE_SECONDS):
    """A poll for a resource this run just created: ``read()`` (None when not found), with ``placeholder`` (a
    NotVisibleYet) in place of None until the resource has been seen once or ``grace`` seconds have passed."""
    until = time.monotonic() + grace
    seen = []

    def poll():
        item = read()
        if item:
            seen.append(True)
            return item
        return placeholder if not seen and time.monotonic() < until else None

    return poll


def first_sight(read, timeout, name="the resource", grace=VISIBILITY_GRACE_SECONDS):
    """The resource ``read()`` returns (None when not found) as Lightsail first shows it, for a resource this run just
    created or whose name is taken (it exists): a "not found" is waited out until it is seen, or None once ``grace``
    seconds have passed without it. The wait gives up (WaitTimeout) if ``timeout`` seconds pass first."""
    poll = just_created(read, NotVisibleYet(name=name, state="not visible yet"), grace)
    shown = wait_until(lambda: [item for item in [poll()] if item], done=lambda item: not isinstance(item, NotVisibleYet),
                       failed=lambda item: False, timeout=timeout, describe=lambda items: f"{name} is not visible yet",
                       backoff=Backoff(**POWER_BACKOFF))
    return shown[0] if shown else None


def create_or_adopt(create, read, is_ours):
    """``create()``, or nothing (None) when Lightsail answers that the name is taken and ``read()`` finds that ``is_ours``.

    A create whose answer was lost (a 500 or a dropped connection after Lightsail did the work) is sent again by the
    retry, and the second one finds the name taken by the first: the resource is this run's. ``is_ours`` checks what
    the request asked for (the source instance or snapshot), so that a name clash with someone else's resource still fails.
    The name being taken, the resource exists: the lookup waits out Lightsail's visibility delay before it decides.
    """
    try:
        return create()
    except AnsibleAWSError as error:
        if name_taken(error) and is_ours(first_sight(read, VISIBILITY_GRACE_SECONDS)):
            return None
        raise


def name_taken(error):
    """Lightsail refused a create because a resource of that type already has the name (in this region)."""
    return error_code(error) == "InvalidInputException" and "already in use" in error_message(error)


def tag_list(tags):
    """Lightsail's tag list (lowercase key/value) from a dict."""
    return [{"key": key, "value": str(value)} for key, value in (tags or {}).items()]


def tag_dict(tags):
    """A dict from Lightsail's tag list; a tag without a value maps to an empty string."""
    return {tag["key"]: tag.get("value", "") for tag in tags or []}


@LightsailErrorHandler.list_error_handler("get instance {name}")
@lightsail_retry()
def get_instance(client, name):
    """The instance, or None when Lightsail does not know it."""
    return client.get_instance(instanceName=name)["instance"]


@LightsailErrorHandler.list_error_handler("get instance snapshot {name}")
@lightsail_retry()
def get_instance_snapshot(client, name):
    """The instance snapshot, or None when Lightsail does not know it."""
    return client.get_instance_snapshot(instanceSnapshotName=name)["instanceSnapshot"]


@LightsailErrorHandler.common_error_handler("create instance snapshot {snapshot_name} of instance {instance_name}")
@lightsail_retry()
def create_instance_snapshot(client, snapshot_name, instance_name, tags):
    """CreateInstanceSnapshot; returns its operations (one on the snapshot, one on the instance).

    Resending after throttling is safe: names are unique, so a second snapshot cannot appear.
    """
    params = {"instanceSnapshotName": snapshot_name, "instanceName": instance_name}
    if tags:
        params["tags"] = tag_list(tags)
    return client.create_instance_snapshot(**params)["operations"]


@LightsailErrorHandler.deletion_error_handler("delete instance snapshot {name}")
@lightsail_retry()
def delete_instance_snapshot(client, name):
    """DeleteInstanceSnapshot; False when the snapshot was already gone."""
    client.delete_instance_snapshot(instanceSnapshotName=name)
    return True


@LightsailErrorHandler.common_error_handler("get operation {operation_id}")
@lightsail_retry()
def get_operation(client, operation_id):
    return client.get_operation(operationId=operation_id)["operation"]


@LightsailErrorHandler.common_error_handler("untag resource {name}")
@lightsail_retry()
def untag_resource(client, name, keys):
    """UntagResource: removes these tag keys (whatever their values), leaving the others alone."""
    return client.untag_resource(resourceName=name, tagKeys=list(keys))["operations"]


@LightsailErrorHandler.common_error_handler("tag resource {name}")
@lightsail_retry()
def tag_resource(client, name, tags):
    """TagResource: adds or overwrites these tags, leaving the others alone."""
    return client.tag_resource(resourceName=name, tags=tag_list(tags))["operations"]


@LightsailErrorHandler.list_error_handler("get instance snapshots")
@lightsail_retry()
def get_instance_snapshots(client):
    """Every instance snapshot of the region (all pages)."""
    snapshots = []
    params = {}
    while True:
        page = client.get_instance_snapshots(**params)
        snapshots.extend(page.get("instanceSnapshots", []))
        if not page.get("nextPageToken"):
            return snapshots
        params["pageToken"] = page["nextPageToken"]


@LightsailErrorHandler.list_error_handler("get the state of instance {name}")
@lightsail_retry()
def get_instance_state(client, name):
    """The instance's state name (pending, running, stopping, stopped...), or None when Lightsail does not know it."""
    return client.get_instance_state(instanceName=name)["state"]["name"]


def state_name(instance):
    """The state name of an instance (``GetInstance``'s ``state.name``), None for an instance Lightsail does not know."""
    return ((instance or {}).get("state") or {}).get("name")


@LightsailErrorHandler.common_error_handler("stop instance {name}")
def stop_instance(client, name):
    """StopInstance; sent again only while the instance is not stopping or stopped (Lightsail refuses a second stop then).

    The operations, or an empty list when an earlier sending whose answer was lost did the work.
    """
    return change_unless_done(lambda: client.stop_instance(instanceName=name)["operations"],
                              lambda: state_name(get_instance(client, name)) in ("stopping", "stopped"))


@LightsailErrorHandler.common_error_handler("start instance {name}")
def start_instance(client, name):
    """StartInstance; sent again only while the instance is not pending or running (see stop_instance)."""
    return change_unless_done(lambda: client.start_instance(instanceName=name)["operations"],
                              lambda: state_name(get_instance(client, name)) in ("pending", "running"))


@LightsailErrorHandler.list_error_handler("get the port states of instance {name}")
@lightsail_retry()
def get_instance_port_states(client, name):
    """The instance's firewall rules, or None when Lightsail does not know the instance."""
    return client.get_instance_port_states(instanceName=name)["portStates"]


@LightsailErrorHandler.common_error_handler("open a public port of instance {name}")
@lightsail_retry()
def open_instance_public_ports(client, name, port_info):
    return client.open_instance_public_ports(instanceName=name, portInfo=port_info)["operation"]


@LightsailErrorHandler.common_error_handler("close a public port of instance {name}")
@lightsail_retry()
def close_instance_public_ports(client, name, port_info):
    return client.close_instance_public_ports(instanceName=name, portInfo=port_info)["operation"]


@LightsailErrorHandler.common_error_handler("get the access details of instance {name}")
@lightsail_retry()
def get_instance_access_details(client, name, protocol=None):
    params = {"instanceName": name}
    if protocol:
        params["protocol"] = protocol
    return client.get_instance_access_details(**params)["accessDetails"]


@LightsailErrorHandler.common_error_handler("create instance {name} from snapshot {snapshot_name}")
@lightsail_retry()
def create_instance_from_snapshot(client, name, snapshot_name, availability_zone, bundle_id, tags):
    """CreateInstancesFromSnapshot for one instance; resending is safe because names are unique."""
    params = {"instanceNames": [name], "instanceSnapshotName": snapshot_name, "availabilityZone": availability_zone, "bundleId": bundle_id}
    if tags:
        params["tags"] = tag_list(tags)
    return client.create_instances_from_snapshot(**params)["operations"]


@LightsailErrorHandler.common_error_handler("get the regions and their availability zones")
@lightsail_retry()
def get_regions(client):
    """GetRegions with the availability zones of each region."""
    return client.get_regions(includeAvailabilityZones=True)["regions"]


@LightsailErrorHandler.deletion_error_handler("delete instance {name}")
@lightsail_retry()
def delete_instance(client, name):
    """DeleteInstance; False when the instance was already gone."""
    client.delete_instance(instanceName=name)
    return True


# Shared by the lightsail_* modules -----------------------------------------------------------------

# Lightsail's rule for new resource names (its model's pattern is looser than what it accepts).
RESOURCE_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,253}[A-Za-z0-9]"
RESOURCE_NAME_RULE = "2 to 255 characters: letters, digits, '.', '-' and '_', starting and ending with a letter or a digit"
# lightsail_instance_from_snapshot tags each instance it makes with the name of its snapshot.
FROM_SNAPSHOT_TAG = f"{TAG_PREFIX}from-snapshot"
# The lightsail_instance_snapshot role tags its backup snapshot, taken before Sysprep, with this (user tag) pair.
PRE_SYSPREP_TAG = ("snapkit-purpose", "backup-before-sysprep")
# Every key of a returned snapshot, present on every path (null when unknown).
SNAPSHOT_KEYS = (
    "name", "arn", "state", "progress", "created_at", "from_instance_name", "from_instance_arn", "from_blueprint_id",
    "from_bundle_id", "is_from_auto_snapshot", "size_in_gb", "location", "resource_type", "support_code", "tags",
)
# Every key of a returned instance (the subset a procedure needs; null when unknown).
INSTANCE_KEYS = (
    "name", "arn", "state", "blueprint_id", "blueprint_name", "bundle_id", "is_windows", "public_ip_address",
    "private_ip_address", "is_static_ip", "username", "ssh_key_name", "location", "created_at", "tags",
)


def iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def location_of(resource):
    location = resource.get("location")
    return {"availability_zone": location.get("availabilityZone"), "region_name": location.get("regionName")} if location else None


def formatted_snapshot(snapshot):
    """A snapshot as our modules return it: every documented key, snake_case, tags as a dict."""
    if not snapshot:
        return {}
    values = {
        "name": snapshot.get("name"), "arn": snapshot.get("arn"), "state": snapshot.get("state"), "progress": snapshot.get("progress"),
        "created_at": iso(snapshot.get("createdAt")), "from_instance_name": snapshot.get("fromInstanceName"),
        "from_instance_arn": snapshot.get("fromInstanceArn"), "from_blueprint_id": snapshot.get("fromBlueprintId"),
        "from_bundle_id": snapshot.get("fromBundleId"), "is_from_auto_snapshot": snapshot.get("isFromAutoSnapshot"),
        "size_in_gb": snapshot.get("sizeInGb"), "location": location_of(snapshot), "resource_type": snapshot.get("resourceType"),
        "support_code": snapshot.get("supportCode"), "tags": tag_dict(snapshot.get("tags")),
    }
    return {key: values[key] for key in SNAPSHOT_KEYS}


def is_windows_blueprint(blueprint_id):
    """Lightsail's Windows blueprints are named windows_server_* (and windows_* for SQL Server editions)."""
    return (blueprint_id or "").startswith("windows")


def formatted_instance(instance):
    """An instance as our modules return it: the keys a procedure needs, snake_case, tags as a dict."""
    if not instance:
        return {}
    values = {
        "name": instance.get("name"), "arn": instance.get("arn"), "state": (instance.get("state") or {}).get("name"),
        "blueprint_id": instance.get("blueprintId"), "blueprint_name": instance.get("blueprintName"), "bundle_id": instance.get("bundleId"),
        "is_windows": is_windows_blueprint(instance.get("blueprintId")), "public_ip_address": instance.get("publicIpAddress"),
        "private_ip_address": instance.get("privateIpAddress"), "is_static_ip": instance.get("isStaticIp"),
        "username": instance.get("username"), "ssh_key_name": instance.get("sshKeyName"), "location": location_of(instance),
        "created_at": iso(instance.get("createdAt")), "tags": tag_dict(instance.get("tags")),
    }
    return {key: values[key] for key in INSTANCE_KEYS}


# Instances stop and start in tens of seconds (Sysprep in minutes): poll briskly, up to 5 s apart.
POWER_BACKOFF = dict(initial=1.0, factor=1.5, cap=5.0)


# Right after our own StartInstance the state can still read "stopped" for a moment (the service answers the start
# before the state it reports has moved): that long, "stopped" is not yet a failure.
START_GRACE_SECONDS = 30.0


def wait_for_instance_state(client, name, target, deadline, need_public_ip=False, just_started=False, new=False, known=None,
                            just_changed=False):
    """Wait until the instance is in ``target`` (and, when asked, has a public IP: it can run before it has one).

    ``known``: the instance as the caller has just read it, taken as the first poll instead of reading it again.
    ``just_changed``: our StopInstance or StartInstance was just answered, so a read now would only show the transition
    starting: the first read waits one poll interval.

    A vanished instance fails at once; so does a ``stopped`` one while waiting for ``running`` (an instance never
    starts by itself), except for START_GRACE_SECONDS when ``just_started`` (our StartInstance was just answered). A
    ``running`` one while waiting for ``stopped`` is not a failure: its guest may be shutting itself down (Sysprep),
    which the API shows only once it happens. A ``new`` instance (this run just created it) may not be visible yet.
    """
    gone = {"name": name, "state": {"name": "gone"}}
    read = just_created(lambda: get_instance(client, name), NotVisibleYet(name=name, state={"name": "not visible yet"}),
                        grace=VISIBILITY_GRACE_SECONDS if new else 0.0)
    stopped_fails_after = time.monotonic() + (START_GRACE_SECONDS if just_started else 0.0)
    first = [known] if known is not None else []
    backoff = Backoff(**POWER_BACKOFF)
    if just_changed and not first:
        time.sleep(max(0.0, min(backoff.next_delay(), deadline.remaining())))

    def poll():
        return [first.pop() if first else read() or gone]

    def state(item):
        return (item.get("state") or {}).get("name")

    def done(item):
        return state(item) == target and (not need_public_ip or bool(item.get("publicIpAddress")))

    def failed(item):
        stopped = target == "running" and state(item) == "stopped" and time.monotonic() >= stopped_fails_after
        return state(item) == "gone" or stopped

    return wait_until(
        poll, done=done, failed=failed, timeout=deadline, backoff=backoff,
        describe=lambda items: f"instance {name} is {state(items[0])} (waiting for {target}"
                               f"{' with a public IP' if need_public_ip else ''})",
    )[0]


def wait_for_instance_gone(client, name, deadline):
    """Wait until GetInstance answers NotFoundException (an empty poll ends the wait)."""
    wait_until(
        poll=lambda: [instance for instance in [get_instance(client, name)] if instance],
        done=lambda item: False, failed=lambda item: False, timeout=deadline, backoff=Backoff(**POWER_BACKOFF),
        describe=lambda items: f"instance {name} still exists",
    )


def describe_snapshot_state(snapshot_name, snapshot):
    return f"snapshot {snapshot_name} is {snapshot.get('state') if snapshot else 'gone'}"


def wait_for_snapshot_state(client, snapshot_name, deadline, done, failed=lambda item: False, new=False):
    """Poll GetInstanceSnapshot until ``done(snapshot)``; the snapshots of the last poll (none once it is gone, which
    ends the wait: a wait for deletion has ``done`` never true). ``failed`` ends it at once (WaitFailed).

    A ``new`` snapshot (this run just created it) that Lightsail does not show yet is pending, not gone; and pending is
    what the create answered, so the first read comes after the first interval, not at once.
    """
    read = just_created(lambda: get_instance_snapshot(client, snapshot_name),
                        NotVisibleYet(name=snapshot_name, state="not visible yet"), grace=VISIBILITY_GRACE_SECONDS if new else 0.0)
    return wait_until(
        poll=lambda: [snapshot for snapshot in [read()] if snapshot], done=done, failed=failed, timeout=deadline,
        describe=lambda items: "; ".join(describe_snapshot_state(snapshot_name, item) for item in items) or f"snapshot {snapshot_name} is gone",
        known=[NotVisibleYet(name=snapshot_name, state="pending")] if new else None,
    )


def lightsail_client(module):
    """The Lightsail client; retries live on our wrappers only, botocore's own would multiply them."""
    return module.client("lightsail", config={"retries": {"total_max_attempts": 1}})
