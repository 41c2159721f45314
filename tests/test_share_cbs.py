"""C2c share-circular-buffers: buffers whose blocks are never alive at once share one CB.

Our kernel (docs/kernels/long_chain.py, the course's), written the way TileLang users write
elementwise chains: a long run of steps, each into a fragment of its own, in a K loop that adds
into an accumulator. It asks for more CBs than
a Wormhole core has (32); the live ranges are short, so an interval colouring fits it. Numerics at
every level against NumPy; the colouring never puts two buffers whose live ranges meet on one CB,
and a colouring that does (a mutation) is caught, both by C2c's own check and downstream (F1
finds a CB pushed more than it is popped). What stays refused (NT202)
names the statement where the most buffers are alive at once.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l1, l5
from nanott.loader import load_kernel
from nanott.passes._c2c_lives import live_ranges, trips
from nanott.passes.c2c_share_circular_buffers import check_disjoint, colour, merge, shareable
from nanott.target import DEFAULT_TARGET

KERNEL = Path(__file__).resolve().parent.parent / "docs" / "kernels" / "long_chain.py"
STEPS = 34           # h0 .. h33: with x and the accumulator 36 buffers, 37 CBs once C2b stages acc


def coefficient(k: int) -> float:
    return (k % 5 + 1) / 8


def reference(inputs: dict) -> dict:
    x = inputs["X"].astype(np.float64).reshape(64, 4, 32).transpose(1, 0, 2)      # [k, row, col]
    h = x * coefficient(0)
    for k in range(1, STEPS):
        h = h * 0.5 + x * coefficient(k)
    return {"Y": h.sum(axis=0).astype(np.float32)}


@pytest.fixture(scope="module")
def loaded():
    return load_kernel(KERNEL)


def test_the_kernel_needs_more_cbs_than_a_core_has_without_sharing(loaded):
    a2 = api.lower(loaded.prim_func, stop_after="A2")
    assert sum(isinstance(a, l1.Alloc) for a in walk(a2.body)) == STEPS + 2
    before = api.lower(loaded.prim_func, stop_after="C2b")
    after = api.lower(loaded.prim_func, stop_after="C2c")
    assert len(before.cbs) > DEFAULT_TARGET.num_cbs >= len(after.cbs)
    assert any("shared by h0" in cb.plan.why for cb in after.cbs)        # the IR says who shares
    assert len(api.lower(loaded.prim_func, stop_after="F1").cbs) <= DEFAULT_TARGET.num_cbs


def test_numerics_at_every_level(loaded):
    check_levels(loaded, reference)


def test_the_colouring_never_shares_between_ranges_that_meet(loaded):
    program = api.lower(loaded.prim_func, stop_after="C2b")
    lives = live_ranges(program.body)
    kind = shareable(program, lives)
    shared = colour(kind, lives.spans)
    groups: dict[int, list[int]] = {}
    for cb, owner in shared.items():
        groups.setdefault(owner, []).append(cb)
    for group in groups.values():
        assert len({kind[c] for c in group}) == 1                     # one shape, dtype and roles
        spans = sorted((lives.spans[c] for c in group), key=lambda s: s.first)
        assert all(a.last < b.first for a, b in zip(spans, spans[1:])), spans
    # as few CBs as the most ranges of one kind alive at one position (intervals: greedy is optimal)
    for k in set(kind.values()):
        members = [c for c in kind if kind[c] == k]
        most = max(sum(lives.spans[c].first <= p <= lives.spans[c].last for c in members)
                   for p in range(len(lives.locs)))
        assert len({shared[c] for c in members}) == most


def test_the_accumulator_lives_through_the_whole_loop(loaded):
    """acc is made before the K loop and read in every trip: its range widens to the loop, so no
    step of the chain inside the loop may share its CB."""
    program = api.lower(loaded.prim_func, stop_after="C2b")
    lives = live_ranges(program.body)
    acc = next(cb.index for cb in program.cbs if cb.name == "acc")
    h5 = next(cb.index for cb in program.cbs if cb.name == "h5")
    assert lives.spans[acc].first < lives.spans[h5].first <= lives.spans[h5].last < lives.spans[acc].last


def run_from(program, stage_id: str):
    """The rest of the pipeline after `stage_id`, each output checked against its language."""
    start = pipeline.PIPELINE.index(pipeline.stage(stage_id)) + 1
    for s in pipeline.PIPELINE[start:]:
        if s.dst is None:
            break
        program = s.run(program, DEFAULT_TARGET)
        pipeline.language(s.dst).check(program, after=f"{s.id} {s.name}")
    return program


def test_a_colouring_that_shares_between_live_ranges_that_meet_is_caught(loaded):
    program = api.lower(loaded.prim_func, stop_after="C2b")
    lives = live_ranges(program.body)
    shared = colour(shareable(program, lives), lives.spans)
    acc = next(cb.index for cb in program.cbs if cb.name == "acc")
    h5 = next(cb.index for cb in program.cbs if cb.name == "h5")
    bad = shared | {h5: shared[acc]}                       # h5 onto acc's CB: acc is alive there
    with pytest.raises(AssertionError, match="live ranges meet"):
        check_disjoint(bad, lives.spans)
    # and downstream, without C2c's check: h5's writes land on acc's CB, so C2c's own output (L5)
    # computes another function, and the numeric check after C2c refuses it. (F1 no longer sees
    # it: C3 releases a block a loop overwrites unread, tests/test_loop_overwritten_blocks.py, so
    # the protocol balances.) Tolerance: far beyond rounding, a tenth of the output's scale.
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=3)
    want = reference(inputs)["Y"]
    wrong = api.simulate(merge(program, bad), "L5", inputs)["Y"]
    assert np.abs(wrong - want).max() > 0.1 * np.abs(want).max()


def test_a_kernel_that_fits_is_left_alone():
    flash = load_kernel(Path(__file__).parent.parent / "examples" / "flash_attention.py").prim_func
    assert api.lower(flash, stop_after="C2c") == api.lower(flash, stop_after="C2b")


def test_nt202_names_where_the_most_buffers_are_alive(tmp_path):
    """Every step kept until the end (each read by the final sum): no two ranges are disjoint."""
    n = 34
    allocs = "\n".join(f'        b{k} = T.alloc_fragment((32, 32), "float32")' for k in range(n))
    steps = "\n".join(f"        for i, j in T.Parallel(32, 32):\n            b{k}[i, j] = a[i, j] + {k}.0"
                      for k in range(n))
    sums = "\n".join(f"        for i, j in T.Parallel(32, 32):\n            s[i, j] += b{k}[i, j]"
                     for k in range(n))
    path = tmp_path / "all_alive.py"
    path.write_text(f'''
import nanott.language as T


@T.prim_func
def all_alive(A: T.Tensor((32, 32), "float32"), C: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, threads=128) as bx:
        a = T.alloc_shared((32, 32), "float32")
        s = T.alloc_fragment((32, 32), "float32")
{allocs}
        T.copy(A[0, 0], a)
        T.clear(s)
{steps}
{sums}
        T.copy(s, C[0, 0])
''')
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(path).prim_func, stop_after="C3")
    assert e.value.code == "NT202" and "hold blocks at once here" in e.value.message
    assert e.value.loc.line > 10 and "T.Parallel" in e.value.hint
    # on a target with more CBs, the same kernel fits and no CB is shared
    big = replace(DEFAULT_TARGET, num_cbs=64)
    assert not any("shared by" in cb.plan.why for cb in api.lower(load_kernel(path).prim_func, "C2c", big).cbs)


def test_a_loop_of_one_trip_widens_nothing_and_one_of_none_holds_no_position():
    """A peeled loop's last trip sits behind a guard decided false (`if_then_else(1 < 1, 1, 0)`):
    none of its statements runs; `for k in T.serial(1)` runs its body once, in program order."""
    one, zero = l5.Const(1, "int32"), l5.Const(0, "int32")
    never = l5.Select(l5.BinOp("<", one, one), one, zero)
    maybe = l5.Select(l5.BinOp("<", l5.Var("bx"), one), one, zero)
    assert (trips(one), trips(never), trips(maybe)) == ((1, 1), (0, 0), (0, 1))
