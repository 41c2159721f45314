"""Scratch tensors whose elements get DRAM rows of their own, for P0b (its first step, element_rows).

TileLang's GQA decoder keeps each split's log-sum-exp in a tensor the program allocates itself,
`glse = T.alloc_global([batch, heads, num_split])`, and stores it from a T.Parallel over a block's
rows, under an `if`: `if i < valid_block_H: glse[bid, hid * valid_block_H + i, sid] = logsum[i]`.
That is one value per row of the loop into column `sid`, and the blocks of the other splits write
the other columns of the same rows: on Tensix, several cores writing parts of one DRAM row, which
P0b refuses (NT302; row_gather.column_store says why). But nobody outside the program sees a
scratch tensor (it is the Launches' `scratch`, not a parameter), so nanott may choose its layout:
the tensor one dim longer, of W columns, each element repeated along a row of its own. Then:

  - the store becomes a T.Parallel over (i, c) that writes the element's whole row,
    `glse[.., c] = if_then_else(cond, v, glse[.., c])`: P0b's row scatter (through a fragment of v
    in every column), each row written by the one core whose block computed it (rule "owner");
  - a T.Parallel whose one store broadcasts an element along its last variable j (the combine's
    `lse_local[k, j] = glse[bz, by, k]`) reads rows: `T.copy(glse[bz, by, 0:S, 0:J], lse_local)`,
    the same values (every column holds the element), now a copy P0a and C1 know;
  - any other read reads the row's first column, `glse[b, h, k]` -> `glse[b, h, k, 0]`.

W is the lcm of 32 and the J of those copies. Decided from the IR alone: the tensor is scratch,
some store into it is a masked column store (the store P0b refuses), every store into it is such a
store alone in a 1-D T.Parallel, and no T.copy moves it. Each launch that touches it records the
choice, `element_rows = glse: a row of 128 per element, ...`. A tensor the host passes in keeps its
layout (the host reads it back as it gave it): the program gets a scratch twin with rows of its own
instead, and two small launches that carry the tensor into the twin and back (_p0b_param_rows.py).
"""
from __future__ import annotations

from math import lcm
from typing import Any

from nanott.ir import Launches, replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, subst
from nanott.passes._names import NameSupply, names_in
from nanott.passes._p0b_param_rows import conversions
from nanott.passes._rewriter import Rewriter
from nanott.row_gather import column_store, masked_store, uses
from nanott.target import TILE


def element_rows(program: Any) -> Any:
    """The program with each scratch tensor that qualifies (module docstring) given rows of its own;
    a parameter that qualifies, a scratch twin with rows of its own (_p0b_param_rows.py)."""
    if not isinstance(program, Launches):
        return program
    widths = {t.name: w for t in (*program.scratch, *program.params) if (w := width(t.name, program.launches))}
    if not widths:
        return program
    names = NameSupply(names_in(program))
    params = {t.name: t for t in program.params if t.name in widths}
    twins = {n: replace(t, name=names.fresh(f"{n}_wide")) for n, t in params.items()}
    launches = tuple(Rename({n: t.name for n, t in twins.items()}).visit(k) for k in program.launches)
    widths = {twins[n].name if n in twins else n: w for n, w in widths.items()}
    launches = list(ElementRows(widths, names).visit(k) for k in launches)
    for n, t in params.items():
        wide = widened(twins[n], widths)
        first = next(x for x, k in enumerate(launches) if any(p.name == wide.name for p in k.params))
        to_rows, from_rows = conversions(t, wide, names, t.loc)
        launches[first:first] = [to_rows]
        launches.append(from_rows)
    scratch = (*program.scratch, *twins.values())
    return replace(program, launches=tuple(launches), scratch=tuple(widened(t, widths) for t in scratch))


def width(tensor: str, launches: tuple) -> int | None:
    """W for a scratch tensor that qualifies, else None."""
    stores = [(p, p.body[-1]) for k in launches for p in walk(k.body) if isinstance(p, l0.Parallel)
              and p.body and isinstance(p.body[-1], l0.Store) and p.body[-1].buffer == tensor]
    every = [x for k in launches for x in walk(k.body) if isinstance(x, l0.Store) and x.buffer == tensor]
    if any(isinstance(x, l0.Copy) and tensor in (x.src.buffer, x.dst.buffer) for k in launches for x in walk(k.body)) \
            or len(stores) != len(every) or not any(masked_store(s) and column_store(s, p) for p, s in stores) \
            or not all(len(p.vars) == 1 and all(isinstance(x, l0.Let) for x in p.body[:-1]) for p, _ in stores):
        return None
    widths = [p.extents[1] for k in launches for p in walk(k.body) if isinstance(p, l0.Parallel)
              and broadcast(p, tensor) is not None]
    return lcm(TILE, *widths)


