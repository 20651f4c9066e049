# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local test clouds for snapkit.cloud.

``cloudsim`` runs test doubles of the cloud APIs the collection talks to on loopback ports,
with a simulated clock, a journal of every API call, injectable faults and a JSON control API.
Start it with ``python -m cloudsim`` (see ``docs/cloudsim.md``) or from Python with
:class:`cloudsim.client.CloudSim`.
"""

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
