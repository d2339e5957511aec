"""The soak tests run by default; ``-m "not soak"`` leaves them out."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: the chaos soak of the watchers (30 s each)")
