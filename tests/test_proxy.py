"""Proxies: every family through a real forwarding proxy on loopback, the environment honoured
when asked (HTTP_PROXY, NO_PROXY), per-family proxies, and credentials that still reach only
their own host when a proxy sees everything."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from yarl import URL

from vonage_async import OAuth2, RequestEvent, Vonage, errors
from vonage_async.auth import TokenSet
from vonage_async.emulator import Emulator

from .forward_proxy import ForwardProxy

# Made-up host names: only the proxy knows where they are, so nothing can bypass it unseen.
VBC, REGISTRY, LEGACY, TOKEN = "vbc.test", "registry.test", "legacy.test", "token.test"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(hold=0.3, ring_seconds=0.2, talk_seconds=0.5) as emu:
        yield emu


def named(emulator: Emulator, host: str, path: str = "") -> str:
    return str(URL(emulator.url).with_host(host)) + path


def named_client(emulator: Emulator, tokens: list[TokenSet] | None = None, **options: Any) -> Any:
    """A client whose families (and token endpoint) live on four different made-up hosts."""
    c = emulator.credentials
    arguments: dict[str, Any] = {
        "vbc_url": named(emulator, VBC, URL(emulator.vbc_url).path),
        "network_registry_url": named(emulator, REGISTRY, URL(emulator.network_registry_url).path),
        "legacy_url": named(emulator, LEGACY),
        "vbc_auth": OAuth2(
            c.client_id,
            c.client_secret,
            c.username,
            c.password,
            token_url=str(URL(emulator.token_url).with_host(TOKEN)),
            on_tokens=tokens.append if tokens is not None else None,
        ),
    }
    return emulator.client(**{**arguments, **options})


def proxy_for(emulator: Emulator, **kwargs: Any) -> ForwardProxy:
    host = URL(emulator.url).host or "127.0.0.1"
    return ForwardProxy({name: host for name in (VBC, REGISTRY, LEGACY, TOKEN)}, **kwargs)


async def use_every_family(client: Vonage) -> None:
    await client.provisioning.accounts.get("self")
    [country async for country in client.network_registry.catalogue.countries(max_items=3)]
    await client.legacy.directory()


async def test_every_family_goes_through_the_proxy(emulator: Emulator) -> None:
    exchanges: list[RequestEvent] = []
    async with proxy_for(emulator) as proxy:
        client = named_client(emulator, proxy=proxy.url, on_response=[exchanges.append])
        async with client:
            await use_every_family(client)
    assert proxy.hosts_seen() == {VBC, REGISTRY, LEGACY, TOKEN}
    # Every exchange the client made (token request and login included) was one the proxy saw.
    assert len(proxy.seen) == len(exchanges) >= 5
    assert {e.family for e in exchanges} == {"vbc", "network_registry", "legacy", None}


async def test_credentials_reach_only_their_own_host_through_the_proxy(
    emulator: Emulator,
) -> None:
    c = emulator.credentials
    tokens: list[TokenSet] = []
    async with proxy_for(emulator, credentials=("proxyuser", "proxy-pass-777")) as proxy:
        client = named_client(emulator, tokens, proxy=proxy.url_with_credentials())
        async with client:
            await use_every_family(client)
            emulator.faults.expire_sessions()  # a second login, with a new session cookie
            await client.legacy.directory()
    assert tokens and proxy.refused == 0
    basic = base64.b64encode(f"{c.api_key}:{c.api_secret}".encode()).decode()
    secrets = {
        c.client_secret: {TOKEN},
        c.password: {TOKEN},
        tokens[-1].access_token: {VBC},
        basic: {REGISTRY},
        c.api_secret: set(),  # only ever inside the Basic header above
        c.legacy_password: {LEGACY},
    }
    cookies: set[str] = set()
    for forwarded in proxy.seen:
        if "Set-Cookie" in forwarded.headers:  # (requests never carry one)
            raise AssertionError("a request carried Set-Cookie")
        if forwarded.headers.get("Cookie"):
            cookies.add(forwarded.headers["Cookie"])
            assert forwarded.target.host == LEGACY, forwarded.target
        if "Authorization" in forwarded.headers:
            assert forwarded.target.host in (VBC, REGISTRY), forwarded.target
        # The proxy's own credentials went to the proxy only: they were stripped here and
        # never reach an origin (the proxy is the only one that saw them).
        assert forwarded.headers.get("Proxy-Authorization", "").startswith("Basic ")
        wire = "\n".join(
            [str(forwarded.target), *map(str, forwarded.headers.items()), forwarded.body.decode()]
        )
        for secret, allowed in secrets.items():
            if secret in wire:
                assert forwarded.target.host in allowed, (secret[:4], forwarded.target)
    assert len(cookies) >= 2  # the second session's cookie went to the legacy host as well


async def test_per_family_proxy_overrides_the_default(emulator: Emulator) -> None:
    async with proxy_for(emulator) as default, proxy_for(emulator) as legacy_only:
        client = named_client(emulator, proxy=default.url, legacy_proxy=legacy_only.url)
        async with client:
            await use_every_family(client)
    assert default.hosts_seen() == {VBC, REGISTRY, TOKEN}
    assert legacy_only.hosts_seen() == {LEGACY}


async def test_a_family_proxy_covers_its_token_host(emulator: Emulator) -> None:
    async with proxy_for(emulator) as vbc_only:
        c = emulator.credentials
        client = emulator.client(
            vbc_url=named(emulator, VBC, URL(emulator.vbc_url).path),
            vbc_auth=OAuth2(
                c.client_id,
                c.client_secret,
                c.username,
                c.password,
                token_url=str(URL(emulator.token_url).with_host(TOKEN)),
            ),
            vbc_proxy=vbc_only.url,
        )
        async with client:
            await client.provisioning.accounts.get("self")
            await client.legacy.directory()  # the emulator's real address: no proxy
    assert vbc_only.hosts_seen() == {VBC, TOKEN}


def test_families_sharing_a_host_cannot_take_different_proxies() -> None:
    from vonage_async import BasicAuth, SessionLogin

    with pytest.raises(errors.ValidationError, match="share the host"):
        Vonage(
            network_registry_auth=BasicAuth("key", "secret"),
            legacy_auth=SessionLogin("user", "pw"),
            network_registry_url="http://127.0.0.1:9/registry",
            legacy_url="http://127.0.0.1:9",
            legacy_proxy="http://127.0.0.1:3128",
        )


@pytest.mark.parametrize(
    "bad", ["ftp://user:hunter2@proxy:21", "user:hunter2@proxy:3128", "http://user:hunter2@"]
)
def test_a_bad_proxy_url_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        Vonage(legacy_proxy=bad)
    assert "hunter2" not in str(caught.value)
    assert "legacy_proxy" in str(caught.value)


def test_trust_env_and_trace_configs_need_the_clients_own_session() -> None:
    import aiohttp

    async def check() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(errors.ConfigurationError):
                Vonage(session=session, trust_env=True)
            with pytest.raises(errors.ConfigurationError):
                Vonage(session=session, trace_configs=[aiohttp.TraceConfig()])

    asyncio.run(check())


def clear_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_trust_env_honours_http_proxy_and_no_proxy(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxy_environment(monkeypatch)
    async with proxy_for(emulator) as proxy:
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        monkeypatch.setenv("NO_PROXY", URL(emulator.url).host or "")
        # The legacy family on the emulator's real address is in NO_PROXY: it goes direct.
        async with named_client(emulator, legacy_url=emulator.url, trust_env=True) as client:
            await use_every_family(client)
    assert proxy.hosts_seen() == {VBC, REGISTRY, TOKEN}


async def test_the_environment_is_ignored_by_default(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxy_environment(monkeypatch)
    async with proxy_for(emulator) as proxy:
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        async with emulator.client() as client:
            await use_every_family(client)
    assert proxy.seen == []


async def test_the_cli_honours_the_environment(emulator: Emulator) -> None:
    c = emulator.credentials
    async with proxy_for(emulator) as proxy:
        env = {
            key: value
            for key, value in os.environ.items()
            if key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        }
        env.update(
            HTTP_PROXY=str(proxy.url),
            VONAGE_LEGACY_URL=named(emulator, LEGACY),
            VONAGE_LEGACY_USERNAME=c.legacy_username,
            VONAGE_LEGACY_PASSWORD=c.legacy_password,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vonage_async",
            "directory",
            "--max-items",
            "1",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.strip()
    assert proxy.hosts_seen() == {LEGACY}
