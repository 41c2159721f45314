"""Transaction ids (L8/L9 NocReadTrid, NocReadBarrierTrid, made by D3d): a multicast sender reads
its next part under its own id while the last part's barrier, multicast and handshake go on. The
reference simulator and the lockstep one land a barrier's own id's reads only and agree bit for bit;
a push or a multicast of pages whose reads are still in flight is refused by F1 and by the
simulator alike (every mutation of the new calls that changes anything is caught); F1 follows the
write pointer, so a reserve of two parts is accepted only where it cannot cross the ring's end;
the cycle model waits for one id's landings only; the emitted C++ calls tt-metal's functions."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import ROOT
from mutants import mutants
from nanott import api, pipeline
from nanott.backends.metalium.api import TARGET
from nanott.backends.metalium.kernels import kernel_source
from nanott.ir import CheckError, walk
from nanott.languages import l9
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.passes.f1_verify import verify
from nanott.sim import cycles, lockstep
from nanott.sim.errors import ProtocolError, SimulationError
from nanott.target import WORMHOLE_N150

pytestmark = [pytest.mark.D3]

# 4 x 4 cores of 64 x 64 blocks, two K steps of 512: A's block in 2 parts, B's in 8 (D3d's note)
SIZES = dict(M=256, N=256, K=1024, block_M=64, block_N=64, block_K=512)


@pytest.fixture(scope="module")
def lowered():
    prim_func = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul",
                            sets={k: str(v) for k, v in SIZES.items()}).prim_func
    program = pipeline.lower(prim_func, "F1", WORMHOLE_N150)
    return program, api.random_inputs(api.lower(prim_func, "P0"), 2)


def with_reader(program, body):
    reader = program.kernel("reader")
    return dataclasses.replace(program, kernels=tuple(dataclasses.replace(k, body=body) if k is reader else k
                                                      for k in program.kernels))


def step_of(program):
    """The reader's K-step body (the loop over k) and a function putting a new one back."""
    loop = next(x for x in walk(program.kernel("reader").body) if isinstance(x, l9.For) and x.var == "k")

    def put(body):
        def swap(stmts):
            return tuple(dataclasses.replace(s, body=body) if s is loop else
                         dataclasses.replace(s, body=swap(s.body)) if isinstance(s, (l9.For, l9.When)) else s
                         for s in stmts)
        return with_reader(program, swap(program.kernel("reader").body))
    return loop.body, put


def test_the_simulators_agree_and_match_numpy(lowered):
    program, inputs = lowered
    assert any(isinstance(x, l9.NocReadTrid) for x in walk(program.kernels))
    got = {k: v.copy() for k, v in inputs.items()}
    assert lockstep.simulate(program, got) == "lockstep"
    for seed in (0, 5):                                  # seeded interleavings, reads landing in random order
        ref = {k: v.copy() for k, v in inputs.items()}
        InterpL9(seed=seed).run(program, ref)
        assert np.array_equal(ref["C"].view(np.uint8), got["C"].view(np.uint8))
    expected = inputs["A"].astype(np.float32) @ inputs["B"].astype(np.float32)
    # fp32 accumulation of bf16 products over K = 1024 in another order than NumPy's: 1e-5 of the scale
    assert np.abs(got["C"] - expected).max() <= 1e-5 * np.abs(expected).max()


def test_a_barrier_for_the_wrong_id_is_caught_by_f1_and_the_simulator(lowered):
    """Part 0's barrier waits for id 1 instead of 0: part 0 is pushed (and multicast) with its
    reads still in flight."""
    program, inputs = lowered
    body, put = step_of(program)
    i = next(i for i, s in enumerate(body) if isinstance(s, l9.NocReadBarrierTrid) and s.trid == 0)
    broken = put(body[:i] + (l9.NocReadBarrierTrid(1, loc=body[i].loc),) + body[i + 1:])
    with pytest.raises(CheckError, match=r"rule (7|mcast)"):
        verify(broken, WORMHOLE_N150)
    with pytest.raises(ProtocolError, match=r"reads into its pages in flight|rule 7"):
        InterpL9().run(broken, {k: v.copy() for k, v in inputs.items()})


