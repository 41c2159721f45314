"""Stage D5b use-matmul-block: a subblock's loop of matmul_tiles becomes one matmul_block, bit for
bit the same numbers; F1 bounds its DST and CB ranges; the cycle model charges the unpacker the
tiles tt-llk's block unpack reads."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanott import api, pipeline
from nanott.ir import CheckError, replace, walk
from nanott.languages import l9
from nanott.loader import load_kernel
from nanott.passes.f1_verify import bound, verify
from nanott.sim import cycles
from nanott.target import DEFAULT_TARGET

pytestmark = [pytest.mark.D5]
ROOT = Path(__file__).resolve().parent.parent


def example(name: str):
    return load_kernel(ROOT / "examples" / f"{name}.py").prim_func


def calls(program, cls):
    return [x for x in walk(program.kernel("compute").body) if isinstance(x, cls)]


def test_the_gemm_subblock_is_one_matmul_block_with_its_init_hoisted():
    p = pipeline.lower(example("gemm"), "F1", DEFAULT_TARGET)
    (block,) = calls(p, l9.MatmulBlock)
    assert (block.rt, block.ct, block.kt) == (2, 2, 1) and not calls(p, l9.MatmulTiles)
    assert block.head() == "matmul_block cb0[ki], cb1[(ki * 2)] -> dst[0] += (2x2 tiles, A rows 1 apart)"
    inits = [x for x in p.kernel("compute").body if isinstance(x, l9.Init)]      # top level: hoisted
    assert any(x.op == "mm_block_init_short" and x.cbs == (0, 1) and x.args == (0, 2, 2, 1) for x in inits)


def test_a_transposed_b_keeps_matmul_tiles():
    p = pipeline.lower(example("gemm_epilogue"), "F1", DEFAULT_TARGET)
    assert calls(p, l9.MatmulTiles) and all(x.transpose for x in calls(p, l9.MatmulTiles))
    assert not calls(p, l9.MatmulBlock)


@pytest.mark.parametrize("name", ["gemm", "gemm_big_block", "flash_attention", "gemm_f16_eager"])
def test_numbers_are_bit_identical_with_and_without(name):
    prim_func = example(name)
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 2)
    block = pipeline.lower(prim_func, "F1", DEFAULT_TARGET)
    assert calls(block, l9.MatmulBlock)
    tiles = pipeline.lower(prim_func, "F1", DEFAULT_TARGET, skip=("D5b",))
    a, b = api.simulate(block, "L9", arrays), api.simulate(tiles, "L9", arrays)
    for k in arrays:
        assert np.array_equal(a[k].view(np.uint8), b[k].view(np.uint8)), k


def test_the_gemm_matches_numpy():
    prim_func = example("gemm")
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 4)
    out = api.simulate(pipeline.lower(prim_func, "F1", DEFAULT_TARGET), "L9", arrays)["C"]
    ref = arrays["A"].astype(np.float32) @ arrays["B"].astype(np.float32)
    # bf16 products are exact in fp32; only the order of the fp32 sums differs from NumPy's
    assert np.max(np.abs(out - ref)) <= 1e-5 * np.max(np.abs(ref))


def mutate(program, **fields):
    compute = program.kernel("compute")
    body = _swap(compute.body, fields)
    return replace(program, kernels=tuple(replace(k, body=body) if k is compute else k for k in program.kernels))


def _swap(stmts, fields):
    return tuple(replace(s, **fields) if isinstance(s, l9.MatmulBlock) else
                 replace(s, body=_swap(s.body, fields)) if isinstance(s, l9.For) else s for s in stmts)


def test_f1_bounds_the_block_in_the_dst_and_in_its_cbs():
    p = pipeline.lower(example("gemm"), "E1", DEFAULT_TARGET)
    verify(p, DEFAULT_TARGET)
    with pytest.raises(CheckError, match="DST capacity"):
        verify(mutate(p, ct=4), DEFAULT_TARGET)               # 2 x 4 tiles into a DST of 4
    with pytest.raises(CheckError, match="matmul_block"):
        verify(mutate(p, kt=2), DEFAULT_TARGET)               # A's second row past the 2 waited pages


def test_the_unpacker_reads_six_tiles_for_a_2x2_block_not_eight():
    prim_func = example("gemm")
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
    busy = []
    for skip in (("D5b",), ()):
        _, model = cycles.simulate_timed(pipeline.lower(prim_func, "F1", DEFAULT_TARGET, skip=skip), arrays,
                                         DEFAULT_TARGET, fidelity="HiFi2")
        core = next(iter(model.cores.values()))
        busy.append((core.busy["unpack"], core.busy["math"], core.matmul_tiles))
    (u0, m0, t0), (u1, m1, t1) = busy
    steps = t0 // 4                                       # K steps of one 2x2 subblock, per core
    assert t0 == t1 and m0 == m1                          # the same matmuls, the same math
    assert u0 - u1 == pytest.approx(steps * 2 * 2048 / 80)   # two bf16 tiles fewer per step, at 80 B/cycle


def wide_gemm():
    """examples/gemm.py with 256-wide blocks: each row of the block is 8 tiles, so the DST's four
    tiles hold a 1x4 subblock, half a row, whose indices D5 writes with // and %."""
    sets = dict(M="256", N="256", K="256", block_M="256", block_N="256", block_K="64")
    return load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets=sets).prim_func


@pytest.mark.slow
def test_half_a_row_of_tiles_is_a_1x4_block_bit_for_bit():
    prim_func = wide_gemm()
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 1)
    block = pipeline.lower(prim_func, "F1", DEFAULT_TARGET)
    blocks = calls(block, l9.MatmulBlock)          # one per K step of the loop, and of each peeled step (D5a)
    assert blocks and all((mb.rt, mb.ct, mb.kt) == (1, 4, 1) for mb in blocks) and not calls(block, l9.MatmulTiles)
    tiles = pipeline.lower(prim_func, "F1", DEFAULT_TARGET, skip=("D5b",))
    a, b = api.simulate(block, "L9", arrays), api.simulate(tiles, "L9", arrays)
    assert np.array_equal(a["C"].view(np.uint8), b["C"].view(np.uint8))
    with pytest.raises(CheckError, match="DST capacity"):
        verify(mutate(pipeline.lower(prim_func, "E1", DEFAULT_TARGET), ct=8), DEFAULT_TARGET)


def test_f1_bounds_a_remainder_by_the_stride_of_its_dividend():
    """(sb * 4) % 8 is 0 or 4: a 1x4 block there ends at tile 7 of an 8-tile row; F1 proves it."""
    sb, four, eight = l9.Var("sb"), l9.Const(4, "int32"), l9.Const(8, "int32")
    env = {"sb": (0, 15)}
    assert bound(l9.BinOp("%", l9.BinOp("*", sb, four), eight), env) == (0, 4)
    shifted = l9.BinOp("+", l9.BinOp("*", sb, four), l9.Const(2, "int32"))
    assert bound(l9.BinOp("%", shifted, eight), env) == (2, 6)
    assert bound(l9.BinOp("%", l9.BinOp("*", sb, l9.Const(3, "int32")), eight), env) == (0, 7)
    assert bound(l9.BinOp("//", l9.BinOp("*", sb, four), eight), env) == (0, 7)
