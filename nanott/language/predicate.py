"""An `if` on a run-time value (a block index, a loop variable), as P0 lowers it: if-conversion.

TileLang's kernels branch on indices: `if (k + 1) % update_interval == 0:` folds a partial sum in
every fourth K step (FP8 GEMM with two accumulators), `if i < valid:` keeps some rows. A Tensix core
has no per-element branches in its compute engines, and nanott's L0 has no `if`: P0 runs both
branches once (builder.ctx_branches), each in its own frame, and makes every statement of a branch
take effect only where its condition holds:

    if c:                                   for i, j in T.Parallel(bm, bn):
        for i, j in T.Parallel(bm, bn):         acc[i, j] = if_then_else(c, acc[i, j] + p[i, j], acc[i, j])
            acc[i, j] += p[i, j]    ->      for i, j in T.Parallel(bm, bn):
        T.clear(p)                              p[i, j] = if_then_else(c, 0, p[i, j])

(the `else` branch the same under `not c`). A store into an on-chip buffer keeps the old element
where the condition fails; T.fill and T.clear become such a store over the whole buffer; loops,
allocations and lets run as they are (they change nothing a later statement sees). The value is the
branch's where c holds and the old one elsewhere, rounded as the branch rounds it: exactly what the
`if` computes. An element stored into DRAM inside a T.Parallel (`if bx * 64 + i < seqlen:
O[start + bx * 64 + i, d] = o[i, d]`, varlen attention) the same: `O[..] = if_then_else(c, o[i, d],
O[..])`, which P0b keeps when it writes whole rows of a block (nanott/row_gather.py) and
refuses (NT302) otherwise. A branch that holds what cannot be made conditional this way (a tile op that reads
or writes DRAM or runs on the matrix engine: T.copy, T.gemm, T.reduce_*, T.atomic_add; an element
stored into DRAM; a T.print), outside a T.Parallel, is a loop instead (once_if):

    if k <= by:                             for once in T.serial(T.if_then_else(k <= by, 1, 0)):
        T.copy(A[by * bm, k * bk], a)  ->       T.copy(A[by * bm, k * bk], a)
        T.gemm(a, b, acc)                       T.gemm(a, b, acc)

a loop's extent may be any run-time value, so every role that has a part in the branch (reader,
compute, writer) evaluates the condition itself and runs or skips its part: they skip together,
and the CB protocol stays balanced. NT302 names what is left: such a branch inside a T.Parallel,
and one whose condition reads an on-chip buffer. A name assigned in a branch chooses between its
value and the one before (branch_scalars.py).
"""
from __future__ import annotations

from typing import Callable

from nanott.diagnostics import NanottError
from nanott.ir import field_names, replace, walk
from nanott.languages import l0
from nanott.row_gather import NotIn, masked_store, row_gather, row_scatter

OPS = {l0.Copy: "T.copy", l0.Gemm: "T.gemm", l0.Reduce: "a T.reduce", l0.AtomicAdd: "T.atomic_add",
       l0.AtomicStore: "T.atomic_add", l0.Print: "T.print", l0.PrintBuffer: "T.print"}
HINT = ("compute both values and choose with T.if_then_else(cond, a, b), or move the operation out of "
        "the if (an if on Python values is decided when the kernel is parsed)")
DATA_HINT = ("the condition reads an on-chip buffer that no T.copy from DRAM fills whole: test an element "
             "read from DRAM (i_s = BlockIndices[bz, by, bx, t]; if i_s >= 0: ...), or a mask row copied "
             "into a fragment (T.copy(Mask[bz, by, bx, :], mask); if mask[k] != 0: ...)")


def predicated(stmts: tuple, cond: l0.Expr, shapes: dict[str, tuple[int, ...]],
               fresh: Callable[[str], str], parallel: bool = False) -> list:
    """The statements of a branch, each taking effect only where cond holds (module docstring);
    `shapes` are the on-chip buffers' shapes, `fresh` names new buffers and loop variables;
    `parallel`: the branch is inside a T.Parallel."""
    out = []
    for s in stmts:
        if isinstance(s, (l0.Alloc, l0.Let)):
            out.append(s)
        elif isinstance(s, l0.For):
            out.append(replace(s, body=tuple(predicated(s.body, cond, shapes, fresh, parallel))))
        elif isinstance(s, l0.Parallel):
            out += masked_selects(replace(s, body=tuple(predicated(s.body, cond, shapes, fresh, True))), fresh, shapes)
        elif isinstance(s, l0.Store) and (s.buffer in shapes or parallel and not reads(cond)):
            out.append(replace(s, value=l0.Select(cond, s.value, l0.Load(s.buffer, s.indices, loc=s.loc), loc=s.loc)))
        elif isinstance(s, l0.Fill) and s.buffer in shapes:
            ij = tuple(fresh(v) for v in ("i", "j", "k", "l")[:len(shapes[s.buffer])])
            store = l0.Store(s.buffer, tuple(l0.Var(v, loc=s.loc) for v in ij), s.value, loc=s.loc)
            out += predicated((l0.Parallel(ij, shapes[s.buffer], (store,), loc=s.loc),), cond, shapes, fresh)
        else:
            what = OPS.get(type(s)) or f"a store into the DRAM tensor {s.buffer}"
            raise NanottError("NT302", f"{what} under an `if` on a value known only at run time ({cond}) is not "
                              "supported by nanott yet", s.loc, DATA_HINT if reads(cond) else HINT)
    return out


