"""The concurrent simulators: InterpL7 (kernels under a scheduler, CBs as block queues) and InterpL8
(CB rings of real pages, NoC transfers landing at their barriers, the protocol rules enforced).

Numerics: on seeded random inputs, L6, L7 and L8 are bit-identical, in round-robin order and in
seeded random interleavings, and match an independent NumPy reference (GEMM: float32 tolerance
rtol = atol = 1e-4, the K sum runs in another order; elementwise: exact, it is the same float32
arithmetic rounded once to bfloat16). Faults: each broken rule of docs/reference.md §5 is injected into a
correct L8 program and the error must name the rule, the kernel, the CB and the numbers.
"""
from __future__ import annotations

import time
from functools import cache
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from conftest import cb_named, with_kernel
from test_stage_d_split import eltwise_l6, gemm_l6, lower_d

from nanott import api
from nanott.block_float import as_dram_holds
from nanott.ir import Launches, Loc, launches_of, replace
from nanott.languages import l8
from nanott.languages.l0_interp import np_dtype, scratch_arrays
from nanott.languages.l6_interp import InterpL6
from nanott.languages.l7_interp import InterpL7
from nanott.languages.l8_interp import InterpL8
from nanott.loader import load_kernel
from nanott.pipeline import run_stages
from nanott.sim.cb_ring import COUNTER, CbRing
from nanott.sim.errors import DeadlockError, ProtocolError
from nanott.sim.noc import Dram

pytestmark = [pytest.mark.D2, pytest.mark.D3]
F32 = np.float32


