"""Stages E1 finalize-signature and F1 verify on programs built by hand (test_stage_d_dst.py's
builders): E1's argument table, and F1 accepting what the pipeline makes and rejecting a program
broken against each of its rules.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import cb_named
from test_stage_d_dst import edit, edit_kernel, gemm_l6, sum3_l6, to_l9
from test_stage_d_split import c, cb, eltwise_l6

from nanott.diagnostics import NanottError
from nanott.ir import CheckError, replace
from nanott.languages import l9
from nanott.passes.e1_finalize_signature import finalize_signature
from nanott.passes.f1_verify import bound, verify
from nanott.target import DEFAULT_TARGET, TARGETS

pytestmark = [pytest.mark.E1, pytest.mark.F1]
T = DEFAULT_TARGET


def finished(k) -> l9.Program:
    p = finalize_signature(to_l9(k), T)
    l9.LANG.check(p, after="E1 finalize-signature")
    return p


# ----- E1 -----
def test_e1_one_table_of_slots_per_kernel_and_values_per_core():
    p = finished(eltwise_l6(cores=3))                    # 8 blocks over 3 cores: 3, 3, 2
    assert p.args.kernels == (l9.KernelArgs("reader", ("X_addr", "Z_addr", "start", "count")),
                              l9.KernelArgs("compute", ("count",)),
                              l9.KernelArgs("writer", ("Y_addr", "start", "count")))
    rows = {(r.core, r.role): r.values for r in p.args.cores}
    assert len(p.args.cores) == 9
    assert rows[((0, 0), "reader")] == ("X.address", "Z.address", 0, 3)
    assert rows[((1, 0), "compute")] == (3,)
    assert rows[((2, 0), "writer")] == ("Y.address", 6, 2)
    assert [(r.core, r.role) for r in p.args.cores[:3]] == [((0, 0), "reader"), ((0, 0), "compute"),
                                                           ((0, 0), "writer")]


def test_e1_changes_nothing_else_and_prints_the_table():
    from nanott.printing import render
    before = to_l9(gemm_l6())
    after = finalize_signature(before, T)
    assert replace(after, args=None) == before
    text = render(after)
    assert "runtime args of reader: A_addr, B_addr, start, count" in text
    assert "core (7, 1) writer: C.address, 15, 1" in text


# ----- F1: accepts -----
@pytest.mark.parametrize("k", [eltwise_l6, gemm_l6, sum3_l6, lambda: gemm_l6(bm=128, bn=128, bk=64)])
def test_f1_accepts_what_the_pipeline_makes_and_returns_it_unchanged(k):
    p = finished(k())
    assert verify(p, T) is p


# ----- F1: one broken program per rule -----
def broken(p, role, pred, fn=lambda s: []):
    """p with every statement of `role`'s kernel matching pred replaced by fn(s)."""
    return edit_kernel(p, role, lambda s: fn(s) if pred(s) else [s])


def test_f1_cb_balance_a_dropped_pop():
    p = broken(finished(eltwise_l6()), "writer", lambda s: isinstance(s, l9.CbPop))
    with pytest.raises(CheckError, match=r"CB balance: compute kernel, cb2: pushes 4 pages per "
                                         r"iteration, its consumer the writer pops 0"):
        verify(p, T)


def test_f1_cb_balance_counts_static_trip_counts():
    p = finished(gemm_l6())                  # 8 K steps of 2 pages each per block
    p = broken(p, "reader", lambda s: isinstance(s, l9.CbPush) and s.cb == 0, lambda s: [replace(s, pages=1)])
    with pytest.raises(CheckError, match="cb0: pushes 8 pages per iteration, its consumer the compute pops 16"):
        verify(p, T)


