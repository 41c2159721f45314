"""The values a kernel's Python sees while P0 traces it.

Python ints and floats stay Python values and fold wherever they are used. Only what is known when
the kernel *runs* is symbolic: block indices, loop variables, lets and loads. Those are `Sym`s,
which wrap an L0 expression and build bigger ones through Python's operators. Buffers (DRAM tensor
parameters and on-chip allocations) are `Buffer`s; indexing one gives a `Load` (all indices scalar,
also the start-index form of `T.copy`) or a `Slice` (some index is a slice).

Errors raised here carry no location: the parser fills in the line of the statement being traced.
"""
from __future__ import annotations

import numbers
import operator
from dataclasses import dataclass
from typing import Any, Callable

from nanott.diagnostics import NanottError
from nanott.dtypes import LOWERED, canonical
from nanott.ir import NOLOC, Loc, walk
from nanott.languages import l0

SUPPORTED_DTYPES = tuple(LOWERED)
PYTHON_TYPES = {int: "int32", float: "float32", bool: "bool"}      # TileLang's dtype(int), ...


class Tracing:
    """The statement being traced (kept current by the Builder): the location new nodes get."""
    loc: Loc = NOLOC
    element_dtypes: dict[str, str] = {}      # a loaded buffer's dtype, by its L0 name (bit operations ask)
    lets: dict[str, l0.Expr] = {}            # the kernel's lets that never change, by name: their values
    ranges: dict[str, tuple[int, int]] = {}  # the open block and loop variables: least, greatest


def const(value: int | float) -> l0.Const:
    """An int32 or float32 constant made by the statement being traced."""
    if isinstance(value, numbers.Integral):
        return l0.Const(int(value), "int32", loc=Tracing.loc)
    return l0.Const(float(value), "float32", loc=Tracing.loc)


class dtype(str):
    """A dtype name (`T.float32 == "float32"`). Calling it makes a constant or a cast.

    `T.dtype(x)` is also TileLang's dtype constructor: it names x's dtype as TileLang displays it,
    whether x is a name (`"uint"` -> uint32, `"float"` -> float32), a dtype, a torch or NumPy dtype,
    or the Python types int, float and bool (TileLang's tilelang/language/dtypes.py)."""

    def __new__(cls, value: Any = "float32") -> dtype:
        if isinstance(value, type):
            value = PYTHON_TYPES.get(value) or getattr(value, "__name__", value)
        return super().__new__(cls, canonical(getattr(value, "name", None) if hasattr(value, "kind")
                                              and hasattr(value, "itemsize") else value))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Sym):
            return Sym(l0.Cast(normalize_dtype(self), value.expr, loc=Tracing.loc))
        return float(value) if "float" in self else int(value)


def normalize_dtype(d: Any) -> str:
    """The L0 name of a dtype ("float" -> "float32"); NT101 unless nanott supports it."""
    name = canonical(d)
    if name not in SUPPORTED_DTYPES:
        raise NanottError("NT101", f"dtype {name} is not supported by nanott",
                          hint=f"supported dtypes: {', '.join(SUPPORTED_DTYPES)} (\"float\" means "
                               "float32, \"half\" float16); their Tensix formats: " +
                               ", ".join(f"{d} {LOWERED[d].format}" for d in SUPPORTED_DTYPES))
    return name


def fold_int(x: Any, what: str) -> int:
    """A size (shape, grid or loop extent) as a Python int; NT102 if it is only known at run time."""
    if isinstance(x, Sym) and isinstance(x.expr, l0.Const) and isinstance(x.expr.value, int):
        return x.expr.value
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return int(x)
    shown = x.expr if isinstance(x, Sym) else repr(x)
    raise NanottError("NT102", f"{what} must be an int known when the kernel is parsed, got {shown}",
                      hint="sizes come from Python values (module constants, factory arguments); "
                           "block indices and loop variables are only known when the kernel runs")


