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

import pytest

from . import flaws
from ._prism import SPECS as SPECS_DIR

pytestmark = pytest.mark.contract

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


def _load(spec: str) -> dict[str, object]:
    import yaml

    with open(SPECS_DIR / spec, encoding="utf-8") as f:
        return yaml.safe_load(f)  # type: ignore[no-any-return]


@pytest.mark.parametrize("flaw", flaws.FLAWS, ids=lambda f: f"{f.spec}:{f.line}")
def test_each_listed_flaw_quotes_its_line(flaw: flaws.Flaw) -> None:
    lines = (SPECS_DIR / flaw.spec).read_text(encoding="utf-8").splitlines()
    assert flaw.quote in lines[flaw.line - 1]


@pytest.mark.skipif(SCHEMATHESIS is None, reason="schemathesis is not installed (dev extra)")
@pytest.mark.parametrize("spec", list(FILES))
def test_the_emulator_answers_as_the_file_allows(
    spec: str, emulator_url: str, tmp_path: Path
) -> None:
    document = flaws.patch(_load(spec), spec)
    schema = tmp_path / (Path(spec).stem + ".json")
    schema.write_text(json.dumps(document), encoding="utf-8")
    config = tmp_path / "schemathesis.toml"
    # Our own account, so the operations reach their logic (another account is tested in
    # tests/emulator); a fixed seed keeps the run reproducible.
    config.write_text('[parameters]\n"path.account_id" = "self"\n', encoding="utf-8")
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
            f"Authorization: Bearer {_token(emulator_url)}",
            "--checks",
            CHECKS,
            "--max-examples",
            os.environ.get("VONAGE_SCHEMATHESIS_EXAMPLES", "15"),
            "--seed",
            "20260101",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
