"""Cores that cooperate (issue 14): D3b's multicast of shared GEMM blocks with semaphores, the
simulator's semantics and deadlock report, F1's static checks, the cycle model.

Numerics are checked against NumPy (fp32 A @ B of the bf16 inputs; the kernel accumulates in fp32,
so the tolerance is 1e-5 of the output's largest magnitude: K = 256 fp32 additions in another order).
The protocol mutants of the multicast calls are tests/test_mutation.py's (gemm, fast tier).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nanott import api, pipeline
from nanott.ir import CheckError, walk
from nanott.languages import l9
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.passes.f1_verify import verify
from nanott.sim import lockstep
from nanott.sim.cooperation import active, core_env
from nanott.sim.cycles import simulate_timed
from nanott.sim.errors import DeadlockError, ProtocolError
from nanott.target import WORMHOLE_N150

ROOT = Path(__file__).resolve().parent.parent
MOVERS = ("reader", "writer")            # the data-movement kernels (D3c gives the writer B's block)



@pytest.fixture(scope="module")
def gemm():
    loaded = load_kernel(ROOT / "examples" / "gemm.py")
    kernel = api.lower(loaded.prim_func, "P0")
    return (pipeline.lower(loaded.prim_func, "F1", WORMHOLE_N150), api.random_inputs(kernel, 0),
            loaded.prim_func)


def reference(inputs):
    return inputs["A"].astype(np.float32) @ inputs["B"].astype(np.float32)


def close(c, inputs) -> bool:
    ref = reference(inputs)
    return float(np.abs(c - ref).max()) <= 1e-5 * float(np.abs(ref).max())


def rewrite(program, old, new):
    """The program with one statement of its reader replaced (new=None deletes it)."""
    def visit(stmts):
        out = []
        for s in stmts:
            if s is old:
                out += [] if new is None else [new]
                continue
            if isinstance(s, (l9.For, l9.When)):
                s = dataclasses.replace(s, body=tuple(visit(s.body)))
            out.append(s)
        return out
    kernels = tuple(dataclasses.replace(k, body=tuple(visit(k.body))) if k.role == "reader" else k
                    for k in program.kernels)
    return dataclasses.replace(program, kernels=kernels)


def first(program, kind):
    return next(s for s in walk(program.kernel("reader").body) if isinstance(s, kind))


def test_d3b_multicasts_a_along_rows_and_b_along_columns(gemm):
    program, inputs, _ = gemm
    note = dict((a.key, a.value) for a in program.attrs)["multicast"]
    assert "cb0's block read once per row of 4 cores" in note and "cb1's block read once per column of 4" in note
    assert {w.core for w in program.work.cores} == {(x, y) for x in range(4) for y in range(4)}
    mcasts = [s for k in MOVERS for s in walk(program.kernel(k).body) if isinstance(s, l9.McastPages)]
    assert sorted(m.cb for m in mcasts) == [0, 1]


def test_multicast_gemm_matches_numpy_in_lockstep_and_reference(gemm):
    program, inputs, _ = gemm
    out = {k: v.copy() for k, v in inputs.items()}
    assert lockstep.simulate(program, out) == "lockstep"
    ref_out = {k: v.copy() for k, v in inputs.items()}
    InterpL9(seed=3).run(program, ref_out)
    assert close(out["C"], inputs)
    assert np.array_equal(out["C"], ref_out["C"])        # same arithmetic, bit for bit


def test_no_core_sends_two_blocks(gemm):
    """Rows share A and columns share B: the rows at y % 4 == 0 send from their last core and the
    columns at x % 4 == 3 from theirs, so every core multicasts at most one block, and every core
    of a row (column) but its sender receives the row's (column's) block from it."""
    program, _, _ = gemm
    movers = tuple(s for k in MOVERS for s in program.kernel(k).body)
    sends = {w.core: {m.cb for m in active(movers, core_env(w), (l9.McastPages,))} for w in program.work.cores}
    assert max(len(cbs) for cbs in sends.values()) == 1
    assert sorted(x for (x, y), cbs in sends.items() if cbs == {0}) == [0, 0, 0, 3]
    for cb, axis in ((0, 1), (1, 0)):                 # one sender per row for cb0, per column for cb1
        lines = [k[axis] for k, cbs in sends.items() if cb in cbs]
        assert sorted(lines) == [0, 1, 2, 3]


def test_multicast_reads_dram_once_per_row_and_column(gemm):
    """Without D3b every core reads its A and B blocks; with it one core per row (column) does."""
    program, inputs, kernel = gemm
    before = pipeline.lower(kernel, "F1", WORMHOLE_N150, skip=("D3b",))
    _, m_after = simulate_timed(program, inputs, WORMHOLE_N150)
    _, m_before = simulate_timed(before, inputs, WORMHOLE_N150)
    # 16 cores x 8 steps x (2 A + 2 B tiles) of 2 KiB before; a quarter of it after (4 senders each)
    assert m_before.total("bytes_read") == 16 * 8 * 4 * 2048
    assert m_after.total("bytes_read") == m_before.total("bytes_read") // 4


def test_a_missing_increment_is_a_deadlock_naming_the_semaphore(gemm):
    program, inputs, _ = gemm
    broken = rewrite(program, first(program, l9.SemInc), None)
    with pytest.raises(DeadlockError) as e:
        InterpL9().run(broken, {k: v.copy() for k, v in inputs.items()})
    text = str(e.value)
    assert "noc_semaphore_wait sem0 == 3" in text
    # row 0's sender is its last core (D3b spreads the senders: core (0, 0) sends B)
    assert "semaphore sem0 of core (3, 0) is 0, waits for 3; never raised" in text
    assert "raised by the reader kernel(s) of other cores" in text


def test_senders_and_receivers_run_as_one_lockstep_group(gemm):
    """D3b's ifs hold on some cores only (the senders, the receivers): the lockstep group forks
    there (sim/forks.py) instead of splitting into a group per role, so the 16 cores step as one
    group, bit-identical to the reference."""
    program, inputs, _ = gemm
    fast, slow = ({k: v.copy() for k, v in inputs.items()} for _ in range(2))
    sim = lockstep.Lockstep()
    sim.run(program, fast)
    InterpL9().run(program, slow)
    assert list(sim.group_size.values()) == [16]
    assert np.array_equal(fast["C"], slow["C"]) and close(fast["C"], inputs)


def test_lockstep_keeps_each_cores_written_pages(gemm):
    """A's data multicast to one core fewer than its flag: that core pushes a page nothing wrote
    (rule 5). The cores of a group keep their own written flags, so lockstep sees it, as the
    reference does, instead of pushing the stale page."""
    program, inputs, _ = gemm
    m = first(program, l9.McastPages)
    rect = dataclasses.replace(m.rect, x1=l9.BinOp("-", m.rect.x1, l9.Const(1, "int32")))
    broken = rewrite(program, m, dataclasses.replace(m, rect=rect))
    for run in (lockstep.Lockstep().run, InterpL9().run):
        with pytest.raises(ProtocolError, match="were never written"):
            run(broken, {k: v.copy() for k, v in inputs.items()})


def test_a_missing_increment_deadlocks_the_forked_group_too(gemm):
    """The senders wait in their branch of the fork for a raise that never comes: lockstep finds
    the deadlock, and simulate reports it through the reference, word for word."""
    program, inputs, _ = gemm
    broken = rewrite(program, first(program, l9.SemInc), None)
    with pytest.raises(DeadlockError):
        lockstep.Lockstep().run(broken, {k: v.copy() for k, v in inputs.items()})
    with pytest.raises(DeadlockError) as fast:
        lockstep.simulate(broken, {k: v.copy() for k, v in inputs.items()})
    with pytest.raises(DeadlockError) as slow:
        InterpL9().run(broken, {k: v.copy() for k, v in inputs.items()})
    assert str(fast.value) == str(slow.value)


def test_f1_rejects_a_wait_nothing_can_end(gemm):
    program, _, _ = gemm
    broken = rewrite(program, first(program, l9.SemInc), None)
    with pytest.raises(CheckError, match="noc_semaphore_wait sem0 == 3 can never end: no other core raises it"):
        verify(broken, WORMHOLE_N150)
    wait = first(program, l9.SemWait)
    more = rewrite(program, wait, dataclasses.replace(wait, value=wait.value + 1))
    with pytest.raises(CheckError, match="raise it 3 time.s. per trip .to 4: never gets there"):
        verify(more, WORMHOLE_N150)


def moved(program, **corner):
    """A's data and flag multicast to another rectangle (the same one, as D3b makes them)."""
    m, f = first(program, l9.McastPages), first(program, l9.SemSetMcast)
    rect = dataclasses.replace(m.rect, **corner)
    return rewrite(rewrite(program, m, dataclasses.replace(m, rect=rect)), f, dataclasses.replace(f, rect=rect))


