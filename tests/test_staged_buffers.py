"""Staged buffers (nanott/language/stages.py): multi-buffering written by hand, as TileLang's
barrierpipe GEMM writes it (`A_shared[ko % 2, :, :]`), becomes one stage when every iteration writes
its stage whole before it reads it; numbers against NumPy at every level, and the kernels where
that does not hold refused with NT304.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l0
from nanott.loader import load_kernel

KERNEL = '''
import nanott.language as T

M, N, K, S = 64, 64, 128, 2


@T.prim_func
def staged(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((K, N), "bfloat16"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(1, 1, threads=256) as (bx, by):
        A_s = T.alloc_shared((S, 64, 32), "bfloat16")
        B_s = T.alloc_shared((S, 32, 64), "bfloat16")
        C_l = T.alloc_fragment((64, 64), "float")
        bars = T.alloc_barrier([128, 128] * S)
        T.clear(C_l)
        for ko in range(K // 32):
            with T.ws(1):
                T.mbarrier_wait_parity(bars[ko % S + S], ((ko // S) % S) ^ 1)
{body}
        T.copy(C_l, C[0, 0])
'''
GOOD = '''
                T.tma_copy(A[0:64, ko * 32:(ko + 1) * 32], A_s[ko % S, :, :], barrier=bars[ko % S])
                T.tma_copy(B[ko * 32:(ko + 1) * 32, 0:64], B_s[ko % S, :, :], barrier=bars[ko % S])
                T.mbarrier_arrive(bars[ko % S])
            with T.ws(0):
                T.mbarrier_wait_parity(bars[ko % S], (ko // S) % S)
                T.gemm(A_s[ko % S, :, :], B_s[ko % S, :, :], C_l)
                T.mbarrier_arrive(bars[ko % S + S])'''


def load(tmp_path: Path, body: str = GOOD):
    path = tmp_path / "staged.py"
    path.write_text(KERNEL.format(body=body))
    return load_kernel(path)


def reference(inputs):
    return {"C": inputs["A"].astype(np.float32) @ inputs["B"].astype(np.float32)}


def test_a_staged_gemm_matches_numpy_at_every_level(tmp_path):
    check_levels(load(tmp_path), reference)


def test_the_stages_are_gone_after_p0_and_recorded(tmp_path):
    kernel = api.lower(load(tmp_path).prim_func, stop_after="P0")
    shapes = {x.name: x.shape for x in walk(kernel.body) if isinstance(x, l0.Alloc)}
    assert shapes["A_s"] == (64, 32) and shapes["B_s"] == (32, 64)
    assert ("stage.A_s", "(ko % 2)") in {(a.key, a.value) for a in kernel.attrs}


@pytest.mark.parametrize("body, words", [
    # the consumer reads the stage before this iteration's copy: it would read an older iteration's
    (GOOD.replace("T.gemm(A_s[ko % S, :, :], B_s[ko % S, :, :], C_l)", "T.mbarrier_arrive(bars[ko % S])")
     .replace("            with T.ws(1):\n", "")
     .replace("                T.tma_copy(A[0:64,", "                T.gemm(A_s[ko % S, :, :], B_s[ko % S, :, :], C_l)\n"
              "                T.tma_copy(A[0:64,"), "before it reads it"),
    (GOOD.replace("C_l)", "C_l)\n                T.gemm(A_s[(ko + 1) % S, :, :], B_s[ko % S, :, :], C_l)"),
     "several stages"),
    (GOOD.replace("A_s[ko % S, :, :], barrier", "A_s[(ko + 1) % S, :, :], barrier"), "moves another stage"),
])
def test_a_stage_read_before_it_is_written_or_another_stage_is_nt304(tmp_path, body, words):
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, body).prim_func, stop_after="P0")
    assert e.value.code == "NT304" and words in e.value.message, e.value.message
