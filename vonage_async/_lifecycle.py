"""``async with`` for the objects that start and stop, written once."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_S = TypeVar("_S", bound="AsyncScoped")


class AsyncScoped:
    """``async with obj`` awaits ``obj._open()`` (nothing by default), gives ``obj`` and awaits
    ``obj._close()`` on the way out, whatever happened inside."""

    async def _open(self) -> None:
        return None

    async def _close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _S) -> _S:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()
