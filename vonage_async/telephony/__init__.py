"""VBC Telephony v3 (seed 002 and specs/telephony.yml)."""

from ._api import Telephony

__all__ = ["Telephony"]
