"""Pytest plugin: an ``emulator`` fixture, a started :class:`Emulator` per test.

Enable with ``-p vonage_async.emulator.pytest_plugin`` (or the package's ``pytest11`` entry
point). The hold is 1 s and calls ring 0.2 s and talk 0.5 s, so tests stay fast. Needs
pytest-asyncio; without it the plugin defines nothing, so installing the SDK never breaks an
unrelated test run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ._emulator import Emulator

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - only without pytest-asyncio
    pass
else:

    @pytest_asyncio.fixture
    async def emulator() -> AsyncIterator[Emulator]:
        """A running emulator on an ephemeral loopback port, stopped after the test."""
        async with Emulator(hold=1.0, ring_seconds=0.2, talk_seconds=0.5) as emu:
            yield emu
