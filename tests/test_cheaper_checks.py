"""The checker's shortcuts keep its verdicts: each fast path is compared with the plain definition
it replaced, on real programs and on programs broken on purpose.

- L7's invariant walks each kernel once for misplaced statements and undeclared CBs together;
  the plain definition walks for statements, then again for CBs (L4's cbs_declared).
- A field's Spec looks a value up in the words of its Literal options, and takes an int or a float
  where `float` is named, before `_accepts`' full test over every option.
- ir.replace builds the same node dataclasses.replace does.
- names_in reads, per node class, only the attributes the class has.
- `nanott explain` compares a stage's outputs with the reference again only when they differ from
  the stage before's.
"""
from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from nanott.ir import _accepts, _spec, replace, walk
from nanott.languages.l4 import CB_FIELDS, cbs_declared
from nanott.languages.l7 import ROLE_STATEMENTS, statements_in_their_kernels
from nanott.languages.l8 import PROTOCOL as L8_PROTOCOL
from nanott.languages.l9 import PROTOCOL as L9_PROTOCOL
from nanott.pipeline import LANGUAGES, language
from nanott.terminals import ROLES


def plain_invariant(p, allowed) -> str | None:
    """L7's invariant as first written: statements first (every kernel), then the CBs."""
    if tuple(k.role for k in p.kernels) != ROLES:
        return "roles"
    control = {"For", "Let", "TFor", "TAssign", "TStore"}
    for k in p.kernels:
        for x in walk(k.body):
            name = type(x).__name__
            if hasattr(x, "head") and name not in control and name not in allowed[k.role]:
                return f"{name} in the {k.role} kernel"
    return cbs_declared(type("K", (), {"cbs": p.cbs, "body": tuple(k.body for k in p.kernels)}))


def with_body(p, role, body):
    kernels = tuple(dataclasses.replace(k, body=body) if k.role == role else k for k in p.kernels)
    return dataclasses.replace(p, kernels=kernels)


def set_in(body, target, new):
    """body with the node `target` (by identity) replaced by `new`, wherever it is."""
    def go(x):
        if x is target:
            return new
        if isinstance(x, tuple):
            return tuple(go(i) for i in x)
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            changes = {f.name: go(getattr(x, f.name)) for f in dataclasses.fields(x) if f.name != "loc"}
            return x if all(changes[n] is getattr(x, n) for n in changes) else dataclasses.replace(x, **changes)
        return x
    return go(body)


def broken_programs(p, rng):
    """p itself, then p broken: a statement moved into another kernel, a CB field out of range
    (alone and together with a misplaced statement in a later kernel), the CB indices permuted."""
    yield p
    for k in p.kernels:
        for other in p.kernels:
            if other.role != k.role and other.body:
                yield with_body(p, other.role, (*other.body, k.body[0]))
    n = len(p.cbs)
    for k in p.kernels:
        named = [x for x in walk(k.body) if CB_FIELDS.get(type(x).__name__)]
        for x in rng.sample(named, min(4, len(named))):
            field = CB_FIELDS[type(x).__name__][0]
            for bad in (n, -1):
                broken = with_body(p, k.role, set_in(k.body, x, dataclasses.replace(x, **{field: bad})))
                yield broken
                writer = broken.kernels[-1]
                yield with_body(broken, writer.role, (*writer.body, broken.kernels[0].body[0]))
    if n > 1:
        cbs = (dataclasses.replace(p.cbs[0], index=1), dataclasses.replace(p.cbs[1], index=0), *p.cbs[2:])
        yield dataclasses.replace(p, cbs=cbs)


@pytest.mark.parametrize("stage,allowed", [("D1", ROLE_STATEMENTS), ("D3", L8_PROTOCOL), ("F1", L9_PROTOCOL)])
@pytest.mark.parametrize("example", ["gemm", "softmax"])
def test_one_walk_invariant_gives_the_two_walk_verdict(lowered, stage, allowed, example):
    p = lowered.program(example, stage)
    rng = random.Random(0)
    verdicts = [(statements_in_their_kernels(b, allowed), plain_invariant(b, allowed)) for b in broken_programs(p, rng)]
    assert verdicts[0] == (None, None)
    assert all(fast == plain for fast, plain in verdicts), [v for v in verdicts if v[0] != v[1]]
    found = {v[0].split(" ")[0] if " in the " in v[0] else v[0].split(" ")[-1] for v in verdicts[1:] if v[0]}
    named = any(CB_FIELDS.get(type(x).__name__) for x in walk(p))       # L9's CB statements are not in CB_FIELDS
    assert {"0..%d" % (len(p.cbs) - 1)} | ({"declared"} if named else set()) <= found, found
    assert any(" in the " in v[0] for v in verdicts[1:] if v[0])


ODD_VALUES = ["", "oops", "none", "add", "rows", "float32", 0, 1, -1, 2.5, 1.0, True, False, None, [], (), {"a": 1}]


