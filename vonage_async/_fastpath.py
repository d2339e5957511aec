"""Structuring code written for each model class, where ``cattrs.gen`` does not reach.

Why: cattrs' generated code calls a hook for every field and then ``cls(**fields)``, and a
frozen attrs ``__init__`` sets each field through ``object.__setattr__`` again. Here a value
already of its JSON type needs no hook call, and the object is made by ``object.__new__`` with
each field set through its slot's descriptor (``__slots__`` are descriptors, per the data model).
Measured with benchmarks/decoding.py (CPU time, alternating in one process): stock cattrs with
the same hooks 0.76-0.93x pydantic v2's speed, this code 0.95-1.26x (six runs, noisy machine).

It applies only where setting the fields makes what ``__init__`` would (``applies``);
tests/test_fastpath.py structures random documents through it and through stock cattrs with
the same hooks, and requires equal results for every attrs class of the package.
"""

from __future__ import annotations

import inspect
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
    from ._converter import expect_object, is_scalar, optional_of, wire_name

    env: dict[str, Any] = {
        "_M": _MISSING,
        "_cls": cls,
        "_new": object.__new__,
        "_check": expect_object,
        "_dict": dict,
        **{name: tp for tp, name in _EXACT.items()},
    }
    lines = [
        "def structure(o, _):",
        "    if o.__class__ is not _dict: _check(o, _cls)",
        "    g = o.get",
        "    obj = _new(_cls)",
    ]
    for i, field in enumerate(attrs.fields(cls)):
        tp, wire = field.type, wire_name(cls, field)
        env[f"_h{i}"], env[f"_t{i}"] = conv.get_structure_hook(tp), tp
        value = f"_h{i}(v, _t{i})"
        # A value already of its JSON type passes as it is: ~25% of the decoding benchmark.
        if tp in _EXACT:
            value = f"(v if v.__class__ is {_EXACT[tp]} else {value})"
        elif optional_of(tp) in _EXACT:  # "" is None: the hook says so
            value = f"(v if v.__class__ is {_EXACT[optional_of(tp)]} and v != '' else {value})"
        elif optional_of(tp) is not None:  # the inner hook, one call fewer: ~7% of Live Status
            inner = optional_of(tp)
            env[f"_f{i}"], env[f"_i{i}"] = conv.get_structure_hook(inner), inner
            empty = " or v == ''" if is_scalar(inner) else ""
            value = f"(None if v is None{empty} else _f{i}(v, _i{i}))"
        if field.default is attrs.NOTHING:
            default = f"_h{i}(o[{wire!r}], _t{i})"  # raises KeyError
        elif isinstance(field.default, _FACTORY):
            env[f"_d{i}"] = field.default.factory
            default = f"_d{i}()"
        else:
            env[f"_d{i}"] = field.default
            default = f"_d{i}"
        lines.append(f"    v = g({wire!r}, _M)")
        # The slot's own setter: ~30% faster than object.__setattr__ (timeit, 5 fields).
        env[f"_s{i}"] = inspect.getattr_static(cls, field.name).__set__
        lines.append(f"    _s{i}(obj, {default} if v is _M else {value})")
    lines.append("    return obj")
    exec("\n".join(lines), env)
    structure: Callable[[Any, Any], Any] = env["structure"]
    return structure
