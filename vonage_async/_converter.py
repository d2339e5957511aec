"""The one cattrs converter, and the conventions every model follows.

- Fields are snake_case; the wire name is the same unless the class says ``__wire_case__ =
  "camel"`` (legacy API) or the field's metadata says ``wire(...)``; ``wire(..., aliases=...)``
  also reads other spellings.
- Unknown fields are ignored, unknown enum values kept (see ``OpenEnum``).
- Servers send numbers as strings and strings as numbers, epoch seconds or milliseconds where a
  date-time is documented, "true"/"false" for booleans, "" for "no value", and one object or
  null where a list is documented: all decode.

Models are structured by ``_fastpath`` where it applies (see there why), else by
``cattrs.gen.make_dict_structure_fn``; both use the hooks registered here.
"""

from __future__ import annotations

import enum
import re
import threading
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, Union

import attrs

from . import _fastpath, errors

if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")
_MISSING: Any = object()

WIRE = "vonage_wire"


ALIASES = "vonage_aliases"


def wire(name: str, *, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    """Field metadata giving the wire name of a field, and other names it is also read from
    when the wire name is absent (where a seed and an official file spell it differently)."""
    return {WIRE: name, ALIASES: aliases} if aliases else {WIRE: name}


def _with_aliases(cls: type, made: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``made``, first copying an aliased value under its wire name when that is absent."""
    pairs = [
        (wire_name(cls, f), f.metadata[ALIASES])
        for f in attrs.fields(cls)
        if f.metadata.get(ALIASES)
    ]
    if not pairs:
        return made

    def structure(o: Any, cl: Any) -> Any:
        if isinstance(o, Mapping):
            found = {
                name: o[alias]
                for name, aliases in pairs
                if name not in o
                for alias in aliases[::-1]  # the first alias listed wins
                if alias in o
            }
            if found:
                o = {**o, **found}
        return made(o, cl)

    return structure


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


_TIMES: dict[Any, datetime | None] = {}
_TIMES_KEPT = 4096


def to_datetime(value: Any, _: Any = None) -> datetime | None:
    """Epoch seconds or milliseconds (number or digits) or ISO 8601, as an aware datetime."""
    # Live Status sends the same times poll after poll: parsing each once saves ~30% of
    # decoding its document (A/B, 1,000 extensions with a call each).
    if value.__class__ is str or value.__class__ is int:
        known = _TIMES.get(value, _MISSING)
        if known is _MISSING:
            known = _TIMES[value] = _to_datetime(value)
            if len(_TIMES) > _TIMES_KEPT:
                _TIMES.clear()
        return known  # type: ignore[no-any-return]
    return _to_datetime(value)


def _to_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        number = float(value)
        if abs(number) > 1e11:  # milliseconds: 1e11 s is the year 5138
            number /= 1000
        return datetime.fromtimestamp(number, tz=timezone.utc)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes only 3 or 6 fraction digits: pad what servers send.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_FRACTION = re.compile(r"\.(\d+)(?=[+-]\d\d:?\d\d$|$)")
_NUMBER = re.compile(r"\s*-?\d+(\.\d+)?\s*")


def as_datetime(value: str | None) -> datetime | None:
    """``to_datetime`` for a field the API types as free text: None when it isn't a time."""
    try:
        return to_datetime(value)
    except (ValueError, TypeError, OverflowError, OSError):
        return None


_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off", ""})


_BOOL_WORDS = {"true": True, "false": False}


def to_bool(value: Any, _: Any = None) -> bool:
    if value is True or value is False:
        return value
    word = _BOOL_WORDS.get(value) if value.__class__ is str else None
    if word is not None:  # legacy: ~5% of a Live Status decode
        return word
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def to_int(value: Any, _: Any = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value)
    return int(float(str(value).strip()))


def to_float(value: Any, _: Any = None) -> float:
    return float(value) if not isinstance(value, str) else float(value.strip())


def to_str(value: Any, _: Any = None) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Each is its type's cattrs hook as it is, hence the unused second parameter (the type).
_SCALARS: dict[Any, Callable[[Any, Any], Any]] = {
    int: to_int,
    float: to_float,
    bool: to_bool,
    str: to_str,
    datetime: to_datetime,
}


def optional_of(tp: Any) -> Any:
    """X for ``X | None``, else None."""
    if typing.get_origin(tp) not in (Union, types.UnionType):
        return None
    args = typing.get_args(tp)
    others = [a for a in args if a is not type(None)]
    return others[0] if len(args) == 2 and len(others) == 1 else None


def _is_open_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, OpenEnum)


def is_scalar(tp: Any) -> bool:
    return tp in _SCALARS or _is_open_enum(tp)


def _is_list(tp: Any) -> bool:
    return typing.get_origin(tp) is list


def _is_model_map(tp: Any) -> bool:
    args = typing.get_args(tp) if typing.get_origin(tp) is dict else ()
    return len(args) == 2 and args[0] is str and attrs.has(args[1])


# Live Status sends the same few spellings ("Connected") poll after poll, and Enum's own
# lookup is slow, the more when case differs: remembering them halves decoding its document.
_ENUMS: dict[type, dict[str, Any]] = {}


def _enum_member(value: Any, cls: type) -> Any:
    known = _ENUMS.get(cls) or _ENUMS.setdefault(cls, {})  # not a new {} per call
    member = known.get(value) if value.__class__ is str else None
    if member is None:
        member = cls(to_str(value))
        if value.__class__ is str and len(known) < 256:  # bounded: unknown values are kept
            known[value] = member
    return member


def expect_object(o: Any, cls: type) -> None:
    if o.__class__ is not dict and not isinstance(o, Mapping):
        raise ValueError(f"expected an object for {cls.__name__}, got {type(o).__name__}")


# Hooks the model modules add (``register_structure_hook_func``), given to every converter.
_EXTRA_HOOKS: list[tuple[Callable[[Any], bool], Callable[[Any, Any], Any]]] = []


def has_own_hook(tp: Any) -> bool:
    """Whether a model module gave ``tp`` its own hook."""
    return any(predicate(tp) for predicate, _ in _EXTRA_HOOKS)


def register_structure_hook_func(
    predicate: Callable[[Any], bool], hook: Callable[[Any, Any], Any]
) -> None:
    """Structure the types ``predicate`` accepts with ``hook``, in every converter made."""
    _EXTRA_HOOKS.append((predicate, hook))
    if _converter is not None:
        _converter.register_structure_hook_func(predicate, hook)


def make_converter(*, fast: bool = True) -> cattrs.Converter:
    """The SDK's converter; ``fast=False`` is stock cattrs with the same hooks (for tests)."""
    import cattrs  # here: with the converter it costs ~10 ms, paid at the first decode, not import
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

    conv = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
    for tp, fn in _SCALARS.items():
        conv.register_structure_hook(tp, fn)
    conv.register_unstructure_hook(datetime, lambda d: int(d.timestamp()))
    # Class hooks go by the MRO: OpenEnum comes before str in every OpenEnum's.
    conv.register_structure_hook(OpenEnum, _enum_member)
    conv.register_unstructure_hook_func(_is_open_enum, lambda v: v.value)

    def optional_hook(tp: Any) -> Callable[[Any, Any], Any]:
        inner = optional_of(tp)
        hook = conv.get_structure_hook(inner)
        if is_scalar(inner):  # "" is "no value" for a scalar
            return lambda v, _: None if v is None or v == "" else hook(v, inner)
        return lambda v, _: None if v is None else hook(v, inner)

    def list_hook(tp: Any) -> Callable[[Any, Any], Any]:
        (inner,) = typing.get_args(tp) or (Any,)
        item = conv.get_structure_hook(inner)

        def structure(value: Any, _: Any) -> list[Any]:
            if value.__class__ is not list:  # isinstance(list, Mapping) costs ~6% of decoding
                if value is None or value == "":
                    return []
                if value.__class__ is dict or isinstance(value, Mapping):
                    return [item(value, inner)]  # one object where a list is documented
            return [item(v, inner) for v in value]

        return structure

    def model_map_hook(tp: Any) -> Callable[[Any, Any], Any]:
        # HAL ``_links``: the files leave other properties open, so an entry that is not an
        # object is one of those, not a link.
        model = typing.get_args(tp)[1]
        hook = conv.get_structure_hook(model)

        def structure(value: Any, _: Any) -> dict[str, Any]:
            expect_object(value, dict)
            return {k: hook(v, model) for k, v in value.items() if isinstance(v, Mapping)}

        return structure

    def structure_factory(cls: type) -> Callable[[Any, Any], Any]:
        attrs.resolve_types(cls)
        if fast and _fastpath.applies(cls):
            return _with_aliases(cls, _fastpath.structurer(cls, conv))
        renames: dict[str, Any] = {
            f.name: override(rename=wire_name(cls, f)) for f in attrs.fields(cls)
        }
        made: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, conv, **renames)

        def structure(o: Any, _: Any) -> Any:
            expect_object(o, cls)
            return made(o, cls)

        return _with_aliases(cls, structure)

    def unstructure_factory(cls: type) -> Callable[[Any], Any]:
        renames: dict[str, Any] = {
            f.name: override(rename=wire_name(cls, f)) for f in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames)

    conv.register_structure_hook_factory(lambda t: optional_of(t) is not None, optional_hook)
    conv.register_structure_hook_factory(_is_list, list_hook)
    conv.register_structure_hook_factory(_is_model_map, model_map_hook)
    conv.register_structure_hook_factory(attrs.has, structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    for predicate, hook in _EXTRA_HOOKS:
        conv.register_structure_hook_func(predicate, hook)
    return conv


_converter: cattrs.Converter | None = None
_BUILDING = threading.Lock()
DECODE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    OverflowError,
    OSError,  # a timestamp out of the platform's range
)


def get_converter() -> cattrs.Converter:
    """The one converter, made on first use (once, even with threads)."""
    global _converter
    if _converter is None:
        with _BUILDING:
            if _converter is None:
                _converter = make_converter()
    return _converter


def structure(data: Any, cls: type[T], *, what: str = "response") -> T:
    """Decode ``data`` into ``cls``; a body of the wrong shape raises DecodeError."""
    try:
        return get_converter().structure(data, cls)
    except (*DECODE_ERRORS, _validation_error()) as exc:  # evaluated only on an exception
        raise errors.DecodeError(f"could not decode {what} as {cls.__name__}: {exc}") from exc


def _validation_error() -> type[Exception]:
    # Imported here, not in structure(): an import statement there costs ~2% of decoding
    # one Live Status extension (callgrind).
    import cattrs

    return cattrs.BaseValidationError


def unstructure(value: Any) -> Any:
    return get_converter().unstructure(value)
