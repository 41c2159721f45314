"""The IR builder P0 drives while it runs a rewritten kernel: the current source line, a stack of
open statement lists (the kernel body, loop bodies), names, recorded CUDA-only knobs, and the hooks
the AST rewrite calls (`at`, `bind`, `store`, `ctx_for`, `ctx_if`, `ctx_with`, `ctx_break`).

Decisions are taken by value, as TileLang's frontend v2 does: a `for` over `T.Pipelined` opens a
loop frame that runs its body once with symbolic loop variables, a `for` over a Python list runs as
Python; an `if` on a Python bool runs one branch, an `if` on a run-time value runs both (predicate.py).
"""
from __future__ import annotations

import operator
import os
import sys
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Iterator

from nanott.diagnostics import NanottError
from nanott.ir import NOLOC, Loc, replace, walk
from nanott.languages import l0
from nanott.language.branch_scalars import as_value, selected, unset, value_of
from nanott.language.branches import Frame, RunTimeIfs
from nanott.language.grid_sync import GridSync, split_phases
from nanott.language.loops import LoopSpec, loop_range
from nanott.language.predicate import masked_selects, reads
from nanott.language.reductions import split_reductions
from nanott.language.role_fusion import Barriers
from nanott.language.values import Buffer, Cond, Sym, Tracing, Unassigned, as_cond, fold_int, to_expr
from nanott.printing import num

_ACTIVE: list[Builder] = []
_HERE = os.path.dirname(os.path.abspath(__file__))


def current(what: str) -> Builder:
    """The builder of the kernel being parsed; NT110 when a T.* op runs outside any kernel."""
    if not _ACTIVE:
        raise NanottError("NT110", f"{what} can only be used inside a @T.prim_func kernel",
                          caller_loc(), hint="nanott runs T.* operations while it parses a kernel")
    return _ACTIVE[-1]


def caller_loc() -> Loc:
    """The statement being parsed, or else the first frame outside nanott.language."""
    if _ACTIVE:
        return _ACTIVE[-1].loc
    f = sys._getframe(1)
    while f is not None and os.path.dirname(os.path.abspath(f.f_code.co_filename)) == _HERE:
        f = f.f_back
    return Loc(f.f_code.co_filename, f.f_lineno, 0) if f is not None else NOLOC


def knob_str(v: Any) -> str:
    """A recorded knob's value as deterministic text."""
    if isinstance(v, Enum):
        return v.name
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(knob_str(x) for x in v) + ")"
    if isinstance(v, (int, float)):
        return num(v)
    return str(v)


class Index:
    """`__nt__.index[i, 0:32]` hands a subscript's key to the builder unevaluated by a buffer."""

    def __getitem__(self, key: Any) -> Any:
        return key


@dataclass
class KernelSpec:
    """What `T.Kernel(...)` returns: the launch grid, opened by a `with` statement."""
    extents: tuple
    knobs: dict
    names: Any = None              # the `as` target's names, handed over by ctx_with

    def __enter__(self):
        return current("T.Kernel").open_kernel(self)

    def __exit__(self, kind, value, tb):
        if kind is None:
            current("T.Kernel").close_kernel()
        return False


BIN = {"Add": operator.iadd, "Sub": operator.isub, "Mult": operator.imul, "Div": operator.itruediv,
       "FloorDiv": operator.ifloordiv, "Mod": operator.imod}


