# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Windows guests' settings (``GET/POST /windows/config``)."""

from __future__ import annotations

import dataclasses

from cloudsim.simulator import SimSettings


@dataclasses.dataclass
class WindowsSettings(SimSettings):
    """``receive_chunk_bytes``: the most output of each stream one Receive answer carries (more means more round trips).

    ``silent_drop``: 1 makes a guest that goes down (stop, Sysprep) vanish without a word, so clients wait for their
    read timeout; 0 (default) resets the connections.
    """

    receive_chunk_bytes: int = 1024
    silent_drop: int = 0

    def check(self, key: str, value: float) -> None:
        if key == "receive_chunk_bytes" and value < 1:
            raise ValueError("receive_chunk_bytes must be >= 1")
        if key == "silent_drop" and value not in (0, 1):
            raise ValueError("silent_drop must be 0 or 1")
