# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Constants of the collection under test, imported from the built tree the tests run (ANSIBLE_COLLECTIONS_PATH).

The tests check the marks our modules write by the modules' own names for them, so that renaming a tag in the
collection cannot leave a test checking a key that is no longer written. The tree is appended to ``sys.path``:
``ansible_collections`` is a namespace package, and the dependency collections of the ``ansible`` package stay where
they are.
"""

from __future__ import annotations

import os
import sys

from conftest import collections_path

for _entry in collections_path().split(os.pathsep):
    if _entry and _entry not in sys.path:
        sys.path.append(_entry)

# pylint: disable=wrong-import-position
# One stop mark for every cloud (plugins/module_utils/_stop_mark.py); the tests name it by cloud.
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import STOP_MARK_KEY as LIGHTSAIL_STOP_MARK_TAG  # noqa: E402
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import STOP_MARK_KEY as STOPPED_FOR_SET_TAG  # noqa: E402

__all__ = ["LIGHTSAIL_STOP_MARK_TAG", "STOPPED_FOR_SET_TAG"]
