"""The Live Status watcher survives what a server can do (issue 22's rules for the watchers),
against the scripted seed-003 server in ``tests/dashui_server.py``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import pytest

from tests.dashui_server import PASSWORD, USERNAME, DashServer, serving
from vonage_async import (
    Backoff,
    CallEnded,
    CallStarted,
    SessionLogin,
    Snapshot,
    Vonage,
    Watch,
    errors,
)
from vonage_async.legacy import _live_status

FAST = Backoff(initial=0.01, maximum=0.05)


@pytest.fixture
async def dash() -> AsyncIterator[DashServer]:
    async with serving(hold=0.3) as server:
        yield server


@pytest.fixture
async def client(dash: DashServer) -> AsyncIterator[Vonage]:
    async with Vonage(
        legacy_auth=SessionLogin(USERNAME, PASSWORD),
        legacy_url=dash.url,  # type: ignore[attr-defined]
    ) as vonage:
        yield vonage


class Recorder:
    """Consumes a watch in a task; the watch's end (or error) is kept in ``task``."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.seen: list[Any] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.watch:
            self.seen.append(event)

    def started(self, uid: str) -> bool:
        return any(isinstance(e, CallStarted) and e.call.id == uid for e in self.seen)

    async def until(self, predicate: Any, timeout: float = 5.0) -> None:
        for _ in range(int(timeout / 0.02)):
            if predicate():
                return
            if self.task.done():
                self.task.result()  # the watch ended: say why
                raise AssertionError("the watch ended")
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out; seen {self.seen[-5:]}")

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def started(client: Vonage, **kw: Any) -> Recorder:
    kw.setdefault("poll_timeout", 2.0)
    kw.setdefault("backoff", FAST)
    recorder = Recorder(client.legacy.live_status.watch(**kw))
    await recorder.until(lambda: recorder.seen)
    assert isinstance(recorder.seen[0], Snapshot)
    return recorder


async def survives(dash: DashServer, recorder: Recorder, uid: str) -> None:
    """Once the scripted faults were met, a call placed reaches the consumer: the watch
    lived through them."""
    await recorder.until(lambda: not dash.faults and not dash.login_faults)
    await dash.set_call("301", uid, "Ringing")
    await recorder.until(lambda: recorder.started(uid))
    assert not recorder.task.done()


# -- rule 1: the legacy session can expire at any moment; only a refused login is fatal ----


async def test_a_conflict_then_a_failing_login_is_survived(
    dash: DashServer, client: Vonage
) -> None:
    recorder = await started(client)
    dash.faults.append("409")
    dash.login_faults.append("500")  # the fresh login after the conflict fails once
    await survives(dash, recorder, "c1-1")
    assert dash.logins >= 3
    await recorder.stop()


async def test_a_gateway_timeout_on_the_login_is_survived(dash: DashServer, client: Vonage) -> None:
    # A 408 is the gateway giving up, not the server refusing our credentials.
    recorder = await started(client)
    dash.faults.append("409")
    dash.login_faults.extend(["408", "408"])
    await survives(dash, recorder, "c1-2")
    await recorder.stop()


async def test_a_session_expiring_right_after_each_login_is_survived(
    dash: DashServer, client: Vonage
) -> None:
    recorder = await started(client)
    # A conflict makes it log in again; that session expires at once, and so does the one
    # the transport logs in for: the watcher meets "USER NOT LOGGED IN" after a login.
    dash.faults.extend(["409", "403", "403"])
    await survives(dash, recorder, "c2-1")
    await recorder.stop()


async def test_a_403_without_a_body_means_log_in_again(dash: DashServer, client: Vonage) -> None:
    recorder = await started(client)
    dash.faults.extend(["403empty", "403empty"])
    await survives(dash, recorder, "c3-1")
    await recorder.stop()


async def test_a_timed_out_poll_is_abandoned_and_the_next_logs_in_afresh(
    dash: DashServer, client: Vonage
) -> None:
    recorder = await started(client, poll_timeout=0.5)
    logins = dash.logins
    dash.faults.append("stall")  # held past the poll timeout; the server still holds it
    await asyncio.sleep(0.1)
    await survives(dash, recorder, "c4-1")
    assert dash.logins == logins + 1
    assert dash.conflicts == 0, "the stalled session was not polled again"
    await recorder.stop()


