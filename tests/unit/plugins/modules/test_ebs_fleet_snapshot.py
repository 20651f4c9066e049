# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ebs_fleet_snapshot's input rules, its argument spec against its documentation, and the pool and rate pieces it uses."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import RateLimitedClient
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import TokenBucket
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import run_bounded
from ansible_collections.snapkit.cloud.plugins.modules import ebs_fleet_snapshot as module


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(instance_ids=["i-0123456789abcdef0"])
    values.update(overrides)
    return values


def test_valid_input_passes():
    module.validate(params(set_name="nightly", tags={"Team": "x"}))
    module.validate(params(instance_ids=None, filters={"tag:Backup": "nightly"}, state="absent", set_name="old"))


@pytest.mark.parametrize("overrides, field", [
    ({"instance_ids": None}, "filters, instance_ids"),
    ({"filters": {"tag:Backup": "x"}}, "filters, instance_ids"),
    ({"instance_ids": None, "filters": {}}, "filters"),
    ({"instance_ids": []}, "instance_ids"),
    ({"instance_ids": ["i-1"]}, "instance_ids"),
    ({"state": "absent"}, "set_name"),
    ({"max_concurrency": 0}, "max_concurrency"),
    ({"max_concurrency": 101}, "max_concurrency"),
    ({"request_rate": -1.0}, "request_rate"),
    ({"request_burst": 0}, "request_burst"),
    ({"set_name": "semi;colon"}, "set_name"),
    ({"exclude_data_volume_ids": ["vol-xyz"]}, "exclude_data_volume_ids"),
    ({"description": "x" * 256}, "description"),
    ({"wait_timeout": 0}, "wait_timeout"),
    ({"tags": {"snapkit:mine": "v"}}, "tags"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError) as caught:
        module.validate(params(**overrides))
    assert str(caught.value).startswith(field + ":")


class Clock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_lets_a_burst_through_then_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=5, capacity=3, sleep=clock.sleep, monotonic=clock.monotonic)
    for _burst in range(3):
        bucket.take()
    assert clock.now == 0.0, "the burst goes out at once"
    for _second in range(5):
        bucket.take()
    assert clock.now == pytest.approx(1.0), "then 5 per second"


def test_run_bounded_never_exceeds_its_workers_and_keeps_the_order():
    lock, running, peak = threading.Lock(), [0], [0]
    release = threading.Event()

    def work(item):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(0.05)
        with lock:
            running[0] -= 1
        return item * 2

    assert run_bounded(work, range(10), 3) == [n * 2 for n in range(10)]
    assert peak[0] == 3
    assert run_bounded(work, [], 3) == []


def test_rate_limited_client_takes_a_token_for_the_named_calls_only():
    taken = []

    class Bucket:
        def take(self):
            taken.append(1)

    class Client:
        def create_snapshots(self, **kwargs):
            return kwargs

        def describe_snapshots(self):
            return "read"

    client = RateLimitedClient(Client(), Bucket(), ["create_snapshots"])
    assert client.create_snapshots(InstanceSpecification={"InstanceId": "i-1"}) == {"InstanceSpecification": {"InstanceId": "i-1"}}
    assert client.describe_snapshots() == "read"
    assert len(taken) == 1


def test_each_call_that_changes_something_has_a_bucket_of_its_own_as_ec2_meters_them():
    # EC2's default request-rate limits (bucket maximum capacity, refill per second), one bucket per API.
    buckets = module.request_buckets(5.0, 100)
    assert {action: (bucket.capacity, bucket.rate) for action, bucket in buckets.items()} == {
        "create_snapshots": (100, 5.0), "delete_snapshot": (100, 5.0), "create_tags": (100, 10.0), "delete_tags": (100, 10.0),
        "stop_instances": (50, 5.0), "start_instances": (5, 2.0)}
    # The options set CreateSnapshots' bucket; the others follow in the same proportion.
    halved = module.request_buckets(2.5, 50)
    assert (halved["create_tags"].capacity, halved["create_tags"].rate) == (50, 5.0)
    assert (halved["start_instances"].capacity, halved["start_instances"].rate) == (2, 1.0)
    assert params()["request_burst"] == 100 and params()["request_rate"] == 5.0


def test_a_call_takes_a_token_of_its_own_bucket_only():
    taken = []

    class Bucket:
        def __init__(self, name):
            self.name = name

        def take(self):
            taken.append(self.name)

    class Client:
        def create_snapshots(self):
            return "created"

        def create_tags(self):
            return "tagged"

    client = RateLimitedClient(Client(), {"create_snapshots": Bucket("snapshots"), "create_tags": Bucket("tags")})
    assert (client.create_snapshots(), client.create_tags(), client.create_tags()) == ("created", "tagged", "tagged")
    assert taken == ["snapshots", "tags", "tags"]
