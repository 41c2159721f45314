"""A persistent kernel's guarded wave of float scalars read from DRAM, as TileLang's MLA combine
writes them (example_mla_decode_persistent.py's second phase), on a kernel of our own.

Inside `if h < heads:` each T.alloc_var is assigned in loops (`lse_max = T.max(lse_max, L[h, k])`,
`lse = L[h, k]`): P0 chose each such value under the branch's condition (a select of the new value
and the one before, and P0b then a pair of keep/drop masks per select), and carried every name
across the wave loop. Inside the loop the branch runs as, its condition holds: the selects choose
their new value (branch_scalars.known), and the copies no one reads go (liveness,
_p0b_unread_scalars.py). The kernel needed 38 CBs, more than a core has; now it runs at every level.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.ir import walk
from nanott.languages import l0
from nanott.loader import load_kernel
from nanott.language.branch_scalars import known
from nanott.passes._p0b_unread_scalars import drop_unread

SOURCE = '''
import nanott.language as T

HEADS, SPLIT, DIM, SM = 48, 2, 128, 32


@T.prim_func
def combine(L: T.Tensor((HEADS, SPLIT), "float32"), P: T.Tensor((HEADS, SPLIT, DIM), "float32"),
            O: T.Tensor((HEADS, DIM), "float32")):
    with T.Kernel(SM, threads=128) as block_id:
        po = T.alloc_fragment([DIM], "float32")
        acc = T.alloc_fragment([DIM], "float32")
        lse_max = T.alloc_var("float32")
        lse_sum = T.alloc_var("float32")
        lse = T.alloc_var("float32")
        scale = T.alloc_var("float32")
        for w in T.serial(T.ceildiv(HEADS, SM)):
            h = SM * w + block_id
            if h < HEADS:
                T.clear(lse_sum)
                T.clear(acc)
                lse_max = -T.infinity("float32")
                for k in T.serial(SPLIT):
                    lse_max = T.max(lse_max, L[h, k])
                for k in T.serial(SPLIT):
                    lse = L[h, k]
                    lse_sum += T.exp2(lse - lse_max)
                lse_sum = T.log2(lse_sum) + lse_max
                for k in T.serial(SPLIT):
                    for i in T.Parallel(DIM):
                        po[i] = P[h, k, i]
                    lse = L[h, k]
                    scale = T.exp2(lse - lse_sum)
                    for i in T.Parallel(DIM):
                        acc[i] += po[i] * scale
                for i in T.Parallel(DIM):
                    O[h, i] = acc[i]
'''


def reference(inputs: dict) -> dict:
    """O[h] = sum_k 2^(L[h, k] - lse[h]) P[h, k], lse[h] = log2(sum_k 2^L[h, k]) (48 heads: the
    second wave's last 16 blocks fail the guard)."""
    lse = inputs["L"].astype(np.float64)
    total = np.log2(np.exp2(lse - lse.max(1, keepdims=True)).sum(1)) + lse.max(1)
    weights = np.exp2(lse - total[:, None])
    return {"O": (weights[:, :, None] * inputs["P"].astype(np.float64)).sum(1).astype(np.float32)}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("wave")) / "combine.py"
    path.write_text(SOURCE)
    return load_kernel(path)


def test_numerics_at_every_level(loaded):
    check_levels(loaded, reference)


def test_inside_the_guard_no_value_is_chosen_under_the_guard(loaded):
    p0 = api.lower(loaded.prim_func, stop_after="P0")
    guard = next(s for s in walk(p0.body) if isinstance(s, l0.For) and isinstance(s.extent, l0.Select))
    chosen = [s for s in walk(guard.body) if isinstance(s, l0.Let) and isinstance(s.value, l0.Select)
              and s.value.cond == guard.extent.cond]
    assert not chosen
    c3 = api.lower(loaded.prim_func, stop_after="C3")
    assert len(c3.cbs) < 20            # was 38 (P0b's masks and a vector per copy of each scalar)


def test_a_choice_stays_when_the_branch_changes_what_its_condition_reads():
    cond = l0.BinOp("<", v("n"), l0.Const(1, "int32"))
    chosen = let("x_2", l0.Select(cond, v("y"), v("x_1")))
    body = (l0.For("k", l0.Const(2, "int32"), "serial", 0, (chosen,)),)
    assert known(body, cond, {"x_2"}) == (l0.For("k", l0.Const(2, "int32"), "serial", 0, (let("x_2", v("y")),)),)
    moved = (let("n", l0.Const(5, "int32"), True), *body)            # the branch sets n: c may fail
    assert known(moved, cond, {"x_2"}) == moved
    assert known(body, l0.BinOp("<", v("m"), l0.Const(1, "int32")), {"x_2"}) == body   # another condition


def v(name: str) -> l0.Var:
    return l0.Var(name)


def let(name: str, value, update=False) -> l0.Let:
    return l0.Let(name, value, update)


def test_liveness_drops_a_value_overwritten_before_any_read_and_keeps_one_a_loop_may_skip():
    one = l0.Const(1.0, "float32")
    store = l0.Store("o", (l0.Const(0, "int32"),), v("x"))
    loop = l0.For("k", v("n"), "serial", 0, (let("x", one, True), store))
    # x = 0; for k in 0..n: {x = 1; o[0] = x}: the 0 is never read (every read follows the set),
    # so the let goes and the set becomes the let, in the loop
    body = drop_unread((let("x", l0.Const(0.0, "float32")), loop), {"x"})
    assert body == (l0.For("k", v("n"), "serial", 0, (let("x", one), store)),)
    # x = 0; for k in 0..n: {x = 1}; o[0] = x: the loop may run no trip, so the 0 is read
    kept = (let("x", l0.Const(0.0, "float32")), l0.For("k", v("n"), "serial", 0, (let("x", one, True),)), store)
    assert drop_unread(kept, {"x"}) == kept
    # a copy carried to a next trip nobody reads goes, with the let it copies
    carried = (let("y", one), l0.For("w", v("n"), "serial", 0, (let("z", v("y")), let("y", v("z"), True))), store)
    assert drop_unread(carried, {"y", "z"}) == (l0.For("w", v("n"), "serial", 0, ()), store)
