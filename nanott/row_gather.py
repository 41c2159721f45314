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

Row scatters are the same loop the other way: `X[d_0, .., c + j] = blk[i, j]` under an `if` on
the block row, which P0 writes as a store that keeps the old element where the `if` fails,
`X[..] = if_then_else(ok, blk[i, j], X[..])`. TileLang's varlen attention ends this way: row i
goes to row q_start + bx * 64 + i of the output only while i is inside the sequence. P0b leaves
such a loop as it is; C1 makes it a write of rows (a write_from_cb of a TileSlice with a
RowGather), and any other store under a run-time `if` into DRAM is NT302 there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Container

from nanott.diagnostics import NanottError
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
    found = single_store(p)
    if found is None:
        return None
    store, lets = found
    i, j = p.vars
    if store.buffer in dram or [getattr(x, "name", None) for x in store.indices] != [i, j]:
        return None
    value, valid = subst(store.value, lets), None
    if isinstance(value, l0.Select) and is_zero(value.other):
        value, valid = value.then, value.cond
    if not (isinstance(value, l0.Load) and value.buffer in dram and len(value.indices) >= 2):
        return None
    return rows_of(p, store.buffer, value, valid)


def row_scatter(p: Any, dram: Container[str]) -> Gather | None:
    """The scatter a T.Parallel is, or None: its one store writes rows of a DRAM tensor where a
    condition on the block row holds (an `if` in the loop, as P0 writes it: the element stays
    what it was elsewhere), `X[d_0, .., c + j] = if_then_else(valid, blk[i, j], X[d_0, .., c + j])`,
    the indices as a gather's (module docstring) and blk a whole on-chip block read at (i, j).
    The Gather says which row of X block row i is, and where it is written (`valid`)."""
    found = single_store(p)
    if found is None or found[0].buffer not in dram:
        return None
    store, lets = found
    masked = masked_store(store)
    if masked is None or len(store.indices) < 2:
        return None
    valid, value = (subst(x, lets) for x in masked)
    i, j = p.vars
    if not (isinstance(value, l0.Load) and value.buffer not in dram
            and [getattr(x, "name", None) for x in value.indices] == [i, j]):
        return None
    return rows_of(p, value.buffer, l0.Load(store.buffer, subst(store.indices, lets), loc=store.loc), valid)


def through_fragment(p: Any, dram: dict[str, Any], alloc: Any) -> tuple[Any, Any] | None:
    """A loop `X[r + i, c + j] = if_then_else(ok, v, X[..])` whose v is an expression (`o[i, j] * w[i]`,
    or a vector's element `lse[i]` along the row), not a block's element, as two: v stored into a
    fragment of X's dtype (the store rounds it there;
    `alloc(base, shape, dtype, scope, loc)` names it), then the row scatter of that fragment; None
    when the second would be no row scatter. `dram`: the DRAM tensors by name."""
    found = single_store(p)
    masked = found and masked_store(found[0])
    if not masked or found[0].buffer not in dram or isinstance(masked[1], l0.Load) \
            and [getattr(x, "name", None) for x in masked[1].indices] == list(p.vars):
        return None
    store, loc, lets = found[0], found[0].loc, p.body[:-1]
    at = tuple(l0.Var(v, loc=loc) for v in p.vars)
    probe = replace(p, body=(*lets, replace(store, value=replace(store.value, then=l0.Load("", at, loc=loc)))))
    if row_scatter(probe, dram) is None:
        return None
    rows = alloc(f"{store.buffer}_rows", p.extents, dram[store.buffer].dtype, "fragment", loc)
    scatter = replace(p, body=(*lets, replace(store, value=replace(store.value, then=l0.Load(rows, at, loc=loc)))))
    return replace(p, body=(*lets, l0.Store(rows, at, masked[1], loc=loc))), scatter


def masked_store(s: Any) -> tuple[Any, Any] | None:
    """(condition, value) of a store that changes its element only where the condition holds:
    `X[idx] = if_then_else(c, v, X[idx])`, the form P0 gives a store under a run-time `if`."""
    v = s.value
    if isinstance(s, l0.Store) and isinstance(v, l0.Select) and v.other == l0.Load(s.buffer, s.indices, loc=v.other.loc):
        return v.cond, v.then
    return None


