"""The ``vonage-async`` command line, used the way a person or a shell script would."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from vonage_async._cli import main
from vonage_async._events import CallStarted, CallUpdated, Snapshot
from vonage_async._format import event_line
from vonage_async.emulator import Emulator
from vonage_async.legacy._live_models import CallStatus, LiveCall, LiveExtension

TIME = re.compile(r"^\d\d:\d\d:\d\d  ")


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without the caller's real credentials."""
    for name in list(os.environ):
        if name.startswith("VONAGE_"):
            monkeypatch.delenv(name)


@pytest.fixture
async def account(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Emulator]:
    """A running emulator, and the environment variables a user would set to reach it."""
    async with Emulator(hold=1.0, ring_seconds=0.2, talk_seconds=0.5) as emu:
        c = emu.credentials
        env = {
            "VONAGE_CLIENT_ID": c.client_id,
            "VONAGE_CLIENT_SECRET": c.client_secret,
            "VONAGE_USERNAME": c.username,
            "VONAGE_PASSWORD": c.password,
            "VONAGE_TOKEN_URL": emu.token_url,
            "VONAGE_VBC_URL": emu.vbc_url,
            "VONAGE_LEGACY_USERNAME": c.legacy_username,
            "VONAGE_LEGACY_PASSWORD": c.legacy_password,
            "VONAGE_LEGACY_URL": emu.legacy_url,
            "VONAGE_API_KEY": c.api_key,
            "VONAGE_API_SECRET": c.api_secret,
            "VONAGE_NETWORK_REGISTRY_URL": emu.network_registry_url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield emu


async def run(*argv: str) -> int:
    """``vonage-async argv...`` in this process (its own event loop, on a thread)."""
    return await asyncio.to_thread(main, list(argv))


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def one_error_line(text: str) -> str:
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("error: ")
    return lines[0]


# -- demo ---------------------------------------------------------------------------------------


def test_demo_prints_a_stream_of_call_events_and_stops_by_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--duration", "3"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert all(TIME.match(line) for line in out), out
    assert "SNAPSHOT      8 extensions, 0 active calls, AVAILABLE" in out[0]
    started = [line for line in out if "CALL STARTED" in line]
    assert started, out
    assert re.search(r"CALL STARTED  ext \d+  call \d{8}…  ringing  (from|to) \S", started[0])


def test_demo_json_is_one_object_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json", "--duration", "2.5", "--interval", "0.3"]) == 0

    events = json_lines(capsys.readouterr().out)
    assert events[0]["type"] == "snapshot"
    assert len(events[0]["extensions"]) == 8
    started = [e for e in events if e["type"] == "call_started"]
    assert started, events
    call = started[0]["call"]
    assert call["callStatus"] == "ringing"
    assert datetime.fromisoformat(call["StartTime"]).tzinfo is not None
    assert datetime.fromisoformat(started[0]["time"]).tzinfo is not None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_demo_quietly_with_status_130() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "vonage_async", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell may start background jobs with SIGINT ignored; a terminal would not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        assert "SNAPSHOT" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert len(err.splitlines()) == 1  # only the "emulator on ..." note
    assert err.startswith("emulator on http://127.0.0.1:")


def test_event_lines_read_like_a_log() -> None:
    at = datetime(2024, 5, 1, 12, 0, 1, tzinfo=timezone.utc)
    ringing = LiveCall(
        uid="3485753111-301",
        call_status=CallStatus.RINGING,
        callername="Jane Doe",
        on_call_with_name="Jane Doe",
    )
    connected = LiveCall(
        uid="3485753111-301",
        call_status=CallStatus("Connected"),
        callername="Jane Doe",
        on_call_with_name="Jane Doe",
    )

    assert (
        event_line(CallStarted("301", ringing), at)
        == "12:00:01  CALL STARTED  ext 301  call 34857531…  ringing  from Jane Doe"
    )
    assert (
        event_line(CallUpdated("301", connected, ringing), at)
        == "12:00:01  CALL UPDATED  ext 301  call 34857531…  ringing → connected  from Jane Doe"
    )
    snapshot = Snapshot(extensions={"301": LiveExtension("301")}, calls=(), resync=True)
    assert event_line(snapshot, at) == "12:00:01  RESYNC        1 extensions, 0 active calls"


# -- listings -----------------------------------------------------------------------------------


def test_extensions_against_the_emulator_print_json_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["extensions", "--emulator"]) == 0

    captured = capsys.readouterr()
    extensions = json_lines(captured.out)
    assert [e["extension_number"] for e in extensions] == [str(n) for n in range(301, 309)]
    assert extensions[0]["dnd_enabled"] is False  # every field, defaults included
    assert captured.err == ""  # no progress unless asked (stderr is not a terminal)


