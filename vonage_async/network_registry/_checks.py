"""The Network Registry's documented input limits, built on the shared ``_validation`` checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from .. import _validation as check
from .._converter import OpenEnum
from ..errors import ValidationError

E = TypeVar("E", bound=OpenEnum)

# Filter values that the API documents as lengths or ranges.
LIMIT_MAX = 100
PLMN_ID_LEN = (14, 15)


def text(name: str, value: Any, max_len: int, *, required: bool = False) -> None:
    """An optional (or required) string of at most ``max_len`` characters."""
    if value is None:
        if required:
            raise ValidationError(name, "is required")
        return
    check.text(name, value, max_len=max_len, required=required)


def flag(name: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValidationError(name, f"expected True or False, got {value!r}")
    return value


def must_accept(name: str, value: Any, *, required: bool) -> None:
    """Terms must be accepted: ``False`` is refused, and so is ``None`` where required."""
    flag(name, value)
    if value is False or (required and value is not True):
        raise ValidationError(name, "must be True: the terms and conditions must be accepted")


def enum_member(name: str, value: Any, enum_type: type[E]) -> E:
    """A documented value of ``enum_type``, given as member or (any case) string."""
    member = enum_type(getattr(value, "value", value))
    check.enum_value(name, member, enum_type)
    return member


def strings(name: str, value: Any, *, required: bool = False) -> list[str]:
    """A list of non-empty strings (a lone string is one item)."""
    if value is None:
        if required:
            raise ValidationError(name, "is required")
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise ValidationError(name, f"expected a list of strings, got {type(value).__name__}")
    if required and not items:
        raise ValidationError(name, "must not be empty")
    for i, item in enumerate(items):
        check.text(f"{name}[{i}]", item)
    return list(items)


def ids(name: str, value: Any, *, required: bool = False) -> list[str]:
    """Ids for a comma-separated filter: each one ASCII segment without a comma."""
    items = strings(name, value, required=required)
    for i, item in enumerate(items):
        if "," in check.path_segment(f"{name}[{i}]", item):
            raise ValidationError(f"{name}[{i}]", f"an id has no comma: {check.short(item)}")
    return items


def countries(name: str, value: Any, *, required: bool = False) -> list[str]:
    """ISO 3166 two-letter country codes."""
    codes = strings(name, value, required=required)
    for i, code in enumerate(codes):
        check.country_code(f"{name}[{i}]", code)
    return codes


def mapping(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise ValidationError(name, f"expected a mapping, got {type(value).__name__}")


def limit(value: int | None) -> int | None:
    return None if value is None else check.int_range("limit", value, 1, LIMIT_MAX)


def plmn_id(value: Any) -> str | None:
    if value is None:
        return None
    lo, hi = PLMN_ID_LEN
    check.path_segment("plmn_id", value, max_len=hi)
    if len(value) < lo:
        raise ValidationError("plmn_id", f"at least {lo} characters, got {len(value)}")
    return str(value)