def refuse_unscattered(s: Any, dram: Container[str], p: Any = None) -> None:
    """NT302 for a store into DRAM under a run-time `if` (a masked_store) left outside a row scatter,
    in the T.Parallel `p`. When the store's last index is free of the loop (a value per block row
    into one column of the tensor), the message says why nanott refuses it: see `column_store`."""
    if getattr(s, "buffer", None) not in dram or masked_store(s) is None:
        return
    head = (f"a store into the DRAM tensor {s.buffer} under an `if` on a value known only at run time "
            f"({s.value.cond})")
    if p is not None and (why := column_store(s, p)):
        raise NanottError("NT302", f"{head} puts {why}", s.loc,
                          "give each value a row of its own: store it into a block with a tile row per "
                          f"value (`for i, j in T.Parallel(bm, {TILE_COLS}): lse_rows[i, j] = v[i]`, the tensor "
                          f"one dim longer, of {TILE_COLS}) and write that block's rows under the `if`; "
                          "examples/flash_decoding.py keeps its lse that way (lse_cols). nanott does that "
                          "by itself when the store is alone (after lets) in a 1-D T.Parallel and no "
                          "T.copy moves the tensor (_p0b_element_rows.py)")
    raise NanottError("NT302", f"{head} is supported only as whole rows of a block: this one is not",
                      s.loc, "write rows of an on-chip block whole, under a condition on the block row alone: "
                      "`for i, j in T.Parallel(bm, bn): if start + i < end: X[start + i, c + j] = blk[i, j]` "
                      "(bn and c multiples of 32)")


TILE_COLS = 32


def column_store(s: Any, p: Any) -> str | None:
    """Why a masked store of one value per row of the loop into a column of a DRAM tensor cannot be
    written (None when its last index moves with the loop). The decision it states: a core writes
    a DRAM page by whole rows (a row is two face runs of 16 elements, whole 16-B units of the DRAM
    write alignment), so cores that share a page share it by rows; the NoC has no masked write, so
    one element of a row is a read-modify-write of the row, and two cores doing that to one row
    race (the simulator's rule "owner" refuses two writers of a row). A column whose index moves
    with a block index is written by several blocks at once: on several cores, exactly that race."""
    *rows, last = s.indices
    loop = tuple(p.vars)
    if uses(last, loop) or not any(uses(x, loop) for x in rows):
        return None
    blocks = sorted({v.name for v in walk(last) if isinstance(v, l0.Var)})
    shared = (f"; stores with other values of {', '.join(blocks)} put other columns into the same rows, "
              "and two cores doing that to one row race" if blocks else "")
    return (f"one value per row of the loop into column {last} of {s.buffer}, part of a row of its "
            f"tiles: nanott writes DRAM by whole rows (the NoC has no masked write, so one element is a "
            f"read-modify-write of its row){shared}")


def single_store(p: Any) -> tuple[Any, dict] | None:
    """(the store, the lets before it, inlined) of a 2-D T.Parallel whose body is lets and one store."""
    if len(p.vars) != 2 or not p.body or not all(isinstance(s, l0.Let) for s in p.body[:-1]) \
            or not isinstance(p.body[-1], l0.Store):
        return None
    lets: dict = {}
    for s in p.body[:-1]:
        lets[s.var] = subst(s.value, lets)
    return p.body[-1], lets


def rows_of(p: Any, block: str, access: Any, valid: Any) -> Gather | None:
    """The Gather of the on-chip `block` whose row i is the row the DRAM element `access` at (i, j)
    lies in, when its last index is `c + j` and every other index and `valid` are free of j."""
    i, j = p.vars
    k = p.extents[1]
    *rows, last = (simplify(x, j, k) for x in access.indices)
    terms, const = affine(last)
    rest = [(a, c) for a, c in terms if a != l0.Var(j)]
    col = build(rest, const)
    if len(rest) != len(terms) - 1 or (l0.Var(j), 1) not in terms or uses(col, (i, j)):
        return None
    valid = None if valid is None else simplify(valid, j, k)
    if any(uses(x, (j,)) for x in (*rows, valid) if x is not None):
        return None
    return Gather(block, access.buffer, i, tuple(p.extents), tuple(rows), col, valid, access.loc)


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
