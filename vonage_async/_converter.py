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
import threading
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, Union

import attrs

from . import errors

if TYPE_CHECKING:
    import cattrs

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


_TIMES: dict[str, datetime | None] = {}
_TIMES_KEPT = 4096


def to_datetime(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds (number or digits) or ISO 8601, as an aware datetime."""
    if value.__class__ is not str or len(value) > 64:  # keep only what a time looks like
        return _to_datetime(value)
    # The same times come back poll after poll (a live call's start, a listed call's legs),
    # and datetimes are immutable: parse each text once.
    known = _TIMES.get(value)
    if known is None:
        known = _to_datetime(value)
        if len(_TIMES) >= _TIMES_KEPT:
            _TIMES.clear()
        _TIMES[value] = known
    return known


def _to_datetime(value: Any) -> datetime | None:
    if value.__class__ is str and value.isdigit():  # the usual epoch digits, fast
        seconds = int(value)
        return datetime.fromtimestamp(
            seconds / 1000 if seconds > 1e11 else seconds, tz=timezone.utc
        )
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
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes only 3 or 6 fraction digits: pad what servers send.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_FRACTION = re.compile(r"\.(\d+)(?=[+-]\d\d:?\d\d$|$)")


def as_datetime(value: str | None) -> datetime | None:
    """``to_datetime`` for a field the API types as free text: None when it isn't a time."""
    try:
        return to_datetime(value)
    except (ValueError, TypeError, OverflowError, OSError):
        return None


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


def _str_keyed_model(tp: Any) -> Any:
    """``dict[str, M]`` for an attrs class M, else None."""
    args = typing.get_args(tp) if typing.get_origin(tp) is dict else ()
    return args[1] if len(args) == 2 and args[0] is str and attrs.has(args[1]) else None


def _is_open_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, OpenEnum)


_ENUM_CACHES: dict[type, dict[str, Any]] = {}


def _enum_cache(cls: type) -> dict[str, Any]:
    """Raw string -> member, filled as values are met (bounded: unknown values are kept)."""
    return _ENUM_CACHES.setdefault(cls, {})


def _enum_member(value: Any, cls: type) -> Any:
    cache = _enum_cache(cls)
    member = cache.get(value) if value.__class__ is str else None
    if member is None:
        member = cls(to_str(value))
        if value.__class__ is str and len(cache) < 256:
            cache[value] = member
    return member


def _hook_for(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    # cattrs would hand an OpenEnum (a str subclass) the plain str hook.
    return _enum_member if _is_open_enum(tp) else conv.get_structure_hook(tp)


def _ignore_type(fn: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda value, _: fn(value)


_MISSING = object()
_EMPTY_LITERALS: dict[Any, str] = {dict: "{}", list: "[]"}
_FACTORY: type[Any] = type(attrs.Factory(list))
_EXACT = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
}


def _slots_are_fields(cls: type, fields: tuple[attrs.Attribute[Any], ...]) -> bool:
    """No slot but the fields (and ``__weakref__``), so filling the fields fills the object."""
    names = {f.name for f in fields} | {"__weakref__"}
    return all(set(getattr(k, "__slots__", ())) <= names for k in cls.__mro__[:-1])


def _list_of(item: str) -> str:
    """An expression mapping ``item`` (with ``{x}`` for the element) over the list ``v``. Lists
    of none or one, most of them, skip the comprehension: before Python 3.12 it is a function
    call of its own."""
    one, each = item.format(x="v[0]"), item.format(x="x")
    return f"([] if not v else [{one}] if len(v) == 1 else [{each} for x in v])"


def _fillable(cls: type) -> bool:
    """Whether assigning every field of ``cls`` makes the object ``__init__`` would: slotted,
    no validators, converters, ``__attrs_pre_init__``/``__attrs_post_init__`` or extra slots."""
    fields = attrs.fields(cls)
    init = getattr(vars(cls).get("__init__"), "__code__", None)
    return (
        init is not None
        and init.co_filename.startswith("<attrs generated")  # not a hand-written __init__
        and not hasattr(cls, "__attrs_post_init__")
        and not hasattr(cls, "__attrs_pre_init__")
        and all(isinstance(getattr(cls, f.name, None), types.MemberDescriptorType) for f in fields)
        and all(f.init and f.validator is None and f.converter is None for f in fields)
        and not any(isinstance(f.default, _FACTORY) and f.default.takes_self for f in fields)
        and _slots_are_fields(cls, fields)
    )


def positional_maker(cls: type[T]) -> Callable[..., T]:
    """``cls(*values)`` with every field given in order, made by filling a writable twin (see
    ``_model_structurer``): about twice as fast for frozen classes made by the thousand."""
    plain: Callable[..., T] = cls
    # kw_only fields: the order of the fields is not the order of the arguments
    if not attrs.has(cls) or not _fillable(cls) or any(f.kw_only for f in attrs.fields(cls)):
        return plain
    names = [field.name for field in attrs.fields(cls)]
    lines = [
        f"def make({', '.join(f'a{i}' for i in range(len(names)))}):",
        "    obj = _new(_twin)",
        *(f"    obj.{name} = a{i}" for i, name in enumerate(names)),
        "    obj.__class__ = _cls",
        "    return obj",
    ]
    env: dict[str, Any] = {"_new": object.__new__, "_twin": _writable_twin(cls), "_cls": cls}
    exec("\n".join(lines), env)
    make: Callable[..., T] = env["make"]
    return make


def _writable_twin(cls: type) -> type:
    """A subclass of slotted ``cls`` adding nothing but plain attribute assignment.

    Instances of the two have the same layout, so one can become the other by ``__class__``
    assignment; plain ``object.__setattr__`` lets CPython store each slot directly.
    """
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,  # shares the slot with __setattr__: both plain
        "__qualname__": f"{cls.__qualname__}._Writable",
        "__module__": cls.__module__,
    }
    return type(f"{cls.__name__}._Writable", (cls,), namespace)


