# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack simulator: how a rate limit answers, checked with openstacksdk's raw adapters.

Cinder's own limiter (cinder/api/middleware/rate_limit.py) answers 413 ``overLimitFault`` with ``Retry-After``
(cinder/api/openstack/wsgi.py ``OverLimitFault``); a rate-limiting proxy in front of any service answers 429 with a
page of its own and no ``Retry-After``.
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import pytest

from cloudsim.openstack.simulator import PROXY_THROTTLED
from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import


def limited_get(conn, service):
    """A GET of ``service`` through openstacksdk's adapter (``volume``: Cinder, ``compute``: Nova)."""
    adapter = conn.block_storage if service == "volume" else conn.compute
    return adapter.get("/volumes" if service == "volume" else "/servers")


# The throttled service's answer; the other service is not limited.
THROTTLED_ANSWERS = {
    # Cinder's limiter: 413 overLimitFault with the limit's text.
    "volume": (413, lambda retry_after: {"overLimitFault": {"code": 413, "message": "This request was rate-limited.",
                                                              "details": "Only 1 GET request(s) can be made to * every second."}}),
    # A limiter in front of Nova answering as Nova's old RateLimitFault did: 429 overLimit with retryAfter.
    "compute": (429, lambda retry_after: {"overLimit": {"code": 429, "message": "This request was rate-limited.",
                                                         "retryAfter": retry_after}}),
}


@pytest.mark.parametrize("service", sorted(THROTTLED_ANSWERS))
def test_a_throttled_service_answers_its_own_limit_with_retry_after(openstack_frozen, openstack_conn, service):
    other = "compute" if service == "volume" else "volume"
    limited_get(openstack_conn, service)  # authenticated before the limit
    openstack_frozen.throttle(service, rate=0.1, burst=1)
    assert limited_get(openstack_conn, service).status_code == 200
    refused = limited_get(openstack_conn, service)
    status, body = THROTTLED_ANSWERS[service]
    assert refused.status_code == status
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert refused.json() == body(refused.headers["Retry-After"])
    assert openstack_frozen.journal(service=service)[-1]["error_code"] == next(iter(body("")))
    assert limited_get(openstack_conn, other).status_code == 200


def test_an_injected_cinder_rate_limit_carries_retry_after_and_a_quota_413_does_not(openstack_frozen, openstack_conn):
    volume_id = openstack_frozen.seed_server(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    openstack_conn.block_storage.get_volume(volume_id)
    openstack_frozen.inject_fault("volume", "showVolume", "overLimitFault", status=413, retry_after=3,
                                  message="This request was rate-limited.")
    openstack_frozen.inject_fault("volume", "showVolume", "overLimit", status=413, message="VolumeLimitExceeded")
    limited, quota = (openstack_conn.block_storage.get(f"/volumes/{volume_id}") for _attempt in range(2))
    assert (limited.status_code, limited.headers.get("Retry-After")) == (413, "3")
    assert limited.json()["overLimitFault"]["details"] == "Only 10 GET request(s) can be made to * every minute."
    assert (quota.status_code, quota.headers.get("Retry-After")) == (413, None)
    assert quota.json() == {"overLimit": {"code": 413, "message": "VolumeLimitExceeded"}}


def test_a_proxys_429_has_no_retry_after_and_no_service_body(openstack_frozen, openstack_conn):
    openstack_conn.compute.get("/servers")  # authenticated before the fault
    for service, action in (("compute", "listServers"), ("volume", "listVolumes")):
        openstack_frozen.inject_fault(service, action, PROXY_THROTTLED, status=429)
    answers = [openstack_conn.compute.get("/servers"), openstack_conn.block_storage.get("/volumes")]
    for answer in answers:
        assert answer.status_code == 429
        assert "Retry-After" not in answer.headers
        assert answer.headers["Content-Type"].startswith("text/html")
        assert b"429 Too Many Requests" in answer.content
    assert [entry["error_code"] for entry in openstack_frozen.journal() if entry["status"] == 429] == [PROXY_THROTTLED] * 2
