"""The ``vonage-async`` command line (also ``python -m vonage_async``).

    vonage-async demo --duration 10        Live Status events from an in-process emulator
    vonage-async watch 301 302 | jq .      Live Status events of a real account
    vonage-async extensions | jq .user     any listing, one JSON object per line
    vonage-async --emulator users          any command against a fresh in-process emulator
    vonage-async emulator --port 8080      the emulator alone, for other languages and tools
    vonage-async listen --port 8080 --url https://bot.example.com/vonage/events
                                           pushed call events (webhook receiver), JSON lines

Environment variables:
  VONAGE_CLIENT_ID, VONAGE_CLIENT_SECRET  VBC OAuth application: extensions, users, calls
  VONAGE_USERNAME, VONAGE_PASSWORD        VBC user for the password grant
  VONAGE_REFRESH_TOKEN                    optional: a refresh token instead of user and password
  VONAGE_TOKEN_URL                        optional, default https://api.vonage.com/token
  VONAGE_VBC_URL                          optional, default https://api.vonage.com/t/vbc.prod
  VONAGE_LEGACY_USERNAME,                 legacy API login: watch, directory, call-history,
  VONAGE_LEGACY_PASSWORD                    click-to-call, recording
  VONAGE_LEGACY_URL                       optional, default https://my.vonagebusiness.com
  VONAGE_API_KEY, VONAGE_API_SECRET       Network Registry: profiles
  VONAGE_WEBHOOK_SIGNING_KEY              webhooks create and listen: the signing key
                                            (listen makes one up when it is unset)
  VONAGE_NETWORK_REGISTRY_URL             optional, default
                                            https://api-eu.vonage.com/v1/network-registry

Output: JSON lines on stdout (times in ISO 8601), so | jq works; demo and
watch --text print one readable line per event. Long listings show a progress line on
stderr when it is a terminal and stdout is not, or with --progress.

Exit status: 0 done (--duration reached included), 1 an API or network error (one line
on stderr), 2 bad usage, a refused argument or missing environment variables, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import errors
from ._format import event_line, event_record, json_line, record
from ._version import __version__

if TYPE_CHECKING:
    from ._client import Vonage
    from ._watch import Watch

Run = Callable[["Vonage", argparse.Namespace], Awaitable[int]]

_ENVIRONMENT = __doc__[__doc__.index("Environment variables:") :]

# The demo's emulator: polls held 5 s, a call every ~1 s that rings ~1 s and talks ~2 s.
_DEMO_HOLD = 5.0
_DEMO_RING = 1.0
_DEMO_TALK = 2.0


class _MissingEnvironment(Exception):
    def __init__(self, command: str, names: list[str]) -> None:
        plural = "s" if len(names) > 1 else ""
        super().__init__(
            f"{command} needs the environment variable{plural} {', '.join(names)}"
            " (see vonage-async --help)"
        )


# -- credentials -------------------------------------------------------------------------------


def _client_options(family: str, command: str, env: Mapping[str, str]) -> dict[str, Any]:
    """``Vonage(...)`` arguments for ``family`` from the environment (empty counts as unset)."""
    from .auth import DEFAULT_TOKEN_URL, BasicAuth, OAuth2, SessionLogin

    def get(name: str) -> str | None:
        return env.get(name) or None

    def require(*names: str) -> None:
        missing = [name for name in names if not get(name)]
        if missing:
            raise _MissingEnvironment(command, missing)

    options: dict[str, Any]
    if family == "vbc":
        password_grant = (
            not get("VONAGE_REFRESH_TOKEN") or get("VONAGE_USERNAME") or get("VONAGE_PASSWORD")
        )
        require(
            "VONAGE_CLIENT_ID",
            "VONAGE_CLIENT_SECRET",
            *(("VONAGE_USERNAME", "VONAGE_PASSWORD") if password_grant else ()),
        )
        options = {
            "vbc_auth": OAuth2(
                client_id=env["VONAGE_CLIENT_ID"],
                client_secret=env["VONAGE_CLIENT_SECRET"],
                username=get("VONAGE_USERNAME"),
                password=get("VONAGE_PASSWORD"),
                refresh_token=get("VONAGE_REFRESH_TOKEN"),
                token_url=get("VONAGE_TOKEN_URL") or DEFAULT_TOKEN_URL,
            )
        }
        url = ("vbc_url", "VONAGE_VBC_URL")
    elif family == "legacy":
        require("VONAGE_LEGACY_USERNAME", "VONAGE_LEGACY_PASSWORD")
        options = {
            "legacy_auth": SessionLogin(
                env["VONAGE_LEGACY_USERNAME"], env["VONAGE_LEGACY_PASSWORD"]
            )
        }
        url = ("legacy_url", "VONAGE_LEGACY_URL")
    else:
        require("VONAGE_API_KEY", "VONAGE_API_SECRET")
        options = {
            "network_registry_auth": BasicAuth(env["VONAGE_API_KEY"], env["VONAGE_API_SECRET"])
        }
        url = ("network_registry_url", "VONAGE_NETWORK_REGISTRY_URL")
    if get(url[1]):
        options[url[0]] = _url_setting(url[1], env[url[1]])
    return options


def _url_setting(name: str, value: str) -> str:
    """A configured URL, refused without echoing it when it carries ``user:password@``."""
    try:
        userinfo = "@" in urlsplit(value).netloc
    except ValueError:
        raise errors.ValidationError(name, "is not a URL") from None
    if userinfo:
        raise errors.ValidationError(name, "must not carry credentials (user:password@host)")
    return value


# -- output ------------------------------------------------------------------------------------


def _emit(data: Any) -> None:
    print(json_line(data), flush=True)


class _Progress:
    """``fetched 300 extensions…`` on stderr: redrawn in place on a terminal, at most twice a
    second, and the final count when the listing ends (or fails)."""

    def __init__(self, noun: str, enabled: bool) -> None:
        self.noun = noun
        self.enabled = enabled
        self.count = 0
        self._tty = sys.stderr.isatty()
        self._drawn = False
        self._last = float("-inf")

    def tick(self) -> None:
        self.count += 1
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.5:
            self._last = now
            self._show("…", final=False)

    def clear(self) -> None:
        """Wipe the progress line before stdout writes on the same terminal."""
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            self._drawn = False

    def done(self) -> None:
        if self.enabled:
            self._show("", final=True)

    def _show(self, suffix: str, *, final: bool) -> None:
        plural = "" if self.count == 1 else "s"
        text = f"fetched {self.count} {self.noun}{plural}{suffix}"
        if self._tty:
            self.clear()
            sys.stderr.write(text + ("\n" if final else ""))
            self._drawn = not final
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _wants_progress(args: argparse.Namespace) -> bool:
    return bool(args.progress) or (sys.stderr.isatty() and not sys.stdout.isatty())


async def _print_all(items: AsyncIterable[Any], noun: str, args: argparse.Namespace) -> int:
    progress = _Progress(noun, _wants_progress(args))
    iterator = aiter(items)
    try:
        async for item in iterator:
            if args.max_items is not None and progress.count >= args.max_items:
                break
            progress.clear()
            _emit(record(item))
            progress.tick()
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()  # stops any page fetches still under way
        progress.done()
    return 0


def _listing(noun: str, items: Callable[[Vonage, argparse.Namespace], AsyncIterable[Any]]) -> Run:
    async def run(client: Vonage, args: argparse.Namespace) -> int:
        return await _print_all(items(client, args), noun, args)

    return run


async def _each(pending: Awaitable[Iterable[Any]]) -> AsyncIterator[Any]:
    for item in await pending:
        yield item


# -- commands ----------------------------------------------------------------------------------


async def _watch(client: Vonage, args: argparse.Namespace) -> int:
    if getattr(args, "redis", None):
        from ._fanout._demo import replica

        return await replica(client, args)

    async def consume() -> None:
        async with (
            client.legacy.live_status.watch(args.extensions or None) as events,
            _health_endpoint(events, args),
        ):
            async for event in events:
                at = datetime.now().astimezone()
                if args.format == "text":
                    print(event_line(event, at), flush=True)
                else:
                    _emit(event_record(event, at))

    if args.duration is None:
        await consume()
    else:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(consume(), args.duration)
    return 0


@contextlib.asynccontextmanager
async def _health_endpoint(watch: Watch, args: argparse.Namespace) -> AsyncIterator[None]:
    """``--health-port``: serve /healthz for the watch while it runs."""
    if getattr(args, "health_port", None) is None:
        yield
        return
    from ._health import HealthServer, watch_health

    server = HealthServer(
        watch_health(watch, args.health_max_age), host=args.health_host, port=args.health_port
    )
    host, port = await server.start()
    print(f"health on http://{host}:{port}/healthz", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        await server.stop()


def _extensions(client: Vonage, args: argparse.Namespace) -> AsyncIterable[Any]:
    return client.provisioning.extensions.list(
        args.account_id,
        location_id=args.location_id,
        phone_number=args.phone_number,
        login_name=args.login_name,
        email=args.email,
    )


def _users(client: Vonage, args: argparse.Namespace) -> AsyncIterable[Any]:
    return client.provisioning.users.list(
        args.account_id,
        first_name=args.first_name,
        last_name=args.last_name,
        login_name=args.login_name,
        email=args.email,
    )


def _calls(client: Vonage, args: argparse.Namespace) -> AsyncIterable[Any]:
    return client.telephony.calls.list(args.account_id, extension=args.extension)


def _profiles(client: Vonage, args: argparse.Namespace) -> AsyncIterable[Any]:
    return client.network_registry.business_profiles.list(shared=args.shared)


async def _directory(client: Vonage, args: argparse.Namespace) -> AsyncIterator[Any]:
    directory = await client.legacy.directory()
    kinds = (
        ("conference", directory.conferences),
        ("queue", directory.queues),
        ("extension", directory.extensions),
    )
    for kind, entries in kinds:
        for entry in entries.values():
            yield {"type": kind, **record(entry)}


def _call_history(client: Vonage, args: argparse.Namespace) -> AsyncIterable[Any]:
    filters: dict[str, Any] = {
        "start": args.start,
        "end": args.end,
        "from_": args.from_,
        "to": args.to,
        "result": args.result,
        "caller_id": args.caller_id,
        "custom_tag": args.custom_tag,
        "is_recorded": args.recorded,
    }
    if args.all:
        return client.legacy.call_history_all(args.extension, **filters)
    return _each(client.legacy.call_history(args.extension, **filters))


async def _click_to_call(client: Vonage, args: argparse.Namespace) -> int:
    await client.legacy.click_to_call(args.number)
    _emit({"number": args.number, "status": "requested"})
    return 0


async def _recording_download(client: Vonage, args: argparse.Namespace) -> int:
    recordings = client.legacy.recordings
    if args.path == "-":
        out = sys.stdout.buffer
        async for chunk in recordings.stream(args.presence_call_id):
            out.write(chunk)
        out.flush()
        return 0
    size = await recordings.download(args.presence_call_id, args.path)
    _emit({"presence_call_id": args.presence_call_id, "path": args.path, "bytes": size})
    return 0


def _webhook_record(hook: Any) -> dict[str, Any]:
    data: dict[str, Any] = record(hook)
    data.pop("signingKey", None)  # a secret: never printed
    return data


def _signing_key(required: bool) -> str:
    key = os.environ.get("VONAGE_WEBHOOK_SIGNING_KEY")
    if key:
        return key
    if required:
        raise _MissingEnvironment("webhooks create", ["VONAGE_WEBHOOK_SIGNING_KEY"])
    import secrets

    return secrets.token_hex(32)


async def _webhooks(client: Vonage, args: argparse.Namespace) -> int:
    hooks = client.integration.webhooks
    if args.action == "list":
        for hook in await hooks.list():
            _emit(_webhook_record(hook))
    elif args.action == "create":
        key = _signing_key(required=not args.emulator)
        hook = await hooks.create(args.url, signing_key=key, metadata_policy=args.metadata_policy)
        _emit(_webhook_record(hook))
    elif args.action == "renew":
        _emit(_webhook_record(await hooks.renew(args.id)))
    else:
        await hooks.delete(args.id)
        _emit({"id": args.id, "status": "deleted"})
    return 0


async def _listen(client: Vonage, args: argparse.Namespace) -> int:
    from .webhooks import WebhookReceiver

    receiver = WebhookReceiver(_signing_key(required=False), path=args.path)
    own_url = await receiver.start(args.host, args.port)
    print(f"receiving on {own_url}", file=sys.stderr)
    url = args.url or (own_url if args.emulator else None)
    if url is None:
        await receiver.stop()
        raise errors.ValidationError("--url", "the public URL the platform posts to is needed")
    subscription = client.integration.subscribe(
        receiver, url=url, delete_on_exit=args.delete_on_exit
    )

    async def show() -> None:
        async for event in receiver.events():
            _emit(event_record(event, datetime.now().astimezone()))

    try:
        async with subscription:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(show(), args.duration)
    finally:
        await receiver.stop()
    return 0


# -- arguments ---------------------------------------------------------------------------------


def _global_options(*, defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the command; a command's copy has no defaults, so it
    never overwrites what was given before the command."""
    parser = argparse.ArgumentParser(add_help=False)
    default: Any = False if defaults else argparse.SUPPRESS
    parser.add_argument(
        "--emulator",
        action="store_true",
        default=default,
        help="run against a fresh in-process emulator instead of a real account",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        default=default,
        help="show listing progress on stderr even when it is not a terminal",
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ISO 8601 like 2024-05-01T09:00, not {text!r}"
        ) from None