async def test_listings_read_credentials_from_the_environment(
    account: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("users", "--max-items", "2", "--progress") == 0
    captured = capsys.readouterr()
    users = json_lines(captured.out)
    assert [u["login_name"] for u in users] == ["ojensen", "stanaka1"]
    assert captured.err.splitlines()[-1] == "fetched 2 users"

    assert await run("profiles") == 0
    profiles = json_lines(capsys.readouterr().out)
    assert profiles and all(p["id"] for p in profiles)
    assert datetime.fromisoformat(profiles[0]["created_at"]).tzinfo is not None

    assert await run("directory") == 0
    entries = json_lines(capsys.readouterr().out)
    assert {e["type"] for e in entries} == {"conference", "queue", "extension"}
    assert {"type": "extension", "number": "301"}.items() <= next(
        e for e in entries if e["type"] == "extension"
    ).items()

    assert await run("call-history", "302", "--result", "answered", "--max-items", "3") == 0
    records = json_lines(capsys.readouterr().out)
    assert len(records) == 3
    assert {r["result"] for r in records} == {"answered"}
    assert all(r["extension"] == "302" for r in records)


async def test_recording_download_saves_the_file(
    account: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert await run("call-history", "301", "--recorded") == 0
    recorded = [r for r in json_lines(capsys.readouterr().out) if r["recordingUrl"]]
    presence_id = recorded[0]["recordingUrl"].rsplit("/", 1)[-1]
    target = tmp_path / "call.mp3"

    assert await run("recording", "download", presence_id, str(target)) == 0

    (saved,) = json_lines(capsys.readouterr().out)
    assert saved == {"presence_call_id": presence_id, "path": str(target), "bytes": 256 * 1024}
    assert target.stat().st_size == 256 * 1024


# -- failures -----------------------------------------------------------------------------------


def test_missing_credentials_exit_2_naming_the_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["extensions"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = one_error_line(captured.err)
    for name in ("VONAGE_CLIENT_ID", "VONAGE_CLIENT_SECRET", "VONAGE_USERNAME", "VONAGE_PASSWORD"):
        assert name in line

    assert main(["watch"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "VONAGE_LEGACY_USERNAME, VONAGE_LEGACY_PASSWORD" in line
    assert "VONAGE_CLIENT_ID" not in line


def test_refused_call_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--emulator", "click-to-call", "011 44 20 7946 0000"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    line = one_error_line(captured.err)
    assert line.startswith("error: 403 ")
    assert "INTERNATIONAL BLOCKED" in line


async def test_wrong_password_exits_1_without_showing_it(
    account: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VONAGE_PASSWORD", "not-the-password-9f8e")
    assert await run("calls") == 1
    line = one_error_line(capsys.readouterr().err)
    assert "password grant refused" in line
    assert "not-the-password-9f8e" not in line


def test_refused_argument_exits_2_before_sending(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--emulator", "call-history", "30x"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("error: extension: ")


# -- the standalone emulator --------------------------------------------------------------------


def test_emulator_command_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "vonage_async", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert url, banner
        login = urllib.request.Request(
            url.group(0) + "/appserver/rest/user/null",
            headers={"login": "admin", "password": "emulator-legacy-password"},
        )
        with urllib.request.urlopen(login, timeout=5) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode is not None
