# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How a snapshot set selects volumes, names itself and reports snapshots."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import Visibility
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitFailed

INSTANCE = {
    "InstanceId": "i-0123456789abcdef0",
    "RootDeviceName": "/dev/xvda",
    "BlockDeviceMappings": [
        {"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-00000000000000001"}},
        {"DeviceName": "/dev/sdf", "Ebs": {"VolumeId": "vol-00000000000000002"}},
        {"DeviceName": "/dev/sdg", "Ebs": {"VolumeId": "vol-00000000000000003"}},
        {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
    ],
}


def ids(volumes):
    return [v["volume_id"] for v in volumes]


def test_every_ebs_volume_by_default_and_instance_store_is_ignored():
    selected = sets.select_volumes(INSTANCE, False, [])
    assert ids(selected) == ["vol-00000000000000001", "vol-00000000000000002", "vol-00000000000000003"]
    assert [v["root"] for v in selected] == [True, False, False]


def test_boot_and_data_exclusions():
    selected = sets.select_volumes(INSTANCE, True, ["vol-00000000000000003"])
    assert ids(selected) == ["vol-00000000000000002"]


def test_excluding_a_volume_that_is_not_attached_names_it():
    with pytest.raises(InputError, match="vol-0000000000000000f is not attached to instance i-0123456789abcdef0"):
        sets.select_volumes(INSTANCE, False, ["vol-0000000000000000f"])


def test_excluding_the_root_volume_as_data_points_to_exclude_boot_volume():
    with pytest.raises(InputError, match="exclude_boot_volume"):
        sets.select_volumes(INSTANCE, False, ["vol-00000000000000001"])


def test_nothing_left_is_an_error():
    with pytest.raises(InputError, match="no EBS volume is left"):
        sets.select_volumes(INSTANCE, True, ["vol-00000000000000002", "vol-00000000000000003"])


def test_more_than_forty_volumes_is_an_error():
    big = dict(INSTANCE, BlockDeviceMappings=[
        {"DeviceName": f"/dev/sd{n}", "Ebs": {"VolumeId": f"vol-{n:017x}"}} for n in range(41)])
    with pytest.raises(InputError, match="41 volumes selected.*at most 40"):
        sets.select_volumes(big, False, [])


def test_default_set_name_is_instance_and_utc_time():
    when = datetime.datetime(2026, 11, 22, 10, 15, 0, tzinfo=datetime.timezone.utc)
    assert sets.default_set_name("i-0123456789abcdef0", when) == "i-0123456789abcdef0-20261122T101500Z"


def test_set_tags_add_ours_to_the_users():
    assert sets.set_tags("nightly", "i-1", {"Team": "x"}) == {"Team": "x", "snapkit:set-name": "nightly", "snapkit:instance-id": "i-1"}


@pytest.mark.parametrize("text, expected", [("", None), ("0%", 0.0), ("42%", 42.0), ("100%", 100.0), (None, None)])
def test_progress_percent(text, expected):
    assert sets.progress_percent({"Progress": text}) == expected


def test_format_snapshot_snake_cases_keys_and_keeps_tag_keys():
    snapshot = {
        "SnapshotId": "snap-1", "VolumeId": "vol-00000000000000002", "State": "pending", "Progress": "",
        "StartTime": datetime.datetime(2026, 11, 22, 10, 15, tzinfo=datetime.timezone.utc), "VolumeSize": 8,
        "Encrypted": False, "Tags": [{"Key": "CamelKey", "Value": "v"}],
    }
    formatted = sets.format_snapshot(snapshot, {"vol-00000000000000002": "/dev/sdf"})
    assert formatted["snapshot_id"] == "snap-1" and formatted["volume_size"] == 8
    assert formatted["tags"] == {"CamelKey": "v"}
    assert formatted["start_time"] == "2026-11-22T10:15:00+00:00"
    assert formatted["device_name"] == "/dev/sdf"
    assert formatted["kms_key_id"] is None and formatted["state_message"] is None


def test_describe_names_every_snapshot_with_its_state_and_message():
    text = sets.describe([
        {"SnapshotId": "snap-2", "VolumeId": "vol-2", "State": "error", "Progress": "30%", "StateMessage": "boom"},
        {"SnapshotId": "snap-1", "VolumeId": "vol-1", "State": "pending", "Progress": ""},
    ], {"vol-1": "/dev/xvda"})
    assert text == "snap-1 (vol-1 /dev/xvda): pending 0%; snap-2 (vol-2 ?): error 30% - boom"


def tagged(snapshot_id, volume_id, state, instance_id, set_name, progress="", start=None):
    return {
        "SnapshotId": snapshot_id, "VolumeId": volume_id, "State": state, "Progress": progress,
        "StartTime": start or datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.timezone.utc),
        "Tags": [{"Key": sets.INSTANCE_TAG, "Value": instance_id}, {"Key": sets.SET_NAME_TAG, "Value": set_name}],
    }


