# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is PRIVATE to snapkit.cloud: it may change at any time. Do not use it elsewhere.

from __future__ import annotations


class ModuleDocFragment:
    # The options every OpenStack module takes from openstack.cloud's OpenStackModule (its
    # openstack_full_argument_spec, with our timeout default), and the requirements as the README's support matrix
    # states them. Used instead of openstack.cloud.openstack, whose requirements (Python >= 3.6,
    # openstacksdk >= 1.0.0) are not ours; tests/unit/test_docs_consistency.py keeps them in step with the README.
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - The cloud to use. A string names a cloud of a C(clouds.yaml) file (see the notes); it gives the defaults of
        O(auth) and O(auth_type).
      - A dictionary is a whole cloud entry, as one cloud of a C(clouds.yaml) would be written.
      - Not needed when O(auth) is given or the C(OS_*) environment variables describe the cloud.
    type: raw
  auth:
    description:
      - The credentials the auth plugin O(auth_type) takes. For C(password) (the default) these are C(auth_url),
        C(username), C(password), C(project_name) and, where the cloud has domains, C(user_domain_name) and
        C(project_domain_name).
      - Not needed when O(cloud) names a cloud or the C(OS_*) environment variables describe the cloud.
    type: dict
  auth_type:
    description:
      - The keystoneauth plugin to authenticate with, for example C(v3applicationcredential); O(auth) then holds
        what that plugin takes.
    type: str
  region_name:
    description:
      - The region of the cloud.
    type: str
  wait:
    description:
      - Wait until the work is finished before returning.
    type: bool
    default: true
  timeout:
    description:
      - Seconds that bound the whole task.
      - The retries of transient API answers (409 busy, 429, 502, 503, 504) and every wait (for the snapshots to finish
        or to be deleted, for a volume to settle) take from this one budget.
      - A positive number of seconds.
    type: int
    default: 1800
  api_timeout:
    description:
      - How long, in seconds, one API request may take at the socket level. Unset, requests has no limit.
    type: int
  validate_certs:
    description:
      - Check the TLS certificates of the cloud's endpoints.
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - A CA bundle to check the endpoints' certificates with.
    type: str
    aliases: [cacert]
  client_cert:
    description:
      - A client certificate to present to the endpoints.
    type: str
    aliases: [cert]
  client_key:
    description:
      - The key of O(client_cert).
    type: str
    aliases: [key]
  interface:
    description:
      - Which endpoints of the service catalog to use.
    type: str
    choices: [admin, internal, public]
    default: public
    aliases: [endpoint_type]
  sdk_log_path:
    description:
      - A file for openstacksdk's log. Unset, nothing is logged.
    type: str
  sdk_log_level:
    description:
      - The level of openstacksdk's log.
    type: str
    choices: [INFO, DEBUG]
    default: INFO
requirements:
  - python >= 3.12
  - openstacksdk >= 4.15.0
notes:
  - "The cloud comes from openstacksdk's configuration: the C(clouds.yaml) that C(OS_CLIENT_CONFIG_FILE) names, else
    C(./clouds.yaml), C(~/.config/openstack/clouds.yaml) or C(/etc/openstack/clouds.yaml); or the C(OS_*) environment
    variables (C(OS_AUTH_URL), C(OS_USERNAME)...); then the options above override it."
attributes:
  action_group:
    description: Use C(group/snapkit.cloud.openstack) in C(module_defaults) to set defaults (for example O(cloud)) for this module.
    support: full
    membership:
      - snapkit.cloud.openstack
"""
