# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is PRIVATE to snapkit.cloud: it may change at any time. Do not use it elsewhere.

from __future__ import annotations


class ModuleDocFragment:
    # The requirements of the AWS modules (EBS and Lightsail), as the README's support matrix states them; used
    # instead of amazon.aws.boto3, whose minimums are amazon.aws's own. tests/unit/test_docs_consistency.py keeps
    # them in step with the README.
    DOCUMENTATION = r"""
options: {}
requirements:
  - python >= 3.12
  - boto3 >= 1.35.0
  - botocore >= 1.35.0
"""