def predicable(stmts: tuple, shapes: dict[str, tuple[int, ...]]) -> bool:
    """Whether `predicated` can make every statement conditional (no tile op, no DRAM store)."""
    def ok(s) -> bool:
        if isinstance(s, (l0.For, l0.Parallel)):
            return all(ok(x) for x in s.body)
        return isinstance(s, (l0.Alloc, l0.Let)) or isinstance(s, (l0.Store, l0.Fill)) and s.buffer in shapes
    return all(ok(s) for s in stmts)


def copied_elements(cond: l0.Expr, before: list, shapes: dict[str, tuple[int, ...]]) -> dict | None:
    """For each on-chip buffer element the condition reads (`block_mask[k]`), the DRAM element the
    buffer holds there, when the buffer is filled by a T.copy from a DRAM region among `before` (the
    statements of the blocks that enclose the `if`, so far): {load: DRAM load}. None when any is not
    such an element. That the copy is the buffer's only write is checked when the kernel closes."""
    copies = {s.dst.buffer: s for s in before if isinstance(s, l0.Copy) and s.dst.buffer in shapes
              and s.src.buffer not in shapes}
    out = {}
    for e in walk(cond):
        if isinstance(e, l0.Load):
            copy = copies.get(e.buffer)
            if copy is None or len(copy.dst.extents) != len(e.indices) or any(
                    not (isinstance(x, l0.Const) and x.value == 0) for x in copy.dst.starts):
                return None
            at, src = iter(e.indices), copy.src
            wide = [n for n in src.extents if n != 1]
            if wide != [n for n in copy.dst.extents if n != 1] or 1 in copy.dst.extents:
                return None
            out[e] = l0.Load(src.buffer, tuple(s if n == 1 else l0.BinOp("+", s, next(at), loc=e.loc)
                                               for s, n in zip(src.starts, src.extents)), loc=e.loc)
    return out


def writers(body: tuple, buffer: str) -> int:
    """How many statements of body write the buffer."""
    return sum(1 for x in walk(body) if isinstance(x, (l0.Store, l0.Fill)) and x.buffer == buffer
               or isinstance(x, (l0.Copy, l0.AtomicAdd)) and x.dst.buffer == buffer
               or isinstance(x, l0.Gemm) and x.c == buffer or isinstance(x, l0.Reduce) and x.dst == buffer)


def read_anywhere(body: tuple, buffer: str) -> bool:
    """Whether a statement of body reads the buffer."""
    return any(isinstance(x, l0.Load) and x.buffer == buffer or isinstance(x, (l0.Copy, l0.AtomicAdd))
               and x.src.buffer == buffer or isinstance(x, l0.Gemm) and buffer in (x.a, x.b)
               or isinstance(x, l0.Reduce) and x.src == buffer or isinstance(x, l0.PrintBuffer) and x.buffer == buffer
               for x in walk(body))


def without_copy_into(stmts: list, buffer: str) -> list:
    """stmts without the buffer's allocation and the copies into it, nested ones too."""
    out = []
    for s in stmts:
        if getattr(s, "label", None) == buffer or isinstance(s, l0.Alloc) and s.name == buffer \
                or isinstance(s, l0.Copy) and s.dst.buffer == buffer:
            continue
        out.append(replace(s, body=tuple(without_copy_into(list(s.body), buffer))) if isinstance(s, l0.For) else s)
    return out


def once_if(stmts: tuple, cond: l0.Expr, var: str, loc) -> l0.For:
    """A branch holding tile operations, as a serial loop that runs once where cond holds and never
    elsewhere: `for var in range(T.if_then_else(cond, 1, 0))`."""
    one, zero = (l0.Const(n, "int32", loc=loc) for n in (1, 0))
    return l0.For(var, l0.Select(cond, one, zero, loc=loc), "serial", 0, stmts, loc=loc)