def to_expr(x: Any) -> Any:
    """The L0 expression of a kernel value: ints are int32 constants, floats float32 constants."""
    if isinstance(x, Sym):
        return x.expr
    if isinstance(x, Unassigned):
        return to_expr(x + 0)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return const(x)
    if isinstance(x, Cond):
        return l0.BinOp(x.op, to_expr(x.lhs), to_expr(x.rhs), loc=Tracing.loc)
    if isinstance(x, Buffer):
        raise NanottError("NT104", f"buffer {x.label} is used as a value",
                          hint=f"index it to read one element: {x.label}[i, j]")
    if callable(getattr(type(x), "per_thread", None)):                  # tx in a value (thread_roles.py)
        return x.per_thread().expr
    raise NanottError("NT104", f"a {type(x).__name__} ({x!r:.40}) cannot be used in a kernel expression")


class Sym:
    """A value known only when the kernel runs; arithmetic on it builds L0 BinOps."""

    def __init__(self, expr: Any):
        self.expr = expr

    def __repr__(self) -> str:
        return str(self.expr)

    def __add__(self, o): return binop("+", self, o)
    def __radd__(self, o): return binop("+", o, self)
    def __sub__(self, o): return binop("-", self, o)
    def __rsub__(self, o): return binop("-", o, self)
    def __mul__(self, o): return binop("*", self, o)
    def __rmul__(self, o): return binop("*", o, self)
    def __truediv__(self, o): return binop("/", self, o)
    def __rtruediv__(self, o): return binop("/", o, self)
    def __floordiv__(self, o): return binop("//", self, o)
    def __rfloordiv__(self, o): return binop("//", o, self)
    def __mod__(self, o): return binop("%", self, o)
    def __rmod__(self, o): return binop("%", o, self)
    def __rshift__(self, o): return bits(">>", self, o)
    def __rrshift__(self, o): return bits(">>", o, self)
    def __lshift__(self, o): return bits("<<", self, o)
    def __rlshift__(self, o): return bits("<<", o, self)
    def __and__(self, o): return NotImplemented if isinstance(o, Cond) else bits("&", self, o)
    def __rand__(self, o): return NotImplemented if isinstance(o, Cond) else bits("&", o, self)
    def __or__(self, o): return NotImplemented if isinstance(o, Cond) else bits("|", self, o)
    def __ror__(self, o): return NotImplemented if isinstance(o, Cond) else bits("|", o, self)
    def __xor__(self, o): return bits("^", self, o)
    def __rxor__(self, o): return bits("^", o, self)
    def __invert__(self): return bits("^", self, -1)           # ~x is x ^ -1 for every int
    def __neg__(self): return Sym(l0.UnOp("neg", self.expr, loc=Tracing.loc)) if is_float(self.expr) \
        else binop("*", -1, self)
    def __pos__(self): return self
    def __abs__(self): return Sym(l0.UnOp("abs", self.expr, loc=Tracing.loc))

    def astype(self, dtype: Any) -> Sym:
        """`x.astype(dtype)`: the value rounded to dtype (as T.cast)."""
        if canonical(dtype) in NARROW_INTS:
            return narrow_int(canonical(dtype), self)
        return Sym(l0.Cast(normalize_dtype(dtype), self.expr, loc=Tracing.loc))

    def __lt__(self, o): return Cond("<", self, o)
    def __le__(self, o): return Cond("<=", self, o)
    def __gt__(self, o): return Cond(">", self, o)
    def __ge__(self, o): return Cond(">=", self, o)
    def __eq__(self, o): return Cond("==", self, o)       # type: ignore[override]
    def __ne__(self, o): return Cond("!=", self, o)       # type: ignore[override]
    __hash__ = None                                        # type: ignore[assignment]

    def __bool__(self):
        raise symbolic_condition(self)

    def __index__(self):
        raise NanottError("NT102", f"{self.expr} is only known when the kernel runs, but Python "
                                   "needs an int here", hint="use Python values for sizes and ranges")


FOLD: dict[str, Callable] = {"+": operator.add, "-": operator.sub, "*": operator.mul,
                             "//": operator.floordiv, "%": operator.mod, "min": min, "max": max,
                             "&": operator.and_, "|": operator.or_, "^": operator.xor,
                             "<<": operator.lshift, ">>": operator.rshift}