@pytest.mark.parametrize("name", LANGUAGES)
def test_specs_accept_what_the_full_test_accepts(name):
    """For every field of every production, every word its Literals allow and some odd values:
    the checker's Spec accepts a (non-node, non-tuple) value iff some option's `_accepts` does."""
    lang = language(name)
    checked = 0
    for cls in lang.nodes.values():
        for field, hint in lang.hints(cls).items():
            spec = _spec(hint)
            if spec.items is not None:
                continue
            for v in [*spec.words, *ODD_VALUES]:
                expected = any(_accepts(o, v) for o in spec.options if not dataclasses.is_dataclass(o))
                try:
                    lang._check_value(v, spec, field, cls.__name__, "", None)
                    got = True
                except Exception:
                    got = False
                assert got == expected, (cls.__name__, field, v)
                checked += 1
    assert checked > 100


def test_replace_builds_what_dataclasses_replace_builds(lowered):
    p = lowered.program("gemm", "D3")
    nodes = [x for x in walk(p) if dataclasses.is_dataclass(x)]
    assert len(nodes) > 100
    for x in nodes:
        names = [f.name for f in dataclasses.fields(x)]
        for n in names:
            a, b = replace(x, **{n: getattr(x, n)}), dataclasses.replace(x, **{n: getattr(x, n)})
            assert type(a) is type(b) and a == b and a.loc == b.loc
    with pytest.raises(TypeError):
        replace(nodes[0], no_such_field=1)


def plain_names_in(program, own_scope=()) -> set[str]:
    """_names.names_in as first written: every attribute asked of every node."""
    names: set[str] = set()
    for x in walk(program, skip=own_scope):
        for f in ("var", "name", "dst"):
            if isinstance(getattr(x, f, None), str):
                names.add(getattr(x, f))
        names.update(getattr(x, "vars", ()))
        names.update(v for v in getattr(x, "block_vars", ()))
    return names


@pytest.mark.parametrize("example", ["gemm", "softmax", "flash_attention"])
def test_names_in_finds_the_names_the_plain_walk_finds(lowered, example):
    from nanott.languages import l5
    from nanott.passes._names import names_in
    for stage in ("P0", "A2", "B2", "C2", "C3", "D1", "D3", "D5", "F1"):
        p = lowered.program(example, stage)
        assert names_in(p) == plain_names_in(p) and len(names_in(p)) > 5, stage
        assert names_in(p, (l5.TileGroup,)) == plain_names_in(p, (l5.TileGroup,)), stage


def test_explain_compares_with_the_reference_only_outputs_that_changed(monkeypatch):
    """`nanott explain`'s Numerics: a stage whose outputs are bit-identical to the stage before's
    keeps that comparison (a function of the outputs alone); outputs that differ are compared afresh,
    and a difference beyond the tolerance is still reported and fails the run."""
    from pathlib import Path

    from nanott import api, pipeline
    from nanott.cli import Numerics, load

    loaded = load(Path(__file__).resolve().parent.parent / "examples" / "gemm.py", None, None)
    stages = [(s, p) for s, p in pipeline.run_stages(loaded.prim_func, "B2", api.DEFAULT_TARGET) if s.dst]
    compared, real_compare, real_simulate = [], api.compare, api.simulate
    monkeypatch.setattr(api, "compare", lambda *a: compared.append(a[1]) or real_compare(*a))
    numerics = Numerics(loaded, stages[0][1])
    words = [numerics.check(s, p) for s, p in stages]
    assert len(compared) == 1 and not numerics.failures              # every level gave P0's bits
    assert all(w.startswith(words[0]) and "bit-identical" in w for w in words[1:])

    def off(program, level, arrays, written=None):                   # a level whose C is 0.5 off
        out = real_simulate(program, level, arrays)
        out["C"] = out["C"] + np.float32(0.5)
        return out
    monkeypatch.setattr(api, "simulate", off)
    fresh = Numerics(loaded, stages[0][1])
    assert "EXCEEDS tol" in fresh.check(*stages[0])
    monkeypatch.setattr(api, "simulate", real_simulate)
    moved = fresh.check(*stages[-1])                                  # B2 at L3: the reference's numbers again
    assert len(compared) == 3 and "bit-identical" not in moved and "EXCEEDS" not in moved
    assert fresh.failures and "differs from the reference" in fresh.failures[0]


def test_a_kernel_env_child_is_what_dataclasses_replace_makes():
    """KernelEnv.child (a tile group makes one per run) copies as dataclasses.replace did: every field
    the same object (a subclass's too), but the buffers and scalars fresh dicts of the same items."""
    from nanott.languages.l7_interp import KernelEnv
    from nanott.sim.forks import GroupEnv

    for env in (KernelEnv({"a": np.zeros(2)}, {"x": 2}, "w", core=(1, 2), role="compute", cbs={0: "q"}, noc="n"),
                GroupEnv({"a": np.zeros(2)}, {"x": 3}, "v", core=(0, 1), role="reader", lanes=np.arange(2))):
        child = env.child()
        ref = dataclasses.replace(env, buffers=dict(env.buffers), scalars=dict(env.scalars))
        assert type(child) is type(ref) and vars(child).keys() == vars(ref).keys()
        for name, value in vars(ref).items():
            if name in ("buffers", "scalars"):
                assert getattr(child, name) == value and getattr(child, name) is not getattr(env, name)
            else:
                assert getattr(child, name) is value, name
        child.scalars["y"] = 1
        assert "y" not in env.scalars
