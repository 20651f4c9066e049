# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the EC2 simulator: seeded instances and a debug view of the state.

Seeding works on moto's backend directly, so it is not journaled and cannot be hit by faults.
"""

from __future__ import annotations

from cloudsim.clock import SimClock, iso8601
from cloudsim.ec2 import instances as instance_states
from cloudsim.ec2.snapshots import SimulatedSnapshot, SnapshotBook
from cloudsim.ec2.volumes import adopt_seeded

DEFAULT_IMAGE_ID = "ami-0123456789abcdef0"
DEFAULT_INSTANCE_TYPE = "t3.micro"
DEFAULT_ROOT_DEVICE = "/dev/xvda"
IOPS_REQUIRED_TYPES = frozenset({"io1", "io2"})
SEEDABLE_STATES = frozenset({"running", "stopped"})


def data_device_names():
    """Linux device names for data volumes: /dev/sdf../dev/sdz, then /dev/xvdba../dev/xvdzz."""
    for letter in "fghijklmnopqrstuvwxyz":
        yield f"/dev/sd{letter}"
    for first in "bcdefghijklmnopqrstuvwxyz":
        for second in "abcdefghijklmnopqrstuvwxyz":
            yield f"/dev/xvd{first}{second}"


def _volume_specs(body: dict) -> list[dict]:
    specs = body.get("volumes") or [{"size": 8}]
    if not isinstance(specs, list):
        raise ValueError('"volumes" must be a list')
    root_device = body.get("root_device") or specs[0].get("device") or DEFAULT_ROOT_DEVICE
    taken = {spec["device"] for spec in specs if spec.get("device")}
    free_names = (name for name in data_device_names() if name not in taken and name != root_device)
    resolved = []
    for index, spec in enumerate(specs):
        device = spec.get("device") or (root_device if index == 0 else next(free_names))
        resolved.append(dict(spec, device=device))
    devices = [spec["device"] for spec in resolved]
    if len(set(devices)) != len(devices):
        raise ValueError(f"duplicate device names in {devices}")
    if root_device not in devices:
        raise ValueError(f"root_device {root_device} is not among the volumes' devices {devices}")
    return resolved


def _create_volume(backend, zone: str, spec: dict):
    volume_type = spec.get("type", "gp3")
    iops = spec.get("iops") or (3000 if volume_type in IOPS_REQUIRED_TYPES else None)
    volume = backend.create_volume(
        size=int(spec.get("size", 8)), zone_name=zone, volume_type=volume_type, iops=iops,
        encrypted=bool(spec.get("encrypted", False)),
        # EC2 gives gp3 volumes 125 MiB/s unless told otherwise; moto leaves it empty.
        throughput=spec.get("throughput") or (125 if volume_type == "gp3" else None),
    )
    volume.add_tags({str(key): str(value) for key, value in (spec.get("tags") or {}).items()})
    return volume


def seed_instance(backend, clock: SimClock, body: dict) -> dict:
    """Create an instance with exactly the given EBS volumes attached (the first one is the root)."""
    state = body.get("state", "running")
    if state not in SEEDABLE_STATES:
        raise ValueError(f"state must be one of {sorted(SEEDABLE_STATES)}")
    specs = _volume_specs(body)
    root_device = body.get("root_device") or specs[0]["device"]
    reservation = backend.run_instances(
        body.get("image_id", DEFAULT_IMAGE_ID), 1, None, [],
        instance_type=body.get("instance_type", DEFAULT_INSTANCE_TYPE), is_instance_type_default=False,
        # An explicit empty list stops moto from adding its default 8 GiB /dev/sda1 volume.
        block_device_mappings=[],
        hibernation_options={"Configured": bool(body.get("hibernation", False))},
        tags={"instance": {str(key): str(value) for key, value in (body.get("tags") or {}).items()}},
        region_name=backend.region_name,
    )
    instance = reservation.instances[0]
    instance.root_device_name = root_device
    if body.get("platform"):
        instance.platform = body["platform"]
    volumes = []
    for spec in specs:
        volume = _create_volume(backend, instance.placement.zone, spec)
        is_root = spec["device"] == root_device
        backend.attach_volume(volume.id, instance.id, spec["device"], bool(spec.get("delete_on_termination", is_root)))
        adopt_seeded(volume, clock)
        volumes.append({"volume_id": volume.id, "device": spec["device"], "size": volume.size, "type": volume.volume_type})
    if state == "stopped":
        instance.stop()
    instance_states.set_state(instance, instance_states.SimulatedInstanceState(clock, state))
    return {"instance_id": instance.id, "region": backend.region_name, "root_device": root_device, "volumes": volumes}


def _snapshot_view(snapshot, clock: SimClock) -> dict:
    view = {
        "snapshot_id": snapshot.id, "volume_id": snapshot.volume_id, "state": snapshot.status,
        "progress": snapshot.progress, "start_time": iso8601(snapshot.start_time), "simulated": False,
    }
    if isinstance(snapshot, SimulatedSnapshot):
        timing = snapshot.timing
        view.update({
            "simulated": True,
            "set_id": timing.snapshot_set.set_id if timing.snapshot_set else None,
            "state_message": snapshot.state_message,
            "seconds_left": max(0.0, timing.end_time() - clock.time()),
        })
    return view


def _instance_view(instance) -> dict:
    return {
        "instance_id": instance.id,
        "state": instance.state,
        "hibernation": bool((instance.hibernation_options or {}).get("Configured")),
        "root_device": instance.root_device_name,
        "volumes": {device: mapping.volume_id for device, mapping in instance.get_block_device_mapping},
        "tags": {tag["key"]: tag["value"] for tag in instance.get_tags()},
    }


def state_view(backend, book: SnapshotBook, clock: SimClock) -> dict:
    """Debug snapshot of one backend: instances, snapshots and snapshots deleted while pending."""
    live_ids = set(backend.snapshots)
    return {
        "sim_time": iso8601(clock.now()),
        "instances": [_instance_view(instance) for instance in backend.all_instances()],
        "snapshots": [_snapshot_view(snapshot, clock) for snapshot in backend.snapshots.values()],
        "deleted_still_running": [
            {"snapshot_id": timing.snapshot_id, "volume_id": timing.volume_id}
            for timing in book.all_timings()
            if timing.deleted and timing.snapshot_id not in live_ids and timing.state_at(clock.time()) == "pending"
        ],
        "failure_plans": [plan.as_dict() for plan in book.failure_plans],
    }
