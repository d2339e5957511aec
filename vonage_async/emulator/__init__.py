"""An embedded, stateful emulator of the Vonage Business Communications APIs.

    async with Emulator(hold=1.0) as emu:
        async with emu.client() as client: ...

It serves OAuth (``/token``), Provisioning, Telephony v3, the Network Registry and the legacy
Business Solutions API (with the Live Status long poll) on their real paths, over one shared
model of an account whose calls ring, connect and hang up on a schedule. ``emu.faults`` injects
errors, latency, resets, 429 bursts, expired sessions and tokens, stalled or truncated polls.
"""

from ._auth import Credentials
from ._emulator import Emulator, build_app
from ._faults import Faults
from ._legacy import live_status_document
from ._state import State

__all__ = ["Credentials", "Emulator", "Faults", "State", "build_app", "live_status_document"]
