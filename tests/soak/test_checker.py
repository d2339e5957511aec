"""The soak's Checker judges a Telephony walk as the emulator sent it: page after page through
``next_page_uri`` until the page that by its own count is the last, even when the list grew
under the walk and page 2 counts (and links) one page more than page 1 did."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from vonage_async import Backoff, CallEnded
from vonage_async.emulator import Emulator
from vonage_async.emulator._faults import Poll

from ._harness import Checker, Key, Report, Settings, Subscription

FAST = Backoff(initial=0.01, maximum=0.05)


def _checker() -> tuple[Checker, Report]:
    report = Report("telephony", Settings(seed=0, seconds=0.0, faults=()))
    return Checker(telephony=True, report=report), report


def _walk(checker: Checker, at: float, *pages: tuple[int, int, list[str]]) -> None:
    for number, (count, total, ids) in enumerate(pages, 1):
        calls: dict[Key, str] = {(None, i): "answered" for i in ids}
        poll = Poll("calls", at, frozenset(), calls, page=number, pages=count, total=total)
        checker.on_poll(poll)


def test_a_walk_that_grew_under_its_reader_is_judged_on_every_page_it_linked() -> None:
    checker, report = _checker()
    _walk(checker, 1.0, (2, 6, ["a", "b", "c"]), (2, 6, ["d", "x", "e"]))
    # x and a, b ended, f g h started: f g h | c d e; then i started after page 1 was sent,
    # so page 2 counts three pages (i f g | h c d | e) and links a page 3.
    _walk(checker, 2.0, (2, 6, ["f", "g", "h"]), (3, 7, ["h", "c", "d"]), (3, 7, ["e"]))
    assert checker.tracks[(None, "x")].ended_at is None  # one miss of a paged walk
    _walk(checker, 3.0, (3, 7, ["i", "f", "g"]), (3, 7, ["h", "c", "d"]), (3, 7, ["e"]))
    assert checker.tracks[(None, "x")].ended_at == 3.0
    assert report.polls == 3


def test_a_walk_that_lost_a_page_or_moved_is_not_a_successful_poll() -> None:
    checker, report = _checker()
    _walk(checker, 1.0, (2, 6, ["a", "b", "c"]), (2, 6, ["d", "x", "e"]))
    # The list shrank: page 2 is the last by its own count, and x slipped onto page 1 unseen.
    _walk(checker, 2.0, (3, 7, ["a", "b", "c"]), (2, 6, ["e", "f", "g"]))
    # A walk whose page 2 was not sent whole (a reset): its page 3 does not complete it.
    first: dict[Key, str] = {(None, i): "answered" for i in ("a", "b", "c")}
    checker.on_poll(Poll("calls", 3.0, frozenset(), first, page=1, pages=3, total=4))
    checker.on_poll(Poll("calls", 3.0, frozenset(), {(None, "e"): "x"}, page=3, pages=3, total=4))
    assert report.polls == 1
    assert checker.tracks[(None, "x")].ended_at is None


async def test_the_watch_and_the_checker_agree_on_a_walk_that_grew_in_the_emulator() -> None:
    """The watch reads page 3 of a walk whose page 1 counted two pages, finds it consistent
    and ends the missing call after the next walk; the emulator's record of what it sent
    must support that CallEnded."""
    checker, report = _checker()
    async with Emulator(seed=1, extensions=10, history_per_extension=0) as emu:
        numbers = sorted(emu.state.extensions, key=int)

        def place() -> str:
            call_id = emu.place_call(numbers[0], numbers[1], ring_seconds=0.0, hold_forever=True)
            checker.ground[call_id] = emu.state.calls[call_id]
            return call_id

        placed = [place() for _ in range(6)]
        gone = placed[-1]  # the oldest call: on page 2 of the first walk
        finished = 0

        def on_poll(poll: Poll) -> None:
            nonlocal finished
            checker.on_poll(poll)
            if poll.page >= poll.pages:
                finished += 1
                if finished == 1:  # between walks 1 and 2: one call ends, one starts
                    emu.state.hangup(gone)
                    place()
            elif poll.page == 1 and finished == 1:
                place()  # walk 2 grows under its reader: its page 2 links a page 3

        emu.faults.record_polls(on_poll)
        sub = Subscription("all#1", None, None, time.monotonic())
        checker.subs.append(sub)

        async def consume(client: Any) -> None:
            watch = client.telephony.calls.watch(interval=0.05, backoff=FAST, page_size=3)
            async for event in watch:
                checker.on_event(sub, event, time.monotonic())
                if isinstance(event, CallEnded):
                    return

        async with emu.client() as client:
            await asyncio.wait_for(consume(client), 10.0)
        sub.left = time.monotonic()
        await asyncio.sleep(0)
    assert finished >= 3 and (None, gone) in sub.ended
    checker.judge(time.monotonic(), final=True)
    assert not report.violations, report.violations
