"""Structuring code written for each model class, where ``cattrs.gen`` does not reach.

Why: cattrs' generated code calls a hook for every field and then ``cls(**fields)``, and a
frozen attrs ``__init__`` sets each field through ``object.__setattr__`` again. Here a value
already of its JSON type needs no hook call, the optional and list hooks' usual cases are
written out, and the object is made by ``object.__new__`` with each field set through its
slot's descriptor (``__slots__`` are descriptors, per the data model). Measured with
benchmarks/decoding.py (CPU time, the ways taking turns in one process, five runs): stock
cattrs with the same hooks 0.77-0.80x pydantic v2's speed, this code 1.06-1.15x.

It applies only where setting the fields makes what ``__init__`` would (``applies``), and
leaves a type a model module gave a hook of its own to that hook. tests/test_fastpath.py
structures random documents through it and through stock cattrs with the same hooks, and
requires equal results for every attrs class of the package and for one with a field of
each kind written out here.
"""

from __future__ import annotations

import inspect
import itertools
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import cattrs

_MISSING = object()
_FACTORY: type[Any] = type(attrs.Factory(list))
_EXACT = {str: "str", int: "int", float: "float", bool: "bool"}


def applies(cls: type) -> bool:
    """Whether setting every field of ``cls`` makes the object its ``__init__`` would: attrs
    wrote that ``__init__`` and it only assigns (no validators, converters, init hooks or
    ``takes_self`` defaults), and the fields are all the slots there are."""
    fields = attrs.fields(cls)
    names = {f.name for f in fields} | {"__weakref__"}
    return (
        "__attrs_attrs__" in vars(cls)  # decorated itself, so attrs wrote its __init__ ...
        and not hasattr(cls, "__attrs_init__")  # ... unless told not to (init=False)
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.init and f.validator is None and f.converter is None for f in fields)
        and not any(isinstance(f.default, _FACTORY) and f.default.takes_self for f in fields)
        # every class up the tree has __slots__, holding nothing but the fields
        and all(
            "__slots__" in vars(k) and set(vars(k)["__slots__"]) <= names for k in cls.__mro__[:-1]
        )
    )


def structurer(cls: type, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """The structure function for ``cls`` (``applies(cls)`` must hold)."""
    from ._converter import expect_object, has_own_hook, is_scalar, optional_of, wire_name

    env: dict[str, Any] = {
        "_M": _MISSING,
        "_cls": cls,
        "_new": object.__new__,
        "_check": expect_object,
        "_dict": dict,
        "_list": list,
        **{name: tp for tp, name in _EXACT.items()},
    }
    hooks = itertools.count()

    def hook(tp: Any, v: str) -> str:
        """A call of the converter's hook for ``tp`` on ``v``."""
        n = next(hooks)
        env[f"_h{n}"], env[f"_t{n}"] = conv.get_structure_hook(tp), tp
        return f"_h{n}({v}, _t{n})"

    def value(tp: Any, v: str) -> str:
        """An expression structuring ``v`` (present) as ``tp``'s hook would."""
        inner = optional_of(tp)
        if has_own_hook(tp):
            return hook(tp, v)
        # A value already of its JSON type passes as it is: ~25% of the decoding benchmark.
        if tp in _EXACT:
            return f"({v} if {v}.__class__ is {_EXACT[tp]} else {hook(tp, v)})"
        if inner is not None:  # the optional hook, inlined: "" is None for a scalar
            empty = f" or {v} == ''" if is_scalar(inner) else ""
            if inner not in _EXACT:
                return f"(None if {v} is None{empty} else {value(inner, v)})"
            nonempty = f" and {v} != ''" if inner is str else ""
            return (
                f"({v} if {v}.__class__ is {_EXACT[inner]}{nonempty} "
                f"else None if {v} is None{empty} else {hook(inner, v)})"
            )
        return hook(tp, v)

    lines = [
        "def structure(o, _):",
        "    if o.__class__ is not _dict: _check(o, _cls)",
        "    obj = _new(_cls)",
    ]
    for i, field in enumerate(attrs.fields(cls)):
        tp, wire, default = field.type, wire_name(cls, field), ""
        # o.get each time: binding it once costs more below ~25 fields (callgrind).
        if field.default is attrs.NOTHING:
            lines.append(f"    v = o[{wire!r}]")  # raises KeyError, as cattrs does
        elif field.default is None and optional_of(tp) is not None:
            lines.append(f"    v = o.get({wire!r})")  # absent and null are both None
        else:
            factory = isinstance(field.default, _FACTORY)
            env[f"_d{i}"] = field.default.factory if factory else field.default
            default = f"_d{i}()" if factory else f"_d{i}"
            lines.append(f"    v = o.get({wire!r}, _M)")
        # The slot's own setter: ~30% faster than object.__setattr__ (timeit, 5 fields).
        env[f"_s{i}"] = inspect.getattr_static(cls, field.name).__set__
        items = typing.get_args(tp) if typing.get_origin(tp) is list else ()
        if items and not has_own_hook(tp):
            # The list hook's usual case as a loop: in Python 3.11 a comprehension is a
            # call of its own, ~7% of structuring an extension record (callgrind).
            lines += [
                "    if v.__class__ is _list:",
                "        x = []",
                "        for e in v:",
                f"            x.append({value(items[0], 'e')})",
                "        v = x",
                *(["    elif v is _M:", f"        v = {default}"] if default else []),
                "    else:",
                f"        v = {hook(tp, 'v')}",
                f"    _s{i}(obj, v)",
            ]
        else:
            made = f"{default} if v is _M else {value(tp, 'v')}" if default else value(tp, "v")
            lines.append(f"    _s{i}(obj, {made})")
    lines.append("    return obj")
    exec("\n".join(lines), env)
    structure: Callable[[Any, Any], Any] = env["structure"]
    return structure
