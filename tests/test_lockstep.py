"""The lockstep L9 simulator (nanott/sim/lockstep.py) against the reference InterpL9: bit for bit on
every example (tests/test_generality.py does the same on every fuzzed kernel), in lockstep where the
cores allow it, and through the reference, with the reference's own error, where a program breaks
a rule."""
from dataclasses import replace

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT

import nanott.language as T
from nanott import api
from nanott.ir import Launches, launches_of, walk
from nanott.languages import l9
from nanott.languages.l0_interp import scratch_arrays
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.sim import lockstep, loops
from nanott.sim.errors import DeadlockError, ProtocolError


def both(program, inputs):
    """Lockstep and the reference InterpL9 on copies of inputs (each launch in turn, for a program of
    several): which ran (lockstep, or reference for any launch), and both results."""
    fast, slow = ({k: v.copy() for k, v in inputs.items()} for _ in range(2))
    if isinstance(program, Launches):
        fast.update(scratch_arrays(program))
        slow.update(scratch_arrays(program))
    hows = [lockstep.simulate(launch, fast) for launch in launches_of(program)]
    for launch in launches_of(program):
        InterpL9().run(launch, slow)
    return ("lockstep" if set(hows) == {"lockstep"} else "reference"), fast, slow


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_runs_in_lockstep_bit_identical_to_the_reference(example):
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    kernel, program = api.lower(loaded.prim_func, "P0"), api.lower(loaded.prim_func, "F1")
    inputs = api.random_inputs(kernel, seed=3)
    how, fast, slow = both(program, inputs)
    _, outputs = api.tensor_roles(kernel)
    per_block = [x for x in walk(tuple(k.body for launch in launches_of(program) for k in launch.kernels))
                 if isinstance(x, l9.For) and x.kind != "persistent" and not isinstance(x.extent, l9.Const)]
    assert how == "lockstep" or per_block, "cores diverged, and no loop bound differs between them"
    assert api.identical(fast, slow, outputs)
    assert all(not np.isnan(fast[n].astype(np.float32)).any() for n in outputs)


def scale(M, N, bm, bn):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            A_s = T.alloc_shared((bm, bn), "float32")
            B_l = T.alloc_fragment((bm, bn), "float32")
            T.copy(A[by * bm, bx * bn], A_s)
            for i, j in T.Parallel(bm, bn):
                B_l[i, j] = A_s[i, j] * 3.0 + 1.0
            T.copy(B_l, B[by * bm, bx * bn])
    return main


def test_uneven_work_runs_as_two_groups():
    """67 blocks on 64 cores: 3 cores run 2 blocks, 61 run 1, two lockstep groups."""
    prim_func = scale(32 * 67, 32, 32, 32)
    program = api.lower(prim_func, "F1")
    assert sorted({w.count for w in program.work.cores}) == [1, 2]
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=0)
    how, fast, slow = both(program, inputs)
    assert how == "lockstep" and api.identical(fast, slow, ("B",))
    np.testing.assert_array_equal(fast["B"], inputs["A"] * np.float32(3) + np.float32(1))


def drop_first(program, role, kind):
    """The program without the first statement of type `kind` in the `role` kernel (any depth)."""
    done = []

    def go(stmts):
        out = []
        for s in stmts:
            if isinstance(s, l9.For):
                s = replace(s, body=go(s.body))
            if isinstance(s, kind) and not done:
                done.append(s)
                continue
            out.append(s)
        return tuple(out)
    return replace(program, kernels=tuple(replace(k, body=go(k.body)) if k.role == role else k
                                          for k in program.kernels))


@pytest.mark.parametrize("role, kind, error", [("reader", l9.NocReadBarrier, ProtocolError),
                                               ("reader", l9.CbPush, DeadlockError),
                                               ("compute", l9.RegsCommit, ProtocolError)])
def test_a_broken_program_gets_the_reference_error(role, kind, error):
    prim_func = scale(64, 64, 32, 32)
    program = drop_first(api.lower(prim_func, "F1"), role, kind)
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=0)
    with pytest.raises(error) as fast:
        lockstep.simulate(program, {k: v.copy() for k, v in inputs.items()})
    with pytest.raises(error) as slow:
        InterpL9().run(program, {k: v.copy() for k, v in inputs.items()})
    assert str(fast.value) == str(slow.value)