def test_reads_of_the_next_part_may_stay_in_flight_past_a_push(lowered):
    """The pipelined step pushes part 0 while part 1's reads (into the slots after it) are in
    flight: F1 and the simulator accept it; drop the barrier of part 1 and both refuse."""
    program, inputs = lowered
    verify(program, WORMHOLE_N150)
    body, put = step_of(program)
    last = max(i for i, s in enumerate(body) if isinstance(s, l9.NocReadBarrierTrid))
    broken = put(body[:last] + body[last + 1:])
    with pytest.raises(CheckError, match=r"rule (7|mcast)"):
        verify(broken, WORMHOLE_N150)
    with pytest.raises(SimulationError):
        InterpL9().run(broken, {k: v.copy() for k, v in inputs.items()})


def test_f1_refuses_a_reserve_of_two_parts_that_may_cross_the_ring(lowered):
    """The last part reserves one part's pages: the ring's pointer stands at its last part there.
    Reserving two there would cross the end (rule 3); F1 follows where the pointer stands."""
    program, _ = lowered
    body, put = step_of(program)
    last = max(i for i, s in enumerate(body) if isinstance(s, l9.CbReserve))
    broken = put(body[:last] + (dataclasses.replace(body[last], pages=2 * body[last].pages),) + body[last + 1:])
    with pytest.raises(CheckError, match=r"rule 3.*may stand at page"):
        verify(broken, WORMHOLE_N150)


def test_every_mutation_of_the_transaction_ids_is_caught_or_changes_nothing(lowered):
    """Delete, duplicate, swap with the next statement, the other id: every mutant of the new calls
    either computes the same C bit for bit (a lost overlap, not a lost page) or is refused by F1;
    none passes F1 with another C."""
    program, inputs = lowered
    good = api.simulate(program, "L9", inputs)["C"]
    counts = {"f1": 0, "equivalent": 0}
    for what, m in mutants(program):
        if "trid" not in what:
            continue
        try:
            verify(m, WORMHOLE_N150)
        except CheckError:
            counts["f1"] += 1
            continue
        try:
            got = api.simulate(m, "L9", inputs)["C"]
        except SimulationError:
            raise AssertionError(f"F1 passed a mutant the simulator refuses: {what}") from None
        assert np.array_equal(got.view(np.uint8), good.view(np.uint8)), f"silently wrong: {what}"
        counts["equivalent"] += 1
    assert counts["f1"] >= 30 and counts["equivalent"] > 0, counts       # 36 and 44 when written


def test_the_cycle_model_waits_for_one_ids_landings(lowered):
    """A sender's NIU streams a block's parts back to back: on the sender of A's row, part 1's
    reads start before part 0's barrier has ended, and its barrier for id 0 ends before the reads
    of id 1 have landed."""
    program, inputs = lowered
    _, model = cycles.simulate_timed(program, {k: v.copy() for k, v in inputs.items()}, WORMHOLE_N150, trace=True)
    sender = (0, 1)                               # A's sender of row 1 (x % 4 == 0 off row 0)
    events = [e for e in model.events if e[0] == sender and e[1] == "reader"]
    barriers = [e for e in events if e[2] == "NocReadBarrierTrid"]
    trids = [e for e in events if e[2] == "noc_async_read_set_trid"]
    assert len(trids) >= 2 and barriers
    second = trids[1][3]                          # id 1 set: part 1's reads follow it
    assert second < barriers[0][3]                # ... before part 0's barrier
    nic = model.cores[sender].nics["reader"]
    assert nic.landed_by_trid[1] == nic.landed and nic.landed_by_trid[0] < nic.landed


def test_g1_emits_tt_metal_calls(lowered):
    program, _ = lowered
    reader = kernel_source(program, "reader", TARGET)
    assert "noc_async_read_set_trid(1);" in reader and "noc_async_read_barrier_with_trid(0);" in reader
    assert "noc_async_read_barrier();" not in reader
