"""Stage D5c push-output-per-subblock: the compute kernel pushes an output block a subblock at a
time and the writer writes it so, where both loops take the same runs of pages; the numbers are bit
for bit the same; the writes start before the last matmul ends."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT
from nanott import api, pipeline
from nanott.ir import walk
from nanott.languages import l9
from nanott.loader import load_kernel
from nanott.sim import cycles
from nanott.target import WORMHOLE_N150

pytestmark = [pytest.mark.D5]


def lowered(name: str, skip=(), sets=None, kernel=None):
    loaded = load_kernel(ROOT / "examples" / f"{name}.py", kernel=kernel,
                         sets={k: str(v) for k, v in (sets or {}).items()} or None)
    return loaded.prim_func, pipeline.lower(loaded.prim_func, "F1", WORMHOLE_N150, skip=skip)


def calls(program, role, cb):
    return [x.head() for x in walk(program.kernel(role).body)
            if isinstance(x, (l9.CbReserve, l9.CbPush, l9.CbWait, l9.CbPop)) and x.cb == cb]


def test_a_gemm_pushes_and_writes_its_output_a_subblock_at_a_time():
    _, program = lowered("gemm_big_block")
    out = next(cb.index for cb in program.cbs if cb.producer == "compute" and cb.consumer == "writer")
    assert f"cb_push_back cb{out}, 4" in calls(program, "compute", out)
    assert calls(program, "writer", out) == [f"cb_wait_front cb{out}, 4", f"cb_pop_front cb{out}, 4"]
    writer_loop = next(x for x in walk(program.kernel("writer").body)
                       if isinstance(x, l9.For) and any(isinstance(y, l9.CbWait) for y in x.body))
    assert isinstance(writer_loop.body[-2], l9.NocWriteBarrier)        # each run lands before its pop


def test_one_page_a_trip_is_left_whole():
    _, cast = lowered("cast")                                          # one tile packed per trip
    assert "output-pushes" not in {a.key for a in cast.attrs}


WIDE = dict(M=512, N=512, K=128, block_M=256, block_N=256, block_K=64)


def test_rows_wider_than_a_subblock_are_written_a_subblock_at_a_time():
    # 256x256 output blocks: compute packs 16 runs of 4 tiles, the writer writes 8 rows of 8:
    # each row is cut into two runs of 4, waited, written and popped as compute pushes them
    prim_func, big = lowered("gemm", sets=WIDE, kernel="matmul")
    out = next(cb.index for cb in big.cbs if cb.producer == "compute" and cb.consumer == "writer")
    assert f"cb{out} pushed and written 4 pages at a time" in {a.value for a in big.attrs}
    assert calls(big, "writer", out) == [f"cb_wait_front cb{out}, 4", f"cb_pop_front cb{out}, 4"]
    _, whole = lowered("gemm", sets=WIDE, kernel="matmul", skip=("D5c",))
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 5)
    a, b = api.simulate(big, "L9", arrays), api.simulate(whole, "L9", arrays)
    assert np.array_equal(a["C"].view(np.uint8), b["C"].view(np.uint8))


@pytest.mark.parametrize("name", ["gemm_big_block", "elementwise_add"])
def test_numbers_are_bit_identical_with_and_without(name):
    prim_func, chunked = lowered(name)
    _, whole = lowered(name, skip=("D5c",))
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 4)
    a = api.simulate(chunked, "L9", arrays)
    b = api.simulate(whole, "L9", arrays)
    for k in arrays:
        assert np.array_equal(a[k].view(np.uint8), b[k].view(np.uint8)), k


def test_the_writes_start_before_the_last_matmul_ends():
    prim_func, chunked = lowered("gemm_big_block")
    _, whole = lowered("gemm_big_block", skip=("D5c",))
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
    ends = []
    for program in (chunked, whole):
        _, model = cycles.simulate_timed(program, arrays, WORMHOLE_N150)
        ends.append(max(max(c.clock.values()) for c in model.cores.values()))
    assert ends[0] < ends[1]


# A spilled accumulator (D5a's `dst-accumulator` note: 16 tiles of fp32 over a DST section of 4) is
# reloaded and spilled a subblock at a time.
SPILLED = dict(M=256, N=256, K=512, block_M=128, block_N=128, block_K=128)


def spill_cb(program):
    return next(cb.index for cb in program.cbs if cb.producer == cb.consumer == "compute")


def test_a_spilled_accumulator_is_reloaded_and_spilled_a_subblock_at_a_time():
    _, program = lowered("gemm", sets=SPILLED, kernel="matmul")
    c = spill_cb(program)
    assert f"cb{c} reloaded and spilled 4 pages at a time" in {a.value for a in program.attrs}
    assert set(calls(program, "compute", c)) == {f"cb_reserve_back cb{c}, 4", f"cb_push_back cb{c}, 4",
                                                 f"cb_wait_front cb{c}, 4", f"cb_pop_front cb{c}, 4"}
    for loop in (x for x in walk(program.kernel("compute").body) if isinstance(x, l9.For)):
        mine = [type(s) for s in loop.body if isinstance(s, (l9.CbWait, l9.CbPop, l9.CbReserve, l9.CbPush))
                and s.cb == c]
        if l9.CbWait in mine and l9.CbReserve in mine:     # a middle K step: pop before reserve
            assert mine == [l9.CbWait, l9.CbPop, l9.CbReserve, l9.CbPush]
    _, whole = lowered("gemm", sets=SPILLED, kernel="matmul", skip=("D5c",))
    assert "accumulator-pushes" not in {a.key for a in whole.attrs}


def test_a_spilled_accumulator_keeps_every_number_and_the_unpacker_waits_less_for_it():
    prim_func, chunked = lowered("gemm", sets=SPILLED, kernel="matmul")
    _, whole = lowered("gemm", sets=SPILLED, kernel="matmul", skip=("D5c",))
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 3)
    a, b = api.simulate(chunked, "L9", arrays), api.simulate(whole, "L9", arrays)
    assert np.array_equal(a["C"].view(np.uint8), b["C"].view(np.uint8))
    c, waits = spill_cb(chunked), []
    for program in (chunked, whole):
        _, model = cycles.simulate_timed(program, arrays, WORMHOLE_N150)
        waits.append(sum(v * core.weight for core in model.cores.values()
                         for (engine, cb), v in core.stalls.items() if engine == "unpack" and cb == c))
    assert waits[0] < waits[1]
