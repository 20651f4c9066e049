#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: os_instance_state
short_description: Stop or start an OpenStack server, wait for it, and report the state it was in
version_added: 0.1.0
description:
  - Brings an existing Nova server to C(SHUTOFF) (O(state=stopped), C(os-stop)) or C(ACTIVE) (O(state=started),
    C(os-start)) and waits until it is there, returning the status it had before (RV(previous_state)), so that a
    procedure can put it back.
  - A server already on its way (C(powering-off) before a stop, C(powering-on) before a start) is waited for, not
    stopped or started again; one on its way to the other state, or still building, is waited for first, because Nova
    refuses a stop or start meanwhile.
  - While the server has another task (Nova answers 409 C(Cannot 'start' instance ... while it is in task_state
    image_uploading), for example while it still uploads a snapshot), the call is retried until O(timeout). Any other
    409 (a locked server, a status the action cannot leave, such as C(PAUSED) or C(SHELVED)) fails at once with Nova's
    answer.
  - With O(stop_mark), the stop mark of docs/reliability.md - a server metadata item C(snapkit:stopped-for-snapshot)
    whose value is O(stop_mark), written just before the stop of a running server and removed after the start - lets a
    rerun of a procedure that was cut off while the server was down know that the server was running (RV(stop_mark_found)).
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  server:
    description:
      - The server, by name or id.
      - 1 to 255 characters.
    type: str
    required: true
  state:
    description:
      - V(stopped) - the server is C(SHUTOFF) at the end. V(started) - it is C(ACTIVE) at the end.
    type: str
    choices: [stopped, started]
    required: true
  stop_mark:
    description:
      - A name for this stop (a procedure uses its snapshot name). With O(state=stopped), a server that this task stops is
        given the metadata item C(snapkit:stopped-for-snapshot=<stop_mark>) just before C(os-stop); with O(state=started),
        that item is removed once the server runs, if it holds this name (also from a server that was running already,
        as a run cut off after its start leaves it).
      - The item tells a later run that the server was running before a run that was cut off (controller killed, job
        cancelled) stopped it; RV(stop_mark_found) reports it, so that the procedure can start the server again.
      - Writing or removing the item is best effort; refused, the module warns and goes on.
      - A stopped server whose item holds another name is reported with a warning (a run of another procedure stopped it).
      - 1 to 255 characters (a Nova metadata value).
    type: str
  wait:
    description:
      - Wait until the server is C(SHUTOFF) or C(ACTIVE) with no power task under way. Without waiting, the module returns
        once Nova accepted the call; a server on its way to the other state is still waited for first.
    type: bool
    default: true
  timeout:
    description:
      - How long to wait, in seconds, for every step together - the server to settle, Nova to accept the call while the
        server has another task, the server to reach O(state).
      - A positive number of seconds.
    type: int
    default: 1800
notes:
  - Stopping a server is a clean shutdown where the guest answers ACPI (Nova's C(os-stop)); the hypervisor powers it off
    after its own timeout otherwise.
  - "Policy: C(os_compute_api:servers:stop), C(os_compute_api:servers:start) (the project's members by default); with
    O(stop_mark), C(os_compute_api:server-metadata:create) and C(os_compute_api:server-metadata:delete)."
seealso:
  - module: openstack.cloud.server_action
    description: openstack.cloud's module; fails with Nova's 409 while the server has a task or is on its way to the other
      state, and does not report the previous state.
  - module: snapkit.cloud.os_instance_snapshot
  - module: snapkit.cloud.lightsail_instance_state
    description: The same for a Lightsail instance, with the same stop mark.
extends_documentation_fragment:
  - snapkit.cloud._openstack
  - snapkit.cloud._attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports whether the server would be stopped or started (and the mark found); calls nothing that changes it.
  diff_mode:
    support: full
    details:
      - The server's status before and after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Stop web-1 and remember how it was
  snapkit.cloud.os_instance_state:
    cloud: devstack
    server: web-1
    state: stopped
  register: web_1_power

- name: Start it again only if this task stopped it
  snapkit.cloud.os_instance_state:
    cloud: devstack
    server: web-1
    state: started
  when: web_1_power is changed

- name: Stop web-1 for a snapshot, marked so that a rerun after a cut-off run knows it was running
  snapkit.cloud.os_instance_state:
    cloud: devstack
    server: web-1
    state: stopped
    stop_mark: web-1-nightly
  register: web_1_stopped

- name: Start it again at the end (the mark is removed)
  snapkit.cloud.os_instance_state:
    cloud: devstack
    server: web-1
    state: started
    stop_mark: web-1-nightly
  when: web_1_stopped is changed or web_1_stopped.stop_mark_found == 'web-1-nightly'
"""

RETURN = r"""
previous_state:
  description:
    - The server's status when the module started (C(ACTIVE), C(SHUTOFF), C(ERROR), C(BUILD)...).
    - Also returned when the module fails after reading it.
  returned: always
  type: str
  sample: ACTIVE
state:
  description: The server's status when the module returned (before the change in check mode).
  returned: always
  type: str
  sample: SHUTOFF
stop_mark_found:
  description:
    - The value of the server's metadata item C(snapkit:stopped-for-snapshot) when the module started (null when it had
      none), that is the stop mark of the run that stopped it.
    - Equal to O(stop_mark) on a C(SHUTOFF) server, it means a run of the same procedure stopped the server and was cut
      off before it could start it again.
    - Also returned when the module fails after reading it.
  returned: when O(stop_mark) is given
  type: str
  sample: web-1-nightly
