"""Issue 13 (dequantized GEMM and FP8 families): TileLang's loop and binding forms that P0 reads as
what they mean on one program per block: `T.vectorized` is a serial loop, `T.get_block_binding(d)`
is the block index along d, `T.thread_binding` over the block's threads is `tx` (anything else is
NT301, per-thread work), and `tvm.target.Target` is ignored with warning NT922.

Numbers are checked against NumPy on random inputs: the kernels only move and scale float32
values by powers of two, so every level must match exactly (tolerance 0)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from nanott import api
from nanott.diagnostics import NanottError, NanottWarning
from nanott.loader import load_kernel

RNG = np.random.default_rng(13)

MOVE = """import tilelang
import tilelang.language as T


@T.macro
def scaled(s, o):
    bx = T.get_block_binding(0)
    for i, j in T.Parallel(32, 32):
        o[i, j] = s[i, j] * 2.0 + bx


@T.prim_func
def main(A: T.Tensor((64, 128), "float32"), B: T.Tensor((64, 128), "float32")):
    with T.Kernel(2, threads=128) as bx:
        s = T.alloc_shared((32, 32), "float32")
        o = T.alloc_fragment((32, 32), "float32")
        for c in T.vectorized(4):
            T.copy(A[bx * 32, c * 32], s)
            scaled(s, o)
            T.copy(o, B[bx * 32, c * 32])
"""


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_vectorized_is_a_serial_loop_and_get_block_binding_is_the_block_index(tmp_path, level):
    path = tmp_path / "move.py"
    path.write_text(MOVE)
    loaded = load_kernel(path)
    kernel = loaded.prim_func.parse()
    assert ("vectorized", "4") in {(a.key, a.value) for a in kernel.attrs}
    A = RNG.uniform(-1, 1, (64, 128)).astype(np.float32)
    B = np.full_like(A, np.nan)
    api.run(loaded.prim_func, A, B, level=level)
    expected = A * 2 + np.repeat(np.arange(2, dtype=np.float32), 32)[:, None]   # row block bx adds bx
    assert np.array_equal(B, expected)


BOUND = """import tilelang.language as T


@T.prim_func
def main(A: T.Tensor((32, 32), "float32"), B: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, threads=THREADS) as bx:
        tx = T.thread_binding(0, 32, thread="AXIS")
        s = T.alloc_shared((32, 32), "float32")
        T.copy(A, s)
        T.copy(s, B)
"""


@pytest.mark.parametrize("threads, axis, code", [
    ("32", "threadIdx.x", None),                 # the block's threads: tx, unused here, the copy runs
    ("(32, 4)", "threadIdx.x", "NT301"),         # one dimension of a 2-D block of threads
    ("32", "threadIdx.y", "NT301"),
    ("BAD", "threadIdx.x", "NT301"),
])
def test_thread_binding_over_the_blocks_threads_is_tx_and_anything_else_is_per_thread_work(
        tmp_path, threads, axis, code):
    path = tmp_path / "bound.py"
    path.write_text(BOUND.replace("THREADS", threads if threads != "BAD" else "64").replace("AXIS", axis))
    loaded = load_kernel(path)
    if code:
        with pytest.raises(NanottError) as e:
            loaded.prim_func.parse()
        assert e.value.code == code and "per-thread work" in e.value.message and e.value.loc.line == 7
        assert "T.Parallel" in e.value.hint
        return
    A = RNG.uniform(-1, 1, (32, 32)).astype(np.float32)
    B = np.zeros_like(A)
    api.run(loaded.prim_func, A, B, level="L9")
    assert np.array_equal(A, B)


def test_a_tvm_target_is_ignored_with_nt922(tmp_path):
    path = tmp_path / "target.py"
    path.write_text(MOVE.replace("import tilelang\n", "import tilelang\nfrom tilelang import tvm\n"
                                 "target = tvm.target.Target('hip -mcpu=gfx950')\n"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_kernel(path)
    codes = [w.message.error.code for w in caught if isinstance(w.message, NanottWarning)]
    assert codes == ["NT922"] and "hip -mcpu=gfx950" in str(caught[0].message)
    A = RNG.uniform(-1, 1, (64, 128)).astype(np.float32)
    B = np.zeros_like(A)
    api.run(loaded.prim_func, A, B, level="L0")
    assert np.array_equal(B, A * 2 + np.repeat(np.arange(2, dtype=np.float32), 32)[:, None])


def test_gemm_warp_policy_partitions_the_warps_as_a_factory_expects():
    """A factory sizes its per-warp tiles from compute_warp_partition: the two counts multiply to
    the warps, divide the block's sides, and Square picks the most nearly square per-warp tile."""
    import nanott.language as T
    P = T.GemmWarpPolicy
    assert P.FullRow.compute_warp_partition(64, 64, 4) == (4, 1)
    assert P.FullCol.compute_warp_partition(64, 64, 4) == (1, 4)
    assert P.Square.compute_warp_partition(128, 128, 4) == (2, 2)
    assert P.Square.compute_warp_partition(32, 128, 4) == (1, 4)            # 32 x 32 per warp
    assert P.Square.compute_warp_partition(256, 64, 8) == (8, 1)            # 32 x 64 per warp
