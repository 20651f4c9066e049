# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 instance state transitions that take simulated time.

moto switches instances between states instantly. :class:`SimulatedInstanceState` replaces
moto's ``InstanceState`` object on the instance: its ``name``/``code`` follow the clock (for
example ``stopping`` until the transition ends, then ``stopped``), so everything moto renders or
filters (DescribeInstances, DescribeInstanceStatus, ``instance-state-name``) sees the simulated
state without further hooks.
"""

from __future__ import annotations

from cloudsim.clock import SimClock
from cloudsim.ec2.wire import Ec2Error

STATE_CODES = {
    "pending": 0,
    "running": 16,
    "shutting-down": 32,
    "terminated": 48,
    "stopping": 64,
    "stopped": 80,
}


class SimulatedInstanceState:
    """Instance state that is ``transitional`` until ``settles_at`` (simulated seconds), then ``settled``."""

    def __init__(self, clock: SimClock, settled: str, transitional: str | None = None, settles_at: float | None = None) -> None:
        self._clock = clock
        self._settled = settled
        self._transitional = transitional
        self._settles_at = settles_at

    @classmethod
    def transition(cls, clock: SimClock, transitional: str, settled: str, seconds: float) -> SimulatedInstanceState:
        return cls(clock, settled, transitional, clock.time() + max(0.0, float(seconds)))

    @property
    def name(self) -> str:
        if self._settles_at is not None and self._clock.time() < self._settles_at:
            return self._transitional
        return self._settled

    @name.setter
    def name(self, value: str) -> None:
        # moto writes states directly in the paths we leave to it (e.g. RebootInstances): instant.
        self._settled = value
        self._settles_at = None

    @property
    def code(self) -> int:
        return STATE_CODES[self.name]

    @code.setter
    def code(self, _ignored: int) -> None:
        # moto writes name and code together; the code is always derived from the name here.
        return

    def snapshot(self) -> dict:
        """The state now, as the API's InstanceState structure."""
        name = self.name
        return {"Code": STATE_CODES[name], "Name": name}


def current_state(instance) -> dict:
    state = instance._state  # pylint: disable=protected-access
    return {"Code": STATE_CODES.get(state.name, state.code), "Name": state.name}


def set_state(instance, state: SimulatedInstanceState) -> None:
    instance._state = state  # pylint: disable=protected-access


def _not_stoppable(instance_id: str) -> Ec2Error:
    return Ec2Error("IncorrectInstanceState", f"This instance '{instance_id}' is not in a state from which it can be stopped.")


def _not_startable(instance_id: str) -> Ec2Error:
    return Ec2Error("IncorrectInstanceState", f"The instance '{instance_id}' is not in a state from which it can be started.")


def check_stoppable(instance) -> None:
    if instance.state in ("pending", "shutting-down", "terminated"):
        raise _not_stoppable(instance.id)
    if instance.disable_api_stop is True:
        raise Ec2Error("OperationNotPermitted", f"The instance '{instance.id}' may not be stopped. "
                                                "Modify its 'disableApiStop' instance attribute and try again.")


def check_startable(instance) -> None:
    if instance.state in ("stopping", "shutting-down", "terminated"):
        raise _not_startable(instance.id)


def check_terminable(instance) -> None:
    if instance.disable_api_termination is True:
        raise Ec2Error("OperationNotPermitted", f"The instance '{instance.id}' may not be terminated. "
                                                "Modify its 'disableApiTermination' instance attribute and try again.")


def begin_stop(backend, instance, clock: SimClock, seconds: float) -> None:
    """running -> stopping -> stopped; stopping/stopped instances are left as they are."""
    if instance.state != "running":
        return
    # moto's stop releases the public IP and sets the state reason; then the clock takes over.
    backend.stop_instances([instance.id])
    set_state(instance, SimulatedInstanceState.transition(clock, "stopping", "stopped", seconds))


def begin_start(backend, instance, clock: SimClock, seconds: float) -> None:
    """stopped -> pending -> running; pending/running instances are left as they are."""
    if instance.state != "stopped":
        return
    backend.start_instances([instance.id])
    # AWS reports the last start as LaunchTime.
    instance.launch_time = clock.now().replace(tzinfo=None)
    set_state(instance, SimulatedInstanceState.transition(clock, "pending", "running", seconds))


def begin_terminate(backend, instance, clock: SimClock, seconds: float) -> None:
    """any state -> shutting-down -> terminated (moto detaches and deletes volumes at once)."""
    if instance.state == "terminated":
        return
    backend.terminate_instances([instance.id])
    set_state(instance, SimulatedInstanceState.transition(clock, "shutting-down", "terminated", seconds))


def begin_launch(instance, clock: SimClock, seconds: float) -> None:
    """A new instance from RunInstances is pending before it runs."""
    set_state(instance, SimulatedInstanceState.transition(clock, "pending", "running", seconds))
