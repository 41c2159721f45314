"""InterpL0: runs an L0 grid kernel on NumPy arrays, one grid block after another.

Every later interpreter extends this one by open recursion and overrides only what its language
changed. Whole buffers and tiles go through NumPy; `T.Parallel` nests are evaluated as one
broadcast expression over index arrays, never element by element in Python.

Numerics (the reference every level is compared against): elementwise arithmetic in float32,
rounded to the destination buffer's dtype on store (round to nearest even, as NumPy and ml_dtypes
do); `T.gemm` multiplies in float32 and adds into the accumulator; a fresh local buffer holds NaN,
so a read before any write shows up in the result instead of passing silently.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np

from nanott.languages import l0

NUMPY_DTYPES = {"float32": np.dtype(np.float32), "bfloat16": np.dtype(ml_dtypes.bfloat16),
                "int32": np.dtype(np.int32)}


class NoRule(Exception):
    """An interpreter met a node its language does not have: always a compiler bug."""

    def __init__(self, interp: Any, x: Any):
        super().__init__(f"{type(interp).__name__} has no rule for {type(x).__name__}")


def np_dtype(dtype: str) -> np.dtype:
    return NUMPY_DTYPES[dtype]


def empty(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """A fresh on-chip buffer: NaN, so reading it before writing it cannot go unnoticed."""
    return np.full(shape, np.nan, dtype=np_dtype(dtype))


@dataclass
class Env:
    """What a running kernel sees: buffers by name and scalar (or index-array) values by name."""
    buffers: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, Any] = field(default_factory=dict)

    def child(self) -> "Env":
        return Env(dict(self.buffers), dict(self.scalars))


class InterpL0:
    """Runs L0: the grid, block by block (bx fastest), each with fresh local buffers."""

    def run(self, program: l0.Kernel, arrays: dict[str, np.ndarray]) -> None:
        """Execute the kernel; outputs are written into the arrays passed, as a launch would."""
        for name, block in self.blocks(program):
            env = Env(dict(arrays), dict(zip(program.block_vars, block)))
            self.exec_block(program.body, env)

    def blocks(self, program) -> list[tuple[int, tuple[int, ...]]]:
        """(linear id, (bx, by, ...)) for every grid block; bx varies fastest."""
        ids = itertools.product(*(range(n) for n in reversed(program.grid)))
        return [(i, tuple(reversed(b))) for i, b in enumerate(ids)]

    def exec_block(self, stmts: tuple, env: Env) -> None:
        for s in stmts:
            self.exec_stmt(s, env)

    def exec_stmt(self, s: Any, env: Env) -> None:
        match s:
            case l0.Alloc(name, shape, dtype, _):
                env.buffers[name] = empty(shape, dtype)
            case l0.Copy(src, dst):
                self.copy(self.region(src, env), dst, env)
            case l0.Gemm(a, b, c, ta, tb, clear):
                self.gemm(env.buffers[a], env.buffers[b], env.buffers[c], ta, tb, clear)
            case l0.Fill(buffer, value):
                env.buffers[buffer][...] = self.eval(value, env)
            case l0.For(var, extent, _, _, body):
                for i in range(int(self.eval(extent, env))):
                    env.scalars[var] = i
                    self.exec_block(body, env)
            case l0.Parallel(vars, extents, body):
                inner = env.child()
                for axis, (v, n) in enumerate(zip(vars, extents)):
                    shape = [1] * len(extents)
                    shape[axis] = n
                    inner.scalars[v] = np.arange(n).reshape(shape)
                self.exec_block(body, inner)
            case l0.Store(buffer, indices, value):
                buf = env.buffers[buffer]
                idx = np.broadcast_arrays(*(np.asarray(self.eval(i, env)) for i in indices))
                buf[tuple(idx)] = np.broadcast_to(self.eval(value, env), idx[0].shape).astype(buf.dtype)
            case l0.Let(var, value):
                env.scalars[var] = self.eval(value, env)
            case _:
                raise NoRule(self, s)

    def region(self, r: l0.Region, env: Env) -> np.ndarray:
        starts = [int(self.eval(s, env)) for s in r.starts]
        return env.buffers[r.buffer][tuple(slice(s, s + n) for s, n in zip(starts, r.extents))]

    def copy(self, values: np.ndarray, dst: l0.Region, env: Env) -> None:
        target = self.region(dst, env)
        target[...] = values.reshape(target.shape).astype(target.dtype)

    @staticmethod
    def gemm(a, b, c, transpose_a: bool, transpose_b: bool, clear: bool) -> None:
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        product = (a32.T if transpose_a else a32) @ (b32.T if transpose_b else b32)
        c[...] = (product if clear else c.astype(np.float32) + product).astype(c.dtype)

    def eval(self, e: Any, env: Env) -> Any:
        match e:
            case l0.Const(value, dtype):
                return np.float32(value) if dtype != "int32" else int(value)
            case l0.Var(name):
                return env.scalars[name]
            case l0.BinOp(op, lhs, rhs):
                return BINOPS[op](self.eval(lhs, env), self.eval(rhs, env))
            case l0.Load(buffer, indices):
                idx = np.broadcast_arrays(*(np.asarray(self.eval(i, env)) for i in indices))
                return env.buffers[buffer][tuple(idx)].astype(np.float32)
            case l0.Cast(dtype, value):
                return np.asarray(self.eval(value, env)).astype(np_dtype(dtype)).astype(np.float32)
            case _:
                raise NoRule(self, e)


BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: np.float32(a) / np.float32(b) if np.isscalar(a) and np.isscalar(b) else a / b,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "min": np.minimum, "max": np.maximum,
}

l0.LANG.interpreter = InterpL0
