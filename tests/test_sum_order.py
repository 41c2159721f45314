"""The tile product sums in k order whatever the shape of the call (nanott/sum_order.py).

Bit-identity between levels rests on this: levels batch the same 32x32x32 products differently
(one tile, a stack of tiles, a 128x32 block), and the CPU runtime's C++ sums in k order.
"""
from __future__ import annotations

import os
import platform

import numpy as np
import pytest

from nanott import sum_order

x86 = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                         reason="the pin asks for an x86 OpenBLAS kernel")


def bfloat16_valued(x: np.ndarray) -> np.ndarray:
    """float32 numbers that bfloat16 holds exactly (low 16 bits cleared), as the tile formats give."""
    return (x.astype(np.float32).view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)


def k_order(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in float32, each product rounded, added to the running sum in k order (no FMA)."""
    out = np.zeros((a.shape[0], b.shape[1]), np.float32)
    for k in range(a.shape[1]):
        out = out + a[:, k:k + 1] * b[k:k + 1, :]
    return out


@x86
def test_nanott_asked_openblas_for_the_k_order_kernel_before_numpy_loaded():
    assert os.environ.get("OPENBLAS_CORETYPE") == sum_order.KERNEL
    assert sum_order.pin()


@x86
@pytest.mark.parametrize("seed", range(3))
def test_a_tile_alone_in_a_stack_and_in_a_block_sums_in_k_order(seed):
    rng = np.random.default_rng(seed)
    a, b = (bfloat16_valued(rng.standard_normal(shape)) for shape in ((128, 32), (32, 128)))
    reference = k_order(a[:32], b[:, :32])
    alone = a[:32] @ b[:, :32]
    stacked = (np.stack([a[32 * i:32 * i + 32] for i in range(4)]) @ b[:, :32])[0]
    in_block = (a @ b)[:32, :32]
    for got in (alone, stacked, in_block):
        assert np.array_equal(got.view(np.uint32), reference.view(np.uint32))
