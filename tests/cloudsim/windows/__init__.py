# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulated Windows guests behind real WinRM endpoints (one loopback port per guest).

The guests belong to the Lightsail and OpenStack simulators' Windows instances; they run no
PowerShell: they decode what Ansible's ``winrm`` connection sends and emulate the results of the
modules the collection runs (see ``docs/cloudsim.md``, "Windows guests").
"""
