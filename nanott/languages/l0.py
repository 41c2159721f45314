"""L0: the grid kernel, as the user wrote it (produced by P0 parse).

  Program ::= Kernel | Launches(name, params: Tensor*, scratch: Tensor*, launches: Kernel*)
  Kernel  ::= Kernel(name, params: Tensor*, grid: int*, block_vars: str*, body: Stmt*, attrs: Attr*)
  Tensor  ::= Tensor(name, shape: int*, dtype)                    a DRAM tensor parameter
  Attr    ::= Attr(key, value: str)                               a recorded CUDA-only knob
  Stmt    ::= Alloc(name, shape: int*, dtype, scope)              scope: shared | fragment
            | Copy(src: Region, dst: Region)                      T.copy, extents made explicit
            | AtomicAdd(src: Region, dst: Region)                 T.atomic_add: dst += src, a block
                                                                  added into a DRAM region
            | Gemm(a, b, c: str, transpose_a, transpose_b, clear_accum: bool)   c (+)= op(a) @ op(b)
            | Fill(buffer: str, value: Expr)                      T.fill, T.clear
            | Reduce(op, src, dst: str, dim: int, clear: bool)    T.reduce_<op>: dst (op)= reduce of
                                                                  src along dim (0 or 1); op: sum | max | min | absmax
            | For(var, extent: Expr, kind, num_stages: int, body: Stmt*)   kind: serial | pipelined
            | Parallel(vars: str*, extents: int*, body: Stmt*)    T.Parallel, an elementwise nest
            | Store(buffer: str, indices: Expr*, value: Expr)     buffer[indices] = value
            | AtomicStore(buffer: str, indices: Expr*, value: Expr)   T.atomic_add(C[i, j], v) in a
                                                                  T.Parallel: buffer[indices] += value
            | Let(var, value: Expr, update: bool)                 a named scalar; an update gives a
                                                                  scalar an earlier let declared a new
                                                                  value (a T.alloc_var a kernel loop
                                                                  carries from one iteration to the next)
            | Print(msg: str, value: Expr)                        T.print: an int or float scalar, printed
                                                                  with the level, core and kernel that ran it
            | PrintBuffer(msg: str, buffer: str)                  T.print of an on-chip 2-D buffer of whole
                                                                  32x32 tiles: every 8th row and column of
                                                                  each tile (nanott/languages/printed.py)
  Region  ::= Region(buffer: str, starts: Expr*, extents: int*)
  Expr    ::= Const(value: int | float, dtype) | Var(name) | BinOp(op, lhs: Expr, rhs: Expr)
            | Load(buffer: str, indices: Expr*) | Cast(dtype, value: Expr)
            | UnOp(op: unop, value: Expr)                         T.exp(x), -x, ...
            | Select(cond: Expr, then: Expr, other: Expr)         T.if_then_else(cond, then, other)
  op      ::= + | - | * | / | // | % | min | max                  T.max(a, b), T.min(a, b)
            | < | <= | > | >= | == | != | and | or                conditions: a bool, never stored
  unop    ::= neg | exp | exp2 | log | log2 | sqrt | rsqrt | abs | sigmoid | tanh

Delta: L0 is the first language. A prim_func with several `T.Kernel` blocks is a Launches: its
launches run in order, on DRAM they share (nanott/ir.py; every language holds it around its own root).
All sizes are Python ints folded by P0; only block indices, loop
variables and lets stay symbolic. A 1-D on-chip buffer is a vector (a reduction's result, or a row
or column to broadcast: `s[i]`, `w[j]` in a 2-D T.Parallel). Elementwise arithmetic (the operators,
T.max/T.min and the unary functions) is evaluated in float32 and rounded to the dtype of the buffer
stored into; a Cast (T.cast, T.Cast, x.astype, T.bfloat16(x)) rounds to its dtype where it stands,
mid-expression. An AtomicAdd adds in float32 and rounds to the destination's dtype, one grid block
after another in grid order (so split-K's slices add into a block in the order of their index); an
AtomicStore is its element form, each element of a DRAM tensor added to once per block (P0b makes it
an AtomicAdd of a fragment).
A condition (a comparison, `&`, `|`) is a bool that only a Select reads: T.if_then_else(c, a, b) is a
where c holds and b elsewhere (TileLang's causal mask: `T.if_then_else(bx * bm + i >= k * bn + j, 0,
-T.infinity(...))`). A loop's extent may depend on block indices (causal attention's loop stops at
the diagonal block): it is evaluated when the loop starts.
"""
from __future__ import annotations

