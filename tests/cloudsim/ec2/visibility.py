# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2's eventual consistency for new resources.

AWS documents ("Eventual consistency in the Amazon EC2 API", EC2 Developer Guide) that a resource
just created may not be visible to the calls that follow: for a while a new snapshot, snapshot copy
or volume is missing from ``DescribeSnapshots`` / ``DescribeVolumes`` listings and filters, and a
call that names it (``Describe*`` by id, ``CreateTags``, ``DeleteTags``, ``DeleteSnapshot``,
``AttachVolume``) answers ``InvalidSnapshot.NotFound`` / ``InvalidVolume.NotFound``. Clients are
told to retry with backoff.

Each new resource gets a ``visible_at`` moment on the simulated clock when it is created (its delay
drawn from the seeded random of :meth:`cloudsim.ec2.snapshots.SnapshotBook.visibility_delay`);
resources without one (seeded volumes, moto's own) are visible at once. The control API's state view
shows every resource, visible or not: it is the ground truth, not an EC2 answer.
"""

from __future__ import annotations

from cloudsim.ec2.wire import Ec2Error


def is_visible(resource, moment: float) -> bool:
    """Whether EC2 answers about ``resource`` at ``moment``."""
    return moment >= getattr(resource, "visible_at", 0.0)


def visible_snapshot(backend, snapshot_id: str, moment: float):
    """The snapshot, or InvalidSnapshot.NotFound when it does not exist or is not visible yet."""
    snapshot = backend.snapshots.get(snapshot_id)
    if snapshot is None or not is_visible(snapshot, moment):
        raise Ec2Error("InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist.")
    return snapshot


def visible_volume(backend, volume_id: str, moment: float):
    """The volume, or InvalidVolume.NotFound when it does not exist or is not visible yet."""
    volume = backend.volumes.get(volume_id)
    if volume is None or not is_visible(volume, moment):
        raise Ec2Error("InvalidVolume.NotFound", f"The volume '{volume_id}' does not exist.")
    return volume


def check_taggable(backend, resource_ids: list[str], moment: float) -> None:
    """CreateTags / DeleteTags on a snapshot or volume EC2 does not see (yet) answers its NotFound."""
    for resource_id in resource_ids:
        if resource_id.startswith("snap-"):
            visible_snapshot(backend, resource_id, moment)
        elif resource_id.startswith("vol-"):
            visible_volume(backend, resource_id, moment)
