"""InterpL0: runs an L0 grid kernel on NumPy arrays, one grid block after another.

Every later interpreter extends this one by open recursion and overrides only what its language
changed. Whole buffers and tiles go through NumPy; `T.Parallel` nests are evaluated as one
broadcast expression over index arrays, never element by element in Python.

Numerics (the reference every level is compared against): elementwise arithmetic in float32, rounded
to the destination buffer's dtype on store (round to nearest even, as NumPy and ml_dtypes do); the
unary functions (UNARY) are NumPy's float32 ones, so every level that applies them to the same
float32 values gets the same bits; a cast rounds to its dtype (nearest even) and goes on in float32;
`T.gemm` multiplies in float32 and adds into the accumulator; a reduction sums (NumPy's pairwise
sum), or takes the max or min, in float32 and combines with the old values when not clearing; a
fresh local buffer holds NaN, so a read before any write shows up in the result instead of passing
silently. An element index outside its buffer is NT120, an index divided by zero NT121 (a user's mistake,
never NumPy's wrap-around). A copy whose region runs past the edge of its buffer is masked, as in TileLang: outside
elements read as zero and are not stored. An atomic add is a masked read of the destination, a
float32 add and a masked store, block after block in grid order. A bit operation on elements
(>> << & | ^ of integer buffers' values) computes on int32 (`on_int32`) and goes on in float32. A store that keeps its element
where a condition fails, `X[idx] = if_then_else(c, v, X[idx])` (an `if` around a store, P0), stores
only where c holds, and its index need lie inside X only there.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import ml_dtypes
import numpy as np

from nanott.diagnostics import NanottError
from nanott.dtypes import LOWERED
from nanott.languages import l0
from nanott.languages.printed import block_lines, shown  # noqa: F401  (shown: re-exported)

NUMPY_DTYPES = {d.name: np.dtype(getattr(np, d.numpy, None) or getattr(ml_dtypes, d.numpy))
                for d in LOWERED.values()}           # the table of nanott/dtypes.py (printed.py's too)


class NoRule(Exception):
    """An interpreter met a node its language does not have: always a compiler bug."""

    def __init__(self, interp: Any, x: Any):
        super().__init__(f"{type(interp).__name__} has no rule for {type(x).__name__}")


def np_dtype(dtype: str) -> np.dtype:
    return NUMPY_DTYPES[dtype]


def scratch_arrays(program: Any) -> dict[str, np.ndarray]:
    """The scratch tensors (T.alloc_global) of a program of several launches, unwritten: DRAM the
    program owns, which a launch must write before a later one reads it."""
    return {t.name: np.full(t.shape, unwritten(t.dtype), np_dtype(t.dtype)) for t in program.scratch}


def unwritten(dtype: str) -> Any:
    """What an element holds before it is written: NaN, or for an integer dtype (no NaN) its most
    negative value (an unsigned one: its largest); bool has no spare value (False)."""
    d = np_dtype(dtype)
    if LOWERED[dtype].kind == "float":
        return np.nan
    return False if d == np.bool_ else np.iinfo(d).max if np.iinfo(d).min == 0 else np.iinfo(d).min


def empty(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """A fresh on-chip buffer: NaN (or `unwritten`), so reading it before writing it shows."""
    return unwritten_into(np.empty(shape, dtype=np_dtype(dtype)), dtype)


def unwritten_into(out: np.ndarray, dtype: str) -> np.ndarray:
    """`out` filled with `unwritten`, through an unsigned view of the same bytes (a memset-speed
    fill; NumPy fills an ml_dtypes array element by element through its scalar type, several times
    slower)."""
    bits = np.array(unwritten(dtype), dtype=out.dtype)
    if out.dtype.itemsize in (1, 2, 4, 8):
        out.view(f"u{out.dtype.itemsize}").fill(bits.view(f"u{out.dtype.itemsize}")[()])
    else:
        out.fill(bits[()])
    return out


@dataclass
class Env:
    """What a running kernel sees: buffers by name and scalar (or index-array) values by name, and
    where it runs (a grid block, a core), which T.print names."""
    buffers: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, Any] = field(default_factory=dict)
    where: str = ""

    def child(self) -> "Env":
        return Env(dict(self.buffers), dict(self.scalars), self.where)


class InterpL0:
    """Runs L0: the grid, block by block (bx fastest), each with fresh local buffers."""

    def run(self, program: l0.Kernel, arrays: dict[str, np.ndarray]) -> None:
        """Execute the kernel; outputs are written into the arrays passed, as a launch would."""
        for name, block in self.blocks(program):
            env = Env(dict(arrays), dict(zip(program.block_vars, block)), f"{program.name} block {xy(block)}")
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
                self.copy(self.load_region(src, env), dst, env)
            case l0.AtomicAdd(src, dst):
                old = self.load_region(dst, env).astype(np.float32)
                self.copy(old + self.load_region(src, env).astype(np.float32).reshape(old.shape), dst, env)
            case l0.Gemm(a, b, c, ta, tb, clear):
                self.gemm(env.buffers[a], env.buffers[b], env.buffers[c], ta, tb, clear)
            case l0.Fill(buffer, value):
                env.buffers[buffer][...] = self.eval(value, env)
            case l0.Reduce(op, src, dst, dim, clear):
                self.reduce(op, env.buffers[src], env.buffers[dst], dim, clear)
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
            case l0.Store(buffer, indices, l0.Select(cond, then, other)) if other == l0.Load(buffer, indices):
                self.store_where(s, cond, then, env)
            case l0.Store(buffer, indices, value):
                buf = env.buffers[buffer]
                idx = self.indices(buffer, indices, env, s)
                buf[idx] = np.broadcast_to(self.eval(value, env), idx[0].shape).astype(buf.dtype)
            case l0.AtomicStore(buffer, indices, value):
                buf = env.buffers[buffer]
                idx = self.indices(buffer, indices, env, s)
                total = buf.astype(np.float32)
                np.add.at(total, idx, np.broadcast_to(np.float32(self.eval(value, env)), idx[0].shape))
                buf[idx] = total[idx].astype(buf.dtype)
            case l0.Let(var, value):
                env.scalars[var] = self.eval(value, env)
            case l0.Print():
                self.say(s, env)
            case l0.PrintBuffer(_, buffer):
                self.say_block(s.label(), env.buffers[buffer], env)
            case _:
                raise NoRule(self, s)

    def store_where(self, s: l0.Store, cond: Any, then: Any, env: Env) -> None:
        """`X[idx] = if_then_else(c, v, X[idx])` (an `if` around a store, P0): the elements where c
        holds get v, the others are not touched, and their indices may lie outside X (the rows
        past a sequence's end in varlen attention)."""
        where = np.asarray(self.eval(cond, env), bool)
        idx = self.under(where, lambda: self.indices(s.buffer, s.indices, env, s))
        taken = np.broadcast_to(where, idx[0].shape)
        value = np.broadcast_to(self.under(where, lambda: self.eval(then, env)), idx[0].shape)
        buf = env.buffers[s.buffer]
        buf[tuple(i[taken] for i in idx)] = value[taken].astype(buf.dtype)

    def say(self, s: l0.Print, env: Env) -> None:
        """T.print: one line, `[L3 gemm core (0,0)] k = 2`, to `self.out` (stdout unless set)."""
        self.say_lines([f"{s.label()} = {shown(self.eval(s.value, env))}"], env)

    def say_block(self, label: str, block: np.ndarray, env: Any) -> None:
        """T.print of a buffer (a CB's block from L4 on): the lines of languages/printed.py."""
        self.say_lines(block_lines(label, block), env)

    def say_lines(self, lines: list[str], env: Any) -> None:
        """Printed lines, each prefixed with the level and where it ran (a buffer's: languages/printed.py)."""
        level = next(c.__name__[6:] for c in type(self).__mro__ if c.__name__.startswith("InterpL"))
        for line in lines:
            self.out(f"[{level} {env.where}] {line}")

    out: Callable[[str], None] = staticmethod(print)

    def indices(self, buffer: str, indices: tuple, env: Env, at: Any) -> tuple[np.ndarray, ...]:
        """The index arrays of an element access, each within its dim: else NT120 at the statement
        (NumPy would raise, or wrap a negative index around silently)."""
        idx = np.broadcast_arrays(*(as_index(self.eval(i, env)) for i in indices))
        if self.guard is not None:                       # only where the Selects take this branch
            taken = np.broadcast_to(self.guard, np.broadcast_shapes(idx[0].shape, np.shape(self.guard)))
            idx = [np.broadcast_to(i, taken.shape) for i in idx]
            live = [i[taken] for i in idx]
            idx = [np.clip(i, 0, n - 1) for i, n in zip(idx, env.buffers[buffer].shape)]
        else:
            live = idx
        for d, (i, n) in enumerate(zip(live, env.buffers[buffer].shape)):
            if i.size and (i.min() < 0 or i.max() >= n):
                bad = int(i.min()) if i.min() < 0 else int(i.max())
                raise NanottError("NT120", f"{buffer}[...] index {indices[d]} reaches {bad} along dim {d}, "
                                  f"outside 0..{n - 1}", at.loc, hint="an element index must stay inside "
                                  "its buffer for every element of the T.Parallel nest")
        return tuple(idx)

    def in_bounds(self, r: l0.Region, env: Env) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        """The part of a region inside its buffer: (slices of the buffer, slices of the region)."""
        shape = env.buffers[r.buffer].shape
        starts = [int(self.eval(s, env)) for s in r.starts]
        lo = [min(max(s, 0), d) for s, d in zip(starts, shape)]
        hi = [min(max(s + n, 0), d) for s, n, d in zip(starts, r.extents, shape)]
        return (tuple(slice(a, b) for a, b in zip(lo, hi)),
                tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, starts)))

    def load_region(self, r: l0.Region, env: Env) -> np.ndarray:
        """A region's values; what lies outside the buffer reads as zero (TileLang's masked load)."""
        buf = env.buffers[r.buffer]
        inside, where = self.in_bounds(r, env)
        out = np.zeros(r.extents, dtype=buf.dtype)
        out[where] = buf[inside]
        return out

    def copy(self, values: np.ndarray, dst: l0.Region, env: Env) -> None:
        """Store into a region; what lies outside the buffer is skipped (TileLang's masked store)."""
        inside, where = self.in_bounds(dst, env)
        buf = env.buffers[dst.buffer]
        buf[inside] = values.reshape(dst.extents)[where].astype(buf.dtype)

    @staticmethod
    def gemm(a, b, c, transpose_a: bool, transpose_b: bool, clear: bool) -> None:
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        product = (a32.T if transpose_a else a32) @ (b32.T if transpose_b else b32)
        c[...] = (product if clear else c.astype(np.float32) + product).astype(c.dtype)

    @staticmethod
    def reduce(op: str, src: np.ndarray, dst: np.ndarray, dim: int, clear: bool) -> None:
        """dst (op)= src reduced along dim, in float32 (NumPy's sum: pairwise), rounded to dst's dtype."""
        r = REDUCE[op](src.astype(np.float32), axis=dim)
        dst[...] = (r if clear else COMBINE[op](dst.astype(np.float32), r)).astype(dst.dtype)

    def eval(self, e: Any, env: Env) -> Any:
        match e:
            case l0.Const(value, dtype):
                return np.float32(value) if dtype != "int32" else int(value)
            case l0.Var(name):
                return env.scalars[name]
            case l0.BinOp(op, lhs, rhs):
                right = self.eval(rhs, env)
                if op in ("//", "%") and np.any(np.asarray(right) == 0):
                    raise NanottError("NT121", f"{op} by zero in an index: {rhs} is 0", e.loc,
                                      hint="an index divides by a value that is zero for some block or trip")
                return BINOPS[op](self.eval(lhs, env), right)
            case l0.Load(buffer, indices):
                return env.buffers[buffer][self.indices(buffer, indices, env, e)].astype(np.float32)
            case l0.Cast(dtype, value):
                return cast(self.eval(value, env), dtype)
            case l0.UnOp(op, value):
                return UNARY[op](float32(self.eval(value, env)))
            case l0.Select(cond, then, other):
                c = self.eval(cond, env)
                return select(c, self.under(c, lambda: self.eval(then, env)),
                              self.under(np.logical_not(c), lambda: self.eval(other, env)))
            case _:
                raise NoRule(self, e)

    guard: Any = None      # where the Selects being evaluated take the branch being evaluated

    def under(self, where: Any, value: Callable[[], Any]) -> Any:
        """value() evaluated as a branch of a Select taken only `where`: a load it makes may reach
        outside its buffer elsewhere (`if_then_else(in_bound, data[h, w], 0)`, a convolution's
        padding), and is clamped there, since that value is never used."""
        outer = self.guard
        self.guard = where if outer is None else np.logical_and(outer, where)
        try:
            return value()
        finally:
            self.guard = outer


