"""Holding young collections back while a watcher handles a poll (``vonage_async._collector``)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from vonage_async import _collector


def collections_during(work: Callable[[], Any]) -> int:
    started = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(count)
    try:
        work()
    finally:
        gc.callbacks.remove(count)
    return len(started)


def containers(n: int) -> list[list[int]]:
    return [[i] for i in range(n)]  # all alive at once: n young containers


def test_a_hold_stops_young_collections_and_its_release_restores_them() -> None:
    before = gc.get_threshold()
    with _collector.held():
        assert collections_during(lambda: containers(5_000)) == 0
    assert gc.get_threshold() == before
    assert collections_during(lambda: containers(5_000)) > 0
    try:
        with _collector.held():
            raise KeyError("a failing burst releases too")
    except KeyError:
        pass
    assert gc.get_threshold() == before


def test_a_release_keeps_what_the_application_chose_meanwhile() -> None:
    before = gc.get_threshold()
    try:
        assert _collector.hold()
        gc.disable()
        _collector.release()
        assert not gc.isenabled()
        gc.enable()
        assert _collector.hold()
        gc.set_threshold(5_000, 20, 20)
        _collector.release()
        assert gc.get_threshold() == (5_000, 20, 20)
        assert _collector.hold()
        held = gc.get_threshold()  # what code running during the hold reads
        gc.set_threshold(held[0], held[1], held[2] * 2)
        _collector.release()
        assert gc.get_threshold() == (5_000, 20, 40)
    finally:
        gc.enable()
        gc.set_threshold(*before)


def test_a_collector_that_is_off_or_tuned_that_high_is_left_alone() -> None:
    before = gc.get_threshold()
    gc.disable()
    try:
        assert not _collector.hold()
    finally:
        gc.enable()
    gc.set_threshold(200_000)
    try:
        assert not _collector.hold()
        assert gc.get_threshold()[0] == 200_000
    finally:
        gc.set_threshold(*before)


def test_a_hold_never_released_still_lets_the_collector_run() -> None:
    # A loop closed with the release still queued: larger young collections, not none.
    assert _collector.hold()
    try:
        assert not _collector.hold()  # one hold at a time
        assert collections_during(lambda: containers(_collector.HELD_THRESHOLD + 10_000)) > 0
    finally:
        _collector.release()
    _collector.release()  # a second release is harmless