def bits(op: str, a: Any, b: Any) -> Sym:
    """`>>`, `<<`, `&`, `|`, `^` (and `~x`, x ^ -1) of integers: block indices, loop variables,
    lets (a barrier's parity, `(ko // 2) % 2 ^ 1`), with Python's meaning (>> of a negative floors),
    and elements of integer buffers (int4 weights unpacked from bytes: `(B[i, j // 2] >> 4) & 0xF`),
    which every level computes on int32, as the SFPU's integer ops do. A float operand (an element of
    a float buffer, a float constant, a function, a cast to a float dtype) is NT301."""
    for x in (a, b):
        float_part = next((y for y in walk(to_expr(x)) if not is_integer(y)), None)
        if float_part is not None:
            raise NanottError("NT301", f"the bit operation {op} on a float ({float_part}: a buffer's elements "
                              "of a float dtype, a float constant or a function) is not supported by nanott",
                              Tracing.loc, hint="bit operations apply to integers: indices, loop variables, "
                              "lets and elements of integer buffers (int8, uint8, int32); cast a float "
                              "with T.Cast(\"int32\", x) first")
    return binop(op, a, b)


NARROW_INTS = ("uint16", "int16")        # integer dtypes of a value, never of a buffer: no tile format


def narrow_int(name: str, x: Any) -> Sym:
    """An integer value cast to a 16-bit integer dtype (TileLang's fp4 decoders build bit patterns
    in uint16): its low 16 bits, x & 0xFFFF, read as two's complement for int16 (((x & 0xFFFF) ^
    0x8000) - 0x8000), computed on int32 like every integer (bits). No buffer holds a 16-bit integer
    (Tensix tiles have no such format), so the dtype exists only inside expressions; a float
    value is NT101 (C's conversion of a float to a narrow integer is not an integer op)."""
    if any(not is_integer(y) for y in walk(to_expr(x))):
        raise NanottError("NT101", f"a float value cast to {name} is not supported by nanott ({name} is "
                                   "an integer dtype of expressions only: Tensix tiles have no 16-bit integer "
                                   "format)", Tracing.loc, hint="cast to int32 first: T.Cast(\"int32\", x)")
    low = bits("&", x, 0xFFFF)
    return low if name == "uint16" else binop("-", bits("^", low, 0x8000), 0x8000)


def is_integer(e: Any) -> bool:
    """Whether one node of an expression keeps it an integer: an int constant, a variable (an
    index), an element of an integer buffer, a cast to an integer dtype, or an operator."""
    match e:
        case l0.Const(_, dtype):
            return LOWERED[dtype].kind == "int" if dtype in LOWERED else dtype.startswith(("int", "uint"))
        case l0.Load(buffer, _):
            return Tracing.element_dtypes.get(buffer, "float32") in INT_DTYPES
        case l0.Cast(dtype, _):
            return dtype in INT_DTYPES
        case l0.UnOp() | l0.Select():
            return False
    return True


INT_DTYPES = tuple(d.name for d in LOWERED.values() if d.kind == "int")


def is_float(e: Any) -> bool:
    """Whether an expression is a float value (it loads data, or has a float constant, a cast or
    a function in it), as opposed to an int index: `-x` negates a float, and scales an index by -1."""
    return any(isinstance(x, (l0.Load, l0.UnOp, l0.Cast)) or isinstance(x, l0.Const) and x.dtype != "int32"
               for x in walk(e))


def binop(op: str, a: Any, b: Any) -> Sym:
    lhs, rhs = to_expr(a), to_expr(b)
    if (isinstance(lhs, l0.Const) and isinstance(rhs, l0.Const) and op in FOLD
            and lhs.dtype == rhs.dtype == "int32"):
        return Sym(const(FOLD[op](lhs.value, rhs.value)))
    if op == "+" and (x := recombined(lhs, rhs) or recombined(rhs, lhs)) is not None:
        return Sym(x)
    return Sym(l0.BinOp(op, lhs, rhs, loc=Tracing.loc))


def recombined(quot: l0.Expr, rem: l0.Expr) -> l0.Expr | None:
    """x when quot is (x // c) * c and rem is x % c, c a positive int and x an index (loop and block
    variables, lets and int constants under + - * // %): floor division and modulo recombine to x
    for every int x (a 4-D tile-order index read back: blocked.py). Never for a loaded value, which
    may be a float."""
    match quot, rem:
        case (l0.BinOp("*", l0.BinOp("//", x, l0.Const(c, "int32")), l0.Const(c2, "int32")),
              l0.BinOp("%", x2, l0.Const(c3, "int32"))) if c == c2 == c3 and c > 0 and x == x2 and index(x):
            return x
    return None


