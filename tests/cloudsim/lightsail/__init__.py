# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lightsail simulator: our own implementation of the Lightsail JSON API subset the collection uses.

Requests are validated against botocore's Lightsail service model and responses are rendered in its
output shapes. Import :class:`cloudsim.lightsail.simulator.LightsailSimulator` from its module.
"""
