"""TileLang's TensorCoreIntrinEmitter modelled on the whole block (nanott/language/mma_emitter.py), the
4-D tile-order buffer it stores into (nanott/language/blocked.py), and the index fold that makes the
tile-order read back an identity read (values.recombined).

The kernel is ours (tests/kernels/tilelang_style/mma_emitter_gemm.py), written as a TileLang user
writes this style: per-thread `T.alloc_local` fragments, ldmatrix / mma per k-slice, stmatrix. Each
case runs at every level against NumPy on random inputs. Tolerance: the output dtype's (api.within:
float32 1e-4, bfloat16 2^-6, of |ref| and of max|ref|); the inputs are exact in float32, each
product is exact, and only the order of the float32 additions differs from NumPy's (K <= 256 terms
of size <= 1: about K * 2^-24 relative to the sum of |terms|, far inside 1e-4). The int8 case is
exact integer arithmetic.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.language import values
from nanott.languages import l0
from nanott.loader import load_kernel
from pathlib import Path

KERNEL = Path(__file__).resolve().parent / "kernels" / "tilelang_style" / "mma_emitter_gemm.py"


def loaded(**sets):
    return load_kernel(KERNEL, "matmul", {k: str(v) for k, v in sets.items()})


def product(a_transposed: bool, b_transposed: bool, out: str):
    def reference(x):
        a, b = x["A"].astype(np.float64), x["B"].astype(np.float64)
        c = (a.T if a_transposed else a) @ (b.T if b_transposed else b)
        return {"C": c.astype(out if out != "bfloat16" else np.float32)}
    return reference


CASES = {   # a 16-wide k-slice in a 64-wide block_K, stored in the 4-D tile order (the defaults)
    "tiles": dict(),
    "a_t_matrix": dict(a_transposed=True, b_transposed=False, store="matrix", K=128),
    "global_n8": dict(store="global", col_warps=4, warp_cols=8, M=64, N=64, K=128),   # m16n8: tiles of 16x8
    "int8": dict(in_dtype="int8", out_dtype="int32", accum_dtype="int32", K=128),  # micro_size_k 32
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_the_emitter_gemm_matches_numpy_at_every_level(case):
    sets = CASES[case]
    check_levels(loaded(**sets), product(sets.get("a_transposed", False), sets.get("b_transposed", True),
                                         sets.get("out_dtype", "float32")))


def test_the_emitter_gemm_matches_numpy_at_l0_and_l9():
    """The fast tier's share of the case above: the defaults at the first and last levels."""
    program = loaded()
    kernel = api.lower(program.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=11)
    expected = product(False, True, "float32")(inputs)["C"]
    for level in ("L0", "L9"):
        got = api.simulate(api.lower(program.prim_func, stop_after=api.stage_for_level(level).id), level, inputs)
        assert api.within(got["C"], expected, "float32"), level


def test_the_ir_says_what_the_per_thread_arrays_are_and_reads_the_tiles_back_as_identity():
    text = str(api.lower(loaded().prim_func, stop_after="P0"))
    assert "local.a_frag=32 as 64x64 (A: the block's 64 rows by all 64 of a_s's k, zero outside the 16-wide " \
           "slice)" in text
    assert "local.acc=64 as 64x64 (C: block_row_warps 1 x warp_row_tiles 64 by block_col_warps 2 x " \
           "warp_col_tiles 32)" in text and "blocked.c_tiles=4x4x16x16" in text
    assert "a_frag = alloc_fragment(64x64, bfloat16)" in text and "c_tiles = alloc_shared(64x64, float32)" in text
    assert "gemm acc += a_frag @ b_frag^T" in text and "copy acc[64x64] -> c_tiles[64x64]" in text
    assert "= c_tiles[i, j]" in text and "//" not in text.split("copy acc")[1]   # the read back folded


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path):
    """`nanott compile --execute` against the file's NumPy `reference` (A @ B.T)."""
    out = nanott_cli("compile", str(KERNEL), "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")


