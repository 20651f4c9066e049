# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 simulator: moto's EC2 backend with realistic snapshot and instance lifecycles.

Import :class:`cloudsim.ec2.simulator.Ec2Simulator` from its module; importing this package does
not import moto.
"""