def test_cores_that_disagree_on_a_cb_slot_fall_back_to_the_reference():
    """Reads into slot (slot + start) % 2 of a 2-page block: odd cores swap their two tiles, so
    the cores of a group disagree on the slot: Diverged, and the reference runs."""
    prim_func = scale(64, 128, 32, 64)
    program = api.lower(prim_func, "F1")
    start, two = l9.CoreArg("start"), l9.Const(2, "int32")
    skew = lambda s: replace(s, slot=l9.BinOp("%", l9.BinOp("+", s.slot, start), two)) if isinstance(
        s, l9.NocReadPage) else s
    program = replace(program, kernels=tuple(
        replace(k, body=_map(k.body, skew)) if k.role == "reader" else k for k in program.kernels))
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=0)
    with pytest.raises(lockstep.Diverged):
        lockstep.Lockstep().run(program, {k: v.copy() for k, v in inputs.items()})
    how, fast, slow = both(program, inputs)
    assert how == "reference" and api.identical(fast, slow, ("B",))


def _map(stmts, f):
    return tuple(replace(s, body=_map(s.body, f)) if isinstance(s, l9.For) else f(s) for s in stmts)


def test_batch_loops_run_statement_major_unless_iterations_share_a_dst_slot(monkeypatch):
    """The GEMM's loops over a DST batch run as one NumPy call per statement; make every
    iteration of the accumulator's reload loop write dst[0] and that loop runs iteration by
    iteration, with the reference's result either way."""
    verdicts = []
    run = loops.run
    monkeypatch.setattr(loops, "run", lambda *a: verdicts.append(run(*a)) or verdicts[-1])
    loaded = load_kernel(ROOT / "examples" / "gemm_big_block.py")
    program = api.lower(loaded.prim_func, "F1")
    inputs = api.random_inputs(api.lower(loaded.prim_func, "P0"), seed=1)
    how, fast, slow = both(program, inputs)
    assert how == "lockstep" and api.identical(fast, slow, ("C",)) and all(verdicts) and verdicts
    verdicts.clear()
    same_slot = lambda s: replace(s, dst=l9.Const(0, "int32")) if isinstance(s, l9.CopyTile) else s
    program = replace(program, kernels=tuple(
        replace(k, body=_map(k.body, same_slot)) if k.role == "compute" else k for k in program.kernels))
    how, fast, slow = both(program, inputs)
    assert how == "lockstep" and api.identical(fast, slow, ("C",)) and False in verdicts


@pytest.mark.parametrize("example", ["gemm", "softmax", "gemm_splitk"])
def test_the_progress_count_reaches_every_page_written(example):
    """`nanott run` shows a bar counting DRAM pages written up to lockstep.pages_written."""
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    program = api.lower(loaded.prim_func, "F1")
    counted = []
    api.simulate(program, "L9", api.random_inputs(api.lower(loaded.prim_func, "P0"), 0), counted.append)
    assert sum(counted) == lockstep.pages_written(program) > 0


@pytest.mark.parametrize("problem", ["eltwise_4x4", "matmul_4x4x4"])
def test_the_peer_benchmarks_block_problems_bit_identical_to_the_reference(problem):
    """benchmarks/bench_simulator.py's 4x4-tile block problems (the ones the lockstep fast paths
    were made for: a matmul_block as one batched product, whole-block NoC reads) at 256^2 / 256^3,
    in lockstep and bit for bit the reference's; and right against NumPy in float32 (bf16 in and
    out: within 2 bf16 ulps of the output's scale, the rounding of the result and of the sum)."""
    from benchmarks.bench_simulator import eltwise, matmul_bias_relu
    prim_func = eltwise(256, 128) if problem.startswith("eltwise") else matmul_bias_relu(256, 128)
    kernel, program = api.lower(prim_func, "P0"), api.lower(prim_func, "F1")
    blocks = {(x.rt, x.ct) for k in program.kernels for x in walk(k.body) if isinstance(x, l9.MatmulBlock)}
    assert problem.startswith("eltwise") or any(rt * ct > 1 for rt, ct in blocks)
    inputs = api.random_inputs(kernel, seed=5)
    how, fast, slow = both(program, inputs)
    assert how == "lockstep" and api.identical(fast, slow, ("Y",))
    a, b, c = (inputs[n].astype(np.float32) for n in "ABC")
    want = a * b + c if problem.startswith("eltwise") else np.maximum(a @ b + c, 0)
    got = fast["Y"].astype(np.float32)
    assert np.abs(got - want).max() <= 2 * 2.0 ** -7 * np.abs(want).max()


