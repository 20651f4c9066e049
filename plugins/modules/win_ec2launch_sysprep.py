#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only; the module is win_ec2launch_sysprep.ps1 (as in ansible.windows).

from __future__ import annotations

DOCUMENTATION = r"""
module: win_ec2launch_sysprep
short_description: Generalise an AWS Windows instance with its launch agent, with a new random Administrator password
version_added: 0.1.0
description:
  - Finds the launch agent of an Amazon EC2 or Lightsail Windows instance, makes the agent set a new random
    Administrator password at the next boot, and starts Sysprep with shutdown.
  - "Agent detection, in this order (installing EC2Launch v2 removes the older agents, so a present C(EC2Launch.exe)
    is the active one): EC2Launch v2 (C(%ProgramFiles%\\Amazon\\EC2Launch\\EC2Launch.exe)), EC2Launch v1
    (C(%ProgramData%\\Amazon\\EC2-Windows\\Launch\\Scripts\\InitializeInstance.ps1)), EC2Config
    (C(%ProgramFiles%\\Amazon\\Ec2ConfigService\\Ec2Config.exe)). When none is found the task fails and names
    every path it looked at."
  - "The password setting, made idempotently (no write when it is already set): EC2Launch v2: the C(setAdminAccount)
    task of stage C(preReady) in C(agent-config.yml) gets C(password.type: random) (the task is added when missing;
    static password data is removed), edited through C(EC2Launch.exe get-agent-config --format json) and checked with
    C(EC2Launch.exe validate), the previous file being restored when validation fails. EC2Launch v1:
    C(adminPasswordType) C(Random) in C(LaunchConfig.json) (C(adminPassword) is emptied). EC2Config: plug-in
    C(Ec2SetPassword) C(Enabled) in C(Settings\\Config.xml) and C(SetPasswordAfterSysprep) C(Yes) in
    C(Settings\\BundleConfig.xml)."
  - "With O(start_sysprep=true), Sysprep is started by the agent's own command from a one-shot scheduled task that
    runs as C(SYSTEM): C(EC2Launch.exe sysprep --shutdown --block) (v2; C(--block) lets the agent finish its boot
    stages first, and every minute it waits is logged); C(InitializeInstance.ps1 -Schedule) then
    C(SysprepInstance.ps1), each in its own C(powershell.exe) (v1); C(Ec2Config.exe -sysprep) (EC2Config). The task
    waits O(delay_seconds) first. Every step, output line, exit code and exception goes to
    C(%ProgramData%\\snapkit.cloud\\sysprep.log) and the phase (C(waiting), C(running), C(failed)) to
    C(sysprep.json) beside it; a failed Sysprep unregisters the task, and the next run of the module reports it
    (RV(previous_sysprep), and a warning). The log, the state file and (after a successful Sysprep) the task
    registration stay in the image. The module returns as soon as the task is started, so its result reaches the
    controller before Sysprep shuts the instance down and the connection drops."
  - A process started inside a WinRM shell is killed when the shell closes, and Sysprep run synchronously never
    answers, which is why the scheduled task is used. Wait for the instance to stop on the cloud API afterwards
    (Lightsail C(GetInstanceState), EC2 C(DescribeInstances)); do not use the connection to this host again.
  - Refuses to start, before any change, when Windows reports a Sysprep generalisation already pending (registry
    C(HKLM:\\SYSTEM\\Setup\\Status\\SysprepStatus) C(GeneralizationState) other than C(7)), when the Sysprep of an
    earlier run is still under way (its task is running, or its state file says C(waiting) or C(running) since the
    last boot; the whole Sysprep, not only the delay), or when a reboot is pending (C(Component Based
    Servicing\\RebootPending), C(WindowsUpdate\\Auto Update\\RebootRequired), or C(PendingFileRenameOperations)),
    since Sysprep fails then.
  - "With O(start_sysprep=false) only the option is set; whether the next boot acts on it is returned in
    RV(new_password_at_next_boot): EC2Launch v2 runs C(setAdminAccount) once per instance (only while its
    C(.run-once) state is absent), EC2Launch v1 only when C(InitializeInstance.ps1) is scheduled. A warning says
    when it does not (then C(EC2Launch.exe reset), C(InitializeInstance.ps1 -Schedule) or Sysprep is needed)."
  - "The scheduled task's script is written to C(%ProgramData%\\snapkit.cloud), created with a protected ACL (owner
    Administrators, access for C(SYSTEM) and Administrators only). When that folder exists with another owner,
    inherited or additional access rules, or as a junction, the module fails before any change."
  - Take the backup snapshot first. AWS advises against using Sysprep to make backups, since a generalised image loses
    the machine's identity.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  agent:
    description:
      - The launch agent to use. V(auto) detects it (EC2Launch v2, then EC2Launch v1, then EC2Config).
      - Any other value requires that agent to be installed; the task fails, naming the path looked at, when it is not.
    type: str
    choices: [auto, ec2launch_v2, ec2launch_v1, ec2config]
    default: auto
  start_sysprep:
    description:
      - V(true) starts Sysprep with shutdown after the password setting.
      - V(false) only sets the agent's password option (for example to prepare an image built later by another tool);
        see RV(new_password_at_next_boot).
    type: bool
    default: true
  delay_seconds:
    description:
      - How many seconds the scheduled task waits, after it starts, before it runs Sysprep. The module returns as soon
        as the task has started, so this is the time the result has to reach the controller.
      - 0 to 3600. With V(0) the connection may drop before the result arrives.
    type: int
    default: 10
notes:
  - Needs administrative rights (the usual case for the built-in Administrator over WinRM).
  - The next boot runs Windows setup and the agent's first-boot tasks, which takes several minutes; the new password
    is then available from EC2 C(GetPasswordData) or Lightsail C(GetInstanceAccessDetails) (encrypted with the key
    pair of the instance).
  - Windows PowerShell 5.1 (Windows Server 2012 R2 with WMF 5.1 and later).
seealso:
  - module: snapkit.cloud.win_reset_static_ip
  - module: snapkit.cloud.lightsail_snapshot
  - name: EC2Launch v2 settings
    description: The C(agent-config.yml) tasks, including C(setAdminAccount).
    link: https://docs.aws.amazon.com/AWSEC2/latest/WindowsGuide/ec2launch-v2-settings.html
extends_documentation_fragment:
  - snapkit.cloud._attributes
attributes:
  check_mode:
    support: full
    details:
      - Detects the agent and reports the password setting it would make and whether Sysprep would be scheduled;
        writes nothing and schedules nothing.
  diff_mode:
    support: full
    details:
      - The agent's password setting before and after; for EC2Launch v1 whether an C(adminPassword) is set
        (C(admin_password_set), never the value), for EC2Config C(SetPasswordAfterSysprep).
  idempotent:
    support: partial
    details:
      - The password setting is idempotent. Starting Sysprep is an action; it is reported as a change every time
        O(start_sysprep=true).
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms:
      - windows
"""