class Builder(RunTimeIfs):
    """Collects the L0 of one kernel while its rewritten Python runs."""

    def __init__(self, file: str):
        self.file = file
        self.loc = Loc(file, 0, 0)
        self.frames: list[Frame] = []
        self.taken: set[str] = set()                    # params, buffers, block vars, lets
        self.attrs: dict[tuple[str, str], Loc] = {}     # (key, value) -> where first recorded
        self.loops: dict[int, bool] = {}                # lexical loop id -> is a kernel loop
        self.carrying: dict[int, dict[str, str]] = {}   # kernel loop id -> carried name -> its scalar
        self.bound: set[str] = set()                    # the Python names `x = ...` has bound
        self.grid: tuple[int, ...] | None = None
        self.block_vars: tuple[str, ...] = ()
        self.kernel_loc = NOLOC
        self.body: tuple | None = None
        self.launches: list[l0.Kernel] = []             # the T.Kernel blocks closed so far
        self.scratch: list[Buffer] = []                 # T.alloc_global tensors
        self.on_chip: set[str] = set()                  # on-chip buffers stored into
        self.shapes: dict[str, tuple[int, ...]] = {}    # on-chip buffers, by name
        self.index = Index()
        self.allocs = 0
        self.outer_loc = NOLOC
        self.at_close: list[Callable[[], None]] = []    # checks run when the launch closes
        self.selects: set[str] = set()                  # lets of names assigned in branches
        self.ranges: dict[str, tuple[int, int]] = {}    # block and loop variables open: least, greatest
        self.chosen: dict[int, set[str]] = {}           # kernel loop id -> names assigned only under ifs
        self.threads: Any = None                        # T.Kernel(threads=N)
        self.barriers: Any = None                       # role_fusion.Barriers of T.alloc_barrier
        self.thread_range: tuple[int, int] | None = None   # the threads of the open role (after tx)

    def __enter__(self) -> Builder:
        _ACTIVE.append(self)
        self.outer_loc, self.outer_lets = Tracing.loc, Tracing.lets
        Tracing.lets = {}
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.remove(self)
        Tracing.loc, Tracing.lets = self.outer_loc, self.outer_lets

    # ----- locations and statements -----
    def at(self, line: int, col: int) -> None:
        self.loc = Tracing.loc = Loc(self.file, line, col)

    def emit(self, stmt: Any, what: str) -> None:
        self.require_kernel(what)
        self.frames[-1].stmts.append(stmt)

    def require_kernel(self, what: str) -> None:
        if not self.frames:
            raise NanottError("NT110", f"{what} must be inside `with T.Kernel(...)`",
                              hint="a prim_func body holds one `with T.Kernel(...) as (bx, by):` "
                                   "and every operation goes inside it")

    def close(self, frame: Frame) -> tuple:
        assert self.frames[-1] is frame
        self.frames.pop()
        for s in frame.stmts:                   # a buffer that places its elements says how (blocked.py)
            if isinstance(s, Buffer) and (note := s.note()) is not None:
                self.record(f"{note[0]}.{s.label}", note[1])
        return tuple(l0.Alloc(s.label, s.shape, s.dtype, s.scope, loc=s.loc)
                     if isinstance(s, Buffer) else s for s in frame.stmts)

    # ----- names -----
    def live(self) -> set[str]:
        return self.taken.union(*(f.scope for f in self.frames))

    def unique(self, name: str) -> str:
        """`name`, or `name_1`, `name_2`, ... if a buffer or scalar in scope already has it."""
        live, k, out = self.live(), 0, name
        while out in live:
            k += 1
            out = f"{name}_{k}"
        return out

    def fresh(self, name: str) -> str:
        """A new name P0 itself introduces (a reduction's temporary), taken from now on."""
        out = self.unique(name)
        self.taken.add(out)
        return out

    def allocate(self, shape: tuple[int, ...], dtype: str, scope: str, kind: type | None = None) -> Buffer:
        """An on-chip buffer; `kind` a Buffer class that places its elements itself (blocked.py)."""
        if kind is None:
            buf = Buffer(None, shape, dtype, scope, namer=self._name_alloc, loc=self.loc)
        else:
            buf = kind(shape, dtype, scope, namer=self._name_alloc, loc=self.loc)
        self.emit(buf, f"T.alloc_{scope}")             # becomes an Alloc when its frame closes
        return buf

    def allocate_global(self, shape: tuple[int, ...], dtype: str) -> Buffer:
        """A scratch DRAM tensor (T.alloc_global): allocated outside any T.Kernel."""
        if self.frames:
            raise NanottError("NT304", "T.alloc_global inside a T.Kernel is not supported",
                              hint="allocate global scratch tensors before the first `with T.Kernel`")
        buf = Buffer(None, shape, dtype, "dram", namer=self._name_alloc, loc=self.loc)
        self.scratch.append(buf)
        return buf

    def _name_alloc(self, buf: Buffer) -> str:
        self.allocs += 1
        name = self.unique(f"{buf.scope}{self.allocs - 1}")
        self.taken.add(name)
        self.shapes[name] = buf.shape
        return name

    def record(self, key: str, value: Any) -> None:
        if value is not None:
            self.attrs.setdefault((key, knob_str(value)), self.loc)

    def record_knobs(self, prefix: str, knobs: dict) -> None:
        for k, v in knobs.items():
            self.record(prefix + k, v)

    # ----- hooks called by the rewritten kernel -----
    def bind(self, names: Any, value: Any, old: Callable[[], Any] | None = None) -> Any:
        """`x = v`: name an allocation, make a run-time value a let, pass Python values through;
        under an `if` on a run-time value, a let choosing v or the value before (`old`: branch_scalars.py)."""
        self.bound.update((names,) if isinstance(names, str) else names)
        if isinstance(names, tuple):
            if isinstance(value, (Sym, Buffer)):
                return value                            # let Python's unpacking report it
            values = tuple(value)
            if len(values) != len(names):
                return values
            return tuple(self.bind(n, v) for n, v in zip(names, values))
        if callable(getattr(type(value), "label_as", None)):                  # a barrier learns its name (warp_specialize.py)
            value.label_as(names)
            return value
        if isinstance(value, Buffer) and value.name is None:
            value.name = self.unique(names)
            self.taken.add(value.name)
            if value.on_chip:
                self.shapes[value.name] = value.shape
            return value
        if any(f.branch for f in self.frames) and not isinstance(value, Buffer):
            value, chosen = selected(value, old, [f.cond for f in self.frames if f.branch], self.loc)
            name = self.unique(names)
            self.emit(l0.Let(name, value, loc=self.loc), "a run-time if")
            self.taken.add(name)
            if chosen:
                self.selects.add(name)
            else:
                self.fixed(name, value)
            return Sym(l0.Var(name, loc=self.loc))
        if isinstance(value, Sym) and not (isinstance(value.expr, l0.Var) and value.expr.name == names):
            name = self.unique(names)
            self.emit(l0.Let(name, value.expr, loc=self.loc), "a run-time value")
            self.taken.add(name)
            self.fixed(name, value.expr)
            return Sym(l0.Var(name, loc=self.loc))
        return value

    def fixed(self, name: str, value: l0.Expr) -> None:
        """A let that never changes, of no carried scalar: slices may see through it (values.linear)."""
        carried = {v for scalars in self.carrying.values() for v in scalars.values() if v}
        if not any(isinstance(x, l0.Var) and x.name in carried for x in walk(value)):
            Tracing.lets[name] = value

    def annotate(self, name: str, ann: Any) -> Any:
        """`x: T.Tensor(...)` without a value: a tensor parameter of an eager kernel (eager.py)."""
        raise NanottError("NT304", f"the annotation of {name} without a value belongs to the eager "
                                   "style (a @tilelang.jit function that annotates its tensor "
                                   "parameters in its body)",
                          hint="in a @T.prim_func, annotate the parameters in the def line")

    def aug(self, name: str, old: Any, op: str, value: Any) -> Any:
        return self.bind(name, BIN[op](old, value), lambda: old)

    def store(self, target: Any, key: Any, value: Any) -> None:
        """`buf[i, j] = v` becomes a Store; any other subscript assignment runs as Python."""
        if not isinstance(target, Buffer):
            target[key] = value
            return
        items = key if isinstance(key, tuple) else (key,)
        if any(isinstance(i, slice) for i in items):
            raise NanottError("NT304", f"assigning to a slice of {target.label} is not supported "
                                       "by nanott yet", hint="use T.copy, T.fill, or a T.Parallel loop")
        if isinstance(value, Cond):
            raise NanottError("NT303", f"the condition {value} is stored into {target.label}, a "
                                       f"{target.dtype} buffer", hint="select a value with it: "
                                       "T.if_then_else(cond, 1.0, 0.0)")
        load = target[key]
        if target.on_chip:
            self.on_chip.add(target.label)
        self.emit(l0.Store(target.label, load.expr.indices, to_expr(value), loc=self.loc), "a store")

    def aug_store(self, target: Any, key: Any, op: str, value: Any) -> None:
        if not isinstance(target, Buffer):
            target[key] = BIN[op](target[key], value)
            return
        self.store(target, key, BIN[op](target[key], value))

    @staticmethod
    def both(a: Any, rest: Callable[[], Any]) -> Any:
        """`a and b`: a condition's `&` when either side is one, else Python's `and`."""
        if getattr(type(a), "threads_only", False):          # a condition on tx (thread_roles.py)
            return a & rest()
        if isinstance(a, Cond):
            return a & as_cond(rest())
        return a and rest()

    @staticmethod
    def either(a: Any, rest: Callable[[], Any]) -> Any:
        """`a or b`: a condition's `|` when either side is one, else Python's `or`."""
        if isinstance(a, Cond):
            return a | as_cond(rest())
        return a or rest()

    @staticmethod
    def negate(a: Any) -> Any:
        return ~a if isinstance(a, Cond) else not a

    def ctx_with(self, manager: Any, names: Any) -> Any:
        if isinstance(manager, KernelSpec):
            manager.names = names
        return manager

    def ctx_break(self, loop_id: int) -> None:
        if self.loops.get(loop_id):
            raise NanottError("NT304", "break and continue in a kernel loop are not supported by "
                                       "nanott yet", hint="kernel loops run every iteration")

    def serial(self, start: Any, stop: Any = None, step: Any = None) -> LoopSpec:
        """`range(...)` in a kernel: a serial loop, as in TileLang."""
        extents, first = loop_range("range", start, stop, step)
        return LoopSpec("serial", extents, 0, first)

    def ctx_for(self, it: Any, names: Any, loop_id: int, carried: tuple[str, ...] = (),
                chosen: tuple[str, ...] = ()) -> Iterator:
        """A kernel loop's frame; `carried` names carry values across its iterations, `chosen` ones
        only by assignments under an `if` (rewrite.carried)."""
        self.loops[loop_id] = isinstance(it, LoopSpec)
        self.chosen[loop_id] = set(chosen)
        if isinstance(it, LoopSpec):
            state = [n for n in carried if n in self.bound]
            if state and it.kind == "parallel":
                raise NanottError("NT301", f"{state[0]} carries a value from one iteration of this T.Parallel "
                                  "to the next; its iterations run at once", hint="keep running values in a "
                                  "fragment and reduce it (T.reduce_sum), or use a T.serial loop")
            self.carrying[loop_id] = dict.fromkeys(state, "")
            return self._loop(it, names)
        return iter(it)                               # a Python iterable: unrolled as Python

    def carry_in(self, loop_id: int, names: tuple, thunks: tuple) -> tuple:
        """First in the body of a kernel loop that carries names: each becomes a scalar, declared
        before the loop by a let of its value there, which the body reads (Python loops: as they are)."""
        values = tuple(map(value_of, thunks))
        scalars = self.carrying.get(loop_id)
        if scalars is None:
            return values
        out = []
        for name, v in zip(names, values):
            if name not in scalars:
                out.append(v)
                continue
            if isinstance(v, Unassigned) and v.value is None:
                v = unset(v, name in self.chosen[loop_id])
            v = as_value(v)
            if not isinstance(v, (int, float, Sym)):
                raise NanottError("NT301", f"{name} carries a {type(v).__name__} from one iteration of this "
                                  "kernel loop to the next; only a scalar (a T.alloc_var) can be carried",
                                  hint="keep running values in a fragment updated in a T.Parallel")
            scalars[name] = var = self.unique(name)
            self.taken.add(var)
            self.frames[-2].stmts.append(l0.Let(var, to_expr(v), loc=self.loc))
            out.append(Sym(l0.Var(var, loc=self.loc)))
        return tuple(out)

    def carry_out(self, loop_id: int, names: tuple, thunks: tuple) -> None:
        """Last in the body: each carried scalar takes the value its name holds now (a let update)."""
        for name, v in zip(names, map(value_of, thunks)):
            var = self.carrying.get(loop_id, {}).get(name)
            if var and not (isinstance(v, Sym) and v.expr == l0.Var(var)):
                self.emit(l0.Let(var, to_expr(v), update=True, loc=self.loc), "a carried scalar")

    def carry_after(self, loop_id: int, names: tuple, thunks: tuple) -> tuple:
        """After the loop, a carried name is its scalar."""
        scalars = self.carrying.get(loop_id, {})
        return tuple(Sym(l0.Var(scalars[n], loc=self.loc)) if scalars.get(n) else value_of(v)
                     for n, v in zip(names, thunks))

    def _loop(self, spec: LoopSpec, names: Any) -> Iterator:
        what = f"T.{'Parallel' if spec.kind == 'parallel' else spec.kind}"
        self.require_kernel(what)
        n = len(spec.extents)
        if isinstance(names, tuple) and len(names) != n:
            raise NanottError("NT104", f"{what} has {n} extents but the loop names {len(names)} "
                                       "variables", hint="name one variable per extent: "
                                                         "`for i, j in T.Parallel(M, N)`")
        base = names if isinstance(names, (str, tuple)) else "i"
        wanted = base if isinstance(base, tuple) else (base,) if n == 1 else \
            tuple(f"{base}{k}" for k in range(n))
        loc, frame = self.loc, Frame(parallel=spec.kind == "parallel")
        vars_ = tuple(self.unique(str(v)) for v in wanted)
        frame.scope.update(vars_)
        self.frames.append(frame)
        syms = tuple(Sym(l0.Var(v, loc=loc)) for v in vars_)
        self.ranges.update((v, (0, n - 1)) for v, n in zip(vars_, spec.extents)
                           if isinstance(n, int) and n > 0)
        if not isinstance(spec.start, int) or spec.start:
            first = spec.start if not isinstance(spec.start, int) else l0.Const(spec.start, "int32", loc=loc)
            syms = tuple(Sym(l0.BinOp("+", s.expr, first, loc=loc)) for s in syms)
        yield syms if isinstance(names, tuple) or n > 1 else syms[0]
        body = self.close(frame)
        for v in vars_:
            self.ranges.pop(v, None)
        if spec.kind == "parallel":
            for s in split_reductions(l0.Parallel(vars_, spec.extents, body, loc=loc), self.on_chip, self.fresh):
                for t in masked_selects(s, self.fresh, self.shapes) if isinstance(s, l0.Parallel) else (s,):
                    self.emit(t, what)
        else:
            n = spec.extents[0]
            extent = l0.Const(n, "int32", loc=loc) if isinstance(n, int) else n
            if reads(extent):               # `T.serial(Counts[bx])`: a let the reader reads (D1 sends it on)
                self.emit(l0.Let(bound := self.fresh(f"{vars_[0]}_extent"), extent, loc=loc), what)
                extent = l0.Var(bound, loc=loc)
            self.emit(l0.For(vars_[0], extent, spec.kind, spec.num_stages, body, loc=loc), what)

    def roles_on(self) -> None:
        """`tx = T.get_thread_binding()`: from now on barrier operations are scheduled (role_fusion.py)."""
        if self.thread_range is None:
            self.thread_range = (0, self.threads)
            self.tx_name = self.fresh("tx")
        if self.barriers is None:
            self.barriers = Barriers(self.threads)

    def in_role(self) -> bool:
        return any(f.role is not None for f in self.frames)

    # ----- the kernel -----
    def open_kernel(self, spec: KernelSpec) -> Any:
        if self.frames:
            raise NanottError("NT304", "a T.Kernel inside another T.Kernel is not supported",
                              hint="launches run one after another: close one `with T.Kernel` "
                                   "before opening the next")
        if not 1 <= len(spec.extents) <= 3:
            raise NanottError("NT104", f"T.Kernel takes 1 to 3 grid extents, got {len(spec.extents)}")
        self.grid = tuple(fold_int(e, "a T.Kernel grid extent") for e in spec.extents)
        if any(g <= 0 for g in self.grid):
            raise NanottError("NT102", f"T.Kernel grid extents must be positive, got {self.grid}")
        n, names = len(self.grid), spec.names
        if not (isinstance(names, tuple) and len(names) == n) and not (isinstance(names, str) and n == 1):
            names = ("bx", "by", "bz")[:n]
        names = names if isinstance(names, tuple) else (names,)
        self.block_vars = tuple(self.unique(v) for v in names)
        self.ranges = Tracing.ranges = {v: (0, g - 1) for v, g in zip(self.block_vars, self.grid)}
        self.taken.update(self.block_vars)
        self.kernel_loc = self.loc
        self.threads, self.barriers, self.thread_range = spec.knobs.get("threads"), None, None
        self.record_knobs("", spec.knobs)
        self.frames.append(Frame())
        syms = tuple(Sym(l0.Var(v, loc=self.loc)) for v in self.block_vars)
        return syms if n > 1 else syms[0]

    def sync_grid(self) -> None:
        """`T.sync_grid()`: a launch boundary at the kernel's top level (grid_sync.py), NT304 elsewhere."""
        self.require_kernel("T.sync_grid")
        if len(self.frames) > 1:
            raise NanottError("NT304", "T.sync_grid inside a kernel loop or an if on a run-time value is not "
                                       "supported: nanott lowers the grid barrier to the end of a launch",
                              hint="call T.sync_grid() at the top level of the T.Kernel body, between "
                                   "the loop that writes DRAM and the loop that reads it back")
        self.frames[0].stmts.append(GridSync(self.loc))

    def close_kernel(self) -> None:
        """End one launch: its statements, grid and knobs become a kernel (several, cut at its
        T.sync_grid calls); its block variables go out of scope (the next launch may name its own bx)."""
        for check in self.at_close:
            check()
        self.at_close = []
        self.body = self.close(self.frames[0])
        phases = split_phases(self.body) if any(isinstance(s, GridSync) for s in self.body) else [self.body]
        for k, body in enumerate(phases):
            sync = (l0.Attr("sync_grid", f"launch {k + 1} of {len(phases)}", loc=self.kernel_loc),) \
                if len(phases) > 1 else ()
            attrs = tuple(sorted((*sync, *(l0.Attr(key, v, loc=loc) for (key, v), loc in self.attrs.items())),
                                 key=lambda a: (a.key, a.value)))
            self.launches.append(l0.Kernel("", (), self.grid, self.block_vars, body, attrs, loc=self.kernel_loc))
        self.taken.difference_update(self.block_vars)
        self.attrs = {}

    def finish(self, name: str, params: tuple[l0.Tensor, ...]) -> l0.Kernel:
        if self.body is None or self.grid is None:
            raise NanottError("NT110", f"prim_func {name} has no `with T.Kernel(...)` block",
                              self.loc if self.loc.line else NOLOC,
                              hint="open the launch grid: `with T.Kernel(gx, gy, threads=128) as (bx, by):`")
        if len(self.launches) == 1 and not self.scratch:
            return replace(self.launches[0], name=name, params=params)
        scratch = tuple(l0.Tensor(b.label, b.shape, b.dtype, loc=b.loc) for b in self.scratch)
        launches = tuple(replace(k, name=f"{name}_{i}", params=used_tensors(k, (*params, *scratch)))
                         for i, k in enumerate(self.launches))
        return l0.Launches(name, params, scratch, launches, loc=self.launches[0].loc)


def used_tensors(kernel: l0.Kernel, tensors: tuple[l0.Tensor, ...]) -> tuple[l0.Tensor, ...]:
    """The tensors (program parameters, then scratch) a launch names, in that order: its parameters."""
    named = {n for x in walk(kernel.body) for n in l0.buffer_names(x)}
    return tuple(t for t in tensors if t.name in named)