def test_index_arithmetic_recombines_floor_division_and_modulo():
    i = values.Sym(l0.Var("i"))
    assert (i // 16 * 16 + i % 16).expr == l0.Var("i") and (i % 8 + i // 8 * 8).expr == l0.Var("i")
    assert (i // 16 * 16 + i % 8).expr != l0.Var("i") and (i // 16 * 8 + i % 16).expr != l0.Var("i")
    x = values.Sym(l0.Load("A", (l0.Var("i"),)))      # a loaded value may be a float: never folded
    assert isinstance((x // 16 * 16 + x % 16).expr, l0.BinOp)


ERRORS = """import tilelang
import tilelang.language as T
from tilelang.cuda.intrinsics.macro.mma_macro_generator import TensorCoreIntrinEmitter


@tilelang.jit
def f(n=64, reduce_k=1):
    e = TensorCoreIntrinEmitter(a_dtype=T.bfloat16, b_dtype=T.bfloat16, accum_dtype=T.float32, b_transposed=True,
                                block_row_warps=2, block_col_warps=2, warp_row_tiles=32, warp_col_tiles=32,
                                chunk=32, reduce_k=reduce_k)

    @T.prim_func
    def main(A: T.Tensor((n, n), T.bfloat16), B: T.Tensor((n, n), T.bfloat16), C: T.Tensor((32, 32), T.float32)):
        with T.Kernel(1) as bx:
            a_s = T.alloc_shared((n, 32), T.bfloat16)
            b_s = T.alloc_shared((n, 32), T.bfloat16)
            a_l = T.alloc_local((e.warp_rows * e.local_size_a), T.bfloat16)
            b_l = T.alloc_local((e.warp_cols * e.local_size_b), T.bfloat16)
            c_l = T.alloc_local((e.warp_rows * e.warp_cols * e.local_size_out), T.float32)
            c_s = T.alloc_shared((n // 16, n // 16, 16, 16), T.float32)
            T.clear(c_l)
            T.copy(A[0, 0], a_s)
            T.copy(B[0, 0], b_s)
            for ki in T.serial(2):
                e.ldmatrix_a(a_l, a_s, ki)
                e.ldmatrix_b(b_l, b_s, ki)
                e.mma(a_l, b_l, c_l)
            e.stmatrix(c_l, c_s)
            T.copy(c_s[0:2, 0:2, :, :], C)
    return main
"""


@pytest.mark.parametrize("edit, code, line, words", [
    (("T.clear(c_l)", "c_l[0] = 0.0"), "NT301", 21, "an element of the per-thread T.alloc_local array c_l"),
    (("                e.ldmatrix_a(a_l, a_s, ki)\n", ""), "NT104", 26, "mma's A operand must be a T.alloc_local array "
                                                              "that ldmatrix_a has loaded"),
    (("e.stmatrix(c_l, c_s)", "e.ldmatrix_a(c_l, a_s, 0)"), "NT104", 28, "c_l is float32[32] per thread; the "
                                                                         "emitter's A needs bfloat16[16]"),
    (("e.stmatrix(c_l, c_s)", "T.copy(c_l[0:32, 0:32], C)"), "NT301", 28, "a part of the per-thread T.alloc_local "
                                                                          "array c_l"),
    (("e.stmatrix(c_l, c_s)", "T.copy(c_l, c_s)"), None, None, None),
    (("e.stmatrix(c_l, c_s)", "e.make_mma_store_layout(c_l)"), "NT301",
     28, "TensorCoreIntrinEmitter.make_mma_store_layout (a per-thread layout or instruction)"),
    (("            T.clear(c_l)\n", "            x = T.alloc_local((4,), T.float32)\n            T.clear(c_l)\n"),
     "NT301", 21, "the per-thread T.alloc_local array x (4,): nanott sees a block whole, and no "
                  "TensorCoreIntrinEmitter operation gives it the block's shape"),
    (("f(n=64, reduce_k=1)", "f(n=64, reduce_k=2)"), "NT301", 8, "reduce_k > 1"),
    (("T.copy(c_s[0:2, 0:2, :, :], C)", "T.copy(c_s[0:2, 0, 0:8, :], C)"), "NT304", 29,
     "takes a range of dim 0 and a part of dim 2"),
])
def test_what_has_no_block_meaning_is_named(tmp_path, edit, code, line, words):
    """Each construct the block-level model cannot give a meaning is a diagnostic at its line naming
    it; a whole-block copy of an accumulator an mma filled (the fourth case) is the block's, and parses."""
    text = ERRORS.replace(*edit)
    if code is None:
        load_text(tmp_path, text, {"n": "64"}).prim_func.parse()
        return
    with pytest.raises(NanottError) as err:
        load_text(tmp_path, text, {"n": "64"}).prim_func.parse()
    assert err.value.code == code and words in err.value.message and err.value.loc.line == line, err.value


def test_a_region_of_whole_tiles_is_a_box_of_the_block_matrix(tmp_path):
    """`c_s[x0:x1, y0:y1, :, :]` (whole tiles) and `c_s[x, y, r0:r1, :]` (part of one tile) are boxes
    of the 64x64 block matrix, and P0 writes them as such."""
    for region, shape, box in (("c_s[0:2, 1:3, :, :]", (32, 32), "c_s[0, 16 +32x32]"),
                               ("c_s[1, 2, 4:12, :]", (8, 16), "c_s[20, 32 +8x16]")):
        text = ERRORS.replace("T.copy(c_s[0:2, 0:2, :, :], C)", f"T.copy({region}, c_2)").replace(
            "            T.clear(c_l)\n", f"            T.clear(c_l)\n            c_2 = T.alloc_shared({shape}, T.float32)\n")
        out = str(load_text(tmp_path, text, {"n": "64"}).prim_func.parse())
        assert f"copy {box} -> c_2[{shape[0]}x{shape[1]}]" in out, out.splitlines()[-1]


def test_a_local_array_used_before_an_emitter_shapes_it_is_named(tmp_path):
    text = ERRORS.replace("            T.clear(c_l)\n", "            T.clear(c_l)\n            T.copy(c_l, c_s)\n")
    with pytest.raises(NanottError) as err:
        load_text(tmp_path, text, {"n": "64"}).prim_func.parse()
    assert err.value.code == "NT301" and err.value.loc.line == 22 and "T.clear / T.fill" in err.value.hint
    assert err.value.message == ("T.copy of the per-thread T.alloc_local array c_l before a TensorCoreIntrinEmitter "
                                 "gives it the block's shape")