def test_group_sets_by_instance_and_name_newest_first_with_set_state():
    later = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.timezone.utc)
    found = sets.group_sets([
        tagged("snap-1", "vol-1", "completed", "i-1", "a", "100%"),
        tagged("snap-2", "vol-2", "pending", "i-1", "a", "40%"),
        tagged("snap-3", "vol-1", "completed", "i-1", "b", "100%", later),
        tagged("snap-4", "vol-9", "error", "i-2", "a", "10%"),
        tagged("snap-5", "vol-8", "completed", "i-2", "a", "100%"),
    ])
    assert [(s["instance_id"], s["set_name"]) for s in found] == [("i-1", "b"), ("i-2", "a"), ("i-1", "a")]
    by_key = {(s["instance_id"], s["set_name"]): s for s in found}
    assert by_key[("i-1", "a")]["state"] == "pending" and by_key[("i-1", "a")]["progress"] == 40.0
    assert by_key[("i-2", "a")]["state"] == "error"
    assert by_key[("i-1", "b")]["state"] == "completed" and by_key[("i-1", "b")]["snapshot_count"] == 1
    assert by_key[("i-2", "a")]["volume_ids"] == ["vol-8", "vol-9"]
    assert "a of i-2: error 10% (2 snapshots)" in sets.describe_sets(found)


def aws_error(code):
    from botocore.exceptions import ClientError
    from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
    return AnsibleAWSError(message=code, exception=ClientError({"Error": {"Code": code, "Message": code}}, "Create"))


@pytest.fixture
def no_sleep(monkeypatch):
    from ansible_collections.snapkit.cloud.plugins.module_utils import _wait
    monkeypatch.setattr(sets, "deadline_retry", lambda *a, **kw: _wait.deadline_retry(*a, sleep=lambda _s: None, **kw))


def scripted(answers, lookups, calls):
    """(send, find_made) that log their calls: ``send`` raises or returns ``answers`` in turn, ``find_made`` returns ``lookups``."""
    def send():
        calls.append("send")
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def find_made():
        calls.append("look")
        return next(lookups)

    return send, find_made


def test_send_without_duplicates_resends_after_a_limit_but_looks_first_after_a_server_error(no_sleep):
    calls = []
    send, find_made = scripted([aws_error("ResourceLimitExceeded"), aws_error("InternalError"), "made"],
                               iter([(None, None)]), calls)
    result = sets.send_without_duplicates(send, find_made, 60, {"ResourceLimitExceeded"}, {"ResourceLimitExceeded", "InternalError"},
                                          visibility_factory=lambda: Visibility(grace=0))
    assert result == "made" and calls == ["send", "send", "look", "send"]
    # A request EC2 processed although its answer failed is found, not sent again.
    assert sets.send_without_duplicates(failing("InternalError"), lambda: ("found", None), 60, set(), {"InternalError"}) == "found"
    with pytest.raises(Exception, match="InvalidParameterValue"):
        sets.send_without_duplicates(failing("InvalidParameterValue"), lambda: ("never", None), 60, set(), set())


def at(seconds):
    return datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def test_a_lost_answer_is_looked_for_until_the_grace_passed_on_ec2s_clock_before_it_is_sent_again(no_sleep):
    """EC2 may not list what it made yet: an empty lookup is repeated, and the create sent again only once the grace
    has passed on the clock of EC2's answers (their Date header)."""
    calls = []
    send, find_made = scripted([aws_error("InternalError"), "second"],
                               iter([(None, at(0)), (None, at(100)), (None, at(299)), (None, at(300))]), calls)
    assert sets.send_without_duplicates(send, find_made, 3600, set(), {"InternalError"}) == "second"
    assert calls == ["send", "look", "look", "look", "look", "send"]
    # Found on the third lookup: never sent again.
    calls.clear()
    send, find_made = scripted([aws_error("InternalError")], iter([(None, at(0)), (None, at(10)), ("made", at(20))]), calls)
    assert sets.send_without_duplicates(send, find_made, 3600, set(), {"InternalError"}) == "made"
    assert calls == ["send", "look", "look", "look"]


def test_wait_for_set_reads_a_snapshot_never_seen_as_pending_until_the_grace_and_a_seen_one_as_deleted(monkeypatch):
    answers = iter([
        ([], at(0)),  # neither listed yet
        ([{"SnapshotId": "snap-1", "State": "pending", "Progress": "10%"}], at(30)),
        ([], at(60)),  # snap-1 seen once, now gone: deleted at once
    ])
    monkeypatch.setattr(sets, "describe_snapshots_by_ids_with_server_time", lambda _client, _ids: next(answers))
    with pytest.raises(WaitFailed) as excinfo:
        sets.wait_for_set(None, ["snap-1", "snap-2"], {}, 3600, sleep=lambda _s: None)
    assert [(s["SnapshotId"], s["State"]) for s in excinfo.value.items] == [("snap-1", "deleted"), ("snap-2", "pending")]

    answers = iter([([], at(0)), ([], at(299)), ([], at(300))])
    with pytest.raises(WaitFailed) as excinfo:
        sets.wait_for_set(None, ["snap-3"], {}, 3600, sleep=lambda _s: None)
    assert [s["State"] for s in excinfo.value.items] == ["deleted"], "never listed within the grace: gone"
    answers = iter([([], at(0))])
    with pytest.raises(WaitFailed):
        sets.wait_for_set(None, ["snap-4"], {}, 3600, seen=["snap-4"], sleep=lambda _s: None)


def failing(code):
    def send():
        raise aws_error(code)
    return send