def test_f1_cb_balance_reserve_and_capacity():
    p = broken(finished(eltwise_l6()), "reader", lambda s: isinstance(s, l9.CbReserve) and s.cb == 1,
               lambda s: [replace(s, pages=2)])
    with pytest.raises(CheckError, match=r"protocol rule 6 .*: reader kernel: noc_async_read_page to cb1 back slot 3, "
                                         "but 2 pages are reserved"):
        verify(p, T)
    # reserve only polls (docs/reference.md §5.2 rule 5): reserving again before the push is legal, as in the simulator
    p = broken(finished(eltwise_l6()), "reader", lambda s: isinstance(s, l9.CbReserve) and s.cb == 1,
               lambda s: [s, s])
    verify(p, T)
    p = broken(finished(eltwise_l6()), "compute", lambda s: isinstance(s, l9.CbWait) and s.cb == 0,
               lambda s: [replace(s, pages=9)])
    with pytest.raises(CheckError, match="cb_wait_front cb0, 9 asks for more than the 8 pages"):
        verify(p, T)


def test_f1_dst_index_9():
    p = broken(finished(eltwise_l6()), "compute", lambda s: isinstance(s, l9.SfpuScalar),
               lambda s: [replace(s, dst=c(9))])
    with pytest.raises(CheckError, match=r"DST capacity: compute kernel: mul_unary_tile dst\[9\], 2: "
                                         "the index reaches 9; the DST holds 8 tiles"):
        verify(p, T)


def test_f1_dst_index_bounded_over_loop_ranges():
    p = finished(sum3_l6())                          # slots j * 3 + k, j < 2: at most 5 of 8
    verify(p, T)
    p = replace(p, compute=l9.ComputeConfig(False, 4, "HiFi4"))
    with pytest.raises(CheckError, match="DST capacity: compute kernel: the compute config says 4"):
        verify(p, T)
    p = finished(sum3_l6())
    p = broken(p, "compute", lambda s: isinstance(s, l9.For) and s.var == "sb0",
               lambda s: [replace(s, body=tuple(replace(x, extent=c(3)) if isinstance(x, l9.For) else x
                                                for x in s.body))])
    with pytest.raises(CheckError, match="the index reaches 8"):   # j < 3: 2 * 3 + 2
        verify(p, T)
    env = {"j": (0, 3)}
    assert bound(l9.BinOp("+", l9.BinOp("*", l9.Var("j"), c(3)), c(2)), env) == (2, 11)
    assert bound(l9.BinOp("%", l9.Var("j"), c(2)), env) == (0, 1)
    assert bound(l9.Var("x"), env) is None


def test_f1_init_before_use_a_removed_init():
    p = broken(finished(eltwise_l6()), "compute",
               lambda s: isinstance(s, l9.Init) and s.op == "binop_with_scalar_tile_init")
    with pytest.raises(CheckError, match=r"init before use: compute kernel: mul_unary_tile .* needs "
                                         r"binop_with_scalar_tile_init\(\), but the sfpu slot may hold anything"):
        verify(p, T)


def test_f1_init_before_use_a_re_init_the_loop_needs():
    p = finished(gemm_l6())
    # drop the copy_tile_init of the K step: the matmul init of the step before reaches the copy
    copy_init = lambda x: isinstance(x, l9.Init) and x.op == "copy_tile_init"   # noqa: E731
    p = broken(p, "compute", lambda s: isinstance(s, l9.For) and s.var == "kt",
               lambda s: [replace(s, body=edit(s.body, lambda x: [] if copy_init(x) else [x]))])
    with pytest.raises(CheckError, match=r"copy_tile cb2.* needs copy_tile_init\(cb2\), but the fpu slot "
                                         r"may hold anything"):
        verify(p, T)


def with_compute_body(p, body):
    return replace(p, kernels=tuple(replace(k, body=body) if k.role == "compute" else k for k in p.kernels))


