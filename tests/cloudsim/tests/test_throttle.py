# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request throttling: the token buckets in-process, then each service's throttling error on the wire."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import
from cloudsim.throttle import ThrottleRegistry, category_of


class FakeMonotonic:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticking():
    return FakeMonotonic()


def outcomes(registry, service, action, count):
    """``count`` calls: the error code of each refused one, None for each let through."""
    return [getattr(registry.take(service, action), "code", None) for _call in range(count)]


def test_a_burst_passes_then_calls_are_refused_until_tokens_come_back(ticking):
    registry = ThrottleRegistry(monotonic=ticking)
    registry.limit("ec2", rate=2, burst=3)
    assert outcomes(registry, "ec2", "CreateSnapshots", 4) == [None, None, None, "RequestLimitExceeded"]
    ticking.now += 0.5  # one token back at 2 per second
    assert outcomes(registry, "ec2", "CreateSnapshots", 2) == [None, "RequestLimitExceeded"]
    ticking.now += 60  # never more than the burst
    assert outcomes(registry, "ec2", "CreateSnapshots", 4) == [None, None, None, "RequestLimitExceeded"]
    assert registry.counters() == {"limits": [{"service": "ec2", "rate": 2.0, "burst": 3, "scope": "category", "status": 503,
                                               "code": "RequestLimitExceeded", "allowed": 7, "throttled": 3}]}


def test_reads_and_writes_have_their_own_buckets_unless_the_scope_is_the_service(ticking):
    registry = ThrottleRegistry(monotonic=ticking)
    registry.limit("ec2", rate=1, burst=1)
    assert outcomes(registry, "ec2", "CreateSnapshots", 2) == [None, "RequestLimitExceeded"]
    assert outcomes(registry, "ec2", "DescribeSnapshots", 2) == [None, "RequestLimitExceeded"]
    registry.limit("ec2", rate=1, burst=1, scope="service")
    assert outcomes(registry, "ec2", "CreateSnapshots", 1) == [None]
    assert outcomes(registry, "ec2", "DescribeSnapshots", 1) == ["RequestLimitExceeded"]
    assert (category_of("listSnapshots"), category_of("createSnapshot"), category_of("GetInstance")) == ("non-mutating", "mutating", "non-mutating")


def test_each_service_answers_its_own_throttling_error_and_others_are_not_throttled(ticking):
    registry = ThrottleRegistry(monotonic=ticking)
    for service in ("ec2", "lightsail", "volume"):
        registry.limit(service, rate=0.25, burst=1)
    answers = {}
    for service, action in (("ec2", "DescribeVolumes"), ("lightsail", "GetInstance"), ("volume", "showSnapshot")):
        registry.take(service, action)
        refused = registry.take(service, action)
        answers[service] = (refused.status, refused.code, refused.retry_after)
    assert answers == {"ec2": (503, "RequestLimitExceeded", 4), "lightsail": (400, "ThrottlingException", 4), "volume": (413, "overLimitFault", 4)}
    assert outcomes(registry, "compute", "showServer", 5) == [None] * 5


def test_limits_are_checked_and_can_be_turned_off(ticking):
    registry = ThrottleRegistry(monotonic=ticking)
    for bad in ({"service": "s3", "rate": 1, "burst": 1}, {"service": "ec2", "rate": 0, "burst": 1},
                {"service": "ec2", "rate": 1, "burst": 0}, {"service": "ec2", "rate": 1, "burst": 1, "scope": "action"}):
        with pytest.raises(ValueError):
            registry.limit(**bad)
    registry.limit("ec2", rate=1, burst=1)
    registry.limit("lightsail", rate=1, burst=1)
    registry.clear("ec2")
    assert [limit["service"] for limit in registry.counters()["limits"]] == ["lightsail"]
    assert outcomes(registry, "ec2", "DescribeVolumes", 3) == [None] * 3
    registry.clear()
    assert registry.counters() == {"limits": []}


def test_ec2_throttling_is_a_503_request_limit_exceeded_in_the_journal_and_reset_turns_it_off(fresh, ec2_client_factory):
    ec2 = ec2_client_factory(1)
    fresh.throttle("ec2", rate=0.01, burst=1)
    ec2.describe_volumes()
    with pytest.raises(ClientError) as refused:
        ec2.describe_volumes()
    error = refused.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (503, "RequestLimitExceeded")
    assert [(entry["status"], entry["error_code"]) for entry in fresh.journal(action="DescribeVolumes")] == [(200, None), (503, "RequestLimitExceeded")]
    assert [(limit["allowed"], limit["throttled"]) for limit in fresh.throttle_counters()] == [(1, 1)]
    fresh.reset()
    assert fresh.throttle_counters() == []
    ec2.describe_volumes()


def test_lightsail_throttling_is_botocores_throttling_exception(lightsail_frozen, lightsail):
    lightsail_frozen.throttle("lightsail", rate=0.01, burst=1)
    lightsail.get_instances()
    with pytest.raises(ClientError) as refused:
        lightsail.get_instances()
    error = refused.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (400, "ThrottlingException")
    assert lightsail_frozen.journal(action="GetInstances")[-1]["error_code"] == "ThrottlingException"
    lightsail_frozen.throttle_off("lightsail")
    lightsail.get_instances()


def test_an_injected_openstack_429_asks_for_a_wait_as_the_real_one_does(openstack_frozen, openstack_conn):
    volume_id = openstack_frozen.seed_server(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    openstack_conn.block_storage.get_volume(volume_id)  # authenticated before the faults
    openstack_frozen.inject_fault("volume", "showVolume", "overLimit", status=429)
    openstack_frozen.inject_fault("volume", "showVolume", "overLimit", status=429, retry_after=7)
    openstack_frozen.inject_fault("volume", "showVolume", "itemNotFound", status=404)
    answers = [openstack_conn.block_storage.get(f"/volumes/{volume_id}") for _attempt in range(3)]
    assert [answer.headers.get("Retry-After") for answer in answers] == ["1", "7", None]
    assert answers[1].json()["overLimit"]["retryAfter"] == "7"
    assert "retryAfter" not in answers[2].json()["itemNotFound"]


def test_a_fault_with_a_retry_after_that_is_not_whole_seconds_is_refused(fresh):
    for bad in (-1, 1.5, "soon", 3601):
        with pytest.raises(Exception, match="retry_after must be whole seconds"):
            fresh.inject_fault("volume", "showVolume", "overLimit", status=429, retry_after=bad)
    assert fresh.faults() == []