async def test_a_login_refused_after_the_session_expired_ends_the_watch(
    dash: DashServer, client: Vonage
) -> None:
    recorder = await started(client)
    dash.password = "changed-meanwhile"
    dash.expire_sessions()
    await dash.set_call("301", "c5-1", "Ringing")
    with pytest.raises(errors.AuthenticationError) as caught:
        await asyncio.wait_for(recorder.task, 5)
    assert "login refused" in str(caught.value) and PASSWORD not in str(caught.value)


# -- rule 3: conflicts count in a sliding window of time -----------------------------------


async def test_conflicts_long_apart_do_not_end_a_watch(
    dash: DashServer, client: Vonage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_live_status._DashuiSource, "CONFLICT_WINDOW", 0.0)  # all "old"
    recorder = await started(client, max_conflicts=1)
    dash.faults.extend(["409", "500", "409", "500", "409"])  # no success in between
    await survives(dash, recorder, "c6-1")
    await recorder.stop()


async def test_conflicts_within_the_window_still_end_a_watch(
    dash: DashServer, client: Vonage, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, days = time.time, itertools.count()
    # Rule 5 as well: the window runs on the monotonic clock, so a wall clock jumping a day
    # ahead at every look does not age the conflicts out.
    monkeypatch.setattr(time, "time", lambda: real() + 86_400 * next(days))
    recorder = await started(client, max_conflicts=1)
    dash.faults.extend(["409", "500", "409"])
    with pytest.raises(errors.SessionConflictError):
        await asyncio.wait_for(recorder.task, 5)


# -- rule 4: nothing a server sends makes the watcher spin, stall or die --------------------


async def test_304s_that_come_back_at_once_pace_the_loop(dash: DashServer, client: Vonage) -> None:
    recorder = await started(client)
    polls = dash.polls
    dash.always = "304now"
    await asyncio.sleep(1.0)
    dash.always = None
    assert dash.polls - polls <= 12  # at most 10 a second (and hundreds without pacing)
    await survives(dash, recorder, "c7-1")
    await recorder.stop()


@pytest.mark.parametrize(
    "fault",
    [
        "408",
        "500",
        "reset",
        "truncate",
        "empty",
        "html",
        "utf16",
        "{}",
        "deep",
        "deep-extension",
        "shape",
        "not-object",
    ],
)
async def test_a_bad_answer_resynchronises(dash: DashServer, client: Vonage, fault: str) -> None:
    await dash.set_call("302", "lives-on", "Connected")
    recorder = await started(client)
    dash.faults.extend([fault, fault])  # twice: a resync's first read meets it too
    await survives(dash, recorder, f"c8{len(fault)}-1")
    # A bad answer is not an empty account: the call that lives on was not ended.
    assert not any(isinstance(e, CallEnded) for e in recorder.seen), recorder.seen
    await recorder.stop()


@pytest.mark.parametrize("form", ["seconds", "date"])
async def test_a_long_retry_after_is_capped_said_and_visible(
    dash: DashServer, client: Vonage, caplog: pytest.LogCaptureFixture, form: str
) -> None:
    recorder = await started(client)
    assert recorder.watch.waiting_until is None
    day = "86400" if form == "seconds" else formatdate(time.time() + 86_400, usegmt=True)
    with caplog.at_level(logging.WARNING, "vonage_async"):
        dash.faults.append(f"429:{day}")
        await dash.set_call("301", "c9-1", "Ringing")
        for _ in range(100):
            if recorder.watch.waiting_until is not None:
                break
            await asyncio.sleep(0.02)
    waiting = recorder.watch.waiting_until
    assert waiting is not None
    assert 250 < waiting - asyncio.get_running_loop().time() <= 300
    assert any("waiting 300 s" in r.getMessage() for r in caplog.records)
    await recorder.stop()
    assert recorder.watch.waiting_until is None


# -- rule 6: cancelling and closing leave nothing behind and the state consistent ----------


async def test_a_consumer_cancelled_twice_leaves_no_stale_state(
    dash: DashServer, client: Vonage
) -> None:
    await dash.set_call("301", "c10-1", "Connected")
    recorder = await started(client)
    assert len(recorder.seen[0].calls) == 1
    recorder.task.cancel()
    await asyncio.sleep(0)  # it is leaving: the hub is stopping its loop
    recorder.task.cancel()  # as asyncio.wait_for and task groups do
    with contextlib.suppress(asyncio.CancelledError):
        await recorder.task
    await dash.drop_call("301", "c10-1")  # ended while nobody watched
    again = await started(client)
    assert again.seen[0].calls == (), "the ended call is not shown as active"
    await again.stop()