def test_f1_init_before_use_hw_startup_first_and_once():
    p = finished(eltwise_l6())
    startup, *rest = p.kernel("compute").body
    assert startup.op == "compute_kernel_hw_startup"
    with pytest.raises(CheckError, match="0 calls of compute_kernel_hw_startup"):
        verify(with_compute_body(p, tuple(rest)), T)
    with pytest.raises(CheckError, match="2 calls of compute_kernel_hw_startup"):
        verify(with_compute_body(p, (startup, startup, *rest)), T)
    with pytest.raises(CheckError, match=r"add_tiles_init\(cb0, cb1\) before compute_kernel_hw_startup"):
        verify(with_compute_body(p, (rest[0], startup, *rest[1:])), T)


def test_f1_dst_handshake_commit_and_wait_swapped():
    def swap(s):
        return [l9.RegsWait()] if isinstance(s, l9.RegsCommit) else [l9.RegsCommit()]
    p = broken(finished(eltwise_l6()), "compute", lambda s: isinstance(s, (l9.RegsCommit, l9.RegsWait)), swap)
    with pytest.raises(CheckError, match="DST handshake: compute kernel: tile_regs_wait while the DST is math"):
        verify(p, T)


def test_f1_dst_handshake_math_outside_and_unbalanced_loops():
    p = broken(finished(eltwise_l6()), "compute", lambda s: isinstance(s, l9.RegsAcquire))
    with pytest.raises(CheckError, match="DST handshake"):
        verify(p, T)
    p = broken(finished(eltwise_l6()), "compute", lambda s: isinstance(s, l9.RegsRelease))
    with pytest.raises(CheckError, match="a loop body leaves the DST in another state"):
        verify(p, T)


def test_f1_l1_budget_and_cb_count_are_the_users_errors():
    p = finished(eltwise_l6())
    x = cb_named(p, "X_s")
    huge = replace(x, plan=replace(x.plan, depth=400))
    with pytest.raises(NanottError) as e:
        verify(replace(p, cbs=tuple(huge if c is x else c for c in p.cbs)), T)
    assert e.value.code == "NT201"
    many = tuple(cb(i, f"x{i}", (32, 32), "bfloat16", 1, "reader", "compute") for i in range(3, 40))
    with pytest.raises(NanottError) as e:
        verify(replace(p, cbs=p.cbs + many), T)
    assert e.value.code == "NT202"
    verify(finished(eltwise_l6()), TARGETS["blackhole_p150"])


def test_f1_argument_table():
    p = finished(eltwise_l6(cores=3))
    with pytest.raises(CheckError, match="argument table: every kernel: the program has no argument table"):
        verify(replace(p, args=None), T)
    short = replace(p.args, kernels=tuple(replace(k, names=("X_addr", "Z_addr", "start"))
                                          if k.role == "reader" else k for k in p.args.kernels))
    with pytest.raises(CheckError, match=r"argument table: reader kernel: reads count, which has no slot"):
        verify(replace(p, args=short), T)
    missing = replace(p.args, cores=p.args.cores[:-1])
    with pytest.raises(CheckError, match=r"argument table: writer kernel: core \(2, 0\) has 0 rows"):
        verify(replace(p, args=missing), T)
    wrong = replace(p.args, cores=(replace(p.args.cores[0], values=(1,)), *p.args.cores[1:]))
    with pytest.raises(CheckError, match=r"core \(0, 0\) has 1 rows; it needs one with 4 values"):
        verify(replace(p, args=wrong), T)


def test_f1_asks_no_init_of_a_compute_kernel_without_work():
    """A copy through a shared buffer leaves compute empty: F1 passes it (it used to report a
    compiler bug), and L9 copies A into C exactly (the C++ run: test_metalium_execute)."""
    from nanott import api
    from nanott.loader import load_kernel
    prim = load_kernel(Path(__file__).parent / "kernels" / "copy_only.py").prim_func
    program = api.lower(prim, "F1")
    assert program.kernel("compute").body == ()
    inputs = api.random_inputs(api.lower(prim, "P0"), 1)
    assert np.array_equal(api.simulate(program, "L9", inputs)["C"], inputs["A"])
