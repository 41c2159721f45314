"""P0b's float scalars read from DRAM: a T.alloc_var that holds an element of a float DRAM tensor
(`lse = glse[bz, hid, k]`), or a value computed from one (`m = T.max(m, glse[bz, hid, k])`,
`scale = T.exp2(lse - logsum)`), and that elementwise compute reads (`o[i] += po[i] * scale`),
becomes a vector holding the value in every element.

The reader reads scalars from DRAM to compute integer indices (data-dependent loads); the compute
engines see only tiles, and a tile has no scalar. So each such let (found by data flow: a let of an
expression that loads a float DRAM tensor or reads such a let, and that some T.Parallel reads,
directly or through other such lets) gets a float32 fragment of n elements, n the first extent of the
T.Parallel loops that read it (`x[i]` in a 1-D loop, a column broadcast `x[i]` in a 2-D one):

  let x = c             (a constant)    ->  fill x_vec = c
  let x = e / set x = e                 ->  parallel (i) in n: x_vec[i] = e'
  ... v ... in a T.Parallel             ->  ... x_vec[i] ...   (i the loop's first variable)

where e' is e with each such scalar y read as y_vec[i]. A DRAM element left in e' is read by no
variable of the new loop: P0b then copies the tile row that holds it and picks it out into a vector
(_p0b_pick.py). A let read only by the statement after it (`let lse = glse[..]` before
`set s = s + exp2(lse - m)`, or before the T.Parallel that reads it) is put in place there first,
so that it needs no fragment of its own (each fragment is a circular buffer, 32 at most per core).

The vector stands for the scalar only where compute reads a value: in a T.Parallel's values and
in the values of the other lets made vectors. A scalar also read elsewhere (a loop bound, an index,
the condition of a choice, a let that stays a scalar: `if lse != 0: max_split = k`) keeps its let
beside its vector, and so do the lets it is computed from: the reader reads and computes those as
before.

Preserves every value: lets evaluate in float32 (L0's scalars), and so do a float32 fragment's
elements, with the same NumPy float32 functions; a picked element is exact (_p0b_pick.py).
Refused (NT318, at the line; _p0b_scalar_limits.py): a let made a vector that reads an element of an
on-chip buffer, a scalar kept for the reader that computes with a float, and
T.Parallel loops of different first extents reading the scalars (one vector cannot serve both).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import replace, walk
from nanott.language.predicate import masked_selects
from nanott.languages import l0
from nanott.passes._affine import subst
from nanott.passes._names import NameSupply
from nanott.passes._p0b_unread_scalars import drop_unread
from nanott.passes._p0b_scalar_limits import refuse_buffers, refuse_float_math, width_of

FLOATS = ("float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")


def vector_scalars(k: l0.Kernel, dram: dict[str, l0.Tensor], names: NameSupply) -> l0.Kernel:
    """k with its float scalars read from DRAM that compute reads made vectors (the docstring)."""
    floats = {n for n, t in dram.items() if t.dtype in FLOATS}
    lets = [s for s in _stmts(k.body) if isinstance(s, l0.Let)]
    tainted = _closure(set(), lambda have: {s.var for s in lets if any(
        isinstance(x, l0.Load) and x.buffer in floats or isinstance(x, l0.Var) and x.name in have for x in walk(s.value))})
    if not tainted:
        return k
    k = replace(k, body=drop_unread(k.body, tainted))
    lets = [s for s in _stmts(k.body) if isinstance(s, l0.Let)]
    k = replace(k, body=_fills_as_maps(k.body, tainted, {a.name: a.shape for a in walk(k.body) if isinstance(a, l0.Alloc)},
                                       names))
    parallels = [p for p in walk(k.body) if isinstance(p, l0.Parallel)]
    used = {x.name for p in parallels for x in _value_vars(p.body)} & tainted
    vector = _closure(used, lambda have: {x.name for s in lets if s.var in have for x in _value_vars(s.value)} & tainted)
    if not vector:
        return k
    refuse_buffers(lets, vector, dram)
    width = width_of(parallels, vector, _value_vars)
    as_values = Counter(x.name for p in parallels for x in _value_vars(p.body)) + \
        Counter(x.name for s in lets if s.var in vector for x in _value_vars(s.value))
    every = Counter(x.name for x in walk(k.body) if isinstance(x, l0.Var) and x.name in vector)
    elsewhere = {v for v, n in every.items() if n > as_values[v]}    # (Var nodes may be shared: counted)
    scalar = _closure(elsewhere, lambda have: {x.name for s in lets if s.var in have for x in walk(s.value)
                                               if isinstance(x, l0.Var)} & vector)
    refuse_float_math(lets, scalar, tainted, floats)
    body = _inline(k.body, vector - scalar, _counts(k.body, vector))
    vector &= {s.var for s in _stmts(body) if isinstance(s, l0.Let)}        # not those put in place
    vecs = {v: names.fresh(f"{v}_vec") for v in sorted(vector)}
    loc = next(s.loc for s in lets if s.var in vector)
    allocs = tuple(l0.Alloc(vecs[v], (width,), "float32", "fragment", loc=loc) for v in sorted(vector))
    on_chip = {a.name for a in walk(k.body) if isinstance(a, l0.Alloc)} | set(vecs.values())
    made = _Vectors(vecs, scalar, width, names.fresh("i"), names.fresh, on_chip)
    return replace(k, body=(*allocs, *made.body(body)))


def _closure(start: set[str], more) -> set[str]:
    """start grown by more(have) until it adds nothing (a loop carries lets back: a fixed point)."""
    have = set(start)
    while new := more(have) - have:
        have |= new
    return have


def _vars(x: Any) -> set[str]:
    return {y.name for y in walk(x) if isinstance(y, l0.Var)}


def _value_vars(x: Any):
    """The Vars of x read as values: not inside an index (a Load's, a Store's) nor a condition."""
    if isinstance(x, l0.Var):
        yield x
    elif isinstance(x, tuple):
        for y in x:
            yield from _value_vars(y)
    elif isinstance(x, (l0.Store, l0.AtomicStore, l0.Let)):
        yield from _value_vars(x.value)
    elif isinstance(x, l0.Select):
        yield from _value_vars((x.then, x.other))
    elif isinstance(x, (l0.BinOp, l0.UnOp, l0.Cast)):
        yield from _value_vars(tuple(getattr(x, f) for f in ("lhs", "rhs", "value") if hasattr(x, f)))


def _stmts(body: tuple):
    """The statements of body and of the loops in it, T.Parallel loops whole (not their bodies)."""
    for s in body:
        yield s
        if isinstance(s, l0.For):
            yield from _stmts(s.body)


def _fills_as_maps(body: tuple, tainted: set[str], shapes: dict[str, tuple], names: NameSupply) -> tuple:
    """Each T.fill of a buffer with such a scalar as the T.Parallel it means (`T.fill(acc, w)`:
    acc[i, j] = w over acc's shape), so that it reads the scalar's vector like any other."""
    out: list = []
    for s in body:
        if isinstance(s, l0.For):
            s = replace(s, body=_fills_as_maps(s.body, tainted, shapes, names))
        elif isinstance(s, l0.Fill) and _vars(s.value) & tainted and s.buffer in shapes:
            idx = tuple(names.fresh(v) for v in "ij"[:len(shapes[s.buffer])])
            store = l0.Store(s.buffer, tuple(l0.Var(v, loc=s.loc) for v in idx), s.value, loc=s.loc)
            s = l0.Parallel(idx, shapes[s.buffer], (store,), loc=s.loc)
        out.append(s)
    return tuple(out)


def _counts(body: tuple, vector: set[str]) -> dict[str, int]:
    counts = dict.fromkeys(vector, 0)
    for x in walk(body):
        if isinstance(x, l0.Var) and x.name in counts:
            counts[x.name] += 1
    return counts


def _inline(body: tuple, only: set[str], counts: dict[str, int]) -> tuple:
    """A let of `only` (vectors only) read once, by the next statement of its body (such a let or a
    T.Parallel), put in place there; nested bodies the same."""
    out: list = []
    for s in body:
        if isinstance(s, l0.For):
            s = replace(s, body=_inline(s.body, only, counts))
        prev = out[-1] if out else None
        if (isinstance(prev, l0.Let) and not prev.update and prev.var in only and counts[prev.var] == 1
                and prev.var in {x.name for x in _value_vars(s.body if isinstance(s, l0.Parallel) else s)}
                and (isinstance(s, l0.Parallel) or isinstance(s, l0.Let) and s.var in only)):
            out[-1] = subst(s, {prev.var: prev.value})
            continue
        out.append(s)
    return tuple(out)


class _Vectors:
    """The statements of a body with the scalars of `vecs` read as their vectors where compute reads
    a value; a let's new T.Parallel with its choices on a condition of no vector made with masks, as
    P0 makes a user's (predicate.py's masked_selects: `set w = T.if_then_else(Mask[bx, k] != 0,
    W[bx, k], w)`); the lets of `scalar` kept as well."""

    def __init__(self, vecs: dict[str, str], scalar: set[str], width: int, i: str, fresh: Any, on_chip: set[str]):
        self.vecs, self.scalar, self.width, self.i, self.fresh, self.on_chip = vecs, scalar, width, i, fresh, on_chip

    def body(self, stmts: tuple) -> tuple:
        out: list = []
        for s in stmts:
            if isinstance(s, l0.For):
                out.append(replace(s, body=self.body(s.body)))
            elif isinstance(s, l0.Parallel):
                out.append(replace(s, body=tuple(self.values(x, s.vars[0]) for x in s.body)))
            elif isinstance(s, l0.Let) and s.var in self.vecs:
                out += [s] if s.var in self.scalar else []
                out += self.vector_let(s)
            else:
                out.append(s)
        return tuple(out)

    def vector_let(self, s: l0.Let) -> list:
        if isinstance(s.value, l0.Const):
            return [l0.Fill(self.vecs[s.var], replace(s.value, dtype="float32"), loc=s.loc)]
        store = l0.Store(self.vecs[s.var], (l0.Var(self.i, loc=s.loc),), self.values(s.value, self.i), loc=s.loc)
        return masked_selects(l0.Parallel((self.i,), (self.width,), (store,), loc=s.loc), self.fresh, self.on_chip)

    def values(self, x: Any, i: str) -> Any:
        """x with each scalar of vecs read as a value (as _value_vars finds them) read from its
        vector at i."""
        if isinstance(x, l0.Var):
            return l0.Load(self.vecs[x.name], (l0.Var(i, loc=x.loc),), loc=x.loc) if x.name in self.vecs else x
        if isinstance(x, tuple):
            return tuple(self.values(y, i) for y in x)
        if isinstance(x, (l0.Store, l0.AtomicStore, l0.Let, l0.UnOp, l0.Cast)):
            return replace(x, value=self.values(x.value, i))
        if isinstance(x, l0.Select):
            return replace(x, then=self.values(x.then, i), other=self.values(x.other, i))
        if isinstance(x, l0.BinOp):
            return replace(x, lhs=self.values(x.lhs, i), rhs=self.values(x.rhs, i))
        return x                                       # a Load (its indices stay), a Const
