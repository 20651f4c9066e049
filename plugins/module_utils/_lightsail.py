# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Lightsail API wrappers: one function per API call, each with retries and an error handler.

amazon.aws has no Lightsail helpers, so every call we use is wrapped here. Lightsail tags are
lists of lowercase ``key``/``value`` pairs (EC2 uses ``Key``/``Value``).
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import throttling_retry

# AWSRetry's defaults know EC2's throttling codes ("Throttling", "RequestLimitExceeded") but not
# the JSON services' "ThrottlingException", which is what Lightsail answers when throttled.
LIGHTSAIL_THROTTLING_CODES = ["ThrottlingException"]


def lightsail_retry():
    """The collection's jittered backoff, plus Lightsail's throttling code (not among AWSRetry's defaults)."""
    return throttling_retry(extra_codes=LIGHTSAIL_THROTTLING_CODES)


class LightsailErrorHandler(AWSErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NotFoundException")


def error_message(error):
    response = getattr(getattr(error, "exception", None), "response", None) or {}
    return response.get("Error", {}).get("Message") or ""


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


@LightsailErrorHandler.common_error_handler("tag resource {name}")
@lightsail_retry()
def tag_resource(client, name, tags):
    """TagResource: adds or overwrites these tags, leaving the others alone."""
    return client.tag_resource(resourceName=name, tags=tag_list(tags))["operations"]
