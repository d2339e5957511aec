"""Every example runs, against the embedded emulator, so none of them rots.

Each ``examples/*.py`` is run as a user would (``python examples/x.py``) with no ``VONAGE_*``
variables, which makes it start the emulator. A script that streams must take
``--duration SECONDS``; a new example is picked up by the glob without touching this file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT = 60.0
DURATION = "4"

# What a user should see from each known example (regular expressions, in any order).
EXPECTED: dict[str, list[str]] = {
    "business_profiles.py": [
        r"using the embedded emulator",
        r"^A Business Profile \[\w+\] \w+ \(ES, DE\)$",
        r"^    \w+ +(accepted|not-submitted|pending)",
        r"^\d+ business profile\(s\)$",
    ],
    "click_to_call.py": [
        r"using the embedded emulator",
        r"calling \+1 \(678\) 807-9084: pick up your phone",
        r"^\d+ extensions on the account:$",
        r"^     301  \S",
        r"^  301 is on a call with 16788079084",
        r"^latest calls of 301:$",
    ],
    "hold_play_transfer.py": [
        r"^call \S+: inbound from \d+, answered$",
        r"^call \S+: on hold$",
        r"^call \S+: playing the message$",
        r"^call \S+: transferred to \d+$",
    ],
    "list_extensions_and_calls.py": [
        r"^Extensions$",
        r"^     301  \S",
        r"^Active calls$",
        r"^  [0-9a-f-]{36}  301 -> 14155550100  (ringing|on-call)$",
    ],
    "webhook_bot.py": [
        r"using the embedded emulator",
        r"^call \d+: (INBOUND|OUTBOUND) \d+ RINGING$",
        r"^call \d+: now ACTIVE$",
    ],
    "watch_live_status.py": [
        r"^\d+ extensions, \d+ calls now$",
        r"^ext \d+: call \S+ ringing$",
    ],
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VONAGE_")}
    env["PYTHONWARNINGS"] = "error::ResourceWarning"
    return env


def _arguments(script: Path) -> list[str]:
    # A script that streams says so by taking --duration; everything else runs to its end.
    return ["--duration", DURATION] if "--duration" in script.read_text() else []


def test_every_example_is_covered() -> None:
    assert EXAMPLES, "no examples found"
    assert set(EXPECTED) <= {p.name for p in EXAMPLES}, "an expected example has gone"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_against_the_emulator(script: Path) -> None:
    command = [sys.executable, str(script.relative_to(ROOT)), *_arguments(script)]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"{script.name} ran past {TIMEOUT:.0f} s: a streaming example must take --duration"
        )
    output = f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, output
    assert done.stdout.strip(), output
    for problem in ("traceback", "unclosed", "task was destroyed", "exception ignored"):
        assert problem not in done.stderr.lower(), output
    for pattern in EXPECTED.get(script.name, []):
        assert re.search(pattern, done.stdout, re.MULTILINE), f"no /{pattern}/ in\n{output}"
