"""Schemathesis over the five official files against the standalone emulator.

``vonage-async emulator`` runs on a free loopback port; each file, with only the flaws listed
in ``flaws.py`` patched, is run by the Schemathesis CLI, which fails on any answer the file does
not allow: a status code it does not document, a body its schema refuses, a wrong content type,
or a server error. Requests the emulator refuses with a documented 4xx are not failures (the
files mark no field required, so "schema-valid" requests such as an empty call are meaningless).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import flaws
from ._prism import SPECS as SPECS_DIR

pytestmark = [
    pytest.mark.contract,
    pytest.mark.skipif(
        not SPECS_DIR.is_dir(),
        reason=f"the OpenAPI files are not at {SPECS_DIR} (set VONAGE_SPECS)",
    ),
]

# The files' servers, relative to the emulator's VBC base.
FILES = {
    "provisioning.yml": "/provisioning",
    "vbc-account.yml": "/provisioning",
    "vbc-extension.yml": "/provisioning",
    "vbc-user.yml": "/provisioning",
    "telephony.yml": "/telephony/v3",
}
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)
SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    port = _free_port()
    # Calls talk long enough to still exist while their operations are exercised.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vonage_async.emulator",
            "--port",
            str(port),
            "--talk-seconds",
            "600",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the emulator did not start within 10 s")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _token(url: str) -> str:
    from vonage_async.emulator import Credentials

    c = Credentials()
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "username": c.username,
            "password": c.password,
            "client_id": c.client_id,
            "client_secret": c.client_secret,
        }
    ).encode()
    with urllib.request.urlopen(url + "/token", data=form, timeout=10) as answer:
        return str(json.load(answer)["access_token"])


def _call(url: str, token: str, path: str, body: object = None) -> Any:
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        raw = answer.read().decode()
    return json.loads(raw) if raw.startswith(("{", "[")) else raw


def _config(spec: str, url: str, token: str) -> str:
    """Path parameters naming real resources, so operations reach more than their 404."""
    vbc = "/t/vbc.prod"
    lines = ['[parameters]\n"path.account_id" = "self"']
    if spec == "telephony.yml":
        calls = "/telephony/v3/cc/accounts/self/calls"
        new_call = {
            "from": {"destination": "301", "type": "extension"},
            "to": {"destination": "14155550100", "type": "pstn"},
        }
        devices = _call(url, token, f"{vbc}/telephony/v3/registration/accounts/self/devices")
        lines.append(f'"path.device_id" = "{devices["devices"][0]["mac_address"]}"')
        # One call for the reads and changes, one each for the two deletes.
        for name in (
            "",
            "DELETE /cc/accounts/{account_id}/calls/{call_id}",
            "DELETE /cc/accounts/{account_id}/calls/{call_id}/legs/{leg_id}",
        ):
            call_id = _call(url, token, vbc + calls, new_call).strip()
            leg_id = _call(url, token, f"{vbc}{calls}/{call_id}/legs")[0]["leg_id"]
            pins = f'"path.call_id" = "{call_id}"\n"path.leg_id" = "{leg_id}"'
            if name:
                lines.append(f'[[operations]]\ninclude-name = "{name}"\n[operations.parameters]')
            lines.append(pins)
    else:
        prov = f"{vbc}/provisioning/api/accounts/self"
        ext = _call(url, token, prov + "/extensions?page_size=1")["_embedded"]["data"][0]
        location = _call(url, token, prov + "/locations")["_embedded"]["data"][0]
        lines += [
            f'"path.location_id" = {location["id"]}',
            f'"path.user_id" = {ext["user"]["id"]}',
            f'"path.external_id" = "{ext["external_id"]}"',
            f'"path.extension_number" = "{ext["extension_number"]}"',
        ]
    return "\n".join(lines) + "\n"


def _load(spec: str) -> dict[str, object]:
    import yaml

    with open(SPECS_DIR / spec, encoding="utf-8") as f:
        return yaml.safe_load(f)  # type: ignore[no-any-return]


@pytest.mark.parametrize("flaw", flaws.FLAWS, ids=lambda f: f"{f.spec}:{f.line}")
def test_each_listed_flaw_quotes_its_line(flaw: flaws.Flaw) -> None:
    lines = (SPECS_DIR / flaw.spec).read_text(encoding="utf-8").splitlines()
    assert lines[flaw.line - 1].strip() == flaw.quote


@pytest.mark.skipif(SCHEMATHESIS is None, reason="schemathesis is not installed (dev extra)")
@pytest.mark.parametrize("spec", list(FILES))
def test_the_emulator_answers_as_the_file_allows(
    spec: str, emulator_url: str, tmp_path: Path
) -> None:
    document = flaws.patch(_load(spec), spec)
    schema = tmp_path / (Path(spec).stem + ".json")
    schema.write_text(json.dumps(document), encoding="utf-8")
    config = tmp_path / "schemathesis.toml"
    # Our own account and real resources, so the operations reach their logic (another
    # account and unknown ids are tested in tests/emulator); a fixed seed keeps it reproducible.
    token = _token(emulator_url)
    config.write_text(_config(spec, emulator_url, token), encoding="utf-8")
    assert SCHEMATHESIS is not None
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(config),
            "run",
            str(schema),
            "--url",
            f"{emulator_url}/t/vbc.prod{FILES[spec]}",
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            os.environ.get("VONAGE_SCHEMATHESIS_EXAMPLES", "15"),
            "--seed",
            "20260101",
            "--mode",
            "all",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = done.stdout
    failures = report.find("=== FAILURES")
    assert done.returncode == 0, (
        report[failures if failures >= 0 else -8000 :][:20000] + done.stderr[-2000:]
    )
