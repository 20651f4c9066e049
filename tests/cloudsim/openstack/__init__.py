# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack simulator: Keystone v3, Nova, Cinder v3, Glance v2 and Neutron on one loopback port."""
