# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared pieces of the snapkit.cloud AWS modules: the module class, retry policy, tags and input rules."""

from __future__ import annotations

import re

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import SnapkitModule

COLLECTION_NAME = "snapkit.cloud"
COLLECTION_VERSION = "0.1.0"

# Every tag key the collection writes starts with this prefix; users may not set such keys.
TAG_PREFIX = "snapkit:"
# EC2 allows 50 user tags per resource (keys starting with aws: are reserved and do not count).
MAX_TAGS_PER_RESOURCE = 50
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256


def throttling_retry(extra_codes=None):
    """The jittered backoff applied to each of our AWS call wrappers (throttling, 5xx and their kin).

    The same policy amazon.aws applies to its own wrappers, which we reuse where they exist, so every
    call a module makes retries alike. Retries live on the wrapper, never on the client as well,
    so a throttled call is not retried twice over.
    """
    return AWSRetry.jittered_backoff(retries=10, delay=3, backoff=2.0, max_delay=60, catch_extra_error_codes=extra_codes)


def error_code(error):
    """The AWS error code behind an AnsibleAWSError, or None for a connection-level failure."""
    response = getattr(getattr(error, "exception", None), "response", None) or {}
    return response.get("Error", {}).get("Code")


NO_REGION = ("No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) in the environment, or the region option "
             "(module_defaults of group/snapkit.cloud.aws for every module of a play)")


class SnapkitAWSModule(SnapkitModule, AnsibleAWSModule):
    """AnsibleAWSModule that names this collection in the User-Agent, like community.aws does, and ends a run as every
    snapkit module does (``_module.run_module``).

    ``subject`` (what the task is about: a string, or a callable when the run learns it, such as a generated name) goes
    before the message of an AWS error, whose failed call does not name it; ``gave_up_wording`` is the message of a wait
    that gave up.
    """

    subject = None
    gave_up_wording = "Gave up after wait_timeout={timeout} seconds: {error}"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def client(self, service, retry_decorator=None, **extra_params):
        # botocore's NoRegionError would come back naming the module, which a role's user never called.
        if not extra_params.get("region") and not self.region:
            self.fail_json(msg=NO_REGION)
        return super().client(service, retry_decorator=retry_decorator, **extra_params)

    def api_errors(self):
        return (AnsibleAWSError,)

    def fail_api(self, error, result):
        about = self.subject() if callable(self.subject) else self.subject
        self.fail_json_aws(error.exception or error, msg=f"{about}: {error.message}" if about else error.message, **result)

    def gave_up(self, error):
        return self.gave_up_wording.format(timeout=self.params.get("wait_timeout"), error=error)


class RateLimitedClient:
    """A boto3 client whose calls named in ``actions`` each take a token from ``bucket`` first (a _wait.TokenBucket),
    so that many threads sharing it stay within the service's request rate. ``bucket`` may also be ``{action: bucket}``
    (``actions`` then left out): EC2 meters each API with a bucket of its own. Every other attribute is the client's."""

    def __init__(self, client, bucket, actions=None):
        self._client = client
        self._buckets = dict(bucket) if isinstance(bucket, dict) else dict.fromkeys(actions, bucket)

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        bucket = self._buckets.get(name)
        if bucket is None:
            return attribute

        def limited(*args, **kwargs):
            bucket.take()
            return attribute(*args, **kwargs)

        return limited


def check_pattern(field, value, pattern, rule):
    """Raise InputError naming ``field`` unless ``value`` matches ``pattern`` entirely."""
    if value is not None and not re.fullmatch(pattern, value):
        raise InputError(f"{field}: {value!r} is not valid: {rule}")


INSTANCE_ID_PATTERN = r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})"
VOLUME_ID_PATTERN = r"vol-(?:[0-9a-f]{8}|[0-9a-f]{17})"
SNAPSHOT_ID_PATTERN = r"snap-(?:[0-9a-f]{8}|[0-9a-f]{17})"


def check_user_tags(field, tags, reserved_count):
    """Check user tags against EC2's rules, leaving room for ``reserved_count`` tags of our own."""
    tags = tags or {}
    for key, value in tags.items():
        if not key:
            raise InputError(f"{field}: tag keys may not be empty")
        if len(key) > MAX_TAG_KEY_LENGTH:
            raise InputError(f"{field}: tag key {key[:40]!r}... is longer than {MAX_TAG_KEY_LENGTH} characters")
        if key.lower().startswith("aws:"):
            raise InputError(f"{field}: tag key {key!r} uses the prefix 'aws:', which AWS reserves")
        if key.startswith(TAG_PREFIX):
            raise InputError(f"{field}: tag key {key!r} uses the prefix {TAG_PREFIX!r}, which this collection reserves")
        if value is None or len(str(value)) > MAX_TAG_VALUE_LENGTH:
            raise InputError(f"{field}: the value of tag {key!r} must be a string of at most {MAX_TAG_VALUE_LENGTH} characters")
    allowed = MAX_TAGS_PER_RESOURCE - reserved_count
    if len(tags) > allowed:
        raise InputError(
            f"{field}: {len(tags)} tags given, at most {allowed} are allowed "
            f"(EC2 allows {MAX_TAGS_PER_RESOURCE} per resource and this module adds {reserved_count})"
        )


def aws_error_text(error):
    """The text of a failure for a message: an AWS error's wrapper description and botocore's message (the action and
    the error code), anything else's own text."""
    if isinstance(error, AnsibleAWSError):
        return f"{error.message}: {error.exception}" if error.exception is not None else error.message
    return str(error)


def best_effort(warnings, call, what):
    """Make ``call()``; when AWS refuses, append ``what`` and the error code to ``warnings`` and go on.

    For calls whose failure must not stop the module (a marker tag, say): returns True when the call went through.
    """
    try:
        call()
    except AnsibleAWSError as error:
        warnings.append(what(error_code(error) or error) if callable(what) else f"{what} ({error_code(error) or error})")
        return False
    return True
