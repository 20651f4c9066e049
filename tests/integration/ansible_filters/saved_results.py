# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filter with which the integration tests' playbook runner saves a run's registered results (conftest.Runner).

``{{ results | to_json | snapkit_test_save(path) }}`` writes the text to ``path`` (mode 0600) on the controller and
returns ``path``. An ``ansible.builtin.copy`` task wrote the same file before, at the cost of two module runs (stat and
copy: about a second of CPU, as much as the start of ansible-playbook) in every playbook run of the suite.
"""

from __future__ import annotations

import os


def save(text, path):
    """Write ``text`` to ``path`` (created 0600, or replaced); return ``path``."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(str(text))
    return path


class FilterModule:  # pylint: disable=too-few-public-methods
    """Test-only filters, found through ANSIBLE_FILTER_PLUGINS."""

    def filters(self):
        return {"snapkit_test_save": save}
