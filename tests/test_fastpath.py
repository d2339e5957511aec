"""The generated structuring code (``_fastpath``) decodes exactly as stock cattrs does.

Every attrs class of the package is structured from random documents (right types, wrong
types, the loose scalars servers send, missing and extra fields, non-objects) through the
SDK's converter and through a stock ``cattrs.Converter`` with the same hooks: both must raise,
or both give equal models, field by field (also the fields left out of ``==``).
"""

from __future__ import annotations

import enum
import functools
import importlib
import pkgutil
import typing
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import vonage_async
from vonage_async import _converter, _fastpath
from vonage_async._converter import DECODE_ERRORS, OpenEnum, optional_of, wire, wire_name


def _package_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(vonage_async.__path__, "vonage_async."):
        if info.name.endswith("__main__") or info.name.endswith("_oldconv"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == info.name:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


CLASSES = _package_classes()
FAST = _converter.get_converter()
STOCK = _converter.make_converter(fast=False)


def _hook(conv: cattrs.Converter, cls: type) -> Any:
    try:
        return conv.get_structure_hook(cls)
    except (cattrs.errors.StructureHandlerNotFoundError, NameError):
        return None  # a field no converter can structure (a task, a lock): not a model


MODELS = [cls for cls in CLASSES if _hook(STOCK, cls) is not None]

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
LOOSE = st.sampled_from(["", "true", "false", "0", "1", " 7 ", "1.5", "yes", "1600000000", "x"])
TIMES = (
    st.datetimes(timezones=st.just(timezone.utc)).map(datetime.isoformat)
    | st.integers(0, 4_000_000_000)
    | st.integers(0, 4_000_000_000_000).map(str)
)


def _typed(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    """Values a server could send for ``tp``, including loose spellings."""
    inner = optional_of(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if inner is not None:
        return st.none() | st.just("") | _typed(inner, depth)
    if tp is str:
        return st.text(max_size=8) | st.integers() | st.booleans() | LOOSE
    if tp in (int, float):
        return st.integers(-(2**40), 2**40) | st.floats(-1e9, 1e9) | LOOSE
    if tp is bool:
        return st.booleans() | st.integers(0, 1) | LOOSE
    if tp is datetime:
        return TIMES | LOOSE
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from([m.value for m in tp]) | st.text(max_size=6)
    if attrs.has(tp):
        return _document(tp, depth + 1) if depth < 3 else st.fixed_dictionaries({})
    if origin in (list, tuple, frozenset, set) or (origin and args and tp is not Any):
        if origin in (dict, typing.Mapping) or str(origin).endswith("Mapping'>"):
            return st.dictionaries(st.text(max_size=5), _typed(args[-1], depth), max_size=3)
        item = _typed(args[0], depth) if args else JSON
        return st.lists(item, max_size=3) | item | st.none() | st.just("")
    return JSON


@functools.cache
def _document(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    fields = attrs.fields(cls)
    values = {
        wire_name(cls, f): st.one_of(_typed(f.type, depth), _typed(f.type, depth), JSON)
        for f in fields
        if f.init
    }
    extra = st.dictionaries(st.text(max_size=6), JSON, max_size=2)
    return st.builds(
        lambda known, more: {**more, **known},
        st.fixed_dictionaries({}, optional=values),
        extra,
    )


def _outcome(conv: cattrs.Converter, cls: type, document: Any) -> Any:
    try:
        return conv.structure(document, cls)
    except (*DECODE_ERRORS, cattrs.errors.CattrsError, cattrs.BaseValidationError):
        return "raised"  # which error first may differ: the fields are read in another order


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if attrs.has(type(a)):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, OpenEnum):
        return (a.name, a.value) == (b.name, b.value)
    return bool(a == b)


def test_every_model_module_class_is_structured() -> None:
    modules = {cls.__module__ for cls in MODELS}
    for cls in CLASSES:
        if cls.__module__.endswith("_models"):
            assert cls in MODELS, cls
    assert {"vonage_async.provisioning._models", "vonage_async.telephony._models"} <= modules
    assert len(MODELS) >= 40


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_fast_path_decodes_as_stock_cattrs(cls: type, data: st.DataObject) -> None:
    document = data.draw(_document(cls) | JSON, label="document")
    fast, stock = _outcome(FAST, cls, document), _outcome(STOCK, cls, document)
    assert _same(fast, stock), (fast, stock)


def test_the_fast_path_takes_the_package_models() -> None:
    # Not a target, a guard: if ``applies`` turned every class away, the test above would
    # compare stock cattrs with itself.
    fast = [cls for cls in MODELS if _fastpath.applies(cls)]
    assert len(fast) >= len(MODELS) // 2


class Shade(OpenEnum):
    DARK = "dark"


@attrs.frozen
class Part:
    name: str | None = None


@attrs.frozen
class Every:
    """A field of each kind the generated code writes apart."""

    key: str
    needed: list[int]
    text: str = ""
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    maybe_text: str | None = None
    maybe_count: int | None = 3
    maybe_ratio: float | None = None
    maybe_flag: bool | None = attrs.field(default=None, metadata=wire("Flag"))
    when: datetime | None = None
    shade: Shade | None = None
    part: Part | None = None
    parts: list[Part] = attrs.field(factory=list)
    words: list[str] = attrs.field(factory=list)
    grid: list[list[int]] = attrs.field(factory=list)
    maybe_words: list[str] | None = None
    by_name: dict[str, Part] = attrs.field(factory=dict)
    shades: list[Shade] = attrs.field(factory=list)  # a hook of its own, below
    anything: Any = None


_ABSENT = object()
for _cls in (Part, Every):
    attrs.resolve_types(_cls)  # the strategies read field types (the structurers do this too)


def _shades(value: Any, _: Any) -> list[Shade]:
    return [Shade.DARK] * (len(value) if isinstance(value, list) else 3)


@pytest.fixture(scope="module")
def converters() -> Iterator[tuple[cattrs.Converter, cattrs.Converter]]:
    own = (lambda t: t == list[Shade], _shades)
    _converter._EXTRA_HOOKS.append(own)
    yield _converter.make_converter(), _converter.make_converter(fast=False)
    _converter._EXTRA_HOOKS.remove(own)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_each_kind_of_field_decodes_as_stock_cattrs(
    converters: tuple[cattrs.Converter, cattrs.Converter], data: st.DataObject
) -> None:
    # A document of the right shape with up to three fields made loose, wrong or absent:
    # with every field drawn loosely, almost every document would fail in both.
    fast, stock = converters
    assert _fastpath.applies(Every)
    types = {wire_name(Every, f): f.type for f in attrs.fields(Every)}
    document = data.draw(_schema_document(Every), label="document")
    for name in data.draw(st.sets(st.sampled_from(sorted(types)), max_size=3), label="loose"):
        document[name] = data.draw(_typed(types[name], 0) | JSON | st.just(_ABSENT), label=name)
    document = {k: v for k, v in document.items() if v is not _ABSENT}
    fast_made, stock_made = _outcome(fast, Every, document), _outcome(stock, Every, document)
    assert _same(fast_made, stock_made), (fast_made, stock_made)


@attrs.frozen(init=False)
class Doubled:
    left: int = 0

    def __init__(self, left: int = 0) -> None:
        self.__attrs_init__(left * 2)  # type: ignore[attr-defined]


@attrs.frozen(cache_hash=True)
class CachedHash:
    name: str = ""


@attrs.frozen
class Checked:
    name: str = attrs.field(default="", validator=attrs.validators.max_len(3))


@attrs.frozen
class Converted:
    name: str = attrs.field(default="", converter=str.upper)


@attrs.frozen
class PostInit:
    name: str = ""
    seen: list[str] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.seen.append(self.name)


@attrs.define(slots=False)
class Unslotted:
    name: str = ""


class HandWritten(Unslotted):
    def __init__(self, name: str = "") -> None:
        super().__init__(name + "!")


@attrs.frozen
class Required:
    name: str
    other: int = 1


@pytest.mark.parametrize(
    "cls", [Doubled, CachedHash, Checked, Converted, PostInit, Unslotted, HandWritten, Required]
)
@pytest.mark.parametrize("document", [{}, {"left": 2, "name": "abcd"}, {"name": "ab"}, {"x": 1}])
def test_classes_whose_init_does_more_than_assign_decode_as_stock(
    cls: type, document: dict[str, Any]
) -> None:
    fast, stock = _outcome(FAST, cls, document), _outcome(STOCK, cls, document)
    assert _same(fast, stock), (fast, stock)
    if fast != "raised" and cls in (Doubled, CachedHash, Converted, Required):
        assert hash(fast) == hash(stock)
    assert _fastpath.applies(cls) is (cls is Required)


def _schema_value(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    """A JSON value of the type the files give ``tp`` (no loose spellings)."""
    inner = optional_of(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if inner is not None:
        return st.none() | _schema_value(inner, depth)
    if tp is str or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return st.text(max_size=8)  # an enum the files leave open takes any string
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is float:
        return st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    if tp is datetime:
        return st.datetimes(timezones=st.just(timezone.utc)).map(datetime.isoformat)
    if attrs.has(tp):
        return _schema_document(tp, depth + 1) if depth < 3 else st.fixed_dictionaries({})
    if origin is list:
        return st.lists(_schema_value(args[0], depth), max_size=3)
    if origin is dict:  # HAL _links is an open object: links, and other properties beside
        others = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
        return st.dictionaries(st.text(max_size=5), _schema_value(args[1], depth) | others)
    return JSON


@functools.cache
def _schema_document(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    values = {wire_name(cls, f): _schema_value(f.type, depth) for f in attrs.fields(cls) if f.init}
    required = {
        wire_name(cls, f): values.pop(wire_name(cls, f))
        for f in attrs.fields(cls)
        if f.init and f.default is attrs.NOTHING
    }
    extra = st.dictionaries(st.text(max_size=6).filter(lambda k: k not in values), JSON)
    return st.builds(
        lambda known, more: {**more, **known},
        st.fixed_dictionaries(required, optional=values),
        extra,
    )


WIRE_MODELS = [cls for cls in MODELS if cls.__module__.endswith("_models")]


@pytest.mark.parametrize("cls", WIRE_MODELS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_document_of_the_right_shape_decodes(cls: type, data: st.DataObject) -> None:
    # Issue 17.7: absent optional fields, extra fields, nulls, open enums, open _links.
    document = data.draw(_schema_document(cls), label="document")
    assert type(_converter.structure(document, cls)) is cls
