"""Holding back CPython's young garbage collections while a watcher handles a poll.

A poll's document is thousands of containers, most of them dead a moment later. With the
collector running they set off several young collections, which promote them to the old
generation as if they lived, and every ~30 polls a full collection walks the whole heap
(10-25 ms, a delay for that poll's events). Held, the dead are freed by reference counting
alone and the collector runs afterwards on what survived. (Mercurial's ``nogc`` does the same
for its big parses.)

Holding raises the first generation's threshold rather than disabling the collector: the
application's own ``gc.disable()`` or threshold settings are never overridden, and a release
that never comes (a loop closed in between) leaves larger young collections, not none.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

HELD_THRESHOLD = 100_000  # allocations before a young collection while held (normally 700)

_replaced: tuple[int, ...] | None = None  # the thresholds a hold replaced, to put back


def hold() -> bool:
    """Hold young collections back, unless the collector is off, already held or tuned this
    high by the application; True if this call did."""
    global _replaced
    thresholds = gc.get_threshold()
    if _replaced is not None or not gc.isenabled() or not 0 < thresholds[0] < HELD_THRESHOLD:
        return False
    _replaced = thresholds
    gc.set_threshold(HELD_THRESHOLD, *thresholds[1:])
    return True


def release() -> None:
    """End a hold (any number of calls). What the application set meanwhile stays, except
    the held first threshold itself: code running during a hold reads that one."""
    global _replaced
    replaced, _replaced = _replaced, None
    now = gc.get_threshold()
    if replaced is not None and now[0] == HELD_THRESHOLD:
        gc.set_threshold(replaced[0], *now[1:])


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Young collections held back over a burst of allocation that never awaits."""
    mine = hold()
    try:
        yield
    finally:
        if mine:
            release()
