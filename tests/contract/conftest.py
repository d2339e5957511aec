"""The contract tests run in their own session (``nox -s contract`` / tests/contract/run.sh,
which set VONAGE_CONTRACT=1), not a second time inside the main suite."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("VONAGE_CONTRACT") == "1":
        return
    skip = pytest.mark.skip(reason="contract session only: tests/contract/run.sh")
    for item in items:
        if item.get_closest_marker("contract") is not None:
            item.add_marker(skip)
