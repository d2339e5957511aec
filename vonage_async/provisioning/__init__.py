"""VBC Provisioning (seed 000) and the Extension API (seed 001)."""

from ._api import Provisioning

__all__ = ["Provisioning"]
