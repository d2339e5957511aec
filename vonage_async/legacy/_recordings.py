"""Call Recording Web Service: the MP3 of a call, streamed, never held whole in memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import aiohttp
from yarl import URL

from .. import _validation as check, errors
from .._service import Service
from ._errors import reasons

CHUNK_SIZE = 64 * 1024


def _call_id(value: Any) -> str:
    """A recording's presence call id: digits, as Extension Information and Live Status give."""
    return check.digits("presence_call_id", value, min_len=1, max_len=64)


class Recordings:
    """``client.legacy.recordings``: fetch call recordings."""

    def __init__(self, service: Service) -> None:
        self._service = service

    def recording_url(self, presence_call_id: str | int) -> URL:
        """The recordings-player page of a call, for a browser (it needs a logged-in user)."""
        call_id = _call_id(presence_call_id)
        return self._service.base_url.origin().joinpath("ui", "recordingsplayer", call_id)

    def stream(self, presence_call_id: str | int) -> AsyncIterator[bytes]:
        """This web service returns the call recording (MP3 file) for a call recording.

        An async iterator of chunks of at most 64 KiB; the id is checked now, the request is
        sent when iteration starts. Break out early with ``contextlib.aclosing`` to release
        the connection at once. Raises ``RecordingNotFoundError``,
        ``RecordingNotPermittedError``, ``InvalidCallIdError``, or ``TransportError`` when the
        connection fails mid-stream.
        """
        return self._chunks(self._url(presence_call_id))

    async def download(self, presence_call_id: str | int, path: str | os.PathLike[str]) -> int:
        """Save the call recording (MP3 file) to ``path``; returns the number of bytes written.

        Written to a temporary file beside ``path`` and renamed when complete, so ``path`` is
        either the whole recording or untouched. Raises as ``stream`` does.
        """
        url = self._url(presence_call_id)
        target = Path(path)
        with reasons():
            async with self._service.transport.stream(self._service.binding, "GET", url) as live:
                # The file is made only once the server said yes.
                handle, temp = await asyncio.to_thread(_open_beside, target)
                try:
                    written = 0
                    async for chunk in _read(live, url):
                        await asyncio.to_thread(handle.write, chunk)
                        written += len(chunk)
                    await asyncio.to_thread(handle.close)
                    await asyncio.to_thread(os.replace, temp, target)
                except BaseException:
                    handle.close()
                    with contextlib.suppress(OSError):
                        os.unlink(temp)
                    raise
        return written

    def _url(self, call_id: Any) -> URL:
        return self._service.url("presence", "rest", "callrecording", _call_id(call_id))

    async def _chunks(self, url: URL) -> AsyncIterator[bytes]:
        with reasons():
            async with self._service.transport.stream(self._service.binding, "GET", url) as live:
                async for chunk in _read(live, url):
                    yield chunk


async def _read(live: aiohttp.ClientResponse, url: URL) -> AsyncIterator[bytes]:
    try:
        async for chunk in live.content.iter_chunked(CHUNK_SIZE):
            yield chunk
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        raise errors.TransportError(
            f"recording download interrupted: {reason}", method="GET", url=url
        ) from exc


def _open_beside(target: Path) -> tuple[IO[bytes], str]:
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    return os.fdopen(fd, "wb"), temp
