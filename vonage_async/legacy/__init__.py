"""The legacy Business Solutions API (seed 003), Live Status included."""

from ._api import Legacy

__all__ = ["Legacy"]
