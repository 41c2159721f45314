"""CompiledL0's grid in lockstep (nanott/languages/l0_grid.py): which kernels may run statement-major
over blocks (decided from the IR), the same bits as the block-by-block reference where they do, and
the reference's own diagnostic, with the reference's block, where a block breaks a rule."""
import numpy as np
import pytest

import nanott.language as T
from nanott import api
from nanott.diagnostics import NanottError
from nanott.languages import l0_grid
from nanott.languages.l0_compiled import CompiledL0, written
from nanott.languages.l0_interp import InterpL0


def eligible(prim_func) -> bool:
    kernel = api.lower(prim_func, "P0")
    return l0_grid.eligible(kernel, {p.name for p in kernel.params} & written(kernel.body))


def gemm(n=128, b=32):
    @T.prim_func
    def main(A: T.Tensor((n, n), "bfloat16"), B: T.Tensor((n, n), "bfloat16"), C: T.Tensor((n, n), "float32")):
        with T.Kernel(n // b, n // b, threads=128) as (bx, by):
            A_s = T.alloc_shared((b, b), "bfloat16")
            B_s = T.alloc_shared((b, b), "bfloat16")
            C_l = T.alloc_fragment((b, b), "float32")
            T.clear(C_l)
            for k in T.Pipelined(n // b, num_stages=2):
                T.copy(A[by * b, k * b], A_s)
                T.copy(B[k * b, bx * b], B_s)
                T.gemm(A_s, B_s, C_l)
            T.copy(C_l, C[by * b, bx * b])
    return main


@T.prim_func
def twice(X: T.Tensor((64, 64), "float32"), Y: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, 2, threads=128) as (bx, by):
        s = T.alloc_shared((32, 32), "float32")
        T.copy(X[by * 32, bx * 32], s)
        T.copy(s, Y[by * 32, bx * 32])
        T.copy(s, Y[bx * 32, by * 32])              # a second statement writes Y: order between blocks matters


@T.prim_func
def reads_its_output(X: T.Tensor((64, 64), "float32"), Y: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, 2, threads=128) as (bx, by):
        s = T.alloc_shared((32, 32), "float32")
        T.copy(Y[0, 0], s)                          # block (1, 0) reads what block (0, 0) wrote
        T.copy(s, Y[by * 32, bx * 32])


@T.prim_func
def prints(X: T.Tensor((64, 64), "float32"), Y: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, 2, threads=128) as (bx, by):
        s = T.alloc_shared((32, 32), "float32")
        T.copy(X[by * 32, bx * 32], s)
        T.print(bx)
        T.copy(s, Y[by * 32, bx * 32])


def test_only_kernels_whose_blocks_cannot_see_each_other_run_in_lockstep():
    assert eligible(gemm())
    assert not eligible(twice)
    assert not eligible(reads_its_output)
    assert not eligible(prints)


@pytest.mark.parametrize("prim_func", [gemm(), gemm(96, 32), twice, reads_its_output], ids=str)
def test_lockstep_or_not_the_bits_are_the_references(prim_func, monkeypatch):
    kernel = api.lower(prim_func, "P0")
    inputs = api.random_inputs(kernel, seed=4)
    ran = []
    real = l0_grid.run
    monkeypatch.setattr(l0_grid, "run", lambda *a: ran.append(real(*a)) or ran[-1])
    fast, slow = ({k: v.copy() for k, v in inputs.items()} for _ in range(2))
    CompiledL0().run(kernel, fast)
    InterpL0().run(kernel, slow)
    out = kernel.params[-1].name
    assert fast[out].tobytes() == slow[out].tobytes()          # bit for bit, signs of zeros included
    assert ran == ([True] if eligible(prim_func) else [])


def test_a_block_that_breaks_a_rule_gets_the_references_diagnostic_and_block():
    """Block (1, 0) indexes past its buffer in the third statement; in lockstep, block (0, 1) would
    have run its first statements before it: the error is still the reference's, naming (1, 0), and
    the output holds what the reference wrote before it stopped."""
    @T.prim_func
    def main(X: T.Tensor((64, 64), "float32"), Y: T.Tensor((64, 64), "float32")):
        with T.Kernel(2, 2, threads=128) as (bx, by):
            s = T.alloc_shared((32, 32), "float32")
            T.copy(X[by * 32, bx * 32], s)
            for i, j in T.Parallel(32, 32):
                s[i, j] = s[i + bx * (1 - by), j] * 2.0
            T.copy(s, Y[by * 32, bx * 32])
    kernel = api.lower(main, "P0")
    assert eligible(main)
    inputs = api.random_inputs(kernel, seed=5)
    errors, after = [], []
    for interp in (CompiledL0(), InterpL0()):
        arrays = {k: v.copy() for k, v in inputs.items()}
        with pytest.raises(NanottError) as e:
            interp.run(kernel, arrays)
        errors.append(str(e.value))
        after.append(arrays["Y"])
    assert errors[0] == errors[1] and "NT120" in errors[0]
    assert np.array_equal(after[0], after[1], equal_nan=True)
