"""The one cattrs converter, and the conventions every model follows.

- Fields are snake_case; the wire name is the same unless the class says ``__wire_case__ =
  "camel"`` (legacy API) or the field's metadata says ``wire(...)``. ``wire(..., aliases=[...])``
  also accepts other spellings on input (where a seed and an OpenAPI file disagree).
- Unknown fields are ignored, unknown enum values kept (see ``OpenEnum``).
- Servers send numbers as strings and strings as numbers, epoch seconds or milliseconds where a
  date-time is documented, "true"/"false" for booleans and "" for "no value": all decode.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar, Union

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import errors

T = TypeVar("T")

WIRE = "vonage_wire"
ALIASES = "vonage_aliases"


def wire(name: str, *, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    """Field metadata giving the wire name (and other accepted spellings) of a field."""
    return {WIRE: name, ALIASES: aliases}


class OpenEnum(str, enum.Enum):
    """A string enum that matches case-insensitively and keeps values it does not know.

    ``CallState("Ringing") is CallState.RINGING``; ``CallState("parked-x")`` is a member named
    ``UNKNOWN`` whose value is ``"parked-x"``, so nothing the server adds breaks decoding.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            value = str(value)
        folded = value.strip().lower()
        for member in cls:
            if member.value.lower() == folded:
                return member
        pseudo = str.__new__(cls, value)
        pseudo._name_ = "UNKNOWN"
        pseudo._value_ = value
        return pseudo

    def __str__(self) -> str:
        return str(self.value)

    @property
    def known(self) -> bool:
        return self._name_ != "UNKNOWN"


_CAMEL = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name.rstrip("_"))


def wire_name(cls: type, field: attrs.Attribute[Any]) -> str:
    explicit = field.metadata.get(WIRE)
    if explicit:
        return str(explicit)
    if getattr(cls, "__wire_case__", "snake") == "camel":
        return camel(field.name)
    return field.name.rstrip("_")  # ``from_`` is ``from`` on the wire


def to_datetime(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds (number or digits) or ISO 8601, as an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value)):
        number = float(value)
        if abs(number) > 1e11:  # milliseconds: 1e11 s is the year 5138
            number /= 1000
        return datetime.fromtimestamp(number, tz=timezone.utc)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off", ""})
_BOOL_WORDS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value.__class__ is str and value in _BOOL_WORDS:  # the usual "true"/"false", fast
        return _BOOL_WORDS[value]
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value)
    return int(float(str(value).strip()))


def to_float(value: Any) -> float:
    return float(value) if not isinstance(value, str) else float(value.strip())


def to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_SCALARS: dict[Any, Callable[[Any], Any]] = {
    int: to_int,
    float: to_float,
    bool: to_bool,
    str: to_str,
    datetime: to_datetime,
}


def _optional_scalar(tp: Any) -> Any:
    """``X | None`` for a scalar X, else None."""
    if typing.get_origin(tp) not in (Union, types.UnionType):
        return None
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(args) == 1 and len(typing.get_args(tp)) == 2:
        inner = args[0]
        if inner in _SCALARS or (isinstance(inner, type) and issubclass(inner, OpenEnum)):
            return inner
    return None


def _optional_model(tp: Any) -> Any:
    """``M | None`` for an attrs class M, else None."""
    if typing.get_origin(tp) not in (Union, types.UnionType):
        return None
    args = typing.get_args(tp)
    others = [a for a in args if a is not type(None)]
    if len(args) == 2 and len(others) == 1 and attrs.has(others[0]):
        return others[0]
    return None


def _is_list(tp: Any) -> bool:
    return typing.get_origin(tp) is list


def _ignore_type(fn: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda value, _: fn(value)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
    for tp, fn in _SCALARS.items():
        conv.register_structure_hook(tp, _ignore_type(fn))
    conv.register_unstructure_hook(datetime, lambda d: int(d.timestamp()))

    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, OpenEnum), lambda v, t: t(to_str(v))
    )
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, OpenEnum), lambda v: v.value
    )

    def optional_hook(tp: Any) -> Callable[[Any, Any], Any]:
        inner = _optional_scalar(tp)
        scalar = _SCALARS.get(inner) or (lambda v: inner(to_str(v)))
        # A value already of the JSON type needs no conversion: the common case, kept fast.
        exact = inner if inner in (str, int, float, bool) else None

        def structure(value: Any, _: Any) -> Any:
            if value.__class__ is exact:
                return value if value != "" else None
            if value is None or value == "":
                return None
            return scalar(value)

        return structure

    conv.register_structure_hook_factory(lambda t: _optional_scalar(t) is not None, optional_hook)

    def optional_model_hook(tp: Any) -> Callable[[Any, Any], Any]:
        # cattrs' own Optional hook dispatches on every value; bind the model's hook once.
        inner = _optional_model(tp)
        hook = conv.get_structure_hook(inner)
        return lambda value, _: None if value is None else hook(value, inner)

    conv.register_structure_hook_factory(
        lambda t: _optional_model(t) is not None, optional_model_hook
    )

    def structure_factory(cls: type) -> Callable[[Any, Any], Any]:
        fields = attrs.fields(cls)
        renames: dict[str, Any] = {f.name: override(rename=wire_name(cls, f)) for f in fields}
        base: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls, conv, _cattrs_forbid_extra_keys=False, **renames
        )
        aliases = {
            wire_name(cls, f): tuple(f.metadata[ALIASES]) for f in fields if f.metadata.get(ALIASES)
        }

        def structure(value: Any, tp: Any) -> Any:
            # Without this a list would decode silently into a model of defaults.
            if not isinstance(value, Mapping):
                raise ValueError(f"expected an object, got {type(value).__name__}")
            missing = [k for k in aliases if k not in value]
            if missing:
                value = dict(value)
                for key in missing:
                    for alias in aliases[key]:
                        if alias in value:
                            value[key] = value[alias]
                            break
            return base(value, tp)

        return structure

    def unstructure_factory(cls: type) -> Callable[[Any], Any]:
        renames: dict[str, Any] = {
            f.name: override(rename=wire_name(cls, f)) for f in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames)

    def list_hook(tp: Any) -> Callable[[Any, Any], Any]:
        (inner,) = typing.get_args(tp) or (Any,)
        item = conv.get_structure_hook(inner)

        def structure(value: Any, _: Any) -> list[Any]:
            # Servers send one object where a list is documented, and "" or null for none.
            if value is None or value == "":
                return []
            if isinstance(value, Mapping):
                value = [value]
            return [item(v, inner) for v in value]

        return structure

    conv.register_structure_hook_factory(_is_list, list_hook)
    conv.register_structure_hook_factory(attrs.has, structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    return conv


converter = _make_converter()


def structure(data: Any, cls: type[T], *, what: str = "response") -> T:
    """Decode ``data`` into ``cls``; a body of the wrong shape raises DecodeError."""
    try:
        return converter.structure(data, cls)
    except (ValueError, TypeError, KeyError, AttributeError, cattrs.BaseValidationError) as exc:
        raise errors.DecodeError(f"could not decode {what} as {cls.__name__}: {exc}") from exc


def unstructure(value: Any) -> Any:
    return converter.unstructure(value)
