"""Hand-built L0 kernels for the stage A and B tests: a GEMM and an elementwise kernel, in the
shapes P0 produces, with knobs for the block sizes, the pipelining and which block variable walks
the columns; random inputs and the L0 reference run they are compared against; and the helpers the
stage tests share (lowering through the real passes, renaming, loading the examples).
"""
from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest

from nanott.ir import Launches, Loc, replace
from nanott.languages import l0
from nanott.languages.l0_interp import InterpL0, np_dtype, scratch_arrays
from nanott.pipeline import PIPELINE, language
from nanott.target import WORMHOLE_N150

ROOT = Path(__file__).resolve().parent.parent

BF16, F32 = "bfloat16", "float32"
ZERO = l0.Const(0, "int32")


def c(n: int) -> l0.Const:
    return l0.Const(n, "int32")


def mul(a, b) -> l0.BinOp:
    return l0.BinOp("*", a, b)


def at(row_block: str, rows: int, col_block: str, cols: int) -> tuple:
    return (mul(l0.Var(row_block), c(rows)), mul(l0.Var(col_block), c(cols)))


def local(buffer: str, shape: tuple[int, int]) -> l0.Region:
    return l0.Region(buffer, (ZERO, ZERO), shape)


def loc(line: int, col: int = 4, file: str = "kernel.py") -> Loc:
    return Loc(file, line, col)