def inputs(k, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {p.name: rng.uniform(-1, 1, p.shape).astype(np_dtype(p.dtype)) for p in k.params}
    out[k.params[-1].name][...] = np.nan                      # the output: NaN shows any hole
    return out


def run(interp, program, k, seed=0) -> np.ndarray:
    arrays = inputs(k, seed)
    interp.run(program, arrays)
    return arrays[k.params[-1].name]


def reference(k, arrays) -> np.ndarray:
    a, b = (arrays[p.name].astype(F32) for p in k.params[:2])
    if k.name == "gemm":
        return a @ b
    return ((a + b) * F32(2) - F32(0.5)).astype(ml_dtypes.bfloat16)


CASES = {"gemm": gemm_l6, "gemm-3-cores": lambda: gemm_l6(cores=3),
         "gemm-f32-deep": lambda: gemm_l6(M=128, N=64, K=192, dtype="float32", depth=3, cores=2),
         "eltwise": eltwise_l6, "eltwise-1-core": lambda: eltwise_l6(cores=1)}


@pytest.mark.parametrize("case", CASES)
def test_l6_l7_l8_bit_identical_and_match_numpy(case):
    k = CASES[case]()
    six = run(InterpL6(), k, k)
    seven = run(InterpL7(), lower_d(k, "D2"), k)
    eight = run(InterpL8(), lower_d(k), k)
    assert np.array_equal(six, seven) and np.array_equal(six, eight)
    expected = reference(k, inputs(k))
    if k.name == "gemm":
        np.testing.assert_allclose(eight, expected, rtol=1e-4, atol=1e-4)
    else:
        assert np.array_equal(eight, expected)


@pytest.mark.parametrize("level", ["L7", "L8"])
def test_seeded_interleavings_change_the_order_not_the_result(level):
    k = gemm_l6(cores=3)
    program, interp = (lower_d(k, "D2"), InterpL7) if level == "L7" else (lower_d(k), InterpL8)
    results, orders = [], set()
    for seed in (None, 1, 2):
        trace = []
        listener = lambda t: trace.append((t.core, t.role))    # noqa: E731
        results.append(run(interp(seed=seed, listener=listener), program, k))
        orders.add(tuple(trace))
    assert len(orders) == 3, "the seeds should give three different interleavings"
    assert all(np.array_equal(results[0], r) for r in results[1:])


def test_gemm_256_simulates_in_well_under_a_few_seconds():
    k = gemm_l6(256, 256, 256, 64, 64, 32)
    program = lower_d(k)
    t = time.perf_counter()
    run(InterpL8(), program, k)
    assert time.perf_counter() - t < 3.0


# ----- faults, injected into correct L8 programs -----
def edit(p: l8.Program, role: str, f) -> l8.Program:
    """Rewrite the statements of one kernel with f(stmt) -> list of statements, inner loops first."""
    def go(stmts):
        out = []
        for s in stmts:
            if isinstance(s, l8.For):
                s = replace(s, body=go(s.body))
            out.extend(f(s))
        return tuple(out)
    return replace(p, kernels=tuple(replace(k, body=go(k.body)) if k.role == role else k
                                    for k in p.kernels))


def drop(*nodes):
    return lambda s: [] if s in nodes else [s]


def test_a_missing_push_deadlocks_and_names_the_waiting_compute_kernel():
    k = eltwise_l6()
    p = edit(lower_d(k), "reader", drop(l8.CbPush(0, 4)))
    with pytest.raises(DeadlockError) as e:
        InterpL8().run(p, inputs(k))
    compute = next(b for b in e.value.blocked if b.role == "compute")
    assert (compute.cb, compute.call, compute.partner, compute.partner_status) == (
        0, "cb_wait_front cb0, 4", "reader", "has finished")
    text = str(e.value)
    assert ("compute waits at cb_wait_front cb0, 4: cb0 has 0 of the 4 pages it needs visible; "
            "its producer, the reader on the same core, has finished [eltwise.py:12]") in text
    assert "writer waits at cb_wait_front cb2, 4" in text and "is blocked too, at cb_wait_front cb0" in text
    assert "on cores (0, 0)..(7, 0) (8 cores)" in text


def test_the_same_deadlock_at_l7_names_the_block_queues():
    k = eltwise_l6(cores=1)
    p = lower_d(k, "D2")
    p = replace(p, cbs=tuple(replace(cb, plan=replace(cb.plan, depth=1)) if cb.name == "Y_s" else cb
                             for cb in p.cbs))
    with pytest.raises(DeadlockError, match=r"compute waits at tiles \(i, j\) in 2x2: .*cb2 has 1 of 1 "
                       "blocks full; its consumer, the writer on the same core, has finished"):
        InterpL7().run(with_kernel(p, "writer", body=()), inputs(k))     # nobody drains Y_s (cb2)


def test_a_push_before_the_read_barrier_breaks_rule_7():
    k = eltwise_l6()
    p = edit(lower_d(k), "reader", drop(l8.NocReadBarrier()))
    with pytest.raises(ProtocolError) as e:
        InterpL8().run(p, inputs(k))
    assert e.value.rule == 7 and e.value.role == "reader" and e.value.loc == Loc("eltwise.py", 10)
    assert "reader on core (0, 0), at eltwise.py:10: cb_push_back cb0 before noc_async_read_barrier: " \
           "4 reads in flight (rule 7" in str(e.value)


def test_a_pop_before_the_write_barrier_breaks_rule_8_and_a_kernel_may_not_end_with_writes_in_flight():
    k = eltwise_l6()
    p = edit(lower_d(k), "writer", drop(l8.NocWriteBarrier()))
    with pytest.raises(ProtocolError, match=r"cb_pop_front cb2 before noc_async_write_barrier: 4 writes "
                       r"in flight \(rule 8"):
        InterpL8().run(p, inputs(k))
    p = edit(p, "writer", drop(l8.CbPop(2, 4)))
    with pytest.raises(ProtocolError, match=r"writer on core \(0, 0\): the kernel ends with 0 reads and "
                       r"4 writes in flight .*§5.4.3"):
        InterpL8().run(p, inputs(k))


def test_a_wait_for_more_pages_than_the_cb_holds_breaks_rule_2():
    k = eltwise_l6()
    p = edit(lower_d(k), "compute", lambda s: [l8.CbWait(1, 9, loc=s.loc)] if s == l8.CbWait(1, 4) else [s])
    with pytest.raises(ProtocolError, match=r"compute on core \(0, 0\), at eltwise.py:12: cb_wait_front "
                       r"cb1, 9: cb1 holds 8 pages \(rule 2"):
        InterpL8().run(p, inputs(k))


def test_a_push_without_a_reserve_breaks_rule_5():
    k = eltwise_l6()
    p = edit(lower_d(k), "compute", drop(l8.CbReserve(2, 4)))
    p = edit(p, "compute", lambda s: [replace(s, body=())] if isinstance(s, l8.TileGroup) else [s])
    with pytest.raises(ProtocolError, match=r"compute .*: cb_push_back cb2, 4 with 0 pages reserved "
                       r"\(cb_reserve_back first\) \(rule 5"):
        InterpL8().run(p, inputs(k))


def test_a_store_outside_the_reserved_region_and_a_read_outside_the_waited_one_break_rule_6():
    k = eltwise_l6()
    p = edit(lower_d(k), "compute", lambda s: [l8.CbReserve(2, 2)] if s == l8.CbReserve(2, 4) else [s])
    with pytest.raises(ProtocolError, match=r"a tile store to cb2 back slot 2, but 2 pages are reserved \(rule 6"):
        InterpL8().run(p, inputs(k))
    p = edit(lower_d(k), "compute", lambda s: [l8.CbWait(0, 2)] if s == l8.CbWait(0, 4) else [s])
    with pytest.raises(ProtocolError, match=r"a tile read of cb0 front slot 2, but 2 pages were waited for"):
        InterpL8().run(p, inputs(k))


def test_pushing_unwritten_slots_breaks_rule_5():
    k = eltwise_l6()
    p = edit(lower_d(k), "compute", lambda s: [replace(s, extents=(1, 2))] if isinstance(s, l8.TileGroup) else [s])
    with pytest.raises(ProtocolError, match=r"cb_push_back cb2, 4: slot\(s\) 2, 3 of the reserved region "
                       "were never written"):
        InterpL8().run(p, inputs(k))


def ring_program(pages: int, step: int, blocks: int) -> tuple:
    """A hand-built L8 program: the reader pushes `blocks` single-tile reads `step` pages at a time
    into a `pages`-page CB; the compute kernel waits and pops the same counts."""
    k = eltwise_l6(M=32, N=32 * step * blocks, b=32, cores=1)
    p = lower_d(k)
    x = cb_named(p, "X_s")
    cb = replace(x, shape=(32, 32 * step), plan=replace(x.plan, block_pages=pages, depth=1))
    c = lambda n: l8.Const(n, "int32")                              # noqa: E731
    reader = (l8.For("b", c(blocks), "serial", 0, (
        l8.CbReserve(0, step, loc=Loc("ring.py", 3)),
        *(l8.NocReadPage("X", l8.BinOp("+", l8.BinOp("*", l8.Var("b"), c(step)), c(s)), 0, c(s))
          for s in range(step)),
        l8.NocReadBarrier(), l8.CbPush(0, step, loc=Loc("ring.py", 6)))),)
    compute = (l8.For("b", c(blocks), "serial", 0, (l8.CbWait(0, step, loc=Loc("ring.py", 9)),
                                                    l8.CbPop(0, step, loc=Loc("ring.py", 10)))),)
    bodies = {"reader": reader, "compute": compute, "writer": ()}
    return replace(p, cbs=(cb,), kernels=tuple(replace(k, body=bodies[k.role]) for k in p.kernels)), k


def test_pushes_that_do_not_land_on_the_end_of_the_ring_break_the_wrap_rule():
    p, k = ring_program(pages=3, step=2, blocks=3)
    l8.LANG.check(p)
    with pytest.raises(ProtocolError) as e:
        InterpL8().run(p, inputs(k))
    assert e.value.rule == 3 and e.value.loc.line in (3, 9)
    assert "at page 2 of a 3-page ring" in str(e.value) and "without landing on it" in str(e.value)
    p, k = ring_program(pages=4, step=2, blocks=5)                # 2 + 2 lands on 4: fine
    InterpL8().run(p, inputs(k))


def test_leftover_pages_at_the_end_of_the_run_are_reported():
    k = eltwise_l6()                                             # one block per core
    p = edit(lower_d(k), "compute", drop(l8.CbPop(1, 4)))
    with pytest.raises(ProtocolError, match=r"cb1 ends the run with 4 page\(s\) pushed and not popped"):
        InterpL8().run(p, inputs(k))
    with pytest.raises(DeadlockError, match=r"reader waits at cb_reserve_back cb1, 4: cb1 has 0 of the 4 "
                       "pages it needs free; its consumer, the compute on the same core, is blocked too"):
        k = eltwise_l6(cores=1)                                  # two blocks per core: a cycle
        InterpL8().run(edit(lower_d(k), "compute", drop(l8.CbPop(1, 4))), inputs(k))
    with pytest.raises(DeadlockError, match=r"wait-for cycle on 1 core\(s\) from \(0, 0\): compute \(on cb0\)"
                       r" -> reader \(on cb1\) -> compute"):
        InterpL8().run(edit(lower_d(k), "compute", drop(l8.CbPop(1, 4))), inputs(k))


def test_counters_are_16_bit_and_wrap():
    ring = CbRing(cb_named(lower_d(eltwise_l6()), "X_s"))
    ring.received = ring.acked = COUNTER - 2
    ring.reserve(4)
    ring.pages[:4] = 1.0
    ring.written[:4] = True
    ring.push(4)
    assert ring.received == 2 and ring.visible() == 4 and ring.free() == 4 and ring.wr == 4
    ring.wait(4)
    ring.pop(4)
    assert ring.acked == 2 and ring.visible() == 0 and ring.rd == 4


def test_dram_numbers_pages_row_major_over_the_tile_grid_and_copies_on_write():
    a, b = np.arange(64 * 96, dtype=F32).reshape(64, 96), np.zeros((64, 96), F32)
    before = a.copy()
    dram = Dram({"A": a, "B": b}, ("A", "B"))
    assert dram.count("A") == 6
    assert np.array_equal(dram.read("A", 4), a[32:64, 32:64])        # tile (1, 1): page 1 * 3 + 1
    assert np.array_equal(dram.read("A", np.array([4, 0])), np.stack([a[32:64, 32:64], a[:32, :32]]))
    dram.write("A", 2, np.ones((32, 32), F32))
    assert np.array_equal(a, before)                                  # the caller's array, untouched
    assert np.array_equal(dram.read("A", 2), np.ones((32, 32), F32))  # until the run ends
    out = {"A": a, "B": b}
    dram.untilize_into(out)
    assert np.array_equal(a[:32, 64:96], np.ones((32, 32), F32)) and np.array_equal(a[32:], before[32:])
    assert not b.any()


# ----- the examples, lowered by the pipeline -----
EXAMPLES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@cache
def lowered(example: str) -> tuple:
    loaded = load_kernel(Path(__file__).resolve().parent.parent / "examples" / f"{example}.py")
    programs = dict((s.id, p) for s, p in run_stages(loaded.prim_func, "D3"))
    inputs = api.random_inputs(programs["P0"], seed=0)
    return loaded, programs, inputs


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_run_the_same_at_l6_l7_l8_in_any_interleaving(example):
    loaded, programs, inputs = lowered(example)
    kernel = programs["P0"]
    expected = api.expected_outputs(loaded, kernel, inputs)
    names = tuple(expected)
    six = api.simulate(programs["C3"], "L6", inputs)
    for stage, interp in (("D2", InterpL7), ("D3", InterpL8)):
        for seed in (None, 5):
            arrays = {n: a.copy() for n, a in inputs.items()}
            if isinstance(programs[stage], Launches):
                arrays.update(scratch_arrays(programs[stage]))
            for launch in launches_of(programs[stage]):       # a program of several: in order
                as_dram_holds(launch.params, arrays)            # the host's write (fp8: Bfp8_b)
                interp(seed=seed).run(launch, arrays)
                as_dram_holds(launch.params, arrays)            # the packer's (an fp8 output)
            assert api.identical(arrays, six, names), f"{example} after {stage}, seed {seed}"
    assert all(r.ok for r in api.compare(kernel, six, expected))


def test_a_missing_push_of_the_accumulator_in_the_gemm_example_deadlocks_on_itself():
    _, programs, inputs = lowered("gemm")
    first = [True]

    def drop_first_push(s):                 # the push that publishes the zeroed accumulator
        if s == l8.CbPush(2, 4) and first[0]:
            first[0] = False
            return []
        return [s]
    with pytest.raises(DeadlockError) as e:
        InterpL8().run(edit(programs["D3"], "compute", drop_first_push), dict(inputs))
    assert ("compute waits at cb_wait_front cb2, 4: cb2 has 0 of the 4 pages it needs visible; this kernel "
            "is its producer too, so nothing else can unblock it [gemm.py:28]") in str(e.value)
    assert "wait-for cycle on 16 core(s) from (0, 0): compute (on cb2) -> compute" in str(e.value)


def test_a_missing_read_barrier_in_the_gemm_example_names_rule_7_and_the_line():
    _, programs, inputs = lowered("gemm")
    with pytest.raises(ProtocolError, match=r"reader on core \(0, 0\), at gemm.py:26: cb_push_back cb0 "
                       r"before noc_async_read_barrier: 2 reads in flight \(rule 7"):
        InterpL8().run(edit(programs["D3"], "reader", drop(l8.NocReadBarrier())), dict(inputs))
