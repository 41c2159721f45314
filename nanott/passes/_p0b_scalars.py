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

Preserves every value: lets evaluate in float32 (L0's scalars), and so do a float32 fragment's
elements, with the same NumPy float32 functions; a picked element is exact (_p0b_pick.py).
Refused (NT318, naming the use): such a scalar also used where a vector cannot stand (an index,
a loop bound, a T.fill, a T.print), a let of one that reads an on-chip buffer, or T.Parallel
loops of different first extents reading them (one vector cannot serve both).
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import children, replace, walk
from nanott.language.predicate import masked_selects
from nanott.languages import l0
from nanott.passes._affine import subst
from nanott.passes._names import NameSupply

FLOATS = ("float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")
HINT = ("keep a float read from DRAM for elementwise math only: read it into a T.alloc_var and use it "
        "in T.Parallel values (nanott makes it a vector), or T.copy the elements into a fragment yourself")


def vector_scalars(k: l0.Kernel, dram: dict[str, l0.Tensor], names: NameSupply) -> l0.Kernel:
    """k with its float scalars read from DRAM that compute reads made vectors (the docstring)."""
    floats = {n for n, t in dram.items() if t.dtype in FLOATS}
    lets = [s for s in walk(k.body, skip=(l0.Parallel,)) if isinstance(s, l0.Let)]
    tainted: set[str] = set()
    while True:                                        # a fixed point: a loop carries lets back
        more = {s.var for s in lets if _reads(s.value, floats, tainted)} - tainted
        if not more:
            break
        tainted |= more
    if not tainted:
        return k
    conds = {id(y) for c in walk(k.body) if isinstance(c, l0.Select) for y in walk(c.cond)}
    used = {x.name for p in walk(k.body) if isinstance(p, l0.Parallel) for x in walk(p.body)
            if isinstance(x, l0.Var) and id(x) not in conds} & tainted       # a condition: the reader's masks
    vector = set(used)
    while True:                                        # and what they are computed from
        more = {v for s in lets if s.var in vector for v in _vars(s.value)} & tainted - vector
        if not more:
            break
        vector |= more
    while True:                                        # and what is computed from them
        more = {s.var for s in lets if s.var in tainted and _vars(s.value) & vector} - vector
        if not more:
            break
        vector |= more
    if not vector:
        return k
    _refuse_other_uses(k.body, vector, dram)
    width = _width(k.body, vector)
    body = _inline(k.body, vector, _counts(k.body, vector))
    vector &= {s.var for s in walk(body, skip=(l0.Parallel,)) if isinstance(s, l0.Let)}   # not those put in place
    vecs = {v: names.fresh(f"{v}_vec") for v in sorted(vector)}
    loc = next(s.loc for s in lets if s.var in vector)
    allocs = tuple(l0.Alloc(vecs[v], (width,), "float32", "fragment", loc=loc) for v in sorted(vector))
    on_chip = {a.name for a in walk(k.body) if isinstance(a, l0.Alloc)} | set(vecs.values())
    return replace(k, body=(*allocs, *_rewrite(body, vecs, width, names.fresh("i"), names.fresh, on_chip)))


def _reads(e: Any, floats: set[str], tainted: set[str]) -> bool:
    return any(isinstance(x, l0.Load) and x.buffer in floats or isinstance(x, l0.Var) and x.name in tainted
               for x in walk(e))


def _vars(x: Any) -> set[str]:
    return {y.name for y in walk(x) if isinstance(y, l0.Var)}


def _refuse_other_uses(body: tuple, vector: set[str], dram: dict) -> None:
    """NT318 where such a scalar stands where no vector can, or its let reads an on-chip buffer."""
    for s in _stmts(body):
        if isinstance(s, l0.Let) and s.var in vector:
            if bad := next((x for x in walk(s.value) if isinstance(x, l0.Load) and x.buffer not in dram), None):
                raise NanottError("NT318", f"{s.var}, a value read from DRAM (or computed from one) that "
                                  f"elementwise compute reads, is computed here from the on-chip buffer "
                                  f"{bad.buffer}: nanott makes such a scalar a vector, and a vector of "
                                  "one element of a buffer is not made yet", s.loc, HINT)
            continue
        if isinstance(s, (l0.Let, l0.Parallel, l0.For)) and not (isinstance(s, l0.For) and _vars(s.extent) & vector):
            continue
        fields = tuple(v for f, v in children(s) if f != "body")
        if hit := sorted(_vars(fields) & vector):
            what = type(s).__name__.lower()
            raise NanottError("NT318", f"{hit[0]}, a value read from DRAM (or computed from one) that elementwise "
                              f"compute reads as a vector, is also used by this {what}: a vector cannot "
                              "stand there (an index, a loop bound, a fill, a print)", s.loc, HINT)
    for x in walk(body):
        if isinstance(x, (l0.Store, l0.AtomicStore, l0.Load)) and (hit := sorted(_vars(x.indices) & vector)):
            s = x
            raise NanottError("NT318", f"{hit[0]}, a float read from DRAM (or computed from one), "
                                  "indexes a buffer here", s.loc, HINT)


def _stmts(body: tuple):
    """The statements of body and of the loops in it, T.Parallel loops whole (not their bodies)."""
    for s in body:
        yield s
        if isinstance(s, l0.For):
            yield from _stmts(s.body)


def _width(body: tuple, vector: set[str]) -> int:
    """The first extent of the T.Parallel loops that read the scalars: one for all."""
    loops = [p for p in walk(body) if isinstance(p, l0.Parallel) and _vars(p.body) & vector]
    widths = sorted({p.extents[0] for p in loops})
    if len(widths) > 1:
        other = next(p for p in loops if p.extents[0] != loops[0].extents[0])
        raise NanottError("NT318", f"floats read from DRAM ({', '.join(sorted(_vars(loops[0].body) & vector))}) "
                          f"are read by T.Parallel loops over {loops[0].extents[0]} and over {other.extents[0]} "
                          "(first extents): nanott holds each such scalar in one vector, of one length",
                          other.loc, "use them in T.Parallel loops of one first extent")
    return widths[0]


def _counts(body: tuple, vector: set[str]) -> dict[str, int]:
    counts = dict.fromkeys(vector, 0)
    for x in walk(body):
        if isinstance(x, l0.Var) and x.name in counts:
            counts[x.name] += 1
    return counts


def _inline(body: tuple, vector: set[str], counts: dict[str, int]) -> tuple:
    """A let of `vector` read once, by the next statement of its body (a let of `vector` or a
    T.Parallel), put in place there; nested bodies the same."""
    out: list = []
    for s in body:
        if isinstance(s, l0.For):
            s = replace(s, body=_inline(s.body, vector, counts))
        prev = out[-1] if out else None
        if (isinstance(prev, l0.Let) and not prev.update and prev.var in vector and counts[prev.var] == 1
                and prev.var in _vars(s) and (isinstance(s, l0.Parallel) or isinstance(s, l0.Let) and s.var in vector)):
            out[-1] = subst(s, {prev.var: prev.value})
            continue
        out.append(s)
    return tuple(out)


def _rewrite(body: tuple, vecs: dict[str, str], width: int, i: str, fresh: Any, on_chip: set[str]) -> tuple:
    """The statements of body with the scalars of `vecs` as their vectors; a let's new T.Parallel
    with its choices on a condition of no vector made with masks, as P0 makes a user's
    (predicate.py's masked_selects: `set w = T.if_then_else(Mask[bx, k] != 0, W[bx, k], w)`)."""
    out: list = []
    for s in body:
        if isinstance(s, l0.For):
            out.append(replace(s, body=_rewrite(s.body, vecs, width, i, fresh, on_chip)))
        elif isinstance(s, l0.Parallel):
            i = l0.Var(s.vars[0], loc=s.loc)
            out.append(subst(s, {v: l0.Load(b, (i,), loc=s.loc) for v, b in vecs.items()}))
        elif isinstance(s, l0.Let) and s.var in vecs:
            if isinstance(s.value, l0.Const):
                out.append(l0.Fill(vecs[s.var], replace(s.value, dtype="float32"), loc=s.loc))
                continue
            value = subst(s.value, {v: l0.Load(b, (l0.Var(i, loc=s.loc),), loc=s.loc) for v, b in vecs.items()})
            store = l0.Store(vecs[s.var], (l0.Var(i, loc=s.loc),), value, loc=s.loc)
            out += masked_selects(l0.Parallel((i,), (width,), (store,), loc=s.loc), fresh, on_chip)
        else:
            out.append(s)
    return tuple(out)
