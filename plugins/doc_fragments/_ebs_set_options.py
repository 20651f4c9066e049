# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is PRIVATE to snapkit.cloud: it may change at any time. Do not use it elsewhere.

from __future__ import annotations


class ModuleDocFragment:
    # The set options that ebs_multi_snapshot and ebs_fleet_snapshot share (module_utils/_ebs_snapshot_set.py
    # set_option_spec): their types and defaults, and the descriptions that are the same for one instance and a fleet.
    # A module documents an option's description itself where it differs (one set, or one set per instance); ansible
    # merges each option key by key, the module's keys over these.
    DOCUMENTATION = r"""
options:
  set_name:
    type: str
  exclude_boot_volume:
    type: bool
    default: false
  exclude_data_volume_ids:
    type: list
    elements: str
    default: []
  copy_tags_from_source:
    description:
      - Copy each volume's tags to its snapshot. O(tags) and the set tags are added on top.
    type: bool
    default: false
  description:
    type: str
  tags:
    type: dict
    aliases: [resource_tags]
  stop_instance:
    type: bool
    default: false
  wait:
    type: bool
    default: true
  wait_timeout:
    type: int
    default: 3600
  delete_on_failure:
    type: bool
    default: false
"""
