"""Frozen node classes for less than `dataclasses.dataclass(frozen=True)` charges at import.

Every IR production (ir.node) is a frozen dataclass; the compiler defines about 120 of them, and
`dataclass(frozen=True)` spent some 85 ms of a cold `nanott explain` making them: for each class it
compiles six methods from source text (__init__, __repr__, __eq__, __hash__, __setattr__,
__delattr__, one `exec` each) and, for a class without a docstring, computes `inspect.signature`
to write one. `frozen_class` makes the same class in about a quarter of that time:

- `dataclasses.dataclass(init=False, repr=False, eq=False)` collects the fields, as it always
  does (Field objects, defaults, `__dataclass_fields__`, `__match_args__`), and writes no method;
- `__init__` is the function dataclass writes for a frozen class (`object.__setattr__` per
  field, keyword-only fields after a `*`, defaults bound), compiled from source once per shape
  (how many positional and keyword-only fields) and renamed for each class: its code object with
  the class's field names as parameter names and attribute names (`code.replace`), its defaults
  as `__defaults__` and `__kwdefaults__` (one `exec` per class cost ~0.12 ms, 17 ms of a cold
  `nanott explain`; the shapes number about ten);
- `__eq__`, `__hash__` and `__repr__` are shared functions over the class's field tuple: the same
  results as dataclass's (equality of the tuples of compared fields between instances of the very
  same class, NotImplemented otherwise; the hash of that tuple; `Name(field=repr, ...)` over the
  repr fields, recursion shown as `...`); a method the class defines itself is kept;
- `__setattr__`/`__delattr__` raise FrozenInstanceError, as a frozen dataclass's do;
- `__dataclass_params__` says what the class is: init, repr, eq and frozen;
- a class without a docstring gets `Name(field: type, ...)` from its annotations.

Only classes of that shape come here: no dataclass base (frozenness is checked along bases), no
`__post_init__`, every field in `__init__` with at most a plain default. Any other class goes through
`dataclass(frozen=True)` itself. tests/test_frozen.py holds every node class against its twin made
by `dataclass(frozen=True)`: fields, signature, equality, hashing, printing, replace, pickling.
"""
from __future__ import annotations

import dataclasses
import functools
import operator
import reprlib
import types
from dataclasses import MISSING, FrozenInstanceError, is_dataclass
from typing import Any, Callable

# what dataclass(frozen=True) records for a class with its defaults (init, repr, eq, frozen)
PARAMS = dataclasses.dataclass(frozen=True)(type("_Params", (), {})).__dataclass_params__


def frozen_class(cls: type) -> type:
    """`cls` as a frozen dataclass with dataclass's fields, __init__, equality, hash and repr."""
    if not _plain(cls):
        return dataclasses.dataclass(frozen=True)(cls)
    if cls.__doc__ is None:           # dataclass's would be Name(signature): the annotations say as much
        cls.__doc__ = f"{cls.__name__}({', '.join(f'{k}: {v}' for k, v in cls.__annotations__.items())})"
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)
    if any(not f.init or f.default_factory is not MISSING for f in fields):
        raise TypeError(f"{cls.__name__}: frozen_class takes fields with plain defaults only")
    key = _getter(tuple(f.name for f in fields if f.compare))
    shown = tuple(f.name for f in fields if f.repr)
    own = cls.__dict__
    cls.__init__ = _init(cls, fields)
    if "__eq__" not in own:
        cls.__eq__ = _eq(key)
    if own.get("__hash__") is None:
        cls.__hash__ = lambda self: hash(key(self))
    if "__repr__" not in own:
        cls.__repr__ = _repr(shown)
    cls.__setattr__, cls.__delattr__ = _setattr, _delattr
    cls.__dataclass_params__ = PARAMS
    return cls


def _plain(cls: type) -> bool:
    """A class frozen_class makes as dataclass would: no dataclass among its bases, no methods of
    its own that dataclass would refuse or call."""
    own = cls.__dict__
    return (not any(is_dataclass(b) for b in cls.__mro__[1:])
            and not any(name in own for name in ("__init__", "__post_init__", "__setattr__", "__delattr__"))
            and "__slots__" not in own)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    """The tuple of an instance's `names` (a tuple even of one field, as dataclass compares)."""
    if not names:
        return lambda x: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda x: (one(x),)
    return operator.attrgetter(*names)


def _init(cls: type, fields: tuple) -> Callable:
    """dataclass's __init__ for a frozen class: positional fields in order, the keyword-only ones
    after `*`, each stored with object.__setattr__; the shape's code with the class's names."""
    positional = [f for f in fields if not f.kw_only]
    keywords = [f for f in fields if f.kw_only]
    code = _shape(len(positional), len(keywords))
    names = tuple(f.name for f in positional + keywords)
    placeholders = [f"p{i}" for i in range(len(positional))] + [f"k{i}" for i in range(len(keywords))]
    renamed = dict(zip(placeholders, names))
    code = code.replace(co_varnames=("self", *names), co_name="__init__",
                        co_qualname=f"{cls.__qualname__}.__init__",
                        co_consts=tuple(renamed.get(c, c) if type(c) is str else c for c in code.co_consts))
    init = types.FunctionType(code, {"__object_setattr": object.__setattr__, "__name__": cls.__module__}, "__init__")
    defaults = tuple(f.default for f in positional if f.default is not MISSING)
    if any(f.default is MISSING for f in positional[len(positional) - len(defaults):]):
        raise TypeError(f"{cls.__name__}: a field without a default after one with a default")
    init.__defaults__ = defaults or None
    init.__kwdefaults__ = {f.name: f.default for f in keywords if f.default is not MISSING} or None
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}    # as dataclass's
    return init


@functools.cache
def _shape(positional: int, keywords: int) -> types.CodeType:
    """The code of __init__(self, p0, .., *, k0, ..) storing each parameter under its own name."""
    params = [f"p{i}" for i in range(positional)]
    kws = [f"k{i}" for i in range(keywords)]
    body = "".join(f"    __object_setattr(self, {n!r}, {n})\n" for n in params + kws) or "    pass\n"
    made: dict[str, Any] = {}
    exec(f"def __init__({', '.join(['self', *params, *(['*', *kws] if kws else [])])}):\n{body}", {}, made)  # noqa: S102
    return made["__init__"].__code__


def _eq(key: Callable[[Any], tuple]) -> Callable:
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented
    return __eq__


def _repr(shown: tuple[str, ...]) -> Callable:
    @reprlib.recursive_repr()
    def __repr__(self):
        return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"
    return __repr__


def _setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r}")