def test_noc_nests_queue_at_once_unless_iterations_share_a_slot(monkeypatch):
    """The reader's and writer's nests of page reads and writes queue one transfer per statement
    (sim/transfers.py) with the reference's result; make every read of a nest land in slot 0 and
    the nest runs iteration by iteration, and the run fails with the reference's error (the rest of
    the reserved region is never written: rule 5)."""
    from benchmarks.bench_simulator import eltwise
    from nanott.sim import transfers
    counts = []
    run = transfers.run
    monkeypatch.setattr(transfers, "run", lambda *a: counts.append(run(*a)) or counts[-1])
    prim_func = eltwise(256, 128)
    program = api.lower(prim_func, "F1")
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=2)
    how, fast, slow = both(program, inputs)
    assert how == "lockstep" and api.identical(fast, slow, ("Y",)) and counts and all(counts)
    assert set(counts) == {16, 4}                  # 4x4 pages read per operand, 4 written per row
    counts.clear()
    slot0 = lambda s: replace(s, slot=l9.Const(0, "int32")) if isinstance(s, l9.NocReadPage) else s
    program = replace(program, kernels=tuple(
        replace(k, body=_map(k.body, slot0)) if k.role == "reader" else k for k in program.kernels))
    with pytest.raises(ProtocolError) as fast_error:
        lockstep.Lockstep().run(program, {k: v.copy() for k, v in inputs.items()})
    with pytest.raises(ProtocolError) as slow_error:
        InterpL9().run(program, {k: v.copy() for k, v in inputs.items()})
    assert 0 in counts and str(fast_error.value) == str(slow_error.value)
    assert "never written" in str(slow_error.value)


def test_runs_reuse_scratch_memory_and_never_see_what_it_held():
    """lockstep.simulate takes its big buffers (DRAM tiles, CB pages, DST tiles) from a pool and
    gives them back (sim/scratch.py): a buffer given back comes out again for the same size; runs of
    two kernels one after the other, on new inputs, each give the reference's result bit for bit,
    and a run's unwritten CB pages are NaN again, whatever the pool's buffer held."""
    from benchmarks.bench_simulator import eltwise
    from nanott.sim import scratch
    first = scratch.Scratch()
    a = first.empty((512, 1024), np.float32)
    a[...] = 7.0
    first.release()
    again = scratch.Scratch()
    b = again.empty((1024, 512), np.float32)
    assert b.ctypes.data == a.ctypes.data and 0 < scratch.kept() + b.nbytes <= scratch.LIMIT
    again.release()
    for prim_func in (eltwise(256, 128), scale(512, 512, 64, 64), eltwise(256, 128)):
        program = api.lower(prim_func, "F1")
        for seed in (0, 1):
            inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=seed)
            how, fast, slow = both(program, inputs)
            out = api.tensor_roles(api.lower(prim_func, "P0"))[1]
            assert how == "lockstep" and api.identical(fast, slow, out)
    cb = program.cbs[0]
    shape = (cb.plan.pages, 64, 32, 32)                # a CB's pages for a group of 64 cores
    held = scratch.Scratch()
    old = held.empty(shape, np.dtype(fast["A"].dtype))
    old[...] = 1.0                                    # what another run left there
    held.release()
    taken = scratch.Scratch()
    sim = lockstep.Lockstep(scratch=taken)
    sim.start(program, {k: v.copy() for k, v in inputs.items()})
    sim.width = 64
    ring = sim.make_cb(cb)
    assert ring.pages.ctypes.data == old.ctypes.data and np.isnan(ring.pages.astype(np.float32)).all()
    taken.release()


