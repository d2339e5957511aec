"""The chaos soak of both watchers (issue 22), 30 s each by default.

``VONAGE_SOAK_SECONDS`` sets the duration, ``VONAGE_SOAK_SEED`` replays a run (the seed is in
every failure), ``VONAGE_SOAK_FAULTS``/``VONAGE_SOAK_SKIP`` choose the fault kinds.
"""

from __future__ import annotations

import pytest

from ._harness import LIVE_FAULTS, TELEPHONY_FAULTS, Settings, soak

pytestmark = pytest.mark.soak


@pytest.mark.parametrize(
    ("watcher", "kinds"), [("live_status", LIVE_FAULTS), ("telephony", TELEPHONY_FAULTS)]
)
async def test_soak(watcher: str, kinds: tuple[str, ...]) -> None:
    settings = Settings.from_env(kinds)
    report = await soak(watcher, settings)
    print(report.summary())
    assert not report.violations, report.failure()
    assert report.events and report.polls and report.calls_checked, report.summary()
