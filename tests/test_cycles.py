"""The cycle model (nanott/sim/cycles.py) pinned on cases whose answer is known by hand, and
`nanott run --stats --trace` on every example.

Hand cases: one core adding one tile (the whole timeline, statement by statement); a DRAM-bound
element-wise kernel on the whole grid (the DRAM floor); a GEMM at each math fidelity (the math
engine's cycles and Tenstorrent's ideal cycles)."""
import json

import numpy as np
import pytest

import nanott.language as T
from nanott import api
from nanott.ir import Launches, launches_of
from nanott.languages.l0_interp import scratch_arrays
from nanott.loader import load_kernel
from nanott.sim import cycles, machine as m
from nanott.sim.report import figures
from nanott.target import WORMHOLE_N150
from conftest import EXAMPLES, ROOT, nanott_cli

WH = m.TIMING["wormhole_n150"]


def add(M, N, bm, bn, dtype="bfloat16"):
    @T.prim_func
    def main(A: T.Tensor((M, N), dtype), B: T.Tensor((M, N), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            A_s = T.alloc_shared((bm, bn), dtype)
            B_s = T.alloc_shared((bm, bn), dtype)
            C_l = T.alloc_fragment((bm, bn), dtype)
            T.copy(A[by * bm, bx * bn], A_s)
            T.copy(B[by * bm, bx * bn], B_s)
            for i, j in T.Parallel(bm, bn):
                C_l[i, j] = A_s[i, j] + B_s[i, j]
            T.copy(C_l, C[by * bm, bx * bn])
    return main


def matmul(M, N, K, bm, bn, bk):
    @T.prim_func
    def main(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((K, N), "bfloat16"), C: T.Tensor((M, N), "float")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            A_s = T.alloc_shared((bm, bk), "bfloat16")
            B_s = T.alloc_shared((bk, bn), "bfloat16")
            C_l = T.alloc_fragment((bm, bn), "float")
            T.clear(C_l)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=2):
                T.copy(A[by * bm, k * bk], A_s)
                T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, C_l)
            T.copy(C_l, C[by * bm, bx * bn])
    return main


def timed(prim_func, fidelity=None):
    kernel, program = api.lower(prim_func, "P0"), api.lower(prim_func, "F1")
    inputs = api.random_inputs(kernel, 0)
    after, model = cycles.simulate_timed(program, inputs, WORMHOLE_N150, fidelity)
    return kernel, inputs, after, model


def test_one_core_one_tile_by_hand():
    """C = A + B on one 32x32 bf16 tile: the reader reads A and B (one barrier, D3a), compute adds
    and packs, the writer writes C. Every step below is a cost from sim/machine.py."""
    _, _, _, model = timed(add(32, 32, 32, 32))
    cb, issue, page = m.CB_CALL_CYCLES, m.NOC_ISSUE_CYCLES, 2048
    # one core: the tt-npe rate for 2 KiB (30 B/cycle), capped at the worker NIU's 28.1 B/cycle
    xfer = page / min(WH.noc_rate(page), WH.dram_bytes_per_cycle / 1, *WH.niu_bytes_per_cycle)
    assert WH.noc_rate(page) == 30.0 and xfer == page / 28.1
    # reader: reserve A, issue A, reserve B, issue B: B's transfer queues behind A's on the NIU's
    # sink (A's transfer outlasts a reserve and an issue), both land after the read latency; one
    # barrier, then push A, push B
    assert xfer >= cb + issue
    b_visible = cb + issue + 2 * xfer + WH.read_latency + cb
    # compute: two inits (hw startup, add_tiles_init) on every engine; waits; add: unpack both
    # tiles at 80 B/cycle, then 8 cycles of math; pack 2048 B at 64 B/cycle; push
    unpacked = b_visible + cb + 2 * page / WH.unpack_both_bytes_per_cycle
    packed = unpacked + m.ELTWISE_TILE_CYCLES + page / WH.pack_bytes_per_cycle
    # writer: wait, issue, transfer, write latency 40 + 10 x mean hops (10x12 NoC: 10 hops), pop
    landed = packed + cb + issue + xfer + WH.write_latency_base + WH.write_latency_per_hop * 10
    assert model.duration() == pytest.approx(landed + cb)
    assert model.cores[(0, 0)].busy["math"] == 2 * m.INIT_CYCLES + m.ELTWISE_TILE_CYCLES


def test_dram_bound_elementwise_by_hand():
    """1024x1024 bf16 A + B on all 64 cores: 6 MiB through DRAM at 12 banks x 23.6 B/cycle."""
    _, _, _, model = timed(add(1024, 1024, 32, 32))
    f = figures(model)
    assert sum(c.weight for c in model.cores.values()) == 64
    assert f.floors["DRAM"] == pytest.approx(3 * 1024 * 1024 * 2 / (12 * 23.6))
    assert f.bound == "DRAM"
    assert f.duration >= f.floors["DRAM"]


@pytest.mark.parametrize("fidelity", list(m.PHASES))
def test_gemm_math_cycles_by_fidelity(fidelity):
    """A one-core 128x128x256 GEMM in 128x128x128 blocks: 4x4 output tiles x 8 K tiles = 128
    matmul tiles, each unpacking 4 KiB (51.2 cycles) while the reader brings 32 pages (2,185
    cycles) per 64 tiles: compute-bound. Only matmul math depends on fidelity: 16 cycles per tile
    per phase (GEMM_FLOPS)."""
    _, _, _, model = timed(matmul(128, 128, 256, 128, 128, 128), fidelity)
    _, _, _, lofi = timed(matmul(128, 128, 256, 128, 128, 128), "LoFi")
    core, base = model.cores[(0, 0)], lofi.cores[(0, 0)]
    assert core.matmul_tiles == 128
    assert core.busy["math"] - base.busy["math"] == 128 * 16 * (m.PHASES[fidelity] - 1)
    assert figures(model).ideal == 128 * 16 * m.PHASES[fidelity] / 64       # / the n150's 64 cores
    assert figures(model).bound == "compute"


def test_timing_does_not_change_results():
    """The timed simulator computes what InterpL9 computes, bit for bit."""
    prim_func = matmul(128, 128, 256, 64, 64, 64)
    kernel, inputs, after, _ = timed(prim_func)
    plain = api.simulate(api.lower(prim_func, "F1"), "L9", inputs)
    _, outs = api.tensor_roles(kernel)
    assert api.identical(after, plain, outs)
    assert not np.isnan(after["C"]).any()


@pytest.mark.parametrize("example", EXAMPLES)
def test_stats_and_trace_on_every_example(example, tmp_path):
    out = tmp_path / "trace.json"
    text = nanott_cli("run", str(ROOT / "examples" / f"{example}.py"), "--stats", "--trace", str(out)).output
    assert "PASS" in text and "duration" in text and "bound:" in text
    trace = json.loads(out.read_text())["traceEvents"]
    names = {(e["pid"], e["args"]["name"]) for e in trace if e["name"] == "thread_name"}
    cores = {e["pid"] for e in trace if e["name"] == "process_name"}
    assert len(names) == 5 * len(cores)
    assert all(e["dur"] > 0 for e in trace if e["ph"] == "X")
    assert {e["tid"] for e in trace if e["ph"] == "X"} >= {0, 2, 3, 4}      # reader, unpack, math, pack


def test_stats_need_l9():
    assert "NT940" in nanott_cli("run", str(ROOT / "examples" / "gemm.py"), "--level", "L5", "--stats", code=3).output


@pytest.mark.parametrize("example", ["gemm", "softmax", "gemm_splitk"])
def test_lockstep_keeps_the_reference_times(example):
    """Timed in lockstep (one clock set per group) or per core, every figure is the same."""
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    program = api.lower(loaded.prim_func, "F1")
    inputs = api.random_inputs(api.lower(loaded.prim_func, "P0"), 0)
    args = {"target": WORMHOLE_N150, "fidelity": None, "trace": False}
    arrays = [{k: v.copy() for k, v in inputs.items()} | (scratch_arrays(program) if isinstance(program, Launches) else {}) for _ in "fs"]
    for launch in launches_of(program):                 # gemm_splitk: two launches after P0c
        fast, slow = cycles.TimedLockstep(dict(args)), cycles.Timed(dict(args))
        fast.run(launch, arrays[0])
        slow.run(launch, arrays[1])
        assert figures(fast.model) == figures(slow.model)
        assert sum(c.weight for c in fast.model.cores.values()) == len(slow.model.cores)
        for key, c in fast.model.cores.items():
            assert (c.busy, c.clock) == (slow.model.cores[key].busy, slow.model.cores[key].clock)


def test_timed_lockstep_forks_and_keeps_a_clock_set_per_class():
    """The timed run steps D3b's senders and receivers as one group, forking at their ifs, and
    keeps the clocks of each class of alike cores apart: one group, as many clock sets as the
    per-core reference has distinct times, every core counted once (a group per class, as before,
    costs a step of the program per class)."""
    program = api.lower(matmul(256, 256, 256, 32, 32, 32), "F1")
    inputs = api.random_inputs(api.lower(matmul(256, 256, 256, 32, 32, 32), "P0"), 0)
    args = {"target": WORMHOLE_N150, "fidelity": None, "trace": False}
    fast, slow = cycles.TimedLockstep(dict(args)), cycles.Timed(dict(args))
    fast.run(program, {k: v.copy() for k, v in inputs.items()})
    slow.run(program, {k: v.copy() for k, v in inputs.items()})
    assert len(fast.group_size) == 1 and len(fast.model.cores) > 1
    assert sum(c.weight for c in fast.model.cores.values()) == len(slow.model.cores) == 64
    assert figures(fast.model) == figures(slow.model)
    for key, c in fast.model.cores.items():
        assert (c.busy, c.clock, c.stalls) == (slow.model.cores[key].busy, slow.model.cores[key].clock,
                                               slow.model.cores[key].stalls)


def test_transfer_charges_issue_stream_and_latency_as_a_kernel_page_does():
    """CycleModel.transfer (what the NoC calls of a kernel cost, and benchmarks/bench_moe_rows.py
    charges): two reads of one 2048-byte page each issue back to back, stream one after the other
    through the sink at min(tt-npe rate, DRAM share, NIU), and land a read latency after."""
    model, core = cycles.CycleModel(WORMHOLE_N150, "HiFi2", active_cores=64), cycles.Core()
    timing = m.TIMING["wormhole_n150"]
    for _ in range(2):
        model.transfer(core, (0,), "reader", 2048, True)
    rate = min(timing.noc_rate(2048), timing.dram_bytes_per_cycle / 64, timing.niu_bytes_per_cycle[0])
    assert core.clock["reader"] == 2 * m.NOC_ISSUE_CYCLES and core.bytes_read == 4096
    assert core.nics["reader"].landed == pytest.approx(m.NOC_ISSUE_CYCLES + 2 * 2048 / rate + timing.read_latency)


def test_dram_writes_share_bandwidth_among_the_writing_cores():
    """With D3b's multicast only some cores read DRAM, but every core writes its C block: a read
    gets DRAM's bandwidth over the readers, a write over all 16 writers (sharing writes among the
    readers made the final writes up to 4x faster than DRAM allows)."""
    _, _, _, model = timed(matmul(256, 256, 256, 64, 64, 64))
    read_share, write_share = model.dram_share
    assert write_share == pytest.approx(WH.dram_bytes_per_cycle / 16)
    assert read_share > write_share