import json
import sys

from nanott.ir import Language, Launches, children, node, walk  # noqa: F401
from nanott.printing import num, seq, shape, stmt_lines
from nanott.terminals import DTYPES, REDUCE_OPS, UNOPS  # noqa: F401  (re-exported)


# ----- expressions -----
@node
class Const:
    value: int | float
    dtype: DType

    def __str__(self):
        return num(self.value)


@node
class Var:
    name: str

    def __str__(self):
        return self.name


@node
class BinOp:
    op: BinOpName
    lhs: Expr
    rhs: Expr

    def __str__(self):
        if self.op in ("min", "max"):
            return f"{self.op}({self.lhs}, {self.rhs})"
        return f"({self.lhs} {self.op} {self.rhs})"


@node
class Load:
    buffer: str
    indices: tuple[Expr, ...]

    def __str__(self):
        return f"{self.buffer}[{seq(self.indices)}]"


@node
class Cast:
    dtype: DType
    value: Expr

    def __str__(self):
        return f"cast<{self.dtype}>({self.value})"


@node
class UnOp:
    op: UnOpName
    value: Expr

    def __str__(self):
        return f"(-{self.value})" if self.op == "neg" else f"{self.op}({self.value})"


@node
class Select:
    cond: Expr
    then: Expr
    other: Expr

    def __str__(self):
        return f"if_then_else({self.cond}, {self.then}, {self.other})"


CONDITIONS = ("<", "<=", ">", ">=", "==", "!=", "and", "or")
Expr = Const | Var | BinOp | Load | Cast | UnOp | Select



# ----- statements -----
@node
class Region:
    buffer: str
    starts: tuple[Expr, ...]
    extents: tuple[int, ...]

    def __str__(self):
        if all(isinstance(s, Const) and s.value == 0 for s in self.starts):
            return f"{self.buffer}[{shape(self.extents)}]"
        return f"{self.buffer}[{seq(self.starts)} +{shape(self.extents)}]"


@node
class Alloc:
    name: str
    shape: tuple[int, ...]
    dtype: DType
    scope: Scope

    def head(self):
        return f"{self.name} = alloc_{self.scope}({shape(self.shape)}, {self.dtype})"


@node
class Copy:
    src: Region
    dst: Region

    def head(self):
        return f"copy {self.src} -> {self.dst}"


@node
class AtomicAdd:
    src: Region
    dst: Region

    def head(self):
        return f"atomic_add {self.dst} += {self.src}"


@node
class Gemm:
    a: str
    b: str
    c: str
    transpose_a: bool
    transpose_b: bool
    clear_accum: bool

    def head(self):
        a = f"{self.a}^T" if self.transpose_a else self.a
        b = f"{self.b}^T" if self.transpose_b else self.b
        return f"gemm {self.c} {'=' if self.clear_accum else '+='} {a} @ {b}"


@node
class Fill:
    buffer: str
    value: Expr

    def head(self):
        return f"fill {self.buffer} = {self.value}"


@node
class Reduce:
    op: ReduceOp
    src: str
    dst: str
    dim: ReduceAxis
    clear: bool

    def head(self):
        how = "" if self.clear else ", accumulating"
        return f"reduce_{self.op} {self.src} -> {self.dst}, dim {self.dim}{how}"