def index(e: l0.Expr) -> bool:
    """e is integer index arithmetic: variables and int constants under + - * // %."""
    return all(isinstance(n, l0.Var) or isinstance(n, l0.Const) and n.dtype == "int32"
               or isinstance(n, l0.BinOp) and n.op in ("+", "-", "*", "//", "%") for n in walk(e))


NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass
class Cond:
    """A condition on run-time values (a comparison, or `&` / `|` / `~` of conditions): the first
    operand of T.if_then_else. An `if` on one is NT302."""
    op: str
    lhs: Any
    rhs: Any

    def __str__(self) -> str:
        return f"{to_expr(self.lhs)} {self.op} {to_expr(self.rhs)}"

    def __and__(self, o): return Cond("and", self, o)
    def __rand__(self, o): return Cond("and", o, self)
    def __or__(self, o): return Cond("or", self, o)
    def __ror__(self, o): return Cond("or", o, self)

    def __invert__(self) -> Cond:
        if self.op in NEGATED:
            return Cond(NEGATED[self.op], self.lhs, self.rhs)
        other = "or" if self.op == "and" else "and"          # De Morgan
        return Cond(other, ~as_cond(self.lhs), ~as_cond(self.rhs))

    def __bool__(self):
        raise symbolic_condition(self)


def as_cond(x: Any) -> Cond:
    """A condition, or a Python bool as the comparison that folds to it."""
    return x if isinstance(x, Cond) else Cond("!=" if x else "==", 1, 0)


def symbolic_condition(c: Any) -> NanottError:
    return NanottError("NT302", f"a condition on a value known only at run time ({c}) is not "
                                "supported by nanott yet",
                       hint="`if` on Python values (sizes, flags) is decided when the kernel is "
                            "parsed; `if` on block indices, loop variables or loaded data has no "
                            "L0 form yet")


class Buffer:
    """A buffer the kernel names: a DRAM tensor parameter (scope "dram") or an on-chip allocation
    (scope "shared" or "fragment"). An allocation is named when its statement binds it."""

    def __init__(self, name: str | None, shape: tuple[int, ...], dtype: str, scope: str,
                 namer: Callable[[Buffer], str] | None = None, loc: Any = None):
        self.name, self.shape, self.dtype, self.scope = name, shape, dtype, scope
        self.namer, self.loc = namer, loc

    @property
    def label(self) -> str:
        """The buffer's name in L0 (an unbound allocation gets a numbered one on first use)."""
        if self.name is None:
            assert self.namer is not None
            self.name = self.namer(self)
        return self.name

    @property
    def on_chip(self) -> bool:
        return self.scope != "dram"

    def note(self) -> tuple[str, str] | None:
        """An attr the kernel records for this buffer (a buffer kind that places its elements)."""
        return None

    def check_use(self, op: str) -> None:
        """Refuse a whole-buffer operation this kind of buffer has no meaning for (mma_emitter.py)."""

    @property
    def data(self) -> Buffer:
        """`buf.data`, TileLang's handle of a buffer's storage: what `T.Tensor(shape, dtype,
        buf.data)` views under another shape (T.Tensor names the view as not supported yet)."""
        return self

    def __repr__(self) -> str:
        return f"{self.label}: {self.scope} {self.dtype}{list(self.shape)}"

    def __getitem__(self, index: Any) -> Load | Slice:
        items = index if isinstance(index, tuple) else (index,)
        if len(items) != len(self.shape):
            raise NanottError("NT104", f"{self.label} has {len(self.shape)} dims but is indexed "
                                       f"with {len(items)}", hint=f"{self.label} is {shape_str(self.shape)}")
        items = tuple(i.per_thread() if callable(getattr(type(i), "per_thread", None)) else i for i in items)   # tx: thread_roles.py
        for i in items:
            if not isinstance(i, (slice, Sym, numbers.Integral)) or isinstance(i, bool):
                raise NanottError("NT104", f"{self.label} is indexed with a {type(i).__name__}",
                                  hint="indices are ints, slices, block indices or loop variables")
        if any(isinstance(i, slice) for i in items):
            return Slice(self, items)
        return Load(self, items)


