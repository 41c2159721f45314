"""Bit operations on integer buffers' elements (issue 13, int4 weights): `>> << & | ^ ~` of uint8 and
int8 elements, by constants and by values of indices (`4 * (j % 2)`), a byte read at column
`j // 2`, and `T.reinterpret` for a nibble's sign. Numbers at every level (L0..L9, and the fast
simulators against the interpreters) and on the CPU runtime, against NumPy's own bit operations on
random bytes of the whole range; the tile forms C2 gives them (the SFPU's int32 ops between
typecasts, the spreading matmul); and the refusal of a float's bits.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import nanott_cli as nanott
from test_g1_emit import needs_gxx
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l5, l9
from nanott.loader import load_kernel

M, N = 64, 128
KERNEL = '''
import nanott.language as T

M, N = {M}, {N}


@T.prim_func
def bits(B: T.Tensor((M, N), "{dtype}"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, 64), T.ceildiv(M, 32)) as (bx, by):
        s = T.alloc_shared((32, 64), "{dtype}")
        o = T.alloc_fragment((32, 64), "float32")
        T.copy(B[by * 32, bx * 64], s)
        for i, j in T.Parallel(32, 64):
            o[i, j] = {value}
        T.copy(o, C[by * 32, bx * 64])
'''
# each value as a kernel writes it, and NumPy's computation of it on the bytes b (int32 arithmetic)
COLS = np.arange(N) % 64
VALUES = {
    "(s[i, j] >> 4) & 0xF": lambda b: (b >> 4) & 0xF,
    "(s[i, j] << 3) ^ 0x55": lambda b: (b << 3) ^ 0x55,
    "(s[i, j] | 1) - (s[i, j] & 6)": lambda b: (b | 1) - (b & 6),
    "~s[i, j] * 0.5": lambda b: (~b) * np.float32(0.5),
    "(s[i, j] >> (4 * (j % 2))) & 0xF": lambda b: (b >> (4 * (COLS % 2))) & 0xF,
    "s[i, j] ^ (j + 1)": lambda b: b ^ (COLS + 1),
    "(1 << (j % 8)) & s[i, j]": lambda b: (1 << (COLS % 8)) & b,
}


def load(tmp_path: Path, value: str, dtype: str = "uint8", name: str = "bits.py"):
    path = tmp_path / name
    path.write_text(KERNEL.format(M=M, N=N, dtype=dtype, value=value))
    return load_kernel(path)


def reference(value: str):
    def ref(inputs):
        return {"C": np.asarray(VALUES[value](inputs["B"].astype(np.int32)), np.float32)}
    return ref


@pytest.mark.parametrize("dtype", ["uint8", "int8"])
@pytest.mark.parametrize("value", list(VALUES))
def test_bit_operations_on_elements_match_numpy_at_every_level(tmp_path, value, dtype):
    """Exactly: every byte of the dtype's range (the bytes are read only through bit operations,
    so api.random_inputs draws them all), int8's negatives shifted arithmetically."""
    loaded = load(tmp_path, value, dtype)
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    b = api.random_inputs(kernel, seed=7)["B"]
    assert b.min() < -100 if dtype == "int8" else b.max() > 200      # the whole range, not INT_RANGE's
    check_levels(loaded, reference(value))


def test_a_bit_operation_is_the_sfpus_int32_op_between_typecasts(tmp_path):
    """`(x >> 4) & 0xF` with constants: the operand typecast to int32, right_shift_tile and
    bitwise_and_tile in place, and one typecast back to float32 for the store; by a value of
    indices, the reader's block and binary_right_shift_tile."""
    c2 = api.lower(load(tmp_path, "(s[i, j] >> 4) & 0xF").prim_func, stop_after="C2")
    group = next(g for g in walk(c2.body) if isinstance(g, l5.TileGroup)
                 and any(isinstance(x, l5.TileBits) for x in walk(g.body)))
    ops = [x.op for x in group.body if isinstance(x, l5.TAssign)]
    assert [type(op).__name__ for op in ops] == ["TileLoad", "TileCast", "TileBits", "TileBits", "TileCast"]
    assert [ops[1].dtype, ops[2].op, ops[2].b, ops[3].op, ops[3].b, ops[4].dtype] == \
        ["int32", "shr", 4, "and", 15, "float32"]
    f1 = api.lower(load(tmp_path, "(s[i, j] >> (4 * (j % 2))) & 0xF", name="k2.py").prim_func, stop_after="F1")
    compute = next(k for k in f1.kernels if k.role == "compute")
    assert any(isinstance(x, l9.SfpuBitsBinary) and x.op == "shr" for x in walk(compute.body))
    assert any(isinstance(x, l9.SfpuBitsScalar) and x.op == "and" and x.value == 15 for x in walk(compute.body))
    assert f1.compute.fp32_dest_acc                      # int32 in DST needs its 32-bit mode


