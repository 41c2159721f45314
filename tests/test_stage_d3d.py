"""Stage D3d multicast-by-rows: a mover's multicast block, read and multicast in parts of its rows
(each part its own handshake), where the cycle model's facts say the parts land sooner; which
rows a part holds is found from the reads' slots, not from names; the numbers are bit for bit the
same, F1 still catches a missing raise, and the emitted C++ runs on the CPU runtime."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import ROOT, nanott_cli as nanott, without
from nanott import api, pipeline
from nanott.ir import walk
from nanott.languages import l8, l9
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.passes.d3d_multicast_by_rows import Split, parts, read_rate
from nanott.passes.f1_verify import verify
from nanott.sim import cycles, lockstep
from nanott.sim.machine import TIMING
from nanott.target import WORMHOLE_N150

pytestmark = [pytest.mark.D3]

# 8 x 8 blocks of 64 x 64, two K steps of 512: A's block 2 rows of 16 tiles, B's 16 rows of 2 (64 KiB each)
SIZES = dict(M=512, N=512, K=1024, block_M=64, block_N=64, block_K=512)


def gemm(**sizes):
    return load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul",
                       sets={k: str(v) for k, v in {**SIZES, **sizes}.items()}).prim_func


def pushes(program, role):
    return [(x.cb, x.pages) for x in walk(program.kernel(role).body) if isinstance(x, l9.CbPush)]


def test_each_block_goes_in_parts_of_its_rows_the_next_read_while_one_leaves():
    program = pipeline.lower(gemm(), "F1", WORMHOLE_N150)
    whole = pipeline.lower(gemm(), "F1", WORMHOLE_N150, skip=("D3d",))
    assert pushes(whole, "reader") == [(0, 32)] and pushes(program, "reader") == [(0, 16), (0, 16)]
    assert pushes(program, "writer").count((1, 4)) == 8 and (1, 32) in pushes(whole, "writer")
    casts = [x.pages for x in walk(program.kernels) if isinstance(x, l9.McastPages)]
    assert casts == [16, 16] + [4] * 8
    note = dict((a.key, a.value) for a in program.attrs)["multicast-parts"]
    assert note == ("cb0's block of 32 pages read and multicast in 2 parts of 16, the next part read (transaction "
                    "ids 0, 1) and raised for (sem0/sem1, sem4/sem5) while a part lands and leaves; cb1's block of "
                    "32 pages read and multicast in 8 parts of 4, the next part read (transaction ids 0, 1) and "
                    "raised for (sem2/sem3, sem6/sem7) while a part lands and leaves")
    # the reader: part 0 read into slots 0..15 under id 0; part 1 into slots 16..31 (reserved with
    # part 0) under id 1 before part 0's barrier (id 0); part 1's barrier (id 1) after part 0's push
    body = [x for x in walk(program.kernel("reader").body)
            if isinstance(x, (l9.NocReadTrid, l9.NocReadBarrierTrid, l9.CbPush, l9.CbReserve, l9.NocReadPage))]
    kinds = [(type(x).__name__, getattr(x, "trid", getattr(x, "pages", None))) for x in body]
    assert kinds == [("CbReserve", 16), ("NocReadTrid", 0), ("NocReadPage", None), ("CbReserve", 32),
                     ("NocReadTrid", 1), ("NocReadPage", None), ("NocReadBarrierTrid", 0), ("CbPush", 16),
                     ("CbReserve", 16), ("NocReadBarrierTrid", 1), ("CbPush", 16)]
    first, second = (x for x in body if isinstance(x, l9.NocReadPage))
    assert str(first.slot) == "j0" and str(second.slot) == "(j0 + 16)"
    assert not any(isinstance(x, l9.NocReadBarrier) for x in walk(program.kernels))


def test_a_small_block_stays_whole():
    """examples/gemm.py's blocks are 4 KiB: a part's latency and handshake cost more than the
    multicast they overlap, so D3d changes nothing."""
    prim_func = load_kernel(ROOT / "examples" / "gemm.py").prim_func
    assert pipeline.lower(prim_func, "D3d", WORMHOLE_N150) == pipeline.lower(prim_func, "D3c", WORMHOLE_N150)


def test_the_number_of_parts_follows_the_model():
    """A block's fixed cost (about 650 cycles: the last part's read latency and handshake) once per
    block + what each part's half round trip (its multicast, two semaphore writes, 100 cycles of
    calls) or its sender's calls take beyond its reads + the first part's reads and multicast + the
    last part's multicast, minimised over the divisors of the rows. Read at the NIU's 28.1 B/cycle,
    32 KiB go in 4 parts of 8 KiB (1,701 cycles: reads 292, the half round trip 336, so 44 a part
    beyond; in 8 parts of 4 KiB the half round trip, 263, is 117 beyond reads of 146: 2,024; whole,
    4,148), 64 KiB in 8, 128 KiB in 16; a sender of 8 blocks pays the excess 8 times a part, and
    takes half as many parts."""
    wh = TIMING[WORMHOLE_N150.name]
    assert [parts(p, 2048, 16, wh, 28.1) for p in (16, 32, 64)] == [4, 8, 16]
    assert [parts(p, 2048, 16, wh, 28.1, steps=8) for p in (16, 32, 64)] == [2, 4, 8]
    assert parts(64, 2048, 1, wh, 28.1) == 1            # a part holds whole rows: one row, one part
    assert parts(48, 2048, 3, wh, 28.1) == 3            # 96 KiB: three parts of a row each beat one
    # the sender's share of DRAM: 16 readers of 64 cores read at 283.2 / 16 = 17.7 B/cycle
    program = pipeline.lower(gemm(), "D3c", WORMHOLE_N150)
    assert read_rate(program, wh, 2048) == pytest.approx(12 * 23.6 / 16)


def test_the_first_part_counts_where_the_steps_are_few(monkeypatch):
    """Two K steps of 128 KiB blocks (512^2 x 1024 in 128x128x512, 16 cores): the first matmul
    waits for the first part, and A's block goes in 4 parts of 32 KiB (a part per row) rather
    than 2 of 64; forced into 2, the run ends later."""
    prim_func = gemm(block_M=128, block_N=128)
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
    program = pipeline.lower(prim_func, "F1", WORMHOLE_N150)
    assert set(pushes(program, "reader")) == {(0, 16)} and len(pushes(program, "reader")) == 4
    _, model = cycles.simulate_timed(program, {k: v.copy() for k, v in arrays.items()}, WORMHOLE_N150)
    monkeypatch.setattr("nanott.passes.d3d_multicast_by_rows.parts", lambda *args, **kw: 2)
    halves = pipeline.lower(prim_func, "F1", WORMHOLE_N150)
    assert pushes(halves, "reader") == [(0, 32), (0, 32)]
    _, model2 = cycles.simulate_timed(halves, {k: v.copy() for k, v in arrays.items()}, WORMHOLE_N150)
    assert model.duration() < model2.duration() - 1000


def test_numbers_are_bit_identical_with_and_without():
    prim_func = gemm()
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 4)
    outs = []
    for skip in ((), ("D3d",)):
        program = pipeline.lower(prim_func, "F1", WORMHOLE_N150, skip=skip)
        out = {k: v.copy() for k, v in arrays.items()}
        assert lockstep.simulate(program, out) == "lockstep"
        outs.append(out["C"])
    ref_out = {k: v.copy() for k, v in arrays.items()}
    InterpL9(seed=3).run(pipeline.lower(prim_func, "F1", WORMHOLE_N150), ref_out)   # a random interleaving
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], ref_out["C"])
    ref = arrays["A"].astype(np.float32) @ arrays["B"].astype(np.float32)
    # fp32 accumulation over K = 1024 in another order than NumPy's: 1e-5 of the largest output
    assert np.abs(outs[0] - ref).max() <= 1e-5 * np.abs(ref).max()


def test_the_blocks_land_sooner_in_the_cycle_model():
    """parts() predicts the first step's blocks land 516 cycles sooner (2,982 against 2,466); the run,
    18,700 cycles long, ends 366 sooner (the later steps overlap the matmuls either way)."""
    prim_func = gemm()
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
    times = []
    for skip in ((), ("D3d",)):
        program = pipeline.lower(prim_func, "F1", WORMHOLE_N150, skip=skip)
        _, model = cycles.simulate_timed(program, {k: v.copy() for k, v in arrays.items()}, WORMHOLE_N150)
        times.append(model.duration())
    assert times[0] < times[1] - 250


def test_f1_rejects_a_part_without_its_raise():
    """The receivers of A's parts no longer raise their sender's `ready`: its wait can never end."""
    program = pipeline.lower(gemm(), "F1", WORMHOLE_N150)
    reader = program.kernel("reader")
    inc = next(x for x in walk(reader.body) if isinstance(x, l9.SemInc))

    broken = without(program, reader.role, inc)
    with pytest.raises(Exception, match="cooperation.*reader.*can never end"):
        verify(broken, WORMHOLE_N150)


@pytest.mark.slow
@pytest.mark.G1
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_parts_run_on_the_cpu_runtime(tmp_path, runtime_cache):
    sets = [x for k, v in SIZES.items() for x in ("--set", f"{k}={v}")]
    result = nanott("compile", str(ROOT / "examples" / "gemm.py"), "--kernel", "matmul", *sets,
                    "-o", str(tmp_path / "out"), "--execute", "--seed", "3", "--runtime-cache", str(runtime_cache))
    assert result.stdout.splitlines()[-1].endswith("within tolerance: PASS")
    assert "noc_async_write_multicast" in (tmp_path / "out" / "reader.cpp").read_text()


def test_f1_rejects_a_part_that_is_never_multicast():
    """The writer's sender of B's parts no longer multicasts them: its receivers push pages that
    no core wrote."""
    program = pipeline.lower(gemm(), "F1", WORMHOLE_N150)
    writer = program.kernel("writer")
    cast = next(x for x in walk(writer.body) if isinstance(x, l9.McastPages))

    broken = without(program, writer.role, cast)
    with pytest.raises(Exception, match="cooperation.*writer.*neither reads its pages nor receives them"):
        verify(broken, WORMHOLE_N150)


def test_trips_of_a_work_split_of_no_cores():
    """Split.trips weighs a loop's trips on the core that runs the most of them: the persistent loop's
    extent is each core's block count (the 64x64 blocks of SIZES: one a core); a work split of no
    cores has no such core, and counts one trip instead of failing on an empty max."""
    program = pipeline.lower(gemm(), "D3c", WORMHOLE_N150)
    split = Split(TIMING[WORMHOLE_N150.name], program, [])
    assert split.trips(l8.CoreArg("count")) == 1
    assert split.trips(l8.BinOp("*", l8.CoreArg("count"), l8.Const(3, "int32"))) == 3
    split.cores = ()
    assert split.trips(l8.CoreArg("count")) == 1
