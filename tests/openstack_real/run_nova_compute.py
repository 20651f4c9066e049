# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova-compute with our virt driver reachable as ``nova.virt.snapkit_fake`` (nova prefixes compute_driver with it)."""

import sys

from nova.cmd import compute  # first: it monkey-patches before the rest of nova loads

import snapkit_osreal_drivers.nova_driver as driver_module  # noqa: E402  pylint: disable=wrong-import-position

sys.modules["nova.virt.snapkit_fake"] = driver_module

if __name__ == "__main__":
    sys.argv[0] = "nova-compute"
    sys.exit(compute.main())
