"""One check per kind of input. Each raises ValidationError naming the parameter."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from .errors import ValidationError

E = TypeVar("E")

# Everything here is matched whole (``fullmatch``: ``$`` would let a trailing newline through)
# and ASCII only where the wire wants ASCII (``str.isdigit`` takes Arabic-Indic digits).
# An id: printable ASCII without whitespace, slashes or ``%`` (no pre-encoded ``%2F``);
# ``?`` and ``#`` are sent percent-encoded like any character outside ``pchar``.
_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@?#-]+")
_DIGITS = re.compile(r"[0-9]+")
# A dot-atom local part (without the legal but never-seen ``%`` and ``/``) and a host name.
_ATEXT = r"[A-Za-z0-9!#$&'*+=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_COUNTRY = re.compile(r"[A-Z]{2}")
# The sixteen DTMF digits, plus "," and "p" as pauses.
_DTMF = re.compile(r"[0-9*#A-D,p]+")
DTMF_MAX_LEN = 256
_FEATURE_CODE = re.compile(r"[0-9*#]{1,32}")
"""No file gives a limit; a longer string is a mistake, not a tone sequence."""


def _is_int(value: Any) -> bool:
    """An int that is not a bool, small enough for ``str()`` (huge ones raise ValueError)."""
    return isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 256


def path_segment(name: str, value: Any, *, max_len: int = 256) -> str:
    """An id, as it goes into a URL path or query: one segment of ASCII, never ``..``, a
    slash, ``%`` or whitespace (refused, not stripped), at most ``max_len`` characters."""
    if _is_int(value):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError(name, f"expected a string or integer, got {type(value).__name__}")
    if not value:
        raise ValidationError(name, "must not be empty")
    if value in (".", "..") or not _SEGMENT.fullmatch(value):
        raise ValidationError(name, f"{short(value)} is not a single path segment")
    if len(value) > max_len:
        raise ValidationError(name, f"at most {max_len} characters, got {len(value)}")
    return value


def short(value: Any) -> str:
    """A repr fit for a message: 10,000 characters of input need not be echoed whole."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for str()
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= 80 else f"{text[:77]}..."


def digits(name: str, value: Any, *, min_len: int, max_len: int | None = None) -> str:
    """A string of ASCII digits (non-negative ints accepted) of the given length."""
    if _is_int(value) and value >= 0:
        text = str(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        text = value
    else:
        raise ValidationError(name, f"expected digits 0-9, got {short(value)}")
    if len(text) < min_len or (max_len is not None and len(text) > max_len):
        span = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
        raise ValidationError(name, f"expected {span} digits, got {len(text)}")
    return text


def extension_number(name: str, value: Any) -> str:
    """An extension number: 2 to 6 digits."""
    return digits(name, value, min_len=2, max_len=6)


def check_extensions(name: str, value: Any) -> frozenset[str] | None:
    """A watch's or snapshot's extensions: None (all), one number, or an iterable of numbers.

    Bytes, floats and other non-iterables are refused: ``b"301"`` iterates as 51, 48, 49.
    """
    if value is None:
        return None
    if isinstance(value, str) or _is_int(value):
        value = [value]
    elif isinstance(value, (bytes, bytearray, memoryview, Mapping)) or not isinstance(
        value, Iterable
    ):
        raise ValidationError(
            name, f"expected an extension number or a list of them, got {type(value).__name__}"
        )
    numbers = frozenset(extension_number(name, e) for e in value)
    if not numbers:
        raise ValidationError(name, "give at least one extension, or None for all")
    return numbers


def feature_code(name: str, value: Any) -> str:
    """A feature code such as ``*97``: digits, ``*`` and ``#``."""
    if not isinstance(value, str) or not _FEATURE_CODE.fullmatch(value):
        raise ValidationError(name, f"expected 1 to 32 of 0-9, * and #, got {short(value)}")
    return value


def dtmf(name: str, value: Any) -> str:
    """DTMF digits: ``0-9 * # A-D`` and the pauses ``,`` and ``p``, nothing else."""
    if not isinstance(value, str) or not _DTMF.fullmatch(value):
        raise ValidationError(
            name, f"expected 0-9, *, #, A-D and the pauses , or p; got {short(value)}"
        )
    if len(value) > DTMF_MAX_LEN:
        raise ValidationError(name, f"at most {DTMF_MAX_LEN} characters, got {len(value)}")
    return value


def one_of(name: str, value: Any, allowed: Collection[str]) -> str:
    text = str(getattr(value, "value", value))
    if text not in allowed:
        raise ValidationError(name, f"must be one of {', '.join(sorted(allowed))}; got {text!r}")
    return text


def enum_value(name: str, value: Any, enum_type: Iterable[E]) -> str:
    """``value`` must be one of the known members of an OpenEnum (given as member or string)."""
    return one_of(name, value, {str(getattr(m, "value", m)) for m in enum_type})


def epoch_seconds(name: str, value: datetime | float | int) -> int:
    """A datetime (naive means UTC) or epoch seconds, as whole epoch seconds."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        try:
            seconds = int(moment.timestamp())
        except (OverflowError, ValueError, OSError):  # near datetime.min/max with an offset
            raise ValidationError(name, f"{value!r} is out of range") from None
        if seconds < 0:
            raise ValidationError(name, f"{value!r} is before 1970")
        return seconds
    if (_is_int(value) and value >= 0) or (isinstance(value, float) and 0 <= value < math.inf):
        return int(value)
    raise ValidationError(name, f"expected a datetime or epoch seconds, got {short(value)}")


def int_range(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if not _is_int(value):
        raise ValidationError(name, f"expected an integer below 2**256, got {short(value)}")
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValidationError(name, f"must be in {bound}, got {value}")
    return int(value)


def positive_seconds(name: str, value: Any) -> float:
    """A finite, positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValidationError(name, f"must be a positive number of seconds, got {short(value)}")
    return float(value)


def text(name: str, value: Any, *, max_len: int | None = None, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ValidationError(name, f"expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(name, "must not be empty")
    if max_len is not None and len(value) > max_len:
        raise ValidationError(name, f"at most {max_len} characters, got {len(value)}")
    return value


def email(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValidationError(name, f"not an email address: {short(value)}")
    return value


def url(name: str, value: Any, *, max_len: int | None = None) -> str:
    if not isinstance(value, str) or not _URL.fullmatch(value):
        raise ValidationError(name, f"not an http(s) URL: {short(value)}")
    if max_len is not None and len(value) > max_len:
        raise ValidationError(name, f"at most {max_len} characters, got {len(value)}")
    return value


def country_code(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
        raise ValidationError(
            name, f"expected an ISO 3166 two-letter code like 'GB', got {short(value)}"
        )
    return value


def utc_wall(name: str, value: Any) -> datetime:
    """A datetime as the wall clock of UTC, naive (naive ones are taken as given)."""
    if not isinstance(value, datetime):
        raise ValidationError(name, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=None)
    try:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    except (OverflowError, ValueError):  # datetime.max with a negative offset, say
        raise ValidationError(name, f"{value!r} is out of range") from None


def query(**params: Any) -> dict[str, str]:
    """Query parameters with None dropped and booleans as ``true``/``false``."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(getattr(value, "value", value))
    return out


def phone_number(name: str, value: Any) -> str:
    """A phone number as the APIs write it: 3 to 15 digits, a leading ``+`` dropped (E.164's
    sign, not part of the number); spaces or other formatting are refused, not removed."""
    text = value.removeprefix("+") if isinstance(value, str) else value
    return digits(name, text, min_len=3, max_len=15)
