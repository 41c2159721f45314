"""P0a merge-row-blocks: L0 -> L0

Changes:   a grid whose blocks are fewer than 32 rows (`blk_m = 1` or 8 in TileLang's norm and cast
           kernels) becomes a grid of blocks of 32 rows: 32 / m consecutive blocks along that grid
           dim share one tile row. Decided by analysis of the kernel (_p0a_row_blocks.py): the
           block index b only starts m-row copies (`A[b * m, 0]`), the buffers of m rows hold those
           rows, and no operation mixes rows. Then b * m becomes b * 32, every m-row buffer, copy
           and T.Parallel gets 32 rows, the grid dim ceildiv(g, 32 / m), and the kernel records the
           choice as `merged_rows = b: f blocks of m rows`. Lets of the kernel's top level that
           name a value of block indices (`row = bx`) are put in place of their uses first, when
           only then the blocks qualify. A copy start `b * m + c` whose offset c is the same for
           all blocks along the dim (TileLang's grouped cast: `row_offset + row * blk_m`, a sum of
           group sizes) becomes `b * 32 + c`, and a tensor row `b * m + i + c` in a T.Parallel
           over the rows (a row mask `row * blk_m + i < n`) becomes `b * 32 + i + c`: the same
           rows, numbered in the tensor. Blocks of fewer than 32 rows that break a rule are
           NT111, naming the rule. A block of fewer than 32 rows that only carries an on-chip
           block's first rows to DRAM (GQA decoding's `O_shared`, valid_block_H of block_H rows)
           gets 32 rows, its copies to DRAM row scatters of those first rows
           (_p0a_staged_rows.py), recorded as `staged_rows`. A block of fewer than 32 rows that no grid index starts (split-KV
           decoding's `num_split` rows) and that is used only row by row becomes one vector per
           row (_p0a_row_vectors.py), recorded as `row_vectors`. Any other kernel is left as it is.
Preserves: every row's values: rows are computed independently, before and after; the rows a
           merged block adds past the tensor's end are masked copies (zero reads, skipped stores).
Why:       Tensix computes on 32x32 tiles and reads DRAM in whole tiles; a block of one row would
           pad every tile with 31 rows of nothing. Independent rows can share the tile instead,
           so each core does 32 of the user's blocks at once.
"""
from __future__ import annotations

from nanott.diagnostics import NanottError
from nanott.ir import replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, subst
from nanott.passes._p0a_row_blocks import RowBlocks, row_blocks, why_not
from nanott.passes._p0a_row_vectors import rows_as_vectors
from nanott.passes._p0a_staged_rows import staged_rows
from nanott.passes._p0a_tensor_rows import map_tensor_rows
from nanott.passes._rewriter import Rewriter
from nanott.target import TILE, Target


def merge_row_blocks(program: l0.Kernel, target: Target) -> l0.Kernel:
    plan = row_blocks(program)
    if plan is None and (named := inline_block_lets(program)) is not program:
        program, plan = (named, found) if (found := row_blocks(named)) is not None else (program, None)
    if plan is not None:
        return MergeRowBlocks(plan).visit(program)
    program = staged_rows(program)
    if (reason := why_not(program) or why_not(inline_block_lets(program))) is not None:
        at = next((x.loc for x in walk(program.body) if isinstance(x, l0.Alloc) and x.shape[0] < TILE), program.loc)
        raise NanottError("NT111", f"blocks of fewer than {TILE} rows can share a tile only when their rows "
                          f"are independent, and here {reason}", at,
                          f"use blocks of {TILE} rows, or keep each row's work to its own row")
    return rows_as_vectors(program)


def inline_block_lets(k: l0.Kernel) -> l0.Kernel:
    """k without the lets of its top level that name a value of block indices (`row = bx`, in
    TileLang's cast), each use replaced by the value; k itself when it has none."""
    values: dict[str, l0.Expr] = {}
    body = []
    updated = {x.var for x in walk(k.body) if isinstance(x, l0.Let) and x.update}    # carried: kept
    for s in k.body:
        if isinstance(s, l0.Let) and s.var not in updated and not any(isinstance(x, l0.Load) for x in walk(s.value)):
            values[s.var] = subst(s.value, values)
        else:
            body.append(subst(s, values))
    return replace(k, body=tuple(body)) if values else k


class MergeRowBlocks(Rewriter, src=l0.LANG, dst=l0.LANG):
    def __init__(self, plan: RowBlocks):
        self.plan = plan

    def visit_Kernel(self, k: l0.Kernel) -> l0.Kernel:
        p = self.plan
        grid = list(k.grid)
        grid[p.dim] = -(-grid[p.dim] // p.factor)
        k = map_tensor_rows(k, p, lambda _, terms, const: build(self.merged(terms), const))
        note = l0.Attr("merged_rows", f"{p.var}: {p.factor} blocks of {p.rows} row{'s' if p.rows > 1 else ''}", loc=k.loc)
        attrs = tuple(sorted((*k.attrs, note), key=lambda a: (a.key, a.value)))
        return replace(k, grid=tuple(grid), body=self.visit(k.body), attrs=attrs)

    def visit_Alloc(self, a: l0.Alloc) -> l0.Alloc:
        return replace(a, shape=(TILE, *a.shape[1:])) if a.name in self.plan.buffers else a

    def visit_Region(self, r: l0.Region) -> l0.Region:
        if r.buffer in self.plan.buffers:
            return replace(r, extents=(TILE, *r.extents[1:]))
        var = l0.Var(self.plan.var)
        dims = [d for d, s in enumerate(r.starts) if var in _vars(s)]
        if not dims:
            return r
        d = dims[0]
        start = build(self.merged(affine(r.starts[d])[0]), affine(r.starts[d])[1])
        return replace(r, starts=_put(r.starts, d, start), extents=_put(r.extents, d, TILE))

    def merged(self, terms: list) -> list:
        """The terms of `b * m + ...` as those of `b * 32 + ...`: the same rows, merged blocks'."""
        return [(a, TILE if a == l0.Var(self.plan.var) else c) for a, c in terms]

    def visit_Parallel(self, p: l0.Parallel) -> l0.Parallel:
        touched = {x.buffer for x in _accesses(p.body)} & self.plan.buffers
        extents = (TILE, *p.extents[1:]) if touched else p.extents
        return replace(p, extents=extents, body=self.visit(p.body))


def _put(xs: tuple, i: int, x) -> tuple:
    return (*xs[:i], x, *xs[i + 1:])


def _vars(e) -> list:
    return [v for v in walk(e) if isinstance(v, l0.Var)]


def _accesses(body: tuple) -> list:
    return [x for x in walk(body) if isinstance(x, (l0.Load, l0.Store))]
