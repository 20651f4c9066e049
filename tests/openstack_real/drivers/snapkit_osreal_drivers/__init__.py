# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drivers the real OpenStack services need on a machine without a hypervisor, agents or qemu-img.

Imported only inside the services' own venv (.build/openstack-real/venv), never by the collection's tests.
"""