def test_two_cores_writing_one_tile_break_the_owner_rule_in_both_simulators():
    """The writer's page ids with every core's block start replaced by core 0's (0): four cores
    write block 0's tile, landing in no fixed order. Both simulators refuse it (rule "owner"),
    naming two of the cores, the row and the page; the unmutated program writes each tile once."""
    prim_func = scale(64, 64, 32, 32)
    program = api.lower(prim_func, "F1")
    assert len(program.work.cores) == 4

    def zero_start(s):
        if isinstance(s, l9.Let) and s.var == "block_id":
            return replace(s, value=l9.Var(s.value.rhs.name))        # core.start + blk -> blk
        return s
    writer = next(k for k in program.kernels if k.role == "writer")
    assert any(isinstance(s, l9.Let) and s.value == l9.BinOp("+", l9.CoreArg("start"), l9.Var("blk"))
               for s in walk(writer.body))
    mutated = replace(program, kernels=tuple(replace(k, body=_map(k.body, zero_start)) if k is writer else k
                                             for k in program.kernels))
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=0)
    lockstep.simulate(program, {k: v.copy() for k, v in inputs.items()})          # each tile once: fine
    with pytest.raises(ProtocolError, match=r"cores \(\d+, \d+\) and \(\d+, \d+\) both write row \d+ of "
                                            r"B\.page\[0\] in one launch \(§owner"):
        lockstep.simulate(mutated, {k: v.copy() for k, v in inputs.items()})
    with pytest.raises(ProtocolError, match=r"both write row \d+ of B\.page\[0\]"):
        InterpL9().run(mutated, {k: v.copy() for k, v in inputs.items()})


def test_cores_may_write_different_rows_of_one_page_but_not_the_same_row():
    """Dram.claim at its grain, a row: rows 0 and 1 of page 0 by two cores are disjoint bytes (a
    row scatter's), row 1 again by the other core is a race; a core rewriting its own row is not."""
    from nanott.sim.noc import Dram
    dram = Dram({"X": np.zeros((32, 64), np.float32)}, ("X",))
    dram.claim("X", 0, 0, 7)
    dram.claim("X", 0, 1, 8)
    dram.claim("X", 0, 1, 8)
    dram.claim("X", np.array([1, 1]), np.array([2, 3]), np.array([7, 8]))    # lockstep: a row per core
    with pytest.raises(ProtocolError, match=r"cores 8 and 7 both write row 1 of X\.page\[0\]"):
        dram.claim("X", 0, None, 7)
    with pytest.raises(ProtocolError, match=r"cores 7 and 8 both write row 5 of X\.page\[1\]"):
        dram.claim("X", np.array([1, 1]), np.array([5, 5]), np.array([7, 8]))


def test_a_loop_plan_is_kept_and_each_run_still_checks_its_rules(monkeypatch):
    """sim/loops.py works a statement-major loop's plan out once per loop and outer values it
    reads: the elementwise problem with 2x2-tile blocks, 4 blocks a core, builds fewer plans than
    its loops run, and gives the reference's bits. Each run, kept plan or not, checks its own rules
    (inits, DST phase, the pages its CBs have waited for and reserved): after the run, with every
    CB drained, the last plan is refused even with the DST put back in its phase."""
    from benchmarks.bench_simulator import eltwise
    built, checked = [], []
    build, holds = loops._static_plan, loops._holds
    monkeypatch.setattr(loops, "_static_plan", lambda *a: built.append(build(*a)) or built[-1])
    monkeypatch.setattr(loops, "_holds", lambda *a: checked.append((a, holds(*a))) or checked[-1][1])
    prim_func = eltwise(1024, 64)
    program = api.lower(prim_func, "F1")
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=2)
    how, fast, slow = both(program, inputs)
    assert how == "lockstep" and api.identical(fast, slow, ("Y",))
    assert 0 < len(built) < len(checked) and all(ok for _, ok in checked)
    (plan, engine, dst, cbs), _ = checked[-1]
    dst.state = plan.state
    assert plan.bounds and not holds(plan, engine, dst, cbs)
