"""CompiledL0: InterpL0's semantics, each statement compiled once into a Python closure.

InterpL0 is the readable reference: on every execution it walks the expression tree through
`match`. CompiledL0 walks the tree once per node, the first time it runs, and keeps a closure
with everything the tree says already resolved (which NumPy function, which buffer, which
indices); later executions only call closures. The rules are InterpL0's own code, reached by
open recursion where a statement has no closure of its own (reduce, atomic add), so both give
the same bits; tests/test_compiled.py checks every example and the fuzzed kernels bit for bit.
The same mixin before InterpL1..InterpL8 gives each level its compiled executor (languages/compiled.py).

One loop shape runs statement-major, all its iterations at once (languages/l0_kloop.py): a serial loop whose body only
copies into on-chip buffers it overwrites whole and accumulates products of them with T.gemm
(a GEMM's K loop; `batch_plan` decides from the IR). Each copy's source regions for every
iteration are one strided view (of the tensor widened to float32 once per run, when no statement
writes it and the copy does not round; laid out tile by tile when the regions are tiles of it, so
that each region BLAS reads is contiguous); the products are one batched matmul, each slice the
same BLAS product the reference computes, added into the accumulator in iteration order, so the
rounding is the reference's. When a region reaches outside its tensor (a masked copy) or the
starts do not step evenly, the loop runs iteration by iteration instead. CompiledL0 also runs the
grid's blocks in lockstep where no block can see another (languages/l0_grid.py): a K loop is then
planned once for the whole grid.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from nanott.ir import walk
from nanott.languages import l0, l0_grid, l1, l3
from nanott.languages.l0_interp import BINOPS, UNARY, Env, InterpL0, as_index, cast, empty, float32, select
from nanott.languages.l0_kloop import KLoop, batch_plan

F32 = np.float32
Code = Callable[[Env], Any]


class Compiled(KLoop):
    """A mixin before an interpreter of L0..L8 (CompiledL0 = Compiled + InterpL0): closures for
    L0's own productions, compiled once per node (kept by id; the node is kept alive); any other
    node (L1's Alloc, L3's CoreArg, L4's CB statements, L5's tile programs, L7's kernels) runs by
    the interpreter's own rule, which reaches the closures again for every expression it evaluates
    (a loop extent, a tile's row, a page index)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.code: dict[int, tuple[Any, Code]] = {}

    def compiled(self, x: Any, make: Callable[[Any], Code]) -> Code:
        entry = self.code.get(id(x))
        if entry is None or entry[0] is not x:
            entry = self.code[id(x)] = (x, make(x))
        return entry[1]

    def exec_block(self, stmts: tuple, env: Env) -> None:
        for f in self.compiled(stmts, self.block):
            f(env)

    def block(self, stmts: tuple) -> list[Code]:
        return [self.stmt(s) for s in stmts]

    def eval(self, e: Any, env: Env) -> Any:
        entry = self.code.get(id(e))          # `compiled`, inlined: tile reads evaluate an index each
        if entry is None or entry[0] is not e:
            entry = self.code[id(e)] = (e, self.expr(e))
        return entry[1](env)

    # ----- statements -----
    def stmt(self, s: Any) -> Code:
        rule = super().exec_stmt
        if type(s) not in L0_NODES:
            return lambda env: rule(s, env)
        match s:
            case l0.Alloc(name, shape, dtype, _):
                def alloc(env):
                    env.buffers[name] = empty(shape, dtype)
                return alloc
            case l0.Copy(src, dst):
                load, store = self.region_load(src, view=src.buffer != dst.buffer), self.region_store(dst)
                return lambda env: store(env, load(env))
            case l0.Gemm(a, b, c, ta, tb, clear):
                return lambda env: self.gemm(env.buffers[a], env.buffers[b], env.buffers[c], ta, tb, clear)
            case l0.Fill(buffer, value):
                v = self.expr(value)

                def fill(env):
                    env.buffers[buffer][...] = v(env)
                return fill
            case l0.For(var, extent, _, _, body):
                return self.loop(s)
            case l0.Parallel(vars, extents, body):
                axes = [np.arange(n).reshape([n if k == a else 1 for k in range(len(extents))])
                        for a, n in enumerate(extents)]
                inner = self.block(body)

                def parallel(env):
                    child = env.child()
                    child.scalars.update(zip(vars, axes))
                    for f in inner:
                        f(child)
                return parallel
            case l0.Store(buffer, indices, l0.Select(_, _, other)) if other == l0.Load(buffer, indices):
                return lambda env: rule(s, env)                     # InterpL0's store_where
            case l0.Store(buffer, indices, value):
                at, v = self.access(buffer, indices, s), self.expr(value)

                def store(env):
                    buf, idx = env.buffers[buffer], at(env)
                    buf[idx] = np.broadcast_to(v(env), idx[0].shape).astype(buf.dtype)
                return store
            case l0.Let(var, value):
                v = self.expr(value)

                def let(env):
                    env.scalars[var] = v(env)
                return let
        return lambda env: rule(s, env)

    def access(self, buffer: str, indices: tuple, at: Any) -> Code:
        """The checked index arrays of an element access (InterpL0.indices, NT120 included)."""
        fs = [self.expr(i) for i in indices]

        def idx(env):
            out = np.broadcast_arrays(*(as_index(f(env)) for f in fs))
            for i, n in zip(out, env.buffers[buffer].shape):
                if i.size and (i.min() < 0 or i.max() >= n):
                    return self.indices(buffer, indices, env, at)       # raises the reference's NT120
            return tuple(out)
        return idx

    def region_bounds(self, r: l0.Region) -> Code:
        """InterpL0.in_bounds with the starts compiled: (buffer slices, region slices)."""
        starts = [self.expr(x) for x in r.starts]

        def bounds(env):
            shape = env.buffers[r.buffer].shape
            s = [int(f(env)) for f in starts]
            lo = [min(max(a, 0), d) for a, d in zip(s, shape)]
            hi = [min(max(a + n, 0), d) for a, n, d in zip(s, r.extents, shape)]
            return (tuple(slice(a, b) for a, b in zip(lo, hi)),
                    tuple(slice(a - x, b - x) for a, b, x in zip(lo, hi, s)))
        return bounds

    def region_load(self, r: l0.Region, view: bool = False) -> Code:
        """InterpL0.load_region; a view of the buffer where the region lies inside it, if `view`
        (allowed where the values are stored at once into another buffer)."""
        bounds = self.region_bounds(r)

        def load(env):
            buf = env.buffers[r.buffer]
            inside, where = bounds(env)
            if view and all(i.stop - i.start == n for i, n in zip(inside, r.extents)):
                return buf[inside]
            out = np.zeros(r.extents, dtype=buf.dtype)
            out[where] = buf[inside]
            return out
        return load

    def region_store(self, r: l0.Region) -> Callable[[Env, np.ndarray], None]:
        bounds = self.region_bounds(r)

        def store(env, values):
            inside, where = bounds(env)
            buf = env.buffers[r.buffer]
            values = values.reshape(r.extents)[where]
            buf[inside] = values if values.dtype == buf.dtype else values.astype(buf.dtype)
        return store

    def loop(self, s: l0.For) -> Code:
        extent, body = self.expr(s.extent), self.block(s.body)
        batched = self.plan_of(s)

        def run(env):
            n = int(extent(env))
            if batched is not None and n > 1 and self.batch(s, batched, env, n):
                return
            for i in range(n):
                env.scalars[s.var] = i
                for f in body:
                    f(env)
        return run

    def run(self, program: Any, arrays: dict[str, np.ndarray]) -> None:
        # tensors no statement writes (known only where every statement is L0's or L1's Alloc)
        body = getattr(program, "body", None)     # L7 on: kernels, whose statements this class does not run
        known = body is not None and all(type(x) in L0_NODES or isinstance(x, (l1.Alloc, l1.CbPlan, l3.CoreArg))
                                         for x in walk(body))
        self.constant = {p.name for p in program.params} - written(body) if known else set()
        self.known = known
        self.as_f32: dict[str, np.ndarray] = {}
        self.as_tiles: dict[tuple, np.ndarray] = {}
        self.aranges: dict[int, np.ndarray] = {}
        self.scratches: dict[tuple[int, ...], np.ndarray] = {}
        self.plans: dict[int, tuple] = {}
        if not self.grid(program, arrays):
            super().run(program, arrays)

    def grid(self, program: Any, arrays: dict[str, np.ndarray]) -> bool:
        """Run the whole grid some faster way, or return False (CompiledL0: languages/l0_grid.py)."""
        return False

    # ----- expressions -----
    def expr(self, e: Any) -> Code:
        rule = super().eval
        if type(e) not in L0_NODES:
            return lambda env: rule(e, env)
        match e:
            case l0.Const(value, dtype):
                v = F32(value) if dtype != "int32" else int(value)
                return lambda env: v
            case l0.Var(name):
                return lambda env: env.scalars[name]
            case l0.BinOp(op, lhs, rhs):
                f, a, b = BINOPS[op], self.expr(lhs), self.expr(rhs)
                if op not in ("//", "%"):
                    return lambda env: f(a(env), b(env))
                if type(rhs) is l0.Const and rhs.value != 0:        # a divisor that is never 0
                    c = b(None)
                    return lambda env: f(a(env), c)

                def divide(env):
                    right = b(env)
                    if right == 0 if type(right) is int else np.any(np.asarray(right) == 0):
                        return rule(e, env)                          # raises the reference's NT121
                    return f(a(env), right)
                return divide
            case l0.Load(buffer, indices):
                at = self.access(buffer, indices, e)
                return lambda env: env.buffers[buffer][at(env)].astype(F32)
            case l0.Cast(dtype, value):
                v = self.expr(value)
                return lambda env: cast(v(env), dtype)
            case l0.UnOp(op, value):
                f, v = UNARY[op], self.expr(value)
                return lambda env: f(float32(v(env)))
            case l0.Select(cond, then, other):
                c, t, o = self.expr(cond), self.expr(then), self.expr(other)

                def choose(env):             # InterpL0's: each branch's loads only where it is taken
                    where = c(env)
                    return select(where, self.under(where, lambda: t(env)),
                                  self.under(np.logical_not(where), lambda: o(env)))
                return choose
        return lambda env: rule(e, env)


L0_NODES = frozenset(l0.LANG.nodes.values())


class CompiledL0(Compiled, InterpL0):
    """InterpL0, compiled; its grid in lockstep where that changes nothing (languages/l0_grid.py)."""

    def grid(self, program: Any, arrays: dict[str, np.ndarray]) -> bool:
        return self.known and l0_grid.eligible(program, set(arrays) - self.constant) and l0_grid.run(self, program, arrays)




def written(body: tuple) -> set[str]:
    """Every buffer a statement of body writes."""
    out = set()
    for x in walk(body):
        match x:
            case l0.Copy(_, dst) | l0.AtomicAdd(_, dst):
                out.add(dst.buffer)
            case l0.Store(buffer, _, _) | l0.Fill(buffer, _) | l0.Alloc(buffer, _, _, _):
                out.add(buffer)
            case l0.Gemm(_, _, c, _, _, _) | l0.Reduce(_, _, c, _, _):
                out.add(c)
    return out


__all__ = ["Compiled", "CompiledL0", "batch_plan"]
