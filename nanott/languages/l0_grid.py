"""CompiledL0's grid in lockstep: each top-level statement of the block body for every block,
before the next statement, where that cannot change what any block computes.

InterpL0 runs the grid block by block (bx fastest). Blocks see each other only through the global
tensors, so running the body statement-major over blocks (statement 1 for every block in block
order, then statement 2, ...) gives the same result whenever every global tensor the body writes is
written by one top-level statement only, as the destination of copies, and is read by none
(`eligible` decides it from the IR, once per kernel). Then every tensor is written by the same
statement instances in the same order as block by block, and what a block reads does not depend
on when it reads it. A T.print would print its lines in another order: a body with one is not
eligible.

What lockstep buys: an on-chip buffer of every block is one array with the block axis in front
(one allocation, one fill), and a GEMM's K loop (batch_plan) is planned once for the grid: the
starts of every copy for every block and iteration are one evaluation over index arrays, and each
block is left with its batched product and its in-order sum (the reference's arithmetic, as in
Compiled.batch). Any other statement runs per block, by its compiled closure, on the block's own
Env whose buffers are that block's slices. Anything unusual (a region reaching outside its tensor,
starts that do not step evenly, an error) leaves it to the block-by-block run: an error restores the
tensors written so far and the reference's order raises it, with the reference's block.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from nanott.ir import walk
from nanott.languages import l0
from nanott.languages.l0_interp import Env, empty, np_dtype, xy

F32 = np.float32


def eligible(program: l0.Kernel, written: set[str]) -> bool:
    """Whether statement-major over blocks is the same as block by block (see the module's doc):
    each global tensor in `written` (the tensors some statement writes) is mentioned only as the
    destination of copies, all in one top-level statement."""
    body = program.body
    if len(body) < 2 or any(isinstance(x, l0.Print) for x in walk(body)):
        return False
    for name in written:
        writers, readers = set(), 0
        for top, s in enumerate(body):
            dsts = {id(x.dst) for x in walk(s) if type(x) is l0.Copy}
            for x in walk(s):
                if any(getattr(x, f.name) == name for f in fields(x) if isinstance(getattr(x, f.name), str)):
                    if type(x) is l0.Region and id(x) in dsts:
                        writers.add(top)
                    else:
                        readers += 1
        if len(writers) != 1 or readers:
            return False
    return True


def run(interp: Any, program: l0.Kernel, arrays: dict[str, np.ndarray]) -> bool:
    """Run the grid in lockstep into `arrays`; False, with `arrays` as they were, where the
    block-by-block run must do it instead."""
    blocks = [b for _, b in interp.blocks(program)]
    if len(blocks) < 2:
        return False
    envs = [Env(dict(arrays), dict(zip(program.block_vars, b)), f"{program.name} block {xy(b)}") for b in blocks]
    grid: dict[str, np.ndarray] = {}                 # on-chip buffers with the block axis in front
    saved: dict[str, np.ndarray] = {}
    body = program.body
    try:
        for top, s in enumerate(body):
            if top < len(body) - 1:    # the last statement's writes are the reference's up to an error
                for name in {x.dst.buffer for x in walk(s) if type(x) is l0.Copy} & set(arrays):
                    saved.setdefault(name, arrays[name].copy())
            after = body[top + 1] if top + 1 < len(body) else None
            if not lockstep(interp, s, envs, grid, arrays, after):
                f = interp.compiled(s, interp.stmt)
                for env in envs:
                    f(env)
                for x in walk(s):                     # a buffer allocated again per block: its own now
                    if type(x) is l0.Alloc:
                        grid.pop(x.name, None)
    except Exception:                                 # noqa: BLE001 (the reference's run raises it again)
        for name, before in saved.items():
            arrays[name][...] = before
        return False
    return True


def lockstep(interp: Any, s: Any, envs: list[Env], grid: dict[str, np.ndarray], arrays: dict[str, np.ndarray],
             after: Any) -> bool:
    """Run one top-level statement for every block at once, where it has a rule for that; False
    (nothing done) where it runs per block. `after` is the next statement (an Alloc the next
    statement fills whole is made with the fill's value: the NaN in between is never seen)."""
    match s:
        case l0.Alloc(name, shape, dtype, _):
            if type(after) is l0.Fill and after.buffer == name and type(after.value) is l0.Const:
                grid[name] = np.full((len(envs), *shape), interp.eval(after.value, envs[0]), dtype=np_dtype(dtype))
            else:
                grid[name] = empty((len(envs), *shape), dtype)
            for g, env in enumerate(envs):
                env.buffers[name] = grid[name][g]
            return True
        case l0.Fill(buffer, l0.Const() as value) if buffer in grid:
            grid[buffer][...] = interp.eval(value, envs[0])
            return True
        case l0.For(var, extent, _, _, _):
            plan = interp.plan_of(s)
            if plan is None:
                return False
            n = {int(interp.eval(extent, env)) for env in envs}
            return len(n) == 1 and (n := n.pop()) > 1 and batch(interp, s, plan, envs, grid, n)
        case l0.Copy(src, dst) if src.buffer in grid and dst.buffer in arrays:
            return copy_out(interp, src, dst, envs, grid[src.buffer], arrays[dst.buffer])
    return False


def copy_out(interp: Any, src: l0.Region, dst: l0.Region, envs: list[Env], values: np.ndarray,
             out: np.ndarray) -> bool:
    """Every block's whole on-chip buffer into its region of a global tensor, in one call, when the
    regions are tiles of the tensor (inside it, on tile boundaries) and no two blocks write the same
    one; False (nothing written) otherwise."""
    extents = tuple(dst.extents)
    if tuple(src.extents) != extents or values.shape[1:] != extents or not out.flags.c_contiguous \
            or any(not (type(x) is l0.Const and x.value == 0) for x in src.starts) or len(extents) != out.ndim:
        return False
    G = len(envs)
    each = Env(envs[0].buffers, stacked(envs, G))
    starts = [np.broadcast_to(np.asarray(interp.eval(x, each)), (G, 1))[:, 0] for x in dst.starts]
    if any(st.dtype.kind not in "iu" or st.min() < 0 or (st + e).max() > d or (st % e).any() or d % e
           for st, e, d in zip(starts, extents, out.shape)):
        return False
    at = [st // e for st, e in zip(starts, extents)]
    ids = np.sort(np.ravel_multi_index(at, [d // e for d, e in zip(out.shape, extents)]))
    if (ids[1:] == ids[:-1]).any():                   # two blocks write one tile: their order matters
        return False
    tiles = out.reshape([x for d, e in zip(out.shape, extents) for x in (d // e, e)])
    tiles[tuple(x for t in at for x in (t, slice(None)))] = values if values.dtype == out.dtype else values.astype(out.dtype)
    return True


def batch(interp: Any, s: l0.For, plan: tuple, envs: list[Env], grid: dict[str, np.ndarray], n: int) -> bool:
    """Compiled.batch for every block: the starts of each copy for every block and iteration at
    once; per block, its batched product and in-order sum. False (nothing changed) where a block's
    regions reach outside the tensor or do not step evenly: the blocks then run it their own way."""
    copies, gemms = plan
    G = len(envs)
    each = Env(envs[0].buffers, stacked(envs, G))
    each.scalars[s.var] = interp.iterations(n)[None, :]
    views, last = {}, {}
    for c in copies:
        if c.dst.buffer not in grid:
            return False
        src, dst = envs[0].buffers[c.src.buffer], grid[c.dst.buffer]
        if src.dtype != dst.dtype or c.src.buffer not in interp.constant or tuple(c.dst.extents) != dst.shape[1:]:
            return False
        where = grid_steps([interp.eval(x, each) for x in c.src.starts], c.src.extents, src.shape, G, n)
        if where is None:
            return False
        firsts, by = where
        tiles = interp.tiles_of(c.src.buffer, src, c.src.extents, firsts, by)
        if tiles is None:
            return False
        k = len(c.src.extents)
        ts = tiles.strides[:k]
        offsets = sum(f // e * t for f, e, t in zip(firsts, c.src.extents, ts))
        jumps = sum(b // e * t for b, e, t in zip(by, c.src.extents, ts))
        views[c.dst.buffer] = (tiles, offsets.tolist(), jumps.tolist(), (n, *c.src.extents), tiles.strides[k:])
        last[c.dst.buffer] = (src, [(f + b * (n - 1)).tolist() for f, b in zip(firsts, by)], c.src.extents)
    for g in gemms:
        if g.c not in grid or any(x not in views and x not in grid for x in (g.a, g.b)):
            return False
    for i in range(G):
        operands = {}
        for name, (tiles, offsets, jumps, shape, inner) in views.items():
            operands[name] = np.ndarray(shape, F32, buffer=tiles, offset=offsets[i], strides=(jumps[i], *inner))
        for g in gemms:
            a = operands[g.a] if g.a in operands else grid[g.a][i].astype(F32)
            b = operands[g.b] if g.b in operands else grid[g.b][i].astype(F32)
            interp.accumulate(a, b, grid[g.c][i], g, n)
    for name, (src, starts, extents) in last.items():   # what the last iteration's copy left there
        big = grid[name]
        for i in range(G):
            big[i] = src[tuple(slice(st[i], st[i] + e) for st, e in zip(starts, extents))]
    for env in envs:
        env.scalars[s.var] = n - 1
    return True


def stacked(envs: list[Env], G: int) -> dict[str, Any]:
    """The blocks' scalars as one (G, 1) index array each (the block axis first, then the loop's)."""
    out = {}
    for name in envs[0].scalars:
        values = [env.scalars[name] for env in envs]
        if all(isinstance(v, (int, np.integer)) for v in values):
            out[name] = np.array(values, dtype=np.int64).reshape(G, 1)
    return out


def grid_steps(starts: list[Any], extents: tuple[int, ...], shape: tuple[int, ...], G: int, n: int) -> tuple | None:
    """Per axis, (first start, step) of every block (int64 arrays of G) when every block's regions
    lie inside a buffer of `shape` and step evenly; else None."""
    if len(extents) != len(shape) or n < 2:
        return None
    firsts, by = [], []
    for st, e, d in zip(starts, extents, shape):
        st = np.broadcast_to(np.asarray(st), (G, n))
        if st.dtype.kind not in "iu":
            return None
        step = st[:, 1] - st[:, 0]
        if not (st == st[:, :1] + step[:, None] * np.arange(n)).all():
            return None
        if st.min() < 0 or st.max() + e > d:
            return None
        firsts.append(st[:, 0].astype(np.int64))
        by.append(step.astype(np.int64))
    return firsts, by
