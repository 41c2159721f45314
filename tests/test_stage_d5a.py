"""Stage D5a keep-accumulators-in-dst: a GEMM's accumulator stays in DST across the K loop when it
fits one DST section, bit for bit the numbers it had when spilled every step; the cycle model
sees the reloads and spills go."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanott import api, pipeline
from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.printing import render
from nanott.sim import cycles
from nanott.sim.errors import SimulationError
from nanott.target import DEFAULT_TARGET

pytestmark = [pytest.mark.D5]
ROOT = Path(__file__).resolve().parent.parent


def gemm(n=256, bm=64, bn=64, bk=32, out="float32"):
    sets = dict(M=n, N=n, K=n, block_M=bm, block_N=bn, block_K=bk, out_dtype=f'"{out}"')
    return load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets={k: str(v) for k, v in sets.items()})


def lowered(prim_func, skip: tuple[str, ...] = ("D5b",)):
    """P0..F1 (D5b, which would make the K step one matmul_block, left out unless asked)."""
    return pipeline.lower(prim_func, "F1", DEFAULT_TARGET, skip=skip)


def loops_around(body, cls):
    """For each `cls` call, the names of the loops around it."""
    out = []

    def go(stmts, around):
        for s in stmts:
            if isinstance(s, l9.For):
                go(s.body, (*around, s.var))
            elif isinstance(s, cls):
                out.append(around)
    go(body, ())
    return out


def test_the_accumulator_stays_in_dst_across_the_k_loop():
    p = lowered(gemm().prim_func)
    compute = p.kernel("compute").body
    assert not any(isinstance(x, l9.CopyTile) for x in walk(compute))         # no reload
    assert loops_around(compute, l9.RegsAcquire) == [("blk",)]                 # one section per block
    assert all("k" not in a for a in loops_around(compute, l9.PackTile))       # packed once
    assert [loops for loops in loops_around(compute, l9.Init)] == [(), ()]     # inits hoisted
    assert not any(isinstance(x, l9.FillTile) for x in walk(compute))          # starts from DST's zeros
    assert [x.op for x in compute if isinstance(x, l9.Init)][:2] == ["compute_kernel_hw_startup", "mm_init_short"]
    assert len(p.cbs) == 3 and [cb.index for cb in p.cbs] == [0, 1, 2]        # C_local's CB is gone
    note = "C_local kept in DST across its loop (its CB cb2 removed)"
    assert [a.value for a in p.attrs if a.key == "dst-accumulator"] == [note]
    assert f"\n  dst-accumulator: {note}\n" in render(p)


@pytest.mark.parametrize("out", ["float32", "bfloat16"])
def test_numbers_are_bit_identical_to_the_spilling_program_and_match_numpy(out):
    loaded = gemm(n=128, out=out)
    kernel = api.lower(loaded.prim_func, "P0")
    arrays = api.random_inputs(kernel, 3)
    kept = api.simulate(lowered(loaded.prim_func), "L9", arrays)
    spilled = api.simulate(lowered(loaded.prim_func, skip=("D5a", "D5b")), "L9", arrays)
    assert np.array_equal(kept["C"].view(np.uint8), spilled["C"].view(np.uint8))
    ref = arrays["A"].astype(np.float32) @ arrays["B"].astype(np.float32)
    # bf16 inputs are exact in fp32 products; only the fp32 sum order differs from NumPy's, and a
    # bf16 output rounds once more (one bf16 ulp, 2^-8 of the value)
    tol = 1e-5 if out == "float32" else 2 ** -8
    assert np.max(np.abs(kept["C"].astype(np.float32) - ref)) <= tol * np.max(np.abs(ref))


def test_an_accumulator_larger_than_a_dst_section_is_spilled_and_the_ir_says_so():
    p = lowered(gemm(n=256, bm=128, bn=128, bk=32).prim_func)
    assert any(isinstance(x, l9.CopyTile) for x in walk(p.kernel("compute").body))
    (note,) = [a.value for a in p.attrs if a.key == "dst-accumulator"]
    assert note == ("C_local (cb2) spilled and reloaded every step: its 16 tiles exceed one DST section of 4; "
                    "its first step starts from the DST's zeros instead of reloading them and its last step packs "
                    "straight into cb3")


@pytest.mark.parametrize("out", ["float32", "bfloat16"])
def test_a_spilled_accumulator_skips_its_first_reload_and_its_final_copy(out):
    """The spilled accumulator's first K step starts from zeros in DST and its last packs into the
    output CB: the same bits as the program that spills every step (D5a left out), and per block
    16 fp32 tiles fewer reloaded twice (the zeros, and the copy out: 2 x 16 x 4 KiB at 64 B/cycle)."""
    loaded = gemm(n=256, bm=128, bn=128, bk=32, out=out)
    arrays = api.random_inputs(api.lower(loaded.prim_func, "P0"), 5)
    peeled, spilled = lowered(loaded.prim_func), lowered(loaded.prim_func, skip=("D5a", "D5b"))
    runs = [cycles.simulate_timed(p, arrays, DEFAULT_TARGET) for p in (peeled, spilled)]
    assert np.array_equal(runs[0][0]["C"].view(np.uint8), runs[1][0]["C"].view(np.uint8))
    ref = arrays["A"].astype(np.float32) @ arrays["B"].astype(np.float32)
    tol = 1e-5 if out == "float32" else 2 ** -8                # as in the test above
    assert np.max(np.abs(runs[0][0]["C"].astype(np.float32) - ref)) <= tol * np.max(np.abs(ref))
    unpack = [next(iter(model.cores.values())).busy["unpack"] for _, model in runs]
    assert unpack[1] - unpack[0] >= 2 * 16 * 4096 / 64
    # the first step neither reloads nor fills: the section it acquires is zeroed (release zeroes)
    assert not any(isinstance(x, l9.FillTile) for x in walk(peeled.kernel("compute").body))


def test_the_cycle_model_sees_the_reloads_and_spills_go():
    loaded = gemm()
    arrays = api.random_inputs(api.lower(loaded.prim_func, "P0"), 0)
    busy = []
    for skip in (("D5a", "D5b"), ("D5b",)):
        _, model = cycles.simulate_timed(lowered(loaded.prim_func, skip), arrays, DEFAULT_TARGET, fidelity="HiFi2")
        core = next(iter(model.cores.values()))
        busy.append((core.busy["unpack"], core.busy["pack"], core.matmul_tiles))
    (unpack0, pack0, mm0), (unpack1, pack1, mm1) = busy
    assert mm0 == mm1                                          # the same matmuls
    # per K step the spilled program reloads 4 fp32 tiles (16 KiB at 64 B/cycle) and packs them
    assert unpack0 - unpack1 >= 8 * 4 * 4096 / 64
    assert pack1 < pack0 / 4


def test_a_missing_acquire_is_caught_by_the_simulator():
    p = lowered(gemm(n=64).prim_func)
    compute = p.kernel("compute")
    blk = next(s for s in compute.body if isinstance(s, l9.For))
    broken = replace(blk, body=tuple(s for s in blk.body if not isinstance(s, l9.RegsAcquire)))
    body = tuple(broken if s is blk else s for s in compute.body)
    p2 = replace(p, kernels=tuple(replace(k, body=body) if k is compute else k for k in p.kernels))
    arrays = api.random_inputs(api.lower(gemm(n=64).prim_func, "P0"), 0)
    with pytest.raises(SimulationError, match="acquire|5.3.1"):
        InterpL9().run(p2, arrays)


def test_run_can_skip_an_optional_stage_only(tmp_path):
    from typer.testing import CliRunner

    from nanott.cli import app
    gemm_py = str(ROOT / "examples" / "gemm.py")
    kept = CliRunner().invoke(app, ["run", gemm_py, "--stats"]).output
    spilled = CliRunner().invoke(app, ["run", gemm_py, "--stats", "--skip", "D5a"]).output
    duration = [line for line in (kept, spilled) for line in line.splitlines() if line.startswith("duration")]
    assert len(duration) == 2 and duration[0] != duration[1]
    bad = CliRunner().invoke(app, ["run", gemm_py, "--skip", "D3"])
    assert bad.exit_code != 0 and "NT941" in bad.output
