"""One check per kind of input. Each raises ValidationError naming the parameter."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime, timezone
from typing import Any, TypeVar

from .errors import ValidationError

E = TypeVar("E")

_UNSAFE_SEGMENT = re.compile(r"[/\\\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def path_segment(name: str, value: Any) -> str:
    """A value that goes into a URL path: one segment, never ``..`` or a slash."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(name, f"expected a string or integer, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise ValidationError(name, "must not be empty")
    if text in (".", "..") or _UNSAFE_SEGMENT.search(text):
        raise ValidationError(name, f"{text!r} is not a single path segment")
    return text


def digits(name: str, value: Any, *, min_len: int, max_len: int | None = None) -> str:
    """A string of digits (ints accepted) of the given length."""
    text = str(value).strip() if isinstance(value, (str, int)) and value is not True else ""
    if not text.isdigit() or not text.isascii():
        raise ValidationError(name, f"expected digits, got {value!r}")
    if len(text) < min_len or (max_len is not None and len(text) > max_len):
        span = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
        raise ValidationError(name, f"expected {span} digits, got {len(text)}")
    return text


def extension_number(name: str, value: Any) -> str:
    """An extension number: 2 to 6 digits."""
    return digits(name, value, min_len=2, max_len=6)


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
        return int(moment.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise ValidationError(name, f"expected a datetime or epoch seconds, got {value!r}")


def int_range(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(name, f"expected an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValidationError(name, f"must be in {bound}, got {value}")
    return value


def text(name: str, value: Any, *, max_len: int | None = None, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ValidationError(name, f"expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(name, "must not be empty")
    if max_len is not None and len(value) > max_len:
        raise ValidationError(name, f"at most {max_len} characters, got {len(value)}")
    return value


def email(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value) or len(value) > 254:
        raise ValidationError(name, f"not an email address: {value!r}")
    return value


def url(name: str, value: Any, *, max_len: int | None = None) -> str:
    if not isinstance(value, str) or not _URL.match(value):
        raise ValidationError(name, f"not an http(s) URL: {value!r}")
    if max_len is not None and len(value) > max_len:
        raise ValidationError(name, f"at most {max_len} characters, got {len(value)}")
    return value


def country_code(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _COUNTRY.match(value):
        raise ValidationError(
            name, f"expected an ISO 3166 two-letter code like 'GB', got {value!r}"
        )
    return value


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
    """A phone number as the APIs write it: 3 to 15 digits, a leading ``+`` dropped."""
    text = value.strip().removeprefix("+") if isinstance(value, str) else value
    return digits(name, text, min_len=3, max_len=15)