def as_index(x: Any) -> np.ndarray:
    """An element index as integers: a row read from an int32 tensor (`cu_seqlens[bz] + i`) is
    computed in float32, exact for every index below 2**24."""
    x = np.asarray(x)
    return x.astype(np.int64) if x.dtype.kind == "f" else x


BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: np.float32(a) / np.float32(b) if np.isscalar(a) and np.isscalar(b) else a / b,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "min": np.minimum, "max": np.maximum,
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
    "!=": np.not_equal, "and": np.logical_and, "or": np.logical_or,
    **{op: lambda a, b, f=f: on_int32(f, a, b) for op, f in (("&", np.bitwise_and), ("|", np.bitwise_or),
       ("^", np.bitwise_xor), ("<<", np.left_shift), (">>", np.right_shift))},
}


def on_int32(f: Callable, a: Any, b: Any) -> Any:
    """A bit operation. Of indices (Python or NumPy ints): Python's. Of elements (float32 values
    that hold integers, exact below 2**24): on int32, as the SFPU's integer ops (two's complement,
    >> arithmetic, << wrapping at 32 bits), back to float32; a shift by less than 0 or more than 31
    is outside the model, as in C."""
    if not any(np.asarray(x).dtype.kind == "f" for x in (a, b)):
        return f(a, b)
    r = f(np.asarray(a).astype(np.int64), np.asarray(b).astype(np.int64))
    r = ((r + 2**31) % 2**32 - 2**31).astype(np.float32)
    return r[()] if r.ndim == 0 else r