EXAMPLES = r"""
- name: Generalise the instance (random Administrator password at the next boot), then shut down
  snapkit.cloud.win_ec2launch_sysprep:
  register: sysprep
  # Sysprep shuts the machine down a few seconds after the module returns; tolerate the connection loss
  # if something else still runs on this host, and wait for "stopped" on the cloud API instead.

- name: Only make the agent set a random password at the next boot
  snapkit.cloud.win_ec2launch_sysprep:
    start_sysprep: false

- name: Use EC2Launch v1 explicitly and give the controller 30 seconds to read the result
  snapkit.cloud.win_ec2launch_sysprep:
    agent: ec2launch_v1
    delay_seconds: 30

- name: See what would be done
  snapkit.cloud.win_ec2launch_sysprep:
  check_mode: true
  diff: true
"""

RETURN = r"""
agent:
  description: The launch agent used, as in O(agent)'s choices.
  returned: always
  type: str
  sample: ec2launch_v2
config_path:
  description: The agent configuration file holding the password setting.
  returned: always
  type: str
  sample: C:\ProgramData\Amazon\EC2Launch\config\agent-config.yml
password_option:
  description:
    - The agent's Administrator password setting before and after the module.
    - "EC2Launch v2: the C(password.type) of the C(setAdminAccount) task (C(random), C(static), C(doNothing); null
      when the task is missing). EC2Launch v1: C(adminPasswordType) (C(Random), C(Specify), C(DoNothing)). EC2Config:
      the state of plug-in C(Ec2SetPassword) (C(Enabled), C(Disabled))."
    - Static password data is never returned.
  returned: always
  type: dict
  contains:
    before:
      description: The setting before the module ran.
      type: str
      sample: doNothing
    after:
      description: The setting after the module (in check mode, the setting it would make).
      type: str
      sample: random
sysprep_scheduled:
  description:
    - Whether the Sysprep task was started (in check mode, whether it would be).
  returned: always
  type: bool
  sample: true
sysprep_command:
  description: The command the scheduled task runs after the delay.
  returned: always
  type: str
  sample: '"C:\Program Files\Amazon\EC2Launch\EC2Launch.exe" sysprep --shutdown --block'
new_password_at_next_boot:
  description:
    - Whether the next boot sets a new random Administrator password. Always V(true) with O(start_sysprep=true)
      (Sysprep resets the agent's state). With O(start_sysprep=false), whether the agent will act on the setting
      at the next boot (see the description).
  returned: always
  type: bool
  sample: false
previous_sysprep:
  description:
    - The state file of the Sysprep an earlier run started, null when there is none.
  returned: always
  type: dict
  contains:
    phase:
      description: C(waiting) (in its delay), C(running) (the agent's command; stays so when Sysprep shut down), C(failed).
      type: str
      sample: failed
    agent:
      description: The agent it used.
      type: str
    started:
      description: When the module scheduled it (UTC, ISO 8601).
      type: str
    error:
      description: Why it failed.
      type: str
    exit_code:
      description: The exit code of the agent's command, when it failed with one.
      type: int
task_name:
  description: The name of the scheduled task that runs Sysprep (null when O(start_sysprep=false)).
  returned: always
  type: str
  sample: snapkit.cloud-sysprep
"""
