"""Network Registry (seed 004)."""

from ._api import NetworkRegistry

__all__ = ["NetworkRegistry"]
