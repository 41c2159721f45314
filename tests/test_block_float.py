"""FP8 through Bfp8_b (nanott/block_float.py): the format's rounding, checked against its
definition value by value; that every level reads an fp8 input on that grid (a GEMM matches NumPy
on the Bfp8_b-held values closely, and the raw fp8 values only within what Bfp8_b costs); and
that an fp8 output is written as DRAM holds it, at every level: each value rounded to the fp8 dtype
where the kernel stores it, then on Bfp8_b's grid (the host reads Bfp8_b back and converts it)."""
import ml_dtypes
import numpy as np
import pytest

import nanott.language as T
from nanott import api
from nanott.block_float import bfp8_b
from nanott.diagnostics import NanottError
from nanott.pipeline import lower

FP8 = (ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2)


def by_definition(group: np.ndarray) -> np.ndarray:
    """One group of 16, value by value from docs/reference.md §7.3: shared exponent E = the largest,
    magnitude m = round(|x| / 2^(E - 6)) to nearest even, at most 127; zero below the normals."""
    exps = [int(np.floor(np.log2(abs(float(v))))) for v in group if abs(float(v)) >= 2.0**-126]
    if not exps:
        return np.zeros_like(group)
    step = 2.0 ** (max(exps) - 6)
    return np.array([np.sign(v) * min(round(abs(float(v)) / step), 127) * step if abs(float(v)) >= 2.0**-126
                     else 0.0 for v in group], np.float32)


@pytest.mark.parametrize("dtype", FP8)
def test_rounding_follows_the_definition_group_by_group(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((8, 48)) * 2.0 ** rng.integers(-8, 3, (8, 48))).astype(dtype).astype(np.float32)
    held = bfp8_b(x)
    expect = np.concatenate([by_definition(g) for g in x.reshape(-1, 16)]).reshape(x.shape)
    assert np.array_equal(held, expect)
    largest = np.repeat(np.abs(x).reshape(-1, 16).max(axis=1), 16).reshape(x.shape)
    assert np.all(np.abs(held - x) <= 2.0**-7 * largest)                         # the bound tolerance.py uses
    assert np.array_equal(held.astype(dtype).astype(np.float32), held)           # still an fp8 value
    assert np.array_equal(bfp8_b(held), held)                                    # on the grid: kept


def test_what_survives_and_what_does_not():
    row = np.array([3.0, -1.75, 0.375, 0.25, 2.0**-9, 0.0] + [0.0] * 10, np.float32)
    held = bfp8_b(row)
    assert list(held[:4]) == [3.0, -1.75, 0.375, 0.25]          # within 3 binades of 3.0: exact
    assert held[4] == 0.0                                        # 10 binades below: nothing left
    assert bfp8_b(np.array([1.0 - 2.0**-10] + [0.0] * 15, np.float32))[0] == 127 * 2.0**-7   # saturates


M, N, K = 64, 64, 128