def test_f1_rejects_a_rectangle_that_holds_its_sender_or_leaves_the_grid(gemm):
    program, _, _ = gemm
    me = l9.CoreArg("logical_x")
    row = l9.BinOp("*", l9.BinOp("//", me, l9.Const(4, "int32")), l9.Const(4, "int32"))
    with pytest.raises(CheckError, match="the rectangle holds its sender"):    # the whole row of 4
        verify(moved(program, x0=row, x1=l9.BinOp("+", row, l9.Const(3, "int32"))), WORMHOLE_N150)
    with pytest.raises(CheckError, match="is not inside the 8x8 core grid"):
        verify(moved(program, x1=l9.BinOp("+", me, l9.Const(9, "int32"))), WORMHOLE_N150)


def test_simulator_rejects_a_multicast_into_pages_not_reserved(gemm):
    """Without the sender's wait for its receivers, the data lands before they reserved."""
    program, inputs, _ = gemm
    broken = rewrite(program, first(program, l9.SemWait), None)
    with pytest.raises((ProtocolError, DeadlockError), match="multicast lands in pages|deadlock"):
        InterpL9().run(broken, {k: v.copy() for k, v in inputs.items()})


def test_b1_tiles_a_large_gemm_grid_so_rows_and_columns_of_cores_share_blocks():
    """512^3 in 32x32x64 blocks: a 16x16 grid on 8x8 cores in tiles of 2x2 blocks, each core
    running its tile in the same order; D3b then multicasts A along rows of 8, B along columns."""
    loaded = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul",
                         sets=dict(M="512", N="512", K="512", block_M="32", block_N="32", block_K="64"))
    program = pipeline.lower(loaded.prim_func, "F1", WORMHOLE_N150)
    assert program.work.tile == (2, 2, 8) and len(program.work.cores) == 64
    note = dict((a.key, a.value) for a in program.attrs)["multicast"]
    assert "row of 8 cores" in note and "column of 8 cores" in note
    inputs = api.random_inputs(api.lower(loaded.prim_func, "P0"), 1)
    out = {k: v.copy() for k, v in inputs.items()}
    assert lockstep.simulate(program, out) == "lockstep"
    assert close(out["C"], inputs)


def test_d3b_leaves_a_read_whose_pages_are_data_to_each_core():
    """examples/fused_moe.py's launch 2: the up_logits block (pages of bx and k) is shared by the two
    cores of a column and multicast; the W_down block's pages read the expert id `e` from DRAM, which
    no core knows of another at compile time, so each core reads its own."""
    loaded = load_kernel(ROOT / "examples" / "fused_moe.py")
    down = pipeline.lower(loaded.prim_func, "D3b", WORMHOLE_N150).launches[1]
    sent = {s.cb for s in walk(down.kernel("reader").body) if isinstance(s, l9.McastPages)}
    names = {cb.index: cb.name for cb in down.cbs}
    assert {names[c] for c in sent} == {"up_shared2"}
    reader = down.kernel("reader").body
    read = {s.var for s in walk(reader) if isinstance(s, l9.Let) and isinstance(s.value, l9.FrontElement)}
    data = [s for s in walk(reader) if isinstance(s, l9.NocReadPage)
            and any(isinstance(v, l9.Var) and v.name in read for v in walk(s.page))]
    assert data and {names[s.cb] for s in data} == {"down_shared"}
