"""B2 grid-to-persistent: L2 -> L3

Changes:   the grid disappears. The body is wrapped in one persistent loop over the core's blocks,
           `for blk in 0..core.count`, which recovers the linear block id (`core.start + blk`) and
           from it the user's block indices: bx = id % gx, by = (id // gx) % gy, bz = id // (gx*gy)
           (no modulo on the last one); with B1's tiles of tw x th blocks (cx a row), the core's
           tile t = id // (tw*th) and the block i = id % (tw*th) within it give
           bx = (t % cx) * tw + i % tw, by = (t // cx) * th + i // tw. The loop and its lets carry
           the line of the body's first
           statement; the two names it adds are fresh (numbered when the kernel already uses them).
Preserves: the user's body, unchanged inside the loop, and the work split of B1: each core runs
           exactly the blocks B1 gave it, with the same block indices the grid gave them.
Why:       a Tensix core runs one program from start to end; there is no hardware that launches a
           block per grid point, so each core loops over its own blocks.
"""
from __future__ import annotations


from nanott.languages import l2, l3
from nanott.passes._names import NameSupply, names_in
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def grid_to_persistent(program: l2.Kernel, target: Target) -> l3.Kernel:
    return GridToPersistent().visit(program)


def block_index_lets(block_vars: tuple[str, ...], grid: tuple[int, ...], block_id: str, loc) -> list:
    """let bx = id % gx; let by = (id // gx) % gy; ...; the last index takes no modulo."""
    lets, stride = [], 1
    for i, (var, n) in enumerate(zip(block_vars, grid)):
        e: l3.Expr = l3.Var(block_id)
        if stride > 1:
            e = l3.BinOp("//", e, l3.Const(stride, "int32"))
        if i < len(block_vars) - 1:
            e = l3.BinOp("%", e, l3.Const(n, "int32"))
        lets.append(l3.Let(var, e, loc=loc))
        stride *= n
    return lets


def tile_lets(block_vars: tuple[str, ...], tile: tuple[int, ...], block_id: str, names: NameSupply, loc) -> list:
    """B1's tiles: let t = id // (tw*th); let i = id % (tw*th); bx, by from t and i."""
    (tw, th, cx), c = tile, lambda v: l3.Const(v, "int32")
    t, i = names.fresh("tile"), names.fresh("in_tile")
    op = l3.BinOp
    return [l3.Let(t, op("//", l3.Var(block_id), c(tw * th)), loc=loc),
            l3.Let(i, op("%", l3.Var(block_id), c(tw * th)), loc=loc),
            l3.Let(block_vars[0], op("+", op("*", op("%", l3.Var(t), c(cx)), c(tw)), op("%", l3.Var(i), c(tw))), loc=loc),
            l3.Let(block_vars[1], op("+", op("*", op("//", l3.Var(t), c(cx)), c(th)), op("//", l3.Var(i), c(tw))),
                   loc=loc)]


class GridToPersistent(Rewriter, src=l2.LANG, dst=l3.LANG):
    def visit_Kernel(self, k: l2.Kernel) -> l3.Kernel:
        names = NameSupply(names_in(k))
        blk, block_id = names.fresh("blk"), names.fresh("block_id")
        loc = k.body[0].loc if k.body else k.loc
        start = l3.Let(block_id, l3.BinOp("+", l3.CoreArg("start"), l3.Var(blk)), loc=loc)
        lets = (tile_lets(k.block_vars, k.work.tile, block_id, names, loc) if k.work.tile else
                block_index_lets(k.block_vars, k.grid, block_id, loc))
        body = (start, *lets, *self.visit(k.body))
        loop = l3.For(blk, l3.CoreArg("count"), "persistent", 0, body, loc=loc)
        return self.rebuild(k, body=(loop,))