def gemm():
    @T.prim_func
    def fp8_gemm(A: T.Tensor((M, K), "float8_e4m3fn"), B: T.Tensor((N, K), "float8_e4m3fn"),
                 C: T.Tensor((M, N), "float32")):
        with T.Kernel(N // 32, M // 32) as (bx, by):
            a = T.alloc_shared((32, 64), "float8_e4m3fn")
            b = T.alloc_shared((32, 64), "float8_e4m3fn")
            c = T.alloc_fragment((32, 32), "float32")
            T.clear(c)
            for k in T.Pipelined(K // 64, num_stages=2):
                T.copy(A[by * 32, k * 64], a)
                T.copy(B[bx * 32, k * 64], b)
                T.gemm(a, b, c, transpose_B=True)
            T.copy(c, C[by * 32, bx * 32])
    return fp8_gemm


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_every_level_reads_fp8_inputs_as_bfp8_b(level):
    """Rows spanning 12 binades, so Bfp8_b drops bits: C matches A_held @ B_held^T to float32's
    summation error (1e-5 of the output's scale), and differs from A @ B^T on the raw fp8 values."""
    rng = np.random.default_rng(2)
    a, b = ((rng.standard_normal((r, K)) * 2.0 ** rng.integers(-10, 2, (r, K))).astype(ml_dtypes.float8_e4m3fn)
            for r in (M, N))
    c = np.full((M, N), np.nan, np.float32)
    api.run(gemm(), a, b, c, level=level)
    held = bfp8_b(a.astype(np.float32)).astype(np.float64) @ bfp8_b(b.astype(np.float32)).astype(np.float64).T
    raw = a.astype(np.float64) @ b.astype(np.float64).T
    scale = np.abs(held).max()
    assert np.abs(c - held).max() <= 1e-5 * scale
    assert np.abs(c - raw).max() > 1e-3 * scale


@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "float8_e5m2"])
@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_an_fp8_output_is_the_scaled_values_rounded_and_held_as_bfp8(dtype, level):
    """A per-row scaled cast (TileLang's per-token cast to fp8, without its row blocks): against
    NumPy's rounding of the same float32 values to the fp8 dtype, each within one fp8 step plus what
    Bfp8_b's grid costs (2^-7 of its 16-value group's largest): 2^-3 (e4m3) or 2^-2 (e5m2) of the
    value and of the output's largest, the fp8 tolerance (nanott/tolerance.py)."""
    @T.prim_func
    def scaled_cast(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), dtype)):
        with T.Kernel(2) as bx:
            a = T.alloc_fragment((32, 64), "float32")
            q = T.alloc_fragment((32, 64), dtype)
            T.copy(A[bx * 32, 0], a)
            for i, j in T.Parallel(32, 64):
                a[i, j] = T.clamp(a[i, j] * 100.0, -448.0, 448.0)
            T.copy(a, q)
            T.copy(q, B[bx * 32, 0])

    rng = np.random.default_rng(3)
    a = rng.standard_normal((64, 64)).astype(np.float32) * 2.0 ** rng.integers(-6, 2, (64, 64)).astype(np.float32)
    b = np.zeros((64, 64), getattr(ml_dtypes, dtype))
    api.run(scaled_cast, a, b, level=level)
    out = b.astype(np.float32)
    assert np.array_equal(bfp8_b(out), out)                      # on Bfp8_b's grid
    want = np.clip(a * np.float32(100.0), -448, 448).astype(getattr(ml_dtypes, dtype)).astype(np.float64)
    assert api.within(out, want, dtype)
    assert not np.array_equal(out, want)                         # the grid moved some small values


@pytest.mark.slow
def test_the_host_converts_floats_to_fp8_as_numpy_does(tmp_path):
    """main.cpp's fp8_bits (G1, for fp8 outputs) against ml_dtypes on every fp8 value, the midpoints
    between neighbours (ties to even), values past the largest, subnormals, zeros and NaN."""
    import subprocess
    from nanott.backends.metalium.host import FP8_OUT_HELPERS
    src = tmp_path / "fp8.cpp"
    src.write_text("#include <cmath>\n#include <cstdint>\n#include <cstdio>\n#include <vector>\n" + FP8_OUT_HELPERS +
                   "int main(int, char** argv) { std::vector<float> v; float x; const int bits = argv[1][0] - '0';\n"
                   " while (std::fread(&x, 4, 1, stdin) == 1) v.push_back(x);\n"
                   " auto out = fp8_bits(v, bits); std::fwrite(out.data(), 1, out.size(), stdout); }\n")
    exe, rng = tmp_path / "fp8", np.random.default_rng(4)
    subprocess.run(["g++", "-std=c++20", "-O1", "-Wall", "-Wextra", "-Werror", str(src), "-o", str(exe)], check=True)
    for dtype, bits in ((ml_dtypes.float8_e4m3fn, 4), (ml_dtypes.float8_e5m2, 5)):
        every = np.arange(256, dtype=np.uint8).view(dtype).astype(np.float32)
        finite = np.sort(every[np.isfinite(every)])
        mids = (finite[:-1].astype(np.float64) + finite[1:]) / 2
        x = np.concatenate([every, mids.astype(np.float32), np.float32([1e6, -1e6, 470.0, 1e-9, -0.0, np.nan]),
                            rng.standard_normal(2000).astype(np.float32) * 2.0 ** rng.integers(-12, 10, 2000)])
        got = subprocess.run([str(exe), str(bits)], input=x.astype(np.float32).tobytes(),
                             capture_output=True, check=True).stdout
        want = x.astype(dtype)
        same = np.frombuffer(got, np.uint8) == want.view(np.uint8)
        both_nan = np.isnan(np.frombuffer(got, np.uint8).view(dtype).astype(np.float32)) & np.isnan(want.astype(np.float32))
        assert np.all(same | both_nan), x[~(same | both_nan)][:5]
