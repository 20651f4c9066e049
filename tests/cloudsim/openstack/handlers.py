# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack simulator's handler registry: each service under its DevStack path prefix, with its routes.

``/identity`` (Keystone v3), ``/compute`` (Nova), ``/volume`` (Cinder v3), ``/image`` (Glance v2) and
``/network`` (Neutron). A service's routes (method, path pattern, action, handler) are in its module's
``ROUTES``; a method and path that no route matches is not modelled (501).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cloudsim.openstack import compute, identity, image, network, volume
from cloudsim.openstack.routing import Route
from cloudsim.openstack.wire import ApiError


@dataclasses.dataclass
class Service:
    """One OpenStack API under its path prefix; ``name`` is the journal's and the faults' service."""

    name: str
    routes: list[Route]
    error_body: Callable[[ApiError], object]
    # (service type in OpenStack-API-Version, legacy header, minimum, maximum) for microversioned APIs.
    microversions: tuple | None = None


HANDLERS: dict[str, Service] = {
    identity.PREFIX: Service("identity", identity.ROUTES, identity.error_body),
    compute.PREFIX: Service("compute", compute.ROUTES, compute.error_body,
                            ("compute", "X-OpenStack-Nova-API-Version", compute.MIN_VERSION, compute.MAX_VERSION)),
    volume.PREFIX: Service("volume", volume.ROUTES, volume.error_body, ("volume", None, volume.MIN_VERSION, volume.MAX_VERSION)),
    image.PREFIX: Service("image", image.ROUTES, image.error_body),
    network.PREFIX: Service("network", network.ROUTES, network.error_body),
}
