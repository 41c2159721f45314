"""JSON round trips: a dump loads back as the same program, node classes and source lines included.

Hand-built L0 programs now; every stage's real output on every example through the pipeline; and
the union pitfall (two productions with the same field names, side by side in one
tuple) in every language.
"""
from __future__ import annotations

import json
from dataclasses import fields
from itertools import combinations

import pytest
from conftest import cases

from nanott.backends.json import dump, from_json, load, to_json
from nanott.grammar import skeleton
from nanott.ir import CheckError, Loc, walk
from nanott.languages import l0
from nanott.pipeline import LANGUAGES, language


def _at(line: int) -> Loc:
    return Loc("examples/gemm.py", line, 4)


def gemm_l0() -> l0.Kernel:
    """A small GEMM grid kernel with a pipelined K loop, a -inf fill and an elementwise epilogue."""
    by, bx, k = l0.Var("by"), l0.Var("bx"), l0.Var("k")
    c32 = l0.Const(32, "int32")
    region = lambda buf, *starts: l0.Region(buf, starts, (32, 32))           # noqa: E731
    body = (
        l0.Alloc("A_s", (32, 32), "bfloat16", "shared", loc=_at(9)),
        l0.Alloc("B_s", (32, 32), "bfloat16", "shared", loc=_at(10)),
        l0.Alloc("C_l", (32, 32), "float32", "fragment", loc=_at(11)),
        l0.Fill("C_l", l0.Const(float("-inf"), "float32"), loc=_at(12)),
        l0.For("k", l0.Const(4, "int32"), "pipelined", 2, (
            l0.Copy(region("A", l0.BinOp("*", by, c32), l0.BinOp("*", k, c32)), region("A_s"), loc=_at(14)),
            l0.Copy(region("B", l0.BinOp("*", k, c32), l0.BinOp("*", bx, c32)), region("B_s"), loc=_at(15)),
            l0.Gemm("A_s", "B_s", "C_l", False, True, False, loc=_at(16)),
        ), loc=_at(13)),
        l0.Parallel(("i", "j"), (32, 32), (
            l0.Store("C_l", (l0.Var("i"), l0.Var("j")),
                     l0.Cast("float32", l0.BinOp("max", l0.Load("C_l", (l0.Var("i"), l0.Var("j"))),
                                                  l0.Const(0.5, "float32"))), loc=_at(18)),
        ), loc=_at(17)),
        l0.Copy(region("C_l"), region("C", l0.BinOp("*", by, c32), l0.BinOp("*", bx, c32)), loc=_at(19)),
    )
    params = tuple(l0.Tensor(n, (128, 128), "bfloat16") for n in "ABC")
    return l0.Kernel("gemm", params, (4, 4), ("bx", "by"), body, (l0.Attr("threads", "128"),), loc=_at(5))


def _locs(p) -> list:
    return [getattr(x, "loc", None) for x in walk(p)]


def _same(a, b) -> None:
    assert b == a
    assert [type(x) for x in walk(b)] == [type(x) for x in walk(a)]
    assert _locs(b) == _locs(a), "locations are not part of ==, so they are compared on their own"


def test_l0_round_trip_keeps_nodes_classes_and_lines():
    p = gemm_l0()
    language("L0").check(p)
    program, lang, after = load(dump(p, "L0", "P0"))
    _same(p, program)
    assert (lang, after) == ("L0", "P0")
    assert program.body[4].kind == "pipelined"           # For.kind is a field, not the tag
    assert program.body[3].value.value == float("-inf")


def test_dump_is_deterministic_and_tagged():
    text = dump(gemm_l0(), "L0", "P0")
    assert text == dump(gemm_l0(), "L0", "P0")
    assert text.startswith('{\n "after": "P0",\n "language": "L0",\n "nanott_ir": 1,\n "program": {')
    doc = json.loads(text)
    assert all("kind" in d for d in _dicts(doc["program"]))
    assert doc["program"]["body"][4]["kind"] == "For" and doc["program"]["body"][4]["kind_"] == "pipelined"


def _dicts(x):
    if isinstance(x, dict):
        yield x
        for v in x.values():
            yield from _dicts(v)
    elif isinstance(x, list):
        for v in x:
            yield from _dicts(v)


@pytest.mark.parametrize("name", LANGUAGES)
def test_same_shaped_productions_keep_their_classes(name):
    """The union pitfall: productions with the same field names, mixed in one tuple, come back
    as themselves (a decoder by shape would return the first that fits, twice)."""
    lang = language(name)
    pairs = [(a, b) for a, b in combinations(sorted(lang.nodes.values(), key=lambda c: c.__name__), 2)
             if {f.name for f in fields(a)} == {f.name for f in fields(b)}]
    if name in ("L0", "L8"):
        assert pairs, f"{name} should have same-shaped productions (Const/Cast, CbPush/CbReserve)"
    for a, b in pairs:
        mixed = (skeleton(b, lang), skeleton(a, lang), skeleton(b, lang))
        back = from_json(json.loads(json.dumps(to_json(mixed))), lang)
        assert [type(x) for x in back] == [b, a, b] and back == mixed


def test_cb_protocol_union_round_trips():
    l8 = language("L8")
    push, reserve = l8.nodes["CbPush"], l8.nodes["CbReserve"]
    block = (push(0, 1, loc=_at(3)), reserve(1, 2, loc=_at(4)))
    back = from_json(to_json(block), l8)
    assert [type(x) for x in back] == [push, reserve] and back == block
    assert [x.loc for x in back] == [_at(3), _at(4)]


def test_load_rejects_what_is_not_in_the_language():
    doc = json.loads(dump(gemm_l0(), "L0", "P0"))
    doc["program"]["grid"] = ["four", 4]
    with pytest.raises(CheckError, match=r"Kernel\.grid\[0\]"):
        load(json.dumps(doc))
    doc["program"]["body"][0]["kind"] = "NocReadPage"
    with pytest.raises(ValueError, match="L0 has no NocReadPage"):
        load(json.dumps(doc))
    with pytest.raises(ValueError, match="not a nanott IR dump"):
        load(json.dumps({"nanott_ir": 99}))


@pytest.mark.parametrize("example, stage", cases(lambda s: s.dst is not None))
def test_pipeline_output_round_trips(example, stage, lowered):
    program = lowered.program(example, stage.id)
    text = dump(program, stage.dst, stage.id)
    back, lang, after = load(text)
    _same(program, back)
    assert (lang, after) == (stage.dst, stage.id)
    assert dump(back, lang, after) == text


@pytest.mark.parametrize("name", LANGUAGES)
def test_every_statement_of_every_language_round_trips(name):
    from test_grammar import _planted
    lang = language(name)
    for cls in sorted(lang.nonterminals["Stmt"], key=lambda c: c.__name__):
        _, program, _ = _planted(name, skeleton(cls, lang))
        _same(program, from_json(json.loads(json.dumps(to_json(program))), lang))
