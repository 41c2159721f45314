"""Row gathers: a T.Parallel that fills an on-chip block with rows of a DRAM tensor picked by index
arithmetic (the im2col of a convolution), found by affine analysis of its indices. P0b leaves
such a loop as it is (and P0 makes no masks of its select); C1 makes it a read of rows (a TileSlice
with a RowGather).

The loop `for i, j in T.Parallel(M, K): blk[i, j] = if_then_else(ok, X[d_0, .., d_last], 0)` (the
select optional, lets inlined) is a row gather when, once each `x // m` and `x % m` with
`x = r + j` (r a provable multiple of K, m a multiple of K) is simplified to `r // m` and
`r % m + j` (no element of the block's row crosses a multiple of m):
  - the last index is `c + j`, c free of i and j: a run of K contiguous elements of one row of X;
  - every other index, and the condition, is free of j: which row, and whether it is there at all,
    depend on the block row i (and on block indices and loop variables) only.
Row i of the block is then row (d_0, .., d_{n-2}) of X's stored matrix, columns c .. c + K, or
zeros where the condition is false. TileLang's convolution reads its input this way: row i is
one output pixel, its K columns one tap's K channels (K divides the channel count).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Container

from nanott.ir import field_names, replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, multiple_of, subst


@dataclass(frozen=True)
class Gather:
    """What a row-gathering loop reads: block `buffer` (M x K) row `var` is tensor[rows..., col + 0..K]
    where `valid` holds (None: everywhere), else zeros; `loc` is the load's line."""
    buffer: str
    tensor: str
    var: str
    extents: tuple[int, int]
    rows: tuple[Any, ...]
    col: Any
    valid: Any | None
    loc: Any


def row_gather(p: Any, dram: Container[str]) -> Gather | None:
    """The gather a T.Parallel is, or None when it is not one (see the module docstring); `dram`
    holds the names of the DRAM tensors."""
    if len(p.vars) != 2 or not p.body or not all(isinstance(s, l0.Let) for s in p.body[:-1]):
        return None
    store, lets = p.body[-1], {}
    for s in p.body[:-1]:
        lets[s.var] = subst(s.value, lets)
    i, j = p.vars
    if not (isinstance(store, l0.Store) and store.buffer not in dram
            and [getattr(x, "name", None) for x in store.indices] == [i, j]):
        return None
    value, valid = subst(store.value, lets), None
    if isinstance(value, l0.Select) and is_zero(value.other):
        value, valid = value.then, value.cond
    if not (isinstance(value, l0.Load) and value.buffer in dram and len(value.indices) >= 2):
        return None
    k = p.extents[1]
    *rows, last = (simplify(x, j, k) for x in value.indices)
    terms, const = affine(last)
    rest = [(a, c) for a, c in terms if a != l0.Var(j)]
    col = build(rest, const)
    if len(rest) != len(terms) - 1 or (l0.Var(j), 1) not in terms or uses(col, (i, j)):
        return None
    valid = None if valid is None else simplify(valid, j, k)
    if any(uses(x, (j,)) for x in (*rows, valid) if x is not None):
        return None
    return Gather(store.buffer, value.buffer, i, tuple(p.extents), tuple(rows), col, valid, value.loc)


def simplify(e: Any, j: str, k: int) -> Any:
    """e with `(r + j) // m` -> `r // m` and `(r + j) % m` -> `r % m + j` wherever r is a multiple of
    k, m a multiple of k, and j (a loop variable of extent k) appears once with coefficient 1."""
    names = field_names(type(e))
    if names is None:
        return e
    e = replace(e, **{n: tuple(simplify(x, j, k) for x in v) if isinstance(v := getattr(e, n), tuple)
                      else simplify(v, j, k) for n in names})
    if not (isinstance(e, l0.BinOp) and e.op in ("//", "%") and isinstance(e.rhs, l0.Const)
            and isinstance(e.rhs.value, int) and e.rhs.value % k == 0):
        return e
    terms, const = affine(e.lhs)
    rest = [(a, c) for a, c in terms if a != l0.Var(j)]
    if len(terms) - len(rest) != 1 or (l0.Var(j), 1) not in terms or any(uses(a, (j,)) for a, _ in rest):
        return e
    r = build(rest, const)
    if not is_zero(r) and multiple_of(r) % k:
        return e
    if e.op == "//":
        return l0.BinOp("//", r, e.rhs, loc=e.loc)
    return l0.BinOp("+", l0.BinOp("%", r, e.rhs, loc=e.loc), l0.Var(j, loc=e.loc), loc=e.loc)


def is_zero(e: Any) -> bool:
    return isinstance(e, l0.Const) and e.value == 0 or isinstance(e, l0.Cast) and is_zero(e.value)


def uses(e: Any, names: tuple[str, ...]) -> bool:
    return any(isinstance(x, l0.Var) and x.name in names for x in walk(e))


@dataclass(frozen=True)
class NotIn:
    """The names not in `names`: the DRAM tensors, given the on-chip buffers (a container for `in`)."""
    names: set[str]

    def __contains__(self, name: object) -> bool:
        return name not in self.names