server:
  description: The server as it is when the module returns (as it was before the change in check mode).
  returned: always
  type: dict
  contains:
    id:
      description: The server id.
      type: str
      sample: 0a6f3c1e-5b7d-4e2a-9c8b-1d2e3f4a5b6c
    name:
      description: The server name.
      type: str
      sample: web-1
    status:
      description: The server status.
      type: str
      sample: SHUTOFF
    task_state:
      description: The task Nova is doing on the server (C(OS-EXT-STS:task_state)), null when none.
      type: str
      sample: null
    metadata:
      description: The server metadata.
      type: dict
      sample: {"snapkit:stopped-for-snapshot": "web-1-nightly"}
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _os_snapshot as snapshots
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import SnapkitOpenStackModule
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import STOP_MARK_KEY
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import foreign_mark_warning

# The status each state option stands for, and the action that gets there.
TARGET = {"stopped": ("SHUTOFF", "stop"), "started": ("ACTIVE", "start")}


class InstanceStateModule(SnapkitOpenStackModule):
    argument_spec = dict(
        server=dict(type="str", required=True),
        state=dict(type="str", choices=["stopped", "started"], required=True),
        stop_mark=dict(type="str"),
        wait=dict(type="bool", default=True),
    )
    module_kwargs = dict(supports_check_mode=True)
    result = None

    def failure_context(self):
        return f"Power state {self.params['state']} of server {self.params['server']!r}", self.params["server"]

    def partial_result(self):
        return dict(self.result or {})

    def check_arguments(self):
        snapshots.check_text("server", self.params["server"], required=True)
        snapshots.check_text("stop_mark", self.params["stop_mark"])

    def run(self):
        target, action = TARGET[self.params["state"]]
        stop_mark = self.params["stop_mark"]
        server = snapshots.find_server(self.api, self.params["server"])
        found = (server.metadata or {}).get(STOP_MARK_KEY) if stop_mark else None
        self.result = result = dict(changed=False, previous_state=server.status, state=server.status, server=server_view(server))
        if stop_mark:
            result["stop_mark_found"] = found
        heading = self.api.POWER_TASKS.get(server.task_state, "ACTIVE" if server.status == "BUILD" else server.status)
        if found not in (None, stop_mark) and heading == "SHUTOFF":
            self.warn(foreign_mark_warning(f"Server {server.name} ({server.id})", server.status, found, "procedure"))
        result["changed"] = change = heading != target
        result["diff"] = {"before": {"state": server.status}, "after": {"state": target if change else server.status}}
        if self.check_mode:
            return result
        if change and stop_mark and action == "stop":
            self._best_effort(f"Marking server {server.id} with {STOP_MARK_KEY}={stop_mark}",
                              lambda: self.api.set_server_metadata(server.id, {STOP_MARK_KEY: stop_mark}))
        if change:
            if not self.api.power_settled(server):
                server = self.api.wait_for_server(server.id, self.api.power_settled, "it is neither building, stopping nor starting")
            self.api.server_power_action(server.id, action)

        def there(item):
            return item.status == target and self.api.power_settled(item)

        if self.params["wait"] and (change or not there(server)):
            server = self.api.wait_for_server(server.id, there, f"it is {target}")
        elif change:
            server = self.api.get_server(server.id)
        if stop_mark and action == "start" and found == stop_mark:
            removed = self._best_effort(f"Removing the stop mark {STOP_MARK_KEY}={stop_mark} of server {server.id}",
                                        lambda: self.api.delete_server_metadata_item(server.id, STOP_MARK_KEY))
            if removed:
                server.metadata = {key: value for key, value in (server.metadata or {}).items() if key != STOP_MARK_KEY}
        result.update(state=server.status, server=server_view(server))
        return result

    def _best_effort(self, what, call):
        """The stop mark is a step the procedure can do without: refused, a warning that names it, and the module goes on."""
        try:
            call()
            return True
        except ModuleFailure as error:
            self.warn(f"{what} was refused ({error}); a run cut off while the server is stopped would leave it stopped")
            return False


def server_view(server):
    return {"id": server.id, "name": server.name, "status": server.status, "task_state": server.task_state,
            "metadata": dict(server.metadata or {})}


def main():
    module = InstanceStateModule()
    module()


if __name__ == "__main__":
    main()
