"""Click to call with the legacy Business Solutions API, then look at the call.

Against a real account::

    VONAGE_LEGACY_USERNAME=me@example.com VONAGE_LEGACY_PASSWORD=... \\
        python examples/click_to_call.py +1-678-807-9084

Without those variables it runs against the embedded emulator, so it works offline.
Your own extension rings first; once you answer, the number is dialed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator

from vonage_async import SessionLogin, Vonage, errors
from vonage_async.legacy import (
    AccountInactiveError,
    BadPhoneNumberError,
    InternationalBlockedError,
    NoExtensionError,
)


@contextlib.asynccontextmanager
async def legacy_client() -> AsyncIterator[Vonage]:
    username = os.environ.get("VONAGE_LEGACY_USERNAME")
    password = os.environ.get("VONAGE_LEGACY_PASSWORD")
    if username and password:
        async with Vonage(legacy_auth=SessionLogin(username, password)) as client:
            yield client
        return
    from vonage_async.emulator import Emulator

    print("(no VONAGE_LEGACY_USERNAME/PASSWORD: using the embedded emulator)")
    async with Emulator() as emu, emu.client() as client:
        yield client


async def main(number: str) -> int:
    async with legacy_client() as client:
        legacy = client.legacy
        try:
            await legacy.click_to_call(number)
        except errors.ValidationError as exc:
            print(f"not a number we can dial: {exc}")
            return 2
        except (InternationalBlockedError, BadPhoneNumberError) as exc:
            print(f"the call was refused: {exc.message}")
            return 1
        except (NoExtensionError, AccountInactiveError) as exc:
            print(f"your account cannot place calls: {exc.message}")
            return 1
        print(f"calling {number}: pick up your phone")

        directory = await legacy.directory()
        print(f"{len(directory.extensions)} extensions on the account:")
        for ext in directory.extensions.values():
            print(f"  {ext.number:>6}  {ext.name or '':<24} {ext.status or ''}")

        # Whoever is on a call now, and where its recording will be once it ends.
        for ext in directory.extensions.values():
            info = await legacy.extension(ext.number)
            for call in info.calls:
                print(f"  {ext.number} is on a call with {call.on_call_with} ({call.status})")
                if call.is_recorded and call.presence_call_id:
                    print(f"    recording: {legacy.recording_url(call.presence_call_id)}")

        first = next(iter(directory.extensions), None)
        if first is not None:
            print(f"latest calls of {first}:")
            for record in (await legacy.call_history(first))[:5]:
                print(f"  {record.timestamp}  {record.from_} -> {record.to}  {record.result}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "+1 (678) 807-9084")))
