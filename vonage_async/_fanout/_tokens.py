"""OAuth2 whose tokens live in Redis (see ``fanout.RedisTokenStore``)."""

from __future__ import annotations

import inspect
import time
from typing import TYPE_CHECKING, Any

from ..auth import OAuth2, TokenSet

if TYPE_CHECKING:
    from .._http import Send
    from ..fanout import RedisTokenStore


class SharedOAuth2(OAuth2):
    """Before a grant: take the store's lock, adopt a fresh token another replica stored, or
    else grant with the newest stored refresh token and store what comes back (under the
    lock, so a rotated refresh token is never spent twice)."""

    def __init__(
        self, store: RedisTokenStore, client_id: str, client_secret: str, **options: Any
    ) -> None:
        self._store = store
        self._user_on_tokens = options.pop("on_tokens", None)
        super().__init__(client_id, client_secret, on_tokens=self._saved, **options)

    async def _saved(self, tokens: TokenSet) -> None:
        await self._store.save(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_at": time.time() + tokens.expires_in,
            }
        )
        if self._user_on_tokens is not None:
            saved = self._user_on_tokens(tokens)
            if inspect.isawaitable(saved):
                await saved

    async def _obtain(self, send: Send) -> None:
        async with self._store.lock():
            stored = await self._store.load()
            if stored:
                left = float(stored["expires_at"]) - time.time()
                if stored.get("refresh_token"):
                    self._refresh_token = stored["refresh_token"]
                if stored["access_token"] != self._token and left > 60.0:
                    now = self._clock()
                    self._token = stored["access_token"]
                    self._renew_at = now + left - min(60.0, left * 0.1)
                    return
            await super()._obtain(send)
