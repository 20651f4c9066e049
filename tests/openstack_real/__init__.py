# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real OpenStack services (2026.1 from PyPI) on loopback: the second OpenStack test backend beside cloudsim.

``python -m openstack_real`` (with ``PYTHONPATH=tests``) runs them in the foreground (``make openstack-real``);
``start`` and ``stop`` run them in the background for a test session. See docs/development.md.
"""