def _event_options(parser: argparse.ArgumentParser, *, default: str) -> None:
    parser.add_argument(
        "--duration",
        type=_positive_float,
        metavar="SECONDS",
        help="stop by itself after this long (exit status 0)",
    )
    style = parser.add_mutually_exclusive_group()
    style.add_argument("--json", dest="format", action="store_const", const="json")
    style.add_argument("--text", dest="format", action="store_const", const="text")
    parser.set_defaults(format=default)


def _redis_options(parser: argparse.ArgumentParser) -> None:
    """Run as one replica of a Redis fan-out (needs the redis extra)."""
    parser.add_argument("--redis", metavar="URL", help="run as a replica sharing one poller")
    parser.add_argument("--group", help="with --redis: the consumer group (default: broadcast)")
    parser.add_argument("--consumer", help="with --group: default host name and process id")
    parser.add_argument("--name", dest="fanout_name", default="vonage-async", help="key prefix")
    parser.add_argument("--lease-ttl", type=_positive_float, default=10.0, metavar="SECONDS")
    parser.add_argument("--claim-idle", type=_positive_float, default=30.0, metavar="SECONDS")
    parser.add_argument("--maxlen", type=_positive_int, default=100_000)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vonage-async",
        description="Vonage Business Communications from the command line.",
        epilog=_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_global_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"vonage-async {__version__}")
    parser.set_defaults(seed=0, interval=1.0, max_items=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_global_options(defaults=False)]

    def command(name: str, help: str, run: Run, family: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=common)
        sub.set_defaults(run=run, family=family, name=name)
        return sub

    def listing(
        name: str,
        help: str,
        noun: str,
        items: Callable[[Vonage, argparse.Namespace], AsyncIterable[Any]],
        family: str,
    ) -> argparse.ArgumentParser:
        sub = command(name, help, _listing(noun, items), family)
        sub.add_argument("--max-items", type=_positive_int, metavar="N", help="stop after N")
        return sub

    demo = command(
        "demo",
        "run the emulator with simulated calls and print its Live Status events",
        _watch,
        "legacy",
    )
    _event_options(demo, default="text")
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated traffic")
    demo.add_argument(
        "--interval",
        type=_positive_float,
        default=1.0,
        metavar="SECONDS",
        help="mean time between simulated calls (default 1)",
    )
    demo.set_defaults(extensions=None)
    demo.add_argument(
        "--replicas", type=_positive_int, default=1, help="with --redis: replica processes"
    )
    _redis_options(demo)

    watch = command("watch", "stream Live Status events (JSON lines)", _watch, "legacy")
    watch.add_argument("extensions", nargs="*", metavar="EXTENSION", help="default: all")
    _event_options(watch, default="json")
    watch.add_argument(
        "--health-port",
        type=int,
        metavar="PORT",
        help="serve GET /healthz on PORT (0: any free port, printed on stderr)",
    )
    watch.add_argument("--health-host", default="0.0.0.0", metavar="HOST", help="default 0.0.0.0")
    watch.add_argument(
        "--health-max-age",
        type=_positive_float,
        default=90.0,
        metavar="SECONDS",
        help="/healthz is 503 when the last successful read is older (default 90)",
    )
    _redis_options(watch)

    listing(
        "directory",
        "the account's conference bridges, call queues and extensions",
        "entry",
        _directory,
        "legacy",
    )

    sub = listing("extensions", "list the account's extensions", "extension", _extensions, "vbc")
    sub.add_argument("--account-id", default="self")
    sub.add_argument("--location-id")
    sub.add_argument("--phone-number")
    sub.add_argument("--login-name")
    sub.add_argument("--email")

    sub = listing("users", "list the account's users", "user", _users, "vbc")
    sub.add_argument("--account-id", default="self")
    sub.add_argument("--first-name")
    sub.add_argument("--last-name")
    sub.add_argument("--login-name")
    sub.add_argument("--email")

    sub = listing("calls", "list the account's active calls (Telephony)", "call", _calls, "vbc")
    sub.add_argument("--account-id", default="self")
    sub.add_argument("--extension")

    sub = listing(
        "call-history",
        "an extension's call history, newest first",
        "record",
        _call_history,
        "legacy",
    )
    sub.add_argument("extension", metavar="EXTENSION")
    sub.add_argument("--all", action="store_true", help="walk back past the 100-record limit")
    sub.add_argument("--start", type=_timestamp, metavar="ISO_TIME")
    sub.add_argument("--end", type=_timestamp, metavar="ISO_TIME")
    sub.add_argument("--from", dest="from_", metavar="NUMBER")
    sub.add_argument("--to", metavar="NUMBER")
    sub.add_argument("--result", action="append", choices=("answered", "unanswered", "voicemail"))
    sub.add_argument("--caller-id")
    sub.add_argument("--custom-tag")
    sub.add_argument("--recorded", action=argparse.BooleanOptionalAction, default=None)

    sub = listing(
        "profiles",
        "list Network Registry business profiles",
        "profile",
        _profiles,
        "network_registry",
    )
    sub.add_argument("--shared", action=argparse.BooleanOptionalAction, default=None)

    sub = command(
        "click-to-call",
        "ring your extension, then dial NUMBER when you answer",
        _click_to_call,
        "legacy",
    )
    sub.add_argument("number", metavar="NUMBER")

    recording = commands.add_parser("recording", help="call recordings", parents=common)
    actions = recording.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub = actions.add_parser(
        "download", help="save a call recording (MP3); PATH - writes to stdout", parents=common
    )
    sub.set_defaults(run=_recording_download, family="legacy", name="recording download")
    sub.add_argument("presence_call_id", metavar="PRESENCE_CALL_ID")
    sub.add_argument("path", metavar="PATH")

    webhooks = commands.add_parser("webhooks", help="Integration Platform webhooks", parents=common)
    actions = webhooks.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help in (
        ("list", "list the webhooks (signing keys left out)"),
        ("create", "register URL for call events (key from VONAGE_WEBHOOK_SIGNING_KEY)"),
        ("renew", "renew webhook ID: clears its failed flag, moves expireAt on"),
        ("delete", "remove webhook ID"),
    ):
        sub = actions.add_parser(name, help=help, description=help, parents=common)
        sub.set_defaults(run=_webhooks, family="vbc", name=f"webhooks {name}")
        if name == "create":
            sub.add_argument("url", metavar="URL")
            sub.add_argument("--metadata-policy", choices=("HEADER", "BODY"), default="HEADER")
        elif name != "list":
            sub.add_argument("id", metavar="ID")

    sub = command(
        "listen",
        "receive pushed call events on a webhook (subscribed, renewed, backfilled)",
        _listen,
        "vbc",
    )
    sub.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    sub.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free)")
    sub.add_argument("--path", default="/vonage/events")
    sub.add_argument(
        "--url", help="the public URL the platform posts to (default with --emulator: our own)"
    )
    sub.add_argument("--delete-on-exit", action="store_true", help="remove the webhook at exit")
    sub.add_argument(
        "--duration", type=_positive_float, metavar="SECONDS", help="stop by itself after this long"
    )

    # Handled before parsing (see main); listed here for --help.
    commands.add_parser(
        "emulator", help="run the emulator standalone (see: emulator --help)", add_help=False
    )
    return parser


