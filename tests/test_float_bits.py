"""Integer bits read as a float16 (`T.reinterpret(T.float16, x)`: nanott/language/float_bits.py),
as TileLang's fp4 -> float16 decoders write it: the value the bits encode, as arithmetic on their
fields, at every level and in the C++ on nanott's CPU runtime.

Every factor is an integer below 2^31 or a power of two, so the value is exact: tolerance 0,
against NumPy's own reading of the same bits (`.astype(uint16).view(float16)`, an independent
route). The inputs are random 16-bit patterns with the exponent's lowest bit cleared by the
kernel's mask (exponents 0, 2, ..., 30: subnormals and normals; 31, infinity and NaN, is not
decoded) and the sign kept. int32 elements beyond 2^24 lose bits in float32 temporaries, so the
patterns are drawn below 2^16, as a uint16 holds them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import nanott_cli as nanott
from test_g1_emit import needs_gxx

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

DECODE = '''
import nanott.language as T

M, N = 64, 64


@T.prim_func
def decode(X: T.Tensor((M, N), "int32"), W: T.Tensor((M, N), "DTYPE")):
    with T.Kernel(N // 32, M // 32) as (bx, by):
        X_s = T.alloc_shared((32, 32), "int32")
        W_l = T.alloc_fragment((32, 32), "DTYPE")
        T.copy(X[by * 32, bx * 32], X_s)
        for i, j in T.Parallel(32, 32):
            W_l[i, j] = T.reinterpret("DTYPE", X_s[i, j] & 0xFBFF)
        T.copy(W_l, W[by * 32, bx * 32])
'''
MASK = 0xFBFF                        # the exponent's lowest bit cleared: never 31


def patterns(seed: int = 13) -> np.ndarray:
    bits = np.random.default_rng(seed).integers(0, 1 << 16, (64, 64)).astype(np.int32)
    bits[0, :6] = [0x0000, 0x8000, 0x0001, 0x03FF, 0x7BFF, 0xFBFF]      # +-0, subnormals, the largest
    return bits


def write(tmp_path: Path, dtype: str = "float16") -> Path:
    path = tmp_path / "decode.py"
    path.write_text(DECODE.replace("DTYPE", dtype))
    return path


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_float16_bits_decode_exactly_at_every_level(tmp_path, level):
    loaded = load_kernel(write(tmp_path))
    X = patterns()
    expected = (X & MASK).astype(np.uint16).view(np.float16)
    program = api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id)
    got = api.simulate(program, level, {"X": X, "W": np.zeros((64, 64), np.float16)})["W"]
    assert np.array_equal(got, expected) and np.array_equal(np.signbit(got), np.signbit(expected))


def test_the_ir_shows_the_fields_arithmetic_not_a_reinterpretation(tmp_path):
    text = str(api.lower(load_kernel(write(tmp_path)).prim_func, stop_after="P0"))
    assert "reinterpret" not in text and ">> 10" in text and "& 1023" in text and "<<" in text


def test_bfloat16_bits_stay_nt301_at_their_line(tmp_path):
    with pytest.raises(NanottError) as e:
        load_kernel(write(tmp_path, "bfloat16")).prim_func.parse()
    assert e.value.code == "NT301" and "as bfloat16" in e.value.message and e.value.loc.line == 14


@needs_gxx
def test_float16_bits_decode_on_the_cpu_runtime(tmp_path):
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, X=patterns())
    out = nanott("compile", str(write(tmp_path)), "-o", str(tmp_path / "out"), "--execute", "--inputs", str(inputs))
    assert "max rel err 0 against NumPy" in out.output and "PASS" in out.output