def gemm_kernel(M=128, N=96, K=128, bm=64, bn=32, bk=64, stages=2, bx_on_cols=True,
                dtype=BF16, accum=F32, kind="pipelined") -> l0.Kernel:
    """C = A @ B with a K loop (pipelined by default) accumulating in a fragment."""
    gx, gy = (N // bn, M // bm) if bx_on_cols else (M // bm, N // bn)
    row, col = ("by", "bx") if bx_on_cols else ("bx", "by")
    k = l0.Var("k")
    body = (
        l0.Alloc("A_s", (bm, bk), dtype, "shared", loc=loc(3)),
        l0.Alloc("B_s", (bk, bn), dtype, "shared", loc=loc(4)),
        l0.Alloc("C_l", (bm, bn), accum, "fragment", loc=loc(5)),
        l0.Fill("C_l", l0.Const(0.0, accum), loc=loc(6)),
        l0.For("k", c(K // bk), kind, stages, (
            l0.Copy(l0.Region("A", (mul(l0.Var(row), c(bm)), mul(k, c(bk))), (bm, bk)),
                    local("A_s", (bm, bk)), loc=loc(8, 8)),
            l0.Copy(l0.Region("B", (mul(k, c(bk)), mul(l0.Var(col), c(bn))), (bk, bn)),
                    local("B_s", (bk, bn)), loc=loc(9, 8)),
            l0.Gemm("A_s", "B_s", "C_l", False, False, False, loc=loc(10, 8))), loc=loc(7)),
        l0.Copy(local("C_l", (bm, bn)), l0.Region("C", at(row, bm, col, bn), (bm, bn)), loc=loc(11)),
    )
    params = (l0.Tensor("A", (M, K), dtype, loc=loc(1, 12)), l0.Tensor("B", (K, N), dtype, loc=loc(1, 20)),
              l0.Tensor("C", (M, N), dtype, loc=loc(1, 28)))
    return l0.Kernel("gemm", params, (gx, gy), ("bx", "by"), body, (), loc=loc(2))


def eltwise_kernel(M=128, N=96, bm=32, bn=32, grid=None, bx_on_cols=True, dtype=BF16,
                   in_place=False) -> l0.Kernel:
    """C = A * 2 + B through a temporary; `in_place` accumulates C's block with a store that reads it.
    `grid` of three dims stacks row blocks as (bz * gy + by)."""
    blocks = grid or ((N // bn, M // bm) if bx_on_cols else (M // bm, N // bn))
    if len(blocks) == 3:
        gx, gy, _ = blocks
        row = l0.BinOp("+", mul(l0.Var("bz"), c(gy)), l0.Var("by"))
        starts, names = (mul(row, c(bm)), mul(l0.Var("bx"), c(bn))), ("bx", "by", "bz")
    elif len(blocks) == 1:
        starts, names = (ZERO, mul(l0.Var("bx"), c(bn))), ("bx",)
    else:
        starts, names = at("by", bm, "bx", bn) if bx_on_cols else at("bx", bm, "by", bn), ("bx", "by")
    ij, shape = (l0.Var("i"), l0.Var("j")), (bm, bn)
    twice = mul(l0.Load("A_s", ij), l0.Const(2.0, F32))
    if in_place:
        result = (l0.Fill("C_s", l0.Const(0.0, F32), loc=loc(9)),
                  l0.Parallel(("i", "j"), shape, (
                      l0.Store("C_s", ij, l0.BinOp("+", l0.Load("C_s", ij), l0.Load("T", ij)),
                               loc=loc(11, 8)),), loc=loc(10)))
    else:
        result = (l0.Parallel(("i", "j"), shape, (
            l0.Store("C_s", ij, l0.BinOp("+", l0.Load("T", ij), l0.Load("B_s", ij)), loc=loc(11, 8)),),
            loc=loc(10)),)
    body = (
        l0.Alloc("A_s", shape, dtype, "shared", loc=loc(3)),
        l0.Alloc("B_s", shape, dtype, "shared", loc=loc(4)),
        l0.Alloc("T", shape, F32, "fragment", loc=loc(5)),
        l0.Alloc("C_s", shape, dtype, "fragment", loc=loc(6)),
        l0.Copy(l0.Region("A", starts, shape), local("A_s", shape), loc=loc(7)),
        l0.Copy(l0.Region("B", starts, shape), local("B_s", shape), loc=loc(7)),
        l0.Parallel(("i", "j"), shape, (l0.Store("T", ij, twice, loc=loc(8, 8)),), loc=loc(8)),
        *result,
        l0.Copy(local("C_s", shape), l0.Region("C", starts, shape), loc=loc(12)),
    )
    params = tuple(l0.Tensor(n, (M, N), dtype, loc=loc(1, 12 + 8 * i)) for i, n in enumerate("ABC"))
    return l0.Kernel("eltwise_acc" if in_place else "eltwise", params, blocks, names, body, (), loc=loc(2))


def random_arrays(kernel: l0.Kernel, seed: int = 0) -> dict[str, np.ndarray]:
    """Every parameter uniform in [-1, 1) in its dtype; the kernels here write only C."""
    rng = np.random.default_rng(seed)
    return {p.name: rng.uniform(-1, 1, p.shape).astype(np_dtype(p.dtype)) for p in kernel.params}


def run(interp, program, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays after `interp` ran `program` on copies of them; a program of several launches runs
    each in turn, with a fresh interpreter of the same class, on one DRAM (scratch tensors too)."""
    copies = {k: v.copy() for k, v in arrays.items()}
    if isinstance(program, Launches):
        copies.update(scratch_arrays(program))
        for launch in program.launches:
            type(interp)().run(launch, copies)
        return {k: copies[k] for k in arrays}
    interp.run(program, copies)
    return copies


def reference(kernel: l0.Kernel, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """InterpL0's result, after checking it against NumPy (so the baseline itself is right)."""
    out = run(InterpL0(), kernel, arrays)
    a, b = (arrays[n].astype(np.float32) for n in "AB")
    if kernel.name == "gemm":
        want = (a @ b).astype(arrays["C"].dtype)      # fp32 accumulation, one rounding at the end
        tol = 2.0 ** -7 * np.abs(a) @ np.abs(b) + 1e-6
    else:
        t = a * np.float32(2)
        want = (t if kernel.name == "eltwise_acc" else t + b).astype(arrays["C"].dtype)
        tol = np.zeros_like(t)
    got = out["C"].astype(np.float32)
    assert np.all(np.abs(got - want.astype(np.float32)) <= tol), "InterpL0 disagrees with NumPy"
    return out


# ----- helpers for the stage tests -----
def lower_to(kernel: l0.Kernel, stop_after: str, target=WORMHOLE_N150):
    """Run the real pipeline's passes from A1 to `stop_after`, checking each output language."""
    program = kernel
    for s in PIPELINE[1:]:
        program = s.function(program, target)
        language(s.dst).check(program, after=f"{s.id} {s.name}")
        if s.id == stop_after:
            return program
    raise AssertionError(stop_after)


def rename(x, old: str, new: str):
    """x with every name field equal to `old` (a buffer, a variable) renamed to `new`."""
    if isinstance(x, tuple):
        return tuple(rename(v, old, new) for v in x)
    if isinstance(x, str):
        return new if x == old else x
    if is_dataclass(x):
        return replace(x, **{f.name: rename(getattr(x, f.name), old, new) for f in fields(x) if f.name != "loc"})
    return x


def example_kernels() -> list:
    """Every PrimFunc a module of examples/ defines at top level (loaded as the loader does, so
    that an example written with TileLang's imports loads)."""
    from nanott.language.prim_func import PrimFunc
    from nanott.language.tilelang_surface import surface
    from nanott.loader import run_module
    out = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        with surface(path.parent):
            module, _ = run_module(path)
        out += [pytest.param(v, id=f"{path.stem}.{n}") for n, v in vars(module).items() if isinstance(v, PrimFunc)]
    return out
