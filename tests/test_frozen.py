"""nanott/frozen.py: every IR production, made by frozen_class, behaves as the class
`dataclasses.dataclass(frozen=True)` makes from the same body (its twin, made here): the same fields
in the same order with the same defaults and flags, the same __init__ signature, the same equality
(location ignored), hashing, printing, `replace`, pickling and frozenness."""
from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle

import pytest

from nanott import frozen, ir
from nanott.ir import Loc, node
from nanott.pipeline import LANGUAGES


def productions() -> list[type]:
    seen: dict[type, None] = {ir.Launches: None}
    for name in LANGUAGES:
        seen.update(dict.fromkeys(importlib.import_module(f"nanott.languages.{name.lower()}").LANG.nodes.values()))
    return list(seen)


NODES = productions()


def twin(cls: type) -> type:
    """The class dataclass(frozen=True) makes from cls's body (its annotations, defaults and methods)."""
    body = {k: v for k, v in cls.__dict__.items()
            if k not in ("__dict__", "__weakref__", "__dataclass_fields__", "__dataclass_params__",
                         "__match_args__", "__init__", "__eq__", "__hash__", "__setattr__", "__delattr__")
            and not (k == "__repr__" and "lines" not in cls.__dict__)}
    body.update({f.name: f.default if f.name != "loc" else dataclasses.field(default=f.default, compare=False,
                                                                             kw_only=True, repr=False)
                 for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING})
    return dataclasses.dataclass(frozen=True)(type(cls.__name__, (), {**body, "__qualname__": cls.__qualname__}))


def values(cls: type, salt: int) -> dict:
    """Distinct field values (types are not checked at construction): a tuple, a string, an int."""
    out = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        if f.name != "loc":
            out[f.name] = (f"v{salt}", i) if i % 3 == 0 else f"s{salt}{i}" if i % 3 == 1 else salt * 10 + i
    return out


def test_every_production_is_a_frozen_dataclass_made_by_frozen_class():
    assert len(NODES) > 100
    for cls in NODES:
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen and cls.__dataclass_params__.eq
        assert cls.__setattr__ is frozen._setattr, cls


@pytest.mark.parametrize("cls", NODES, ids=lambda c: f"{c.__module__.rsplit('.', 1)[-1]}.{c.__name__}")
def test_a_production_behaves_as_its_dataclass_twin(cls):
    ref = twin(cls)
    flags = lambda c: [(f.name, f.default, f.compare, f.repr, f.hash, f.init, f.kw_only, f.type)  # noqa: E731
                       for f in dataclasses.fields(c)]
    assert flags(cls) == flags(ref)
    assert cls.__match_args__ == ref.__match_args__
    assert inspect.signature(cls) == inspect.signature(ref)
    here, there = Loc("k.py", 3), Loc("k.py", 9)
    a, b, c = values(cls, 1), values(cls, 1), values(cls, 2)
    x, y, z = cls(**a, loc=here), cls(**b, loc=there), cls(**c)
    rx, ry, rz = ref(**a, loc=here), ref(**b, loc=there), ref(**c)
    if "lines" in cls.__dict__:
        assert cls.__repr__ is ir._program_repr                # a program prints as its IR (ir.node)
    else:
        assert repr(x) == repr(rx) and repr(z) == repr(rz)
    assert (x == y, x == z, x != z, hash(x) == hash(y)) == (rx == ry, rx == rz, rx != rz, hash(rx) == hash(ry))
    assert hash(x) == hash(rx)
    assert x.__eq__(rx) is NotImplemented                     # another class, even of the same fields
    assert x.loc == here and dataclasses.replace(x, loc=there) == x and dataclasses.replace(x).loc == here
    if a:
        first = next(iter(a))
        assert dataclasses.replace(x, **{first: c[first]}) != x
        with pytest.raises(dataclasses.FrozenInstanceError, match=first):
            setattr(x, first, 0)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(x, first)
    assert pickle.loads(pickle.dumps(x)) == x and copy.deepcopy(x) == x
    assert dataclasses.astuple(x) == dataclasses.astuple(rx)
    with pytest.raises(TypeError):
        cls(*a.values(), *a.values(), 0)                      # too many arguments, as dataclass's __init__ says


def test_defaults_recursion_and_what_frozen_class_leaves_to_dataclass():
    @node
    class Pair:
        left: object
        right: object = "r"

    ref = twin(Pair)
    assert repr(Pair(1)) == repr(ref(1)) and repr(Pair(1)).endswith(".Pair(left=1, right='r')")
    assert Pair(1) == Pair(1, "r", loc=Loc("x.py", 1)) and Pair(1) != Pair(2) and Pair(1) != (1, "r")
    cyclic = Pair([])
    cyclic.left.append(cyclic)
    cyclic_ref = ref([])
    cyclic_ref.left.append(cyclic_ref)
    assert repr(cyclic) == repr(cyclic_ref) and repr(cyclic).endswith(".Pair(left=[...], right='r')")
    with pytest.raises(TypeError):
        Pair()

    class Shown:
        n: int

        def __post_init__(self):                # dataclass calls it: frozen_class leaves the class to dataclass
            object.__setattr__(self, "n", self.n * 2)

    made = frozen.frozen_class(Shown)
    assert made(3).n == 6 and made.__setattr__ is not frozen._setattr