def xy(coords: tuple[int, ...]) -> str:
    """A block or core as T.print names it: (1,0)."""
    return "(" + ",".join(str(int(c)) for c in coords) + ")"


def select(cond: Any, then: Any, other: Any) -> Any:
    """T.if_then_else: `then` where the condition holds, `other` elsewhere (a scalar stays one)."""
    out = np.where(cond, then, other)
    return out[()] if out.ndim == 0 else out



REDUCE = {"sum": lambda a, axis: np.sum(a, axis=axis, dtype=np.float32), "max": np.max, "min": np.min,
          "absmax": lambda a, axis: np.max(np.abs(a), axis=axis)}
COMBINE = {"sum": np.add, "max": np.maximum, "min": np.minimum, "absmax": np.maximum}


def float32(x: Any) -> Any:
    """A value as float32: an array converted, a scalar as np.float32."""
    return x.astype(np.float32) if isinstance(x, np.ndarray) else np.float32(x)


def cast(x: Any, dtype: str) -> Any:
    """Round a value to `dtype` (to nearest even) and go on in float32."""
    return np.asarray(x).astype(np_dtype(dtype)).astype(np.float32)


def _recip(x: Any) -> Any:
    return np.float32(1.0) / x


# The elementwise functions of every level, on float32 values (docs/reference.md §T8; docs/reference.md §4.7,
# whose SFPU computes in float32: nanott models it exactly, without the approximations of APPROX).
UNARY = {
    "neg": np.negative, "exp": np.exp, "exp2": np.exp2, "log": np.log, "log2": np.log2, "sqrt": np.sqrt,
    "rsqrt": lambda x: _recip(np.sqrt(x)), "abs": np.abs,
    "sigmoid": lambda x: _recip(np.float32(1.0) + np.exp(np.negative(x))), "tanh": np.tanh,
}

l0.LANG.interpreter = InterpL0
