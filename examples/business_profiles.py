"""List Network Registry business profiles with their registration status at each CSP.

    VONAGE_API_KEY=... VONAGE_API_SECRET=... python examples/business_profiles.py

With both variables set it reads your real account (``VONAGE_NETWORK_REGISTRY_URL`` overrides
the EU endpoint); without them it starts the embedded emulator and reads that.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict

from vonage_async import Vonage
from vonage_async.auth import BasicAuth
from vonage_async.network_registry import ALL, BusinessProfileCspStatus

EU_URL = "https://api-eu.vonage.com/v1/network-registry"


async def report(client: Vonage) -> None:
    registry = client.network_registry.business_profiles
    # One listing with the "*" id gives every profile's CSP statuses at once.
    by_profile: dict[str, list[BusinessProfileCspStatus]] = defaultdict(list)
    async for csp in registry.csp_statuses(ALL, limit=100):
        by_profile[csp.business_profile_id].append(csp)

    count = 0
    async for profile in registry.list(limit=100):
        count += 1
        overall = profile.status.status if profile.status else "unknown"
        countries = ", ".join(profile.countries or []) or "no countries"
        print(f"{profile.name} [{profile.id}] {overall} ({countries})")
        for csp in sorted(by_profile.get(profile.id, []), key=lambda c: c.csp_id):
            note = f" - {csp.message}" if csp.message else ""
            print(f"    {csp.csp_id:<24} {csp.status}{note}")
        if not by_profile.get(profile.id):
            print("    (not yet sent to any CSP)")
    print(f"{count} business profile(s)")


async def main() -> None:
    key = os.environ.get("VONAGE_API_KEY")
    secret = os.environ.get("VONAGE_API_SECRET")
    if key and secret:
        url = os.environ.get("VONAGE_NETWORK_REGISTRY_URL", EU_URL)
        auth = BasicAuth(key, secret)
        async with Vonage(network_registry_auth=auth, network_registry_url=url) as client:
            await report(client)
        return

    from vonage_async.emulator import Emulator

    print("VONAGE_API_KEY/VONAGE_API_SECRET not set: using the embedded emulator\n")
    async with Emulator() as emu, emu.client() as client:
        await report(client)


if __name__ == "__main__":
    asyncio.run(main())