@node
class For:
    var: str
    extent: Expr
    kind: LoopKind
    num_stages: int
    body: tuple[Stmt, ...]

    def head(self):
        how = {"pipelined": f"  (pipelined, {self.num_stages} stages)",
               "persistent": "  (persistent)",
               "split": "  (split-K: the slices of this block, summed on this core)"}.get(self.kind, "")
        return f"for {self.var} in 0..{self.extent}:{how}"


@node
class Parallel:
    vars: tuple[str, ...]
    extents: tuple[int, ...]
    body: tuple[Stmt, ...]

    def head(self):
        return f"parallel ({seq(self.vars)}) in {shape(self.extents)}:"


@node
class Store:
    buffer: str
    indices: tuple[Expr, ...]
    value: Expr

    def head(self):
        return f"{self.buffer}[{seq(self.indices)}] = {self.value}"


@node
class AtomicStore:
    buffer: str
    indices: tuple[Expr, ...]
    value: Expr

    def head(self):
        return f"atomic_add {self.buffer}[{seq(self.indices)}] += {self.value}"


@node
class Let:
    var: str
    value: Expr
    update: bool = False

    def head(self):
        return f"{'set' if self.update else 'let'} {self.var} = {self.value}"


@node
class Print:
    msg: str
    value: Expr

    def head(self):
        return f"print {json.dumps(self.msg)}, {self.value}" if self.msg else f"print {self.value}"

    def label(self) -> str:
        """What the printed line names: the message, or else the expression's text."""
        return self.msg or str(self.value)


@node
class PrintBuffer:
    msg: str
    buffer: str

    def head(self):
        return f"print {json.dumps(self.msg)}, {self.buffer}" if self.msg else f"print {self.buffer}"

    def label(self) -> str:
        """What the printed lines name: the message, or else the buffer."""
        return self.msg or self.buffer


Stmt = (Alloc | Copy | AtomicAdd | Gemm | Fill | Reduce | For | Parallel | Store | AtomicStore | Let | Print
        | PrintBuffer)


@node
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: DType

    def __str__(self):
        return f"{self.name}: {self.dtype}[{shape(self.shape)}]"


@node
class Attr:
    key: str
    value: str


@node
class Kernel:
    name: str
    params: tuple[Tensor, ...]
    grid: tuple[int, ...]
    block_vars: tuple[str, ...]
    body: tuple[Stmt, ...]
    attrs: tuple[Attr, ...]

    def lines(self):
        attrs = "".join(f", {a.key}={a.value}" for a in self.attrs)
        return (param_lines(self) + [f"  grid ({seq(self.block_vars)}) in {shape(self.grid)}{attrs}"]
                + stmt_lines(self.body))


def param_lines(k) -> list[str]:
    """The header of every level: the signature, then a line per tensor once it has a layout."""
    return [f"kernel {k.name}({seq(k.params)}):"] + [
        f"  tensor {p.describe()}" for p in k.params if hasattr(p, "describe")]


def buffers_defined_before_use(k) -> str | None:
    """L0's invariant: every buffer an op names is a parameter or allocated before it is used."""
    known = {p.name for p in k.params}

    def visit(stmts) -> str | None:
        for s in stmts:
            if type(s).__name__ == "Alloc":      # L0's Alloc or a later level's reshaped one
                known.add(s.name)
            for x in walk(tuple(v for f, v in children(s) if f != "body")):   # nested bodies: below
                for name in buffer_names(x):
                    if name not in known:
                        return f"{type(x).__name__} names {name!r}, which is neither a parameter nor allocated"
            body = getattr(s, "body", None)
            if isinstance(body, tuple) and (problem := visit(body)):
                return problem
        return None

    return visit(k.body)


def buffer_names(x) -> tuple[str, ...]:
    if isinstance(x, Gemm):
        return (x.a, x.b, x.c)
    if isinstance(x, Reduce):
        return (x.src, x.dst)
    if isinstance(x, (Region, Load, Store, AtomicStore, Fill, PrintBuffer)):
        return (x.buffer,)
    return ()


LANG = Language("L0", sys.modules[__name__], Kernel, None,
                {"Stmt": Stmt, "Expr": Expr}, invariants=buffers_defined_before_use)
