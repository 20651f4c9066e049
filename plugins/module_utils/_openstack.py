# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The OpenStack module class and one wrapper per API call, each with retries.

The auth options, the connection (clouds.yaml, ``OS_*`` variables, ``auth`` dicts) and their
documentation come from openstack.cloud's ``OpenStackModule`` (2.6.0 and later: earlier releases
read ``openstack.version``, which openstacksdk >= 4.15 no longer imports). What we add:

* a longer default ``timeout`` (snapshots of real disks take minutes to hours);
* retries of transient answers (409 busy, 429, 502, 503, 504, and Cinder's rate limiter's 413 with ``Retry-After``;
  a proxy's 429 may come without one) until the module's deadline, never sooner than a ``Retry-After`` header asks,
  and of 500 a few times, each attempt re-reading state first where a retried
  create could otherwise make a duplicate; Keystone's answers (token, version discovery) too, which reach us as
  keystoneauth errors;
* retries of calls that got no answer (the connection refused or reset, a read timeout: keystoneauth's
  ``ConnectFailure`` and ``ConnectTimeout``) as many times as botocore retries EC2's: every call that goes through
  ``OpenStackApi.call`` is safe to send again (reads; deletes that ignore a missing resource; creates that look
  for what an earlier attempt made before they send again);
* errors that name the resource, its state and the HTTP status, never a bare SDK traceback.
"""

from __future__ import annotations

from ansible_collections.openstack.cloud.plugins.module_utils.openstack import OpenStackModule

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import SnapkitModule
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitTimeout
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import deadline_retry
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

import datetime
import email.utils
import functools
import importlib
import re

# ``except api_errors()`` catches the exception classes of openstacksdk and keystoneauth, imported when first needed
# (exceptions_of): pylint cannot see that they are exceptions.
# pylint: disable=catching-non-exception,bad-exception-cause

DEFAULT_TIMEOUT = 1800
# 409: the server or volume is busy with another task; 429: rate limited; 5xx: the API is overloaded.
TRANSIENT_STATUS = (409, 429, 502, 503, 504)
# 500: often a lost database connection or message-bus timeout that the next attempt does not meet, but also the
# answer to a bug that every attempt meets: retried a few times only, not until the deadline.
SERVER_ERROR_STATUS = 500
SERVER_ERROR_RETRIES = 2
# A Retry-After longer than this is taken as this: a misconfigured limit must not park a run for an hour between two
# attempts (the deadline still applies).
RETRY_AFTER_CAP = 120.0
# Attempts of a call whose connection failed, the first included, as botocore makes for EC2 (legacy retry mode).
CONNECTION_ATTEMPTS = 5


@functools.lru_cache(maxsize=None)
def exceptions_of(package):
    """``<package>.exceptions``, imported when first needed (openstacksdk's import costs half a second, which a module
    that fails its input checks or runs in check mode need not pay), or None when the package is missing: that is
    reported by OpenStackModule, which fails cleanly without openstacksdk."""
    try:
        return importlib.import_module(f"{package}.exceptions")
    except ImportError:
        return None


def api_errors():
    """The exception classes of a failed API call: openstacksdk's, and keystoneauth's for authentication (token,
    Keystone version discovery)."""
    return tuple(errors for errors in (getattr(exceptions_of("openstack"), "SDKException", None),
                                       getattr(exceptions_of("keystoneauth1"), "ClientException", None))
                 if errors is not None)


def error_chain(error, depth=5):
    """``error`` and the errors it came from (keystoneauth's DiscoveryFailure wraps the HTTP error it met)."""
    while error is not None and depth > 0:
        yield error
        error, depth = error.__cause__ or error.__context__, depth - 1


def http_status(error):
    """The HTTP status of an API error, also when it is the cause of another."""
    for link in error_chain(error):
        status = getattr(link, "status_code", None) or getattr(link, "http_status", None)
        if status:
            return status
    return None


def asked_wait(error):
    """The seconds a ``Retry-After`` header of the answer (or of its cause) asks the client to wait, at most
    RETRY_AFTER_CAP; None when there is none. Cinder's rate limiter sends it with its 413, rate-limiting proxies often
    send none with their 429: retrying sooner than asked is refused again. The header holds seconds or an HTTP date (RFC 9110, 10.2.3)."""
    for link in error_chain(error):
        value = (getattr(getattr(link, "response", None), "headers", None) or {}).get("Retry-After")
        if value:
            return retry_after_seconds(value)
    return None


def retry_after_seconds(value, now=None):
    """A ``Retry-After`` value in seconds from ``now`` (0 for a date in the past), at most RETRY_AFTER_CAP; None when it
    is neither a number nor a date."""
    value = str(value).strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # "-0000": UTC, with no claim about the local zone (RFC 5322, 3.3)
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        now = now or datetime.datetime.now(datetime.timezone.utc)
        seconds = max(0.0, (moment - now).total_seconds())
    return min(seconds, RETRY_AFTER_CAP)


def is_rate_limited(error):
    """Cinder's rate limiter answers 413 with a ``Retry-After`` header (``overLimitFault``, cinder/api/openstack/wsgi.py);
    a 413 without one is a quota or a size limit, which waiting does not lift."""
    return http_status(error) == 413 and asked_wait(error) is not None


def is_transient(error):
    return isinstance(error, api_errors()) and (http_status(error) in TRANSIENT_STATUS or is_rate_limited(error))


def is_connection_failure(error):
    """No answer came: keystoneauth's retriable connection failures (refused, reset: ``ConnectFailure``; a connect or
    read timeout: ``ConnectTimeout``), which openstacksdk passes on as they are, also as the cause of another error
    (Keystone's version discovery raises ``DiscoveryFailure`` over it). TLS errors are not among them."""
    keystone_exceptions = exceptions_of("keystoneauth1")
    return keystone_exceptions is not None and any(isinstance(link, keystone_exceptions.RetriableConnectionFailure)
                                                   for link in error_chain(error))


def retry_policy():
    """``should_retry`` for one call: transient answers until the deadline, 500 up to SERVER_ERROR_RETRIES times, a
    failed connection until CONNECTION_ATTEMPTS attempts have been made."""
    server_errors = []
    lost_connections = []

    def should_retry(error):
        if is_connection_failure(error):
            lost_connections.append(error)
            return len(lost_connections) < CONNECTION_ATTEMPTS
        if isinstance(error, api_errors()) and http_status(error) == SERVER_ERROR_STATUS:
            server_errors.append(error)
            return len(server_errors) <= SERVER_ERROR_RETRIES
        return is_transient(error)
    return should_retry


def is_not_found(error):
    sdk_exceptions = exceptions_of("openstack")
    return sdk_exceptions is not None and isinstance(error, sdk_exceptions.NotFoundException)


def describe_error(what, error):
    """``what`` failed, with the HTTP status and the API's own message."""
    status = http_status(error)
    details = getattr(error, "details", None) or str(error)
    message = f"{what} failed"
    if status:
        message += f" (HTTP {status})"
    message += f": {details}"
    if status == 413 and is_rate_limited(error):
        message += " - rate-limited (Retry-After) until the timeout ran out; retry later."
    elif status == 413:
        message += " - the project is over its quota: delete unused snapshots or ask for a higher quota."
    elif status == 403:
        message += " - refused: the project is over its quota, or the cloud's policy does not allow this call to your role."
    elif status in TRANSIENT_STATUS:
        message += " - still refused when the timeout ran out; retry later."
    elif status == SERVER_ERROR_STATUS:
        message += f" - the same after {SERVER_ERROR_RETRIES} retries."
    elif is_connection_failure(error):
        message += f" - no answer in {CONNECTION_ATTEMPTS} attempts: check that the cloud's endpoint is reachable."
    return message


# Where openstacksdk looks for clouds.yaml (clouds.yml and clouds.json beside each), the first file found being read.
CLOUDS_YAML_PLACES = "OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml"


def unknown_cloud(name):
    """A message naming the clouds found and the file read when ``name`` (a clouds.yaml cloud) is not among them, else None."""
    if not isinstance(name, str) or not name:
        return None
    try:
        config = importlib.import_module("openstack.config.loader").OpenStackConfig()
        names = config.get_cloud_names()
    except Exception:  # pylint: disable=broad-exception-caught
        return None  # a broken file: openstacksdk's own error says more when it connects
    if name in names:
        return None
    found = [cloud for cloud in names if cloud != "defaults"]
    where = f"read {config.config_filename}" if config.config_filename else "no clouds.yaml found"
    return (f"OpenStack cloud {name!r} was not found: the clouds found are {', '.join(repr(cloud) for cloud in found) or 'none'} "
            f"({where}; looked in {CLOUDS_YAML_PLACES}, the first file found is read; 'envvars' is the cloud of OS_* variables).")


class SnapkitOpenStackModule(SnapkitModule, OpenStackModule):
    """openstack.cloud's module base with our default timeout and error reporting.

    Subclasses set ``argument_spec`` / ``module_kwargs`` and implement ``run()`` returning the result.
    """

    common_spec = dict(timeout=dict(type="int", default=DEFAULT_TIMEOUT))

    def __init__(self):
        self.argument_spec = dict(self.common_spec, **self.argument_spec)
        super().__init__()
        # The one deadline of the run: every call's retries and every wait share the task's ``timeout``.
        self.api = OpenStackApi(self.conn, Deadline(self.params["timeout"]))

    def openstack_cloud_from_module(self):
        # openstacksdk's own answer to an unknown name is "Cloud X was not found.": say which clouds and file it read.
        unknown = unknown_cloud(self.params.get("cloud"))
        if unknown:
            self.fail_json(msg=unknown)
        return super().openstack_cloud_from_module()

    def __call__(self):
        result = {}

        def work():
            # First, in a retried call: the service proxies (conn.compute...) authenticate when first touched, which
            # happens while a wrapper's arguments are evaluated, outside its retries.
            self.check_timeout()
            self.check_arguments()
            self.api.authorize()
            result.update(self.run())

        run_module(self, result, work)

    @property
    def _diff(self):
        return self.ansible._diff  # pylint: disable=protected-access

    def api_errors(self):
        return api_errors()

    def fail_api(self, error, result):
        self.fail_run(describe_error("An OpenStack API call", error), result)

    def check_timeout(self):
        if self.params["timeout"] <= 0:
            raise InputError(f"timeout: must be a positive number of seconds, got {self.params['timeout']}")

    def check_arguments(self):
        """Checks the argument spec cannot express, before any API call (raise InputError)."""

    def failure_context(self):
        """``(prefix, name)``: what the run works on (the resource as the user named it, and its state once known) is put
        before a failure message that does not contain ``name``: a refused call deep in the run names only the id of
        what it was about."""
        return None

    def partial_result(self):
        """What the run has made so far: returned with any failure, so that nothing made goes unreported."""
        return {}

    def fail_run(self, message, result):
        context = self.failure_context()
        if context and context[1] and context[1] not in message:
            message = f"{context[0]}: {message}"
        self.fail_json(msg=message, **dict(self.partial_result(), **result))


UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def is_uuid(text):
    """Nova's, Cinder's and Glance's ids are UUIDs (with or without dashes, as oslo's ``is_uuid_like`` takes them)."""
    return isinstance(text, str) and bool(UUID_PATTERN.match(text))


class OpenStackApi:
    """One wrapper per API call; transient errors are retried until ``timeout`` (the task's Deadline) has passed."""

    def __init__(self, conn, timeout, backoff=None):
        self.conn = conn
        self.timeout = timeout
        self.backoff = backoff

    def call(self, what, function, *args, **kwargs):
        try:
            return deadline_retry(lambda: function(*args, **kwargs), retry_policy(), self.timeout, backoff=self._new_backoff(),
                                  asked_wait=asked_wait)
        except api_errors() as error:
            raise ModuleFailure(describe_error(what, error)) from error

    def authorize(self):
        """A token from Keystone (version discovery, then the token request)."""
        return self.call("Authenticating with Keystone", self.conn.authorize)

    def get_or_none(self, what, getter, resource_id):
        """``getter(resource_id)``, or None when the resource does not exist (any more)."""
        def attempt():
            try:
                return getter(resource_id)
            except api_errors() as error:
                if is_not_found(error):
                    return None
                raise
        return self.call(what, attempt)

    @staticmethod
    def _strict(find):
        """``find`` raising NotFound: openstacksdk deprecates ``ignore_missing`` on find_* (its default flips in 6.0)."""
        return lambda name_or_id: find(name_or_id, ignore_missing=False)

    def _new_backoff(self):
        return self.backoff() if self.backoff else None

    def wait(self, poll, done, failed, describe):
        """The shared wait engine over ``poll`` (whose reads go through the retrying wrappers); running out of time
        names the option that sets it."""
        try:
            return wait_until(poll, done, failed, self.timeout, describe, backoff=Backoff(initial=1.0, factor=1.5, cap=10.0))
        except WaitTimeout as error:
            seconds = getattr(self.timeout, "seconds", self.timeout)
            raise WaitTimeout(f"gave up at timeout={seconds} seconds, {describe(error.items)}; what was made is left as it is: "
                              "run the task again with a longer timeout to wait for it", error.items, error.pending) from None

    # Nova -------------------------------------------------------------------------------------

    def find_server(self, name_or_id):
        """The server with this id or name (its full detail), or None.

        Nova's server ids are UUIDs: a name that is not one is only looked up in the list (openstacksdk's ``find_server``
        first asks for it as an id, one 404 more). The list's ``name`` filter is a regular expression in Nova: the exact
        name is picked from what it returns, and several servers of that name are an error naming them.
        """
        if is_uuid(name_or_id):
            server = self.get_or_none(f"Reading server {name_or_id}", self.conn.compute.get_server, name_or_id)
            if server is not None:
                return server
        found = [server for server in self.call(f"Looking up server {name_or_id!r}",
                                                lambda: list(self.conn.compute.servers(details=True, name=name_or_id)))
                 if server.name == name_or_id]
        if len(found) > 1:
            raise ModuleFailure(f"Looking up server {name_or_id!r} failed: {len(found)} servers have that name "
                                f"({', '.join(server.id for server in found)}); give the server's id instead")
        return found[0] if found else None

    def get_server(self, server_id):
        return self.call(f"Reading server {server_id}", self.conn.compute.get_server, server_id)

    def volume_attachments(self, server_id):
        return list(self.call(f"Listing the volume attachments of server {server_id}",
                              lambda: list(self.conn.compute.volume_attachments(server_id))))

    def find_flavor(self, name_or_id):
        return self.get_or_none(f"Looking up flavor {name_or_id!r}", self._strict(self.conn.compute.find_flavor), name_or_id)

    def flavor_named(self, name):
        """The flavor of this name (Nova keeps flavor names unique), or None: one list of the flavors this project can use,
        public and private, without openstacksdk's ``find_flavor`` attempt to read the name as an id first."""
        flavors = self.call(f"Looking up flavor {name!r}", lambda: list(self.conn.compute.flavors(details=False, is_public=None)))
        return next((flavor for flavor in flavors if flavor.name == name), None)

    def create_server_image(self, server_id, name, metadata):
        """Nova createImage, then the Glance image it made (openstacksdk reads the id from the body at 2.45+).

        The action itself is not retried here: the caller retries it after looking for the image (``create_unless_found``).
        The read after it is retried on its own, so that a lost read never sends a second createImage; openstacksdk's
        ``create_server_image`` cannot be used for this: it reads the image through the cloud layer, which answers None
        to a refused read.
        """
        from openstack.compute.v2.server import Server  # pylint: disable=import-outside-toplevel
        image_id = Server(id=server_id).create_image(self.conn.compute, name, metadata=metadata or None)
        return self.call(f"Reading image {image_id} that createImage {name!r} of server {server_id} made", self.conn.image.get_image, image_id)

    # Nova: server power and metadata (os_instance_state) ---------------------------------------

    # Nova's power tasks and the status each leads to; the vm_state each power action leads to (nova/compute/task_states.py,
    # vm_states.py).
    POWER_TASKS = {"powering-off": "SHUTOFF", "powering-on": "ACTIVE"}
    POWER_ACTION_VM_STATE = {"stop": "stopped", "start": "active"}

    def server_power_action(self, server_id, action):
        """``os-stop`` (``action="stop"``) or ``os-start`` (``"start"``): True when Nova accepted it, False when Nova
        answered that the server is already where the action leads (409 "... in vm_state stopped" to a stop, "active" to
        a start: another client got there first).

        Nova refuses both while the server has a task (nova/compute/api.py ``check_instance_state``: 409 "Cannot 'start'
        instance ... while it is in task_state image_uploading"): retried here until the timeout, as the other transient
        answers are. Any other 409 (another vm_state, a locked server, one not on a host yet) fails at once: waiting does
        not change it."""
        what = f"{'Stopping' if action == 'stop' else 'Starting'} server {server_id} (os-{action})"
        send = self.conn.compute.stop_server if action == "stop" else self.conn.compute.start_server

        def attempt():
            try:
                send(server_id)
                return True
            except api_errors() as error:
                details = str(getattr(error, "details", None) or error)
                if http_status(error) != 409 or "in task_state" in details:
                    raise
                if f"in vm_state {self.POWER_ACTION_VM_STATE[action]}" in details:
                    return False
                raise ModuleFailure(f"{what} failed (HTTP 409): {details}") from error
        return self.call(what, attempt)

    def power_settled(self, server):
        """Neither building nor stopping or starting: Nova refuses a stop or start meanwhile."""
        return server.status != "BUILD" and server.task_state not in self.POWER_TASKS

    def wait_for_server(self, server_id, done, waiting_for):
        """Wait until ``done(server)``; fail at once when the server is ``ERROR`` with no task (Nova gave up)."""
        return self.wait(lambda: [self.get_server(server_id)], done, lambda server: server.status == "ERROR" and not server.task_state,
                         lambda servers: ", ".join(f"server {item.id} is {item.status}" + (f" ({item.task_state})" if item.task_state else "")
                                                   + f", waiting until {waiting_for}" for item in servers))[0]

    def set_server_metadata(self, server_id, metadata):
        """Add or update these items (Nova ``POST /servers/{id}/metadata``: the others stay)."""
        return self.call(f"Setting metadata {', '.join(sorted(metadata))} of server {server_id}",
                         lambda: self.conn.compute.set_server_metadata(server_id, **metadata))

    def delete_server_metadata_item(self, server_id, key):
        """Delete one item; an item that is gone already is no error."""
        return self.get_or_none(f"Deleting metadata {key} of server {server_id}",
                                lambda _key: self.conn.compute.delete_server_metadata(server_id, [_key]), key)

    # Cinder -----------------------------------------------------------------------------------

    def find_volume(self, name_or_id):
        return self.get_or_none(f"Looking up volume {name_or_id!r}", self._strict(self.conn.block_storage.find_volume), name_or_id)

    def get_volume(self, volume_id):
        return self.call(f"Reading volume {volume_id}", self.conn.block_storage.get_volume, volume_id)

    def volume_snapshots(self, volume_id, name=None):
        """Snapshots of one volume (Cinder filters by ``volume_id``): never a project-wide name match."""
        query = {"volume_id": volume_id}
        if name is not None:
            query["name"] = name
        snapshots = self.call(f"Listing the snapshots of volume {volume_id}", lambda: list(self.conn.block_storage.snapshots(**query)))
        # Filter again: a Cinder that ignores a filter must not make us act on another volume's snapshot.
        return [item for item in snapshots if item.volume_id == volume_id and (name is None or item.name == name)]

    def project_volumes(self):
        return self.call("Listing the project's volumes", lambda: list(self.conn.block_storage.volumes()))

    def project_snapshots(self):
        return self.call("Listing the project's volume snapshots", lambda: list(self.conn.block_storage.snapshots()))

    def get_snapshot(self, snapshot_id):
        return self.call(f"Reading volume snapshot {snapshot_id}", self.conn.block_storage.get_snapshot, snapshot_id)

    def find_snapshot_by_id(self, snapshot_id):
        return self.get_or_none(f"Reading volume snapshot {snapshot_id}", self.conn.block_storage.get_snapshot, snapshot_id)

    def create_snapshot(self, volume_id, name, description, metadata, force):
        attrs = {"volume_id": volume_id, "name": name}
        if description is not None:
            attrs["description"] = description
        if metadata:
            attrs["metadata"] = metadata
        if force is not None:
            attrs["is_forced"] = force
        return self.conn.block_storage.create_snapshot(**attrs)

    def delete_snapshot(self, snapshot_id):
        return self.call(f"Deleting volume snapshot {snapshot_id}", self.conn.block_storage.delete_snapshot, snapshot_id, ignore_missing=True)

    def snapshot_microversion(self):
        """The microversion openstacksdk uses for snapshot creation, or None when unknown."""
        from openstack import utils  # pylint: disable=import-outside-toplevel
        from openstack.block_storage.v3.snapshot import Snapshot  # pylint: disable=import-outside-toplevel
        client_maximum = getattr(Snapshot, "_max_microversion", None)
        try:
            return utils.maximum_supported_microversion(self.conn.block_storage, client_maximum)
        except api_errors():
            return None

    # Glance and Neutron ------------------------------------------------------------------------

    def find_image_by_id(self, image_id):
        return self.get_or_none(f"Reading image {image_id}", self.conn.image.get_image, image_id)

    def images_named(self, name):
        return self.call(f"Listing images named {name!r}", lambda: list(self.conn.image.images(name=name)))

    def delete_image(self, image_id):
        return self.call(f"Deleting image {image_id}", self.conn.image.delete_image, image_id, ignore_missing=True)

    def server_ports(self, server_id):
        return self.call(f"Listing the ports of server {server_id}", lambda: list(self.conn.network.ports(device_id=server_id)))

    def get_network(self, network_id):
        return self.call(f"Reading network {network_id}", self.conn.network.get_network, network_id)