# -- running -----------------------------------------------------------------------------------


async def _run(args: argparse.Namespace, options: dict[str, Any] | None) -> int:
    run: Run = args.run
    if options is not None:
        from ._client import Vonage

        # Like curl: HTTP(S)_PROXY, NO_PROXY and ~/.netrc apply unless told otherwise.
        async with Vonage(trust_env=True, **options) as client:
            return await run(client, args)

    from .emulator import Emulator

    emulator = Emulator(
        hold=_DEMO_HOLD,
        ring_seconds=_DEMO_RING,
        talk_seconds=_DEMO_TALK,
        simulate=True,
        simulate_interval=args.interval,
        seed=args.seed,
    )
    async with emulator:
        if args.command == "demo" and args.redis and args.replicas > 1:
            from ._fanout._demo import demo

            return await demo(emulator, args)
        if args.command == "demo":
            print(f"emulator on {emulator.url} with simulated calls; Ctrl-C stops", file=sys.stderr)
        async with emulator.client() as client:
            return await run(client, args)


def _fail(message: object, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run one command; answer the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        command = next((a for a in argv if not a.startswith("-")), None)
        if command == "emulator":
            from .emulator._cli import main as emulator_main

            return emulator_main(argv[argv.index(command) + 1 :])
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 0

    try:
        offline = args.emulator or args.command == "demo"
        options = None if offline else _client_options(args.family, args.name, os.environ)
        return asyncio.run(_run(args, options))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader left (``| head``): nothing more to say, and nothing to flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _MissingEnvironment as exc:
        return _fail(exc, 2)
    except errors.ValidationError as exc:
        return _fail(exc, 2)
    except (errors.VonageError, OSError) as exc:
        return _fail(exc, 1)
