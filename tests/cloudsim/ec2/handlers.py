# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EC2 simulator's handler registry: the actions the layer answers itself; moto answers the rest."""

from __future__ import annotations

from collections.abc import Callable

from cloudsim.ec2.actions import OWNED_ACTIONS, Ec2Call
from cloudsim.ec2.volume_actions import VOLUME_ACTIONS

HANDLERS: dict[str, Callable[[Ec2Call], dict]] = {**OWNED_ACTIONS, **VOLUME_ACTIONS}
if len(HANDLERS) != len(OWNED_ACTIONS) + len(VOLUME_ACTIONS):
    raise ImportError(f"EC2 actions with two handlers: {sorted(set(OWNED_ACTIONS) & set(VOLUME_ACTIONS))}")