def broadcast(p: l0.Parallel, tensor: str) -> tuple[l0.Store, l0.Load] | None:
    """(store, load) of a 2-D T.Parallel whose one store (after lets) puts an element of `tensor`,
    indexed without the last variable, into an on-chip block at exactly the loop's variables."""
    if len(p.vars) != 2 or not p.body or not isinstance(s := p.body[-1], l0.Store) \
            or not all(isinstance(x, l0.Let) for x in p.body[:-1]):
        return None
    lets: dict = {}
    for x in p.body[:-1]:
        lets[x.var] = subst(x.value, lets)
    value = subst(s.value, lets)
    if not (isinstance(value, l0.Load) and value.buffer == tensor and s.buffer != tensor
            and [getattr(x, "name", None) for x in s.indices] == list(p.vars) and not uses(value, (p.vars[1],))):
        return None
    return s, value


def widened(t: l0.Tensor, widths: dict[str, int]) -> l0.Tensor:
    return replace(t, shape=(*t.shape, widths[t.name])) if t.name in widths else t


class ElementRows(Rewriter, src=l0.LANG, dst=l0.LANG):
    """Each launch: the tensors' shapes, stores, broadcast copies and reads (module docstring)."""

    def __init__(self, widths: dict[str, int], names: NameSupply):
        self.widths, self.names = widths, names

    def visit_Kernel(self, k: l0.Kernel) -> l0.Kernel:
        touched = sorted(t.name for t in k.params if t.name in self.widths)
        if not touched:
            return k
        notes = tuple(l0.Attr("element_rows", f"{n}: a row of {self.widths[n]} per element, each written whole by "
                              "the block that computes it (a column store of several blocks, in a scratch tensor)",
                              loc=k.loc) for n in touched)
        k = self.rebuild(k, params=tuple(widened(t, self.widths) for t in k.params))
        return replace(k, attrs=tuple(sorted((*k.attrs, *notes), key=lambda a: (a.key, a.value))))

    def visit_Parallel(self, p: l0.Parallel) -> Any:
        s = p.body[-1] if p.body else None
        if isinstance(s, l0.Store) and s.buffer in self.widths:        # the column store: whole rows
            c = l0.Var(self.names.fresh("c"), loc=s.loc)
            at = (*s.indices, c)
            value = (replace(s.value, then=self.visit(s.value.then), other=l0.Load(s.buffer, at, loc=s.loc))
                     if masked_store(s) else self.visit(s.value))
            return replace(p, vars=(*p.vars, c.name), extents=(*p.extents, self.widths[s.buffer]),
                           body=(*self.visit(p.body[:-1]), replace(s, indices=at, value=value)))
        for tensor in self.widths:
            if (found := broadcast(p, tensor)) is not None:
                return self.rows(p, *found)
        return self.rebuild(p)

    def rows(self, p: l0.Parallel, s: l0.Store, e: l0.Load) -> l0.Copy:
        """The broadcast loop as a T.Copy of the rows its element reads pick."""
        var, extent = l0.Var(p.vars[0]), p.extents[0]
        starts, extents = [], []
        for x in e.indices:
            terms, const = affine(x)
            coef = dict(terms).get(var, 0)
            starts.append(build([(a, k) for a, k in terms if a != var], const) if coef == 1 else x)
            extents.append(extent if coef == 1 else 1)
        if extents.count(extent) != 1 or extent == 1 or any(uses(x, (p.vars[0],)) for x in starts):
            return self.rebuild(p)                    # not a run of rows: element reads (column 0)
        zero = l0.Const(0, "int32", loc=e.loc)
        src = l0.Region(e.buffer, (*starts, zero), (*extents, p.extents[1]), loc=e.loc)
        return l0.Copy(src, l0.Region(s.buffer, (zero, zero), tuple(p.extents), loc=s.loc), loc=s.loc)

    def visit_Load(self, e: l0.Load) -> l0.Load:
        e = self.rebuild(e)
        if e.buffer in self.widths:
            return replace(e, indices=(*e.indices, l0.Const(0, "int32", loc=e.loc)))
        return e


class Rename(Rewriter, src=l0.LANG, dst=l0.LANG):
    """Each launch with the parameters given twins reading and writing the twins instead."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Tensor(self, t: l0.Tensor) -> l0.Tensor:
        return replace(t, name=self.names.get(t.name, t.name))

    def visit_Load(self, e: l0.Load) -> l0.Load:
        e = self.rebuild(e)
        return replace(e, buffer=self.names.get(e.buffer, e.buffer))

    def visit_Store(self, s: l0.Store) -> l0.Store:
        s = self.rebuild(s)
        return replace(s, buffer=self.names.get(s.buffer, s.buffer))