def _model_structurer(cls: type, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """A structure function written for ``cls``, as cattrs would, but faster where it counts.

    Values already of the JSON type pass without a hook call, and slotted classes are filled
    without ``__init__``: the object is made as a writable twin of ``cls`` (same slots, plain
    ``object.__setattr__``), its fields are assigned, and its class is then set to ``cls``. That
    is about 3x faster than ``cls(**kw)`` or slot descriptor calls for frozen classes. Classes
    with validators, converters or ``__attrs_post_init__`` use ``__init__``.
    """
    attrs.resolve_types(cls)
    fields = attrs.fields(cls)
    direct = _fillable(cls)
    env: dict[str, Any] = {
        "_M": _MISSING,
        "_Mapping": Mapping,
        "_dict": dict,
        "_cls": cls,
        "_new": object.__new__,
        "_twin": _writable_twin(cls) if direct else None,
        "_BW": {word: flag for word, flag in _BOOL_WORDS.items() if word},
        "_T": _TIMES.get,
        **{name: tp for tp, name in _EXACT.items()},
    }
    # Not for aliases: a dict could then hold a field under two names, unseen by the key count.
    shaped = direct and len(fields) >= _SHAPED_FIELDS
    shaped = shaped and not any(field.metadata.get(ALIASES) for field in fields)
    shapes: dict[int, Any] = {}  # a dict's length -> a function for the one key set learnt
    env["_S"] = shapes.get
    check = "    if o.__class__ is not _dict and not isinstance(o, _Mapping):"
    if shaped:
        check = "    elif f is None and not isinstance(o, _Mapping):"
    lines = [
        "def structure(o, _):",
        *(
            [
                "    f = _S(len(o), _M) if o.__class__ is _dict else None",
                "    if f is not None and f is not _M:",
                "        r = f(o)",
                "        if r is not _M:",
                "            return r",
                "        f = _missed(len(o))  # not the key set learnt: the general way",
            ]
            if shaped
            else []
        ),
        check,
        "        raise ValueError('expected an object, got ' + type(o).__name__)",
        "    g = o.get",
        "    obj = _new(_twin)" if direct else "    kw = {}",
    ]
    specs: list[tuple[str, list[str], str, str | None]] = []  # name, wire names, value, missing
    for i, field in enumerate(fields):
        wire = wire_name(cls, field)
        lines.append(f"    v = g({wire!r}, _M)")
        for alias in field.metadata.get(ALIASES, ()):
            lines.append(f"    if v is _M: v = g({alias!r}, _M)")
        hook = _hook_for(conv, field.type)
        env[f"_h{i}"], env[f"_t{i}"] = hook, field.type
        value = f"_h{i}(v, _t{i})"
        inner = _optional_scalar(field.type) or field.type
        exact = _EXACT.get(inner)
        model = _optional_model(field.type)
        item = typing.get_args(field.type)[0] if _is_list(field.type) else None
        value_model = _str_keyed_model(field.type)
        if exact == "str":  # the common cases need no call
            if _optional_scalar(field.type) is None:
                value = f"(v if v.__class__ is str else {value})"
            else:
                empty = "None if v is None or v == ''"
                value = f"(v if v.__class__ is str and v != '' else {empty} else {value})"
        elif exact == "bool":  # "true"/"false" strings are the legacy API's booleans
            words = "_BW[v] if v.__class__ is str and v in _BW"
            value = f"(v if v.__class__ is bool else {words} else {value})"
        elif exact is not None:
            value = f"(v if v.__class__ is {exact} else {value})"
        elif _is_open_enum(inner):
            env[f"_c{i}"] = _enum_cache(inner)
            value = f"((_c{i}.get(v) if v.__class__ is str else None) or {value})"
        elif inner is datetime:  # ``datetime | None``: a time seen before needs no call
            env[f"_f{i}"] = to_datetime
            known = "(_T(v) if v.__class__ is str else None)"
            value = f"({known} or (None if v is None or v == '' else _f{i}(v)))"
        elif model is not None:
            env[f"_m{i}"], env[f"_mt{i}"] = conv.get_structure_hook(model), model
            value = f"(None if v is None else _m{i}(v, _mt{i}))"
        elif item is not None and attrs.has(item):
            # The list hook's work, inlined for a list and for the lone object servers send.
            env[f"_m{i}"], env[f"_mt{i}"] = conv.get_structure_hook(item), item
            each = _list_of(f"_m{i}({{x}}, _mt{i})")
            lone = f"[_m{i}(v, _mt{i})] if v.__class__ is _dict"
            value = f"({each} if v.__class__ is list else {lone} else {value})"
        elif value_model is not None:  # HAL ``_links``: JSON keys are strings already
            env[f"_m{i}"], env[f"_mt{i}"] = conv.get_structure_hook(value_model), value_model
            each = f"{{k: _m{i}(x, _mt{i}) for k, x in v.items()}}"
            value = f"({each} if v.__class__ is _dict else {value})"
        elif item in _EXACT:
            env[f"_m{i}"], env[f"_mt{i}"] = _hook_for(conv, item), item
            each = _list_of(
                f"({{x}} if {{x}}.__class__ is {_EXACT[item]} else _m{i}({{x}}, _mt{i}))"
            )
            value = f"({each} if v.__class__ is list else {value})"
        if not direct:
            lines.append(f"    if v is not _M: kw[{field.alias!r}] = {value}")
            continue
        default: str | None
        if field.default is attrs.NOTHING:
            lines.append(f"    if v is _M: raise ValueError('missing field {wire}')")
            default, missing = None, "None"
        elif isinstance(field.default, _FACTORY):
            env[f"_d{i}"] = field.default.factory
            # A literal is cheaper than calling the factory, and means the same for these two.
            default = missing = _EMPTY_LITERALS.get(field.default.factory, f"_d{i}()")
        else:
            env[f"_d{i}"] = field.default
            default = missing = f"_d{i}"
        lines.append(f"    obj.{field.name} = {missing} if v is _M else {value}")
        specs.append((field.name, [wire, *field.metadata.get(ALIASES, ())], value, default))
    if not direct:
        lines.append("    return _cls(**kw)")
    else:
        if shaped:
            misses: dict[int, int] = {}
            env["_learn"] = lambda o: _learn_shape(o, specs, shapes, env)
            env["_missed"] = lambda size: _missed_shape(size, shapes, misses)
            lines.append("    if f is _M: _learn(o)")
        lines += ["    obj.__class__ = _cls", "    return obj"]
    exec("\n".join(lines), env)
    structure: Callable[[Any, Any], Any] = env["structure"]
    return structure


_SHAPED_FIELDS = 5  # below this, choosing a learnt key set costs what the lookups it saves do
_SHAPES_KEPT = 8


def _learn_shape(
    o: dict[str, Any],
    specs: list[tuple[str, list[str], str, str | None]],
    shapes: dict[int, Any],
    env: dict[str, Any],
) -> None:
    """Write a structure function for the key set of ``o``, used for dicts of its length.

    Servers send the same keys object after object, and ``o[key]`` is cheaper than
    ``o.get(key, missing)`` and its test. The function reads every key of the set before
    anything else (a KeyError there means another key set: it answers ``_M``), so a dict of
    the same length that it reads has exactly this key set. Key sets with keys that are not
    fields' are not learnt.
    """
    size = len(o)
    shapes.setdefault(size, None)  # unless learnt below, this length takes the general way
    present = [wires[0] for _, wires, _, _ in specs if wires[0] in o]
    if len(shapes) > _SHAPES_KEPT or len(present) != size or len(set(present)) != size:
        return  # too many key sets kept, or keys that are no field's
    reads, fills = [], []
    for n, (name, wires, value, default) in enumerate(specs):
        if wires[0] in o:
            reads.append(f"        v{n} = o[{wires[0]!r}]")
            fills += [f"    v = v{n}", f"    obj.{name} = {value}"]
        elif default is None:
            return
        else:
            fills.append(f"    obj.{name} = {default}")
    lines = [
        "def shaped(o):",
        "    try:",
        *reads,
        "    except KeyError:",
        "        return _M",
        "    obj = _new(_twin)",
        *fills,
        "    obj.__class__ = _cls",
        "    return obj",
    ]
    code: dict[str, Any] = {}
    exec("\n".join(lines), env, code)
    shapes[size] = code["shaped"]


def _missed_shape(size: int, shapes: dict[int, Any], misses: dict[int, int]) -> Any:
    """A dict of a learnt length had other keys: learn from it instead, if it can be (the
    first dict may have been the odd one), twice at most; then that length takes the
    general way."""
    misses[size] = misses.get(size, 0) + 1
    if misses[size] > _RELEARNED:
        shapes[size] = None
        return None
    return _MISSING


_RELEARNED = 2


def _make_converter() -> cattrs.Converter:
    global _DECODE_ERRORS
    import cattrs  # here: with the converter it costs ~10 ms, paid at the first decode, not import
    from cattrs.gen import make_dict_unstructure_fn, override

    conv = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
    for tp, fn in _SCALARS.items():
        conv.register_structure_hook(tp, _ignore_type(fn))
    conv.register_unstructure_hook(datetime, lambda d: int(d.timestamp()))

    conv.register_structure_hook_func(_is_open_enum, _enum_member)
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, OpenEnum), lambda v: v.value
    )

    def optional_hook(tp: Any) -> Callable[[Any, Any], Any]:
        inner = _optional_scalar(tp)
        inner_hook = _hook_for(conv, inner)

        def scalar(value: Any) -> Any:
            return inner_hook(value, inner)

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
        return _model_structurer(cls, conv)

    def unstructure_factory(cls: type) -> Callable[[Any], Any]:
        renames: dict[str, Any] = {
            f.name: override(rename=wire_name(cls, f)) for f in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames)

    def list_hook(tp: Any) -> Callable[[Any, Any], Any]:
        (inner,) = typing.get_args(tp) or (Any,)
        item = _hook_for(conv, inner)

        def structure(value: Any, _: Any) -> list[Any]:
            if value.__class__ is list:
                return [item(v, inner) for v in value]
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
    _DECODE_ERRORS = (*_DECODE_ERRORS, cattrs.BaseValidationError)
    return conv


_converter: cattrs.Converter | None = None
_HOOKS: dict[Any, Callable[[Any, Any], Any]] = {}
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    OverflowError,
    OSError,  # a timestamp out of the platform's range
)


_BUILDING = threading.Lock()


def get_converter() -> cattrs.Converter:
    """The one converter, made on first use (once, even with threads)."""
    global _converter
    if _converter is None:
        with _BUILDING:
            if _converter is None:
                _converter = _make_converter()
    return _converter


def structure(data: Any, cls: type[T], *, what: str = "response") -> T:
    """Decode ``data`` into ``cls``; a body of the wrong shape raises DecodeError."""
    try:
        hook = _HOOKS.get(cls)
        if hook is None:  # cattrs dispatches on every call; the hook for a class never changes
            hook = _HOOKS[cls] = get_converter().get_structure_hook(cls)
        return hook(data, cls)  # type: ignore[no-any-return]
    except _DECODE_ERRORS as exc:
        raise errors.DecodeError(f"could not decode {what} as {cls.__name__}: {exc}") from exc


def unstructure(value: Any) -> Any:
    return get_converter().unstructure(value)