class Load(Sym):
    """`buf[i, j]` with scalar indices: a load in an expression, a start index in `T.copy`."""

    def __init__(self, buffer: Buffer, indices: tuple):
        self.buffer, self.indices = buffer, indices
        Tracing.element_dtypes[buffer.label] = buffer.dtype
        super().__init__(l0.Load(buffer.label, tuple(to_expr(i) for i in indices), loc=Tracing.loc))

    @property
    def dtype(self) -> dtype:
        """The element's dtype, the buffer's (`val.dtype == T.uint8`, as TileLang's helpers check)."""
        return dtype(self.buffer.dtype)


class Slice:
    """`buf[a:b, j]`: a region for `T.copy` (an integer index is a dim of extent 1)."""

    def __init__(self, buffer: Buffer, items: tuple):
        self.buffer, self.items = buffer, items

    def __repr__(self) -> str:
        return f"{self.buffer.label}[...]"


@dataclass(frozen=True)
class TensorType:
    """`T.Tensor((M, K), dtype)`: the annotation of a DRAM tensor parameter."""
    shape: tuple
    dtype: Any = "float32"


def shape_str(dims: tuple) -> str:
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def linear(e: Any) -> tuple[dict[str, int], int] | None:
    """An int expression as (coefficient per variable, constant), or None if it is not linear;
    `x // c` and `x % c` count as variables of their own. Lets a slice `by*64:(by+1)*64` fold its
    extent to 64, and `t // 32 * 32:(t // 32 + 1) * 32` (the block holding t) to 32. A let that
    never changes stands for its value where that is linear, so that `kv_start:kv_end`, two lets 64
    apart, spans 64."""
    match e:
        case l0.Const(int() as v, _):
            return {}, v
        case l0.Var(name):
            value = Tracing.lets.get(name)
            return (value is not None and linear(value)) or ({name: 1}, 0)
        case l0.BinOp("+" | "-" as op, a, b):
            la, lb = linear(a), linear(b)
            if la is None or lb is None:
                return None
            sign = 1 if op == "+" else -1
            coeffs = dict(la[0])
            for k, v in lb[0].items():
                coeffs[k] = coeffs.get(k, 0) + sign * v
            return {k: v for k, v in coeffs.items() if v}, la[1] + sign * lb[1]
        case l0.BinOp("*", a, b):
            la, lb = linear(a), linear(b)
            if la is None or lb is None or (la[0] and lb[0]):
                return None
            (coeffs, c), k = (la, lb[1]) if la[0] else (lb, la[1])
            return {n: v * k for n, v in coeffs.items() if v * k}, c * k
        case l0.BinOp("//" | "%", _, l0.Const(int())):
            return {str(e): 1}, 0          # an atom: `t // 32 * 32:(t // 32 + 1) * 32` spans 32
    return None


class Unassigned:
    """`x = T.alloc_var(dtype)` before x is assigned: the name's next assignment gives it a value,
    and any use before that is NT304 (a scalar has no value of its own before it is set).
    `T.clear(x)` / `T.fill(x, v)` set it (a call cannot rebind the name): from then on it stands
    for that value (`value`), in arithmetic and wherever a kernel value is taken (to_expr)."""

    def __init__(self, dtype: str):
        self.dtype = dtype
        self.value: Any = None

    def _read(self, *_: Any) -> Any:
        raise NanottError("NT304", f"a T.alloc_var({self.dtype}) is read before anything is assigned to it",
                          hint="assign it first (x = ...), or give it a value: T.alloc_var(dtype, init=0)")


def _scalar_op(name: str) -> Callable:
    def method(self: Unassigned, *args: Any) -> Any:
        if self.value is None:
            self._read()
        if name.startswith("r") and name not in ("rshift",):
            return getattr(operator, name[1:])(args[0], self.value)
        return getattr(operator, name)(self.value, *args) if hasattr(operator, name) else \
            getattr(self.value, f"__{name}__")(*args)
    return method


for _op in ("add sub mul truediv floordiv mod neg lt le gt ge eq ne bool float int getitem index "
            "radd rsub rmul rtruediv rfloordiv rmod").split():
    setattr(Unassigned, f"__{_op}__", _scalar_op(_op))