UNPACK = '''
import nanott.language as T

M, K = 64, 128


@T.prim_func
def unpack(B: T.Tensor((M, K // 2), "uint8"), W: T.Tensor((M, K), "bfloat16")):
    with T.Kernel(T.ceildiv(K, 64), T.ceildiv(M, 32)) as (bx, by):
        B_local = T.alloc_fragment((32, 32), "uint8")
        W_local = T.alloc_fragment((32, 64), "bfloat16")
        T.copy(B[by * 32, bx * 64 // 2], B_local)
        for i, j in T.Parallel(32, 64):
            W_local[i, j] = {value}
        T.copy(W_local, W[by * 32, bx * 64])
'''
NIBBLE = "(B_local[i, j // 2] >> (4 * (j % 2))) & 0xF"
UNPACKS = {
    NIBBLE: lambda b: np.stack((b & 0xF, b >> 4), axis=-1).reshape(b.shape[0], -1),
    f"T.reinterpret(T.int8, ({NIBBLE}) << 4) >> 4":            # int4: the nibble's sign extended
        lambda b: np.stack(((b & 0xF) << 4, b & 0xF0), axis=-1).reshape(b.shape[0], -1)
        .astype(np.uint8).view(np.int8) >> 4,
    "B_local[i, j // 2] * 0.5 + j":
        lambda b: np.repeat(b, 2, axis=1) * np.float32(0.5) + np.arange(2 * b.shape[1]) % 64,
}


def load_unpack(tmp_path: Path, value: str):
    path = tmp_path / "unpack.py"
    path.write_text(UNPACK.format(value=value))
    return load_kernel(path)


@pytest.mark.parametrize("value", list(UNPACKS))
def test_bytes_read_at_column_j_over_2_match_numpy_at_every_level(tmp_path, value):
    """Two 4-bit codes a byte, low nibble first, unsigned and signed; and byte j // 2 read as a
    number (the spreading alone). NumPy unpacks by stacking nibbles, an independent route."""
    def ref(inputs):
        return {"W": np.asarray(UNPACKS[value](inputs["B"].astype(np.int32)), np.float32)}
    check_levels(load_unpack(tmp_path, value), ref)


def test_a_byte_at_j_over_2_is_spread_by_a_matmul_with_a_generated_0_1_matrix(tmp_path):
    c2 = api.lower(load_unpack(tmp_path, NIBBLE).prim_func, stop_after="C2")
    names = {cb.name: cb for cb in c2.cbs}
    assert names["B_local_spread"].shape == (32, 64) and names["B_local_wide"].dtype == "float32"
    generated = next(x for x in walk(c2.body) if isinstance(x, l5.GenerateToCb)
                     and x.cb == names["B_local_spread"].index)
    assert "// 2" in str(generated.value)
    assert any(isinstance(x, l5.TileMatmul) and x.b.cb == names["B_local_spread"].index for x in walk(c2.body))
    assert any(isinstance(x, l5.TileRef) and x.cb == names["B_local_wide"].index for x in walk(c2.body))


@needs_gxx
@pytest.mark.parametrize("value", [NIBBLE, f"T.reinterpret(T.int8, ({NIBBLE}) << 4) >> 4"])
def test_unpacking_runs_on_the_cpu_runtime(tmp_path, value):
    """The emitted C++ (bitwise_and_tile, binary_right_shift_tile<DataFormat::Int32>, the typecasts
    from and back to Int32, the reader's 0/1 matrix) built and run against NumPy."""
    path = tmp_path / "unpack.py"
    path.write_text(UNPACK.format(value=value))
    out = nanott("compile", str(path), "-o", str(tmp_path / "out"), "--execute")
    assert "PASS" in out.output
    compute = (tmp_path / "out" / "compute.cpp").read_text()
    assert "binary_right_shift_tile<DataFormat::Int32>" in compute and "bitwise_and_tile" in compute


def test_a_bit_operation_on_a_float_is_nt301_naming_it(tmp_path):
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, "(s[i, j] * 0.5) >> 1").prim_func, stop_after="P0")
    assert e.value.code == "NT301" and "float" in e.value.message and e.value.loc.line == 14
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, "s[i, j] >> 1", dtype="float32").prim_func, stop_after="P0")
    assert e.value.code == "NT301" and "buffer's elements" in e.value.message
