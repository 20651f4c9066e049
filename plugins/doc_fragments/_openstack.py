# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is PRIVATE to snapkit.cloud: it may change at any time. Do not use it elsewhere.

from __future__ import annotations


class ModuleDocFragment:
    # List it BEFORE openstack.cloud.openstack: the first fragment to document an option wins,
    # and our timeout default differs from openstack.cloud's 180 seconds.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds that bound the whole task.
      - The retries of transient API answers (409 busy, 429, 502, 503, 504) and every wait (for the snapshots to finish
        or to be deleted, for a volume to settle) take from this one budget.
      - A positive number of seconds.
    type: int
    default: 1800
attributes:
  action_group:
    description: Use C(group/snapkit.cloud.openstack) in C(module_defaults) to set defaults (for example O(cloud)) for this module.
    support: full
    membership:
      - snapkit.cloud.openstack
"""
