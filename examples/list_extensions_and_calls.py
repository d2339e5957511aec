"""List the account's extensions and its active calls.

With VONAGE_CLIENT_ID, VONAGE_CLIENT_SECRET, VONAGE_USERNAME and VONAGE_PASSWORD set this reads
your real account; otherwise it starts the embedded emulator and puts one call in progress.

    python examples/list_extensions_and_calls.py
"""

from __future__ import annotations

import asyncio
import os

from vonage_async import OAuth2, Vonage

ENV = ("VONAGE_CLIENT_ID", "VONAGE_CLIENT_SECRET", "VONAGE_USERNAME", "VONAGE_PASSWORD")


async def show(client: Vonage) -> None:
    print("Extensions")
    async for extension in client.provisioning.extensions.list(page_size=100):
        user = extension.user
        name = f"{user.first_name} {user.last_name}" if user else ""
        print(f"  {extension.extension_number:>6}  {name}")

    print("Active calls")
    async for call in client.telephony.calls.list(order="desc"):
        print(f"  {call.call_id}  {call.from_} -> {call.to}  {call.status}")


async def main() -> None:
    if all(os.environ.get(name) for name in ENV):
        client_id, client_secret, username, password = (os.environ[name] for name in ENV)
        async with Vonage(vbc_auth=OAuth2(client_id, client_secret, username, password)) as client:
            await show(client)
        return

    from vonage_async.emulator import Emulator

    async with Emulator() as emu:
        first_extension = next(iter(emu.state.extensions))
        emu.place_call(first_extension, "14155550100", hold_forever=True)
        async with emu.client() as client:
            await show(client)


if __name__ == "__main__":
    asyncio.run(main())