def masked_selects(p: l0.Parallel, fresh: Callable[[str], str], on_chip=()) -> list:
    """p, with each T.if_then_else(c, a, b) of its stores whose a or b reads a buffer, and whose c
    reads none, as max(min(a, keep[i, j]), min(b, drop[i, j])): keep and drop are float32 masks of
    p's extents made before p, +inf and -inf where c holds and -inf and +inf elsewhere. Exact for
    every value but NaN (min(a, +inf) = a, min(b, -inf) = -inf, max(a, -inf) = a), and made of
    operations a tile map has, where a choice reading tiles is not one (C2). An element of a DRAM
    tensor (a buffer not `on_chip`) that c reads at an index of none of p's variables (the grouped
    cast's `row * blk_m + i < batch_sizes[bg]`) is first a let before p: one value for the block,
    which the reader reads and makes the masks with. A loop gathering rows of a DRAM tensor is kept
    as it is: the reader reads its rows, and a row where c fails is zeros (nanott/row_gather.py)."""
    if on_chip and (row_gather(p, NotIn(set(on_chip))) or row_scatter(p, NotIn(set(on_chip)))) is not None:
        return [p]
    lets: dict[str, l0.Expr] = {}
    masks: dict[l0.Expr, tuple[str, str]] = {}
    elements: dict[l0.Expr, l0.Var] = {}
    before: list = []
    at = tuple(l0.Var(v, loc=p.loc) for v in p.vars)

    def element(x: l0.Load) -> l0.Expr:
        if x.buffer in on_chip or any(isinstance(v, l0.Var) and v.name in p.vars for v in walk(x.indices)):
            return x
        if x not in elements:
            elements[x] = l0.Var(name := fresh(f"{x.buffer}_value"), loc=x.loc)
            before.append(l0.Let(name, x, loc=x.loc))
        return elements[x]

    def hoisted(c: l0.Expr) -> l0.Expr:
        if isinstance(c, l0.Load):
            return element(c)
        names = field_names(type(c))
        return replace(c, **{f: hoisted(getattr(c, f)) for f in names}) if names else c

    def mask(c: l0.Expr) -> tuple[str, str]:
        if c not in masks:
            masks[c] = (fresh("keep"), fresh("drop"))
            for name, sign in zip(masks[c], (1.0, -1.0)):
                inf = lambda s: l0.Const(s * float("inf"), "float32", loc=c.loc)     # noqa: E731
                before.extend(mask_block(name, p, l0.Select(c, inf(sign), inf(-sign), loc=c.loc), fresh))
        return masks[c]

    def rewrite(e):
        if isinstance(e, tuple):
            return tuple(rewrite(x) for x in e)
        if isinstance(e, l0.Select) and reads(e.then) | reads(e.other) and not reads(cond := hoisted(subst(e.cond, lets))):
            keep, drop = mask(cond)
            kept = l0.BinOp("min", rewrite(e.then), l0.Load(keep, at, loc=e.loc), loc=e.loc)
            return l0.BinOp("max", kept, l0.BinOp("min", rewrite(e.other), l0.Load(drop, at, loc=e.loc), loc=e.loc),
                            loc=e.loc)
        names = field_names(type(e))
        return replace(e, **{f: rewrite(getattr(e, f)) for f in names}) if names else e

    body = []
    for s in p.body:
        if isinstance(s, l0.Let):
            lets[s.var] = subst(s.value, lets)
        kept = masked_store(s) is not None and s.buffer not in on_chip      # an `if` on a DRAM store: P0b's
        body.append(replace(s, value=rewrite(s.value)) if isinstance(s, (l0.Store, l0.AtomicStore, l0.Let))
                    and not kept else s)
    return [*before, replace(p, body=tuple(body))] if before else [p]


def mask_block(name: str, p: l0.Parallel, value: l0.Expr, fresh: Callable[[str], str]) -> list:
    """The statements making the float32 buffer `name` of p's extents hold `value` at each element.
    A vector (p of one variable) is the row maxima of a block of 32 columns, each the vector's
    element (a value of indices is a 2-D block the reader makes; ±inf rows reduce exactly)."""
    loc, at = value.loc, tuple(l0.Var(v, loc=p.loc) for v in p.vars)
    if len(p.vars) == 2:
        return [l0.Alloc(name, p.extents, "float32", "fragment", loc=loc),
                l0.Parallel(p.vars, p.extents, (l0.Store(name, at, value, loc=loc),), loc=loc)]
    wide, col = fresh(f"{name}_rows"), fresh("c")
    return [l0.Alloc(wide, (p.extents[0], 32), "float32", "fragment", loc=loc),
            l0.Parallel((*p.vars, col), (p.extents[0], 32), (l0.Store(wide, (*at, l0.Var(col, loc=loc)), value, loc=loc),),
                        loc=loc),
            l0.Alloc(name, p.extents, "float32", "fragment", loc=loc),
            l0.Reduce("max", wide, name, 1, True, loc=loc)]


def subst_nodes(e, values: dict):
    """e with every subexpression equal to a key of `values` replaced by its value."""
    if e in values:
        return values[e]
    if isinstance(e, tuple):
        return tuple(subst_nodes(x, values) for x in e)
    names = field_names(type(e))
    return replace(e, **{f: subst_nodes(getattr(e, f), values) for f in names}) if names else e


def reads(e: l0.Expr) -> bool:
    return any(isinstance(x, l0.Load) for x in walk(e))


def subst(e: l0.Expr, values: dict[str, l0.Expr]) -> l0.Expr:
    """e with each let it names replaced by the let's value (a mask is made outside the loop)."""
    if isinstance(e, l0.Var) and e.name in values:
        return values[e.name]
    if isinstance(e, tuple):
        return tuple(subst(x, values) for x in e)
    names = field_names(type(e))
    return replace(e, **{f: subst(getattr(e, f), values) for f in names}) if names else e
