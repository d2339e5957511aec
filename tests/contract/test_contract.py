"""Contract: every SDK operation the official OpenAPI files define, against Prism.

Prism runs with ``--errors``, so a wrong path, method, body or a missing bearer token is an
error answer; the proxy in front of it also refuses query names the file does not define. Each
file is served twice: with its examples (static) and with generated answers (``-d``), which
our models must decode.
"""

from __future__ import annotations

import pytest

from ._operations import CASES, SPECS, verify
from ._prism import missing, operations, serve

pytestmark = [pytest.mark.contract, pytest.mark.skipif(bool(missing()), reason=missing() or "")]


@pytest.mark.parametrize("spec", SPECS)
def test_the_sdk_covers_every_operation_of_the_file(spec: str) -> None:
    in_file = {str(op) for op in operations(spec)}
    covered = {case.operation for case in CASES if case.spec == spec}
    assert in_file - covered == set(), "operations of the file the SDK does not call"
    assert covered - in_file == set(), "cases naming operations the file does not have"


# Dynamic answers differ by seed: three seeds, so absent optional fields and odd values show.
MODES = [(False, ""), (True, "vonage-async"), (True, "17"), (True, "2026")]


@pytest.mark.parametrize(
    ("dynamic", "seed"), MODES, ids=["static", *(f"dynamic-{s}" for _, s in MODES[1:])]
)
@pytest.mark.parametrize("spec", SPECS)
async def test_every_operation_passes_against_prism(spec: str, dynamic: bool, seed: str) -> None:
    async with serve(spec, dynamic=dynamic, seed=seed or "vonage-async") as mock:
        failures = {
            case.operation: problem
            for case in CASES
            if case.spec == spec and (problem := await verify(mock, case)) is not None
        }
    assert failures == {}
