"""Block operations as one NumPy call: an innermost compute loop of tile calls, run for all its
iterations at once (used by sim/lockstep.py).

The loops D5 writes over a batch of DST slots (`for j in 0..8: copy_tile cb0[j] -> dst[j]`,
`matmul_tiles ... -> dst[j3] +=`, `pack_tile dst[j] -> cb2.back[j]`) hold only scalar lets and
tile calls. Run statement by statement over every iteration (statement-major) instead of
iteration by iteration, they compute the same thing whenever no DST slot or CB page that one
iteration writes is touched by another iteration. `run` checks exactly that, and every rule the
reference would check (DST state and index range, CB front and back regions, the op's init),
before it changes anything; if any of it fails it returns False and the caller runs the loop the
reference's way, which raises the reference's error. The arithmetic is the reference's, on stacks
of tiles: the iteration axis in front of the core axis.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nanott.languages import l9
from nanott.languages.l0_interp import cast
from nanott.languages.l5_interp import TILE_BITS, TILE_OPS, TILE_UNARY, reduce_tile, spread
from nanott.languages.l5_interp import where as where_tile
from nanott.sim.errors import ProtocolError
from nanott.target import TILE

F32 = np.float32
MATH = (l9.CopyTile, l9.BinaryTiles, l9.MatmulTiles, l9.TransposeTile, l9.UnaryBcast, l9.ReduceTile,
        l9.SfpuBinary, l9.SfpuScalar, l9.SfpuUnary, l9.SfpuTypecast, l9.SfpuWhere, l9.SfpuBitsBinary,
        l9.SfpuBitsScalar, l9.FillTile)
BODY = MATH + (l9.PackTile, l9.Let)


class NotVector(Exception):
    """This loop cannot run statement-major (the caller runs it iteration by iteration)."""


def vector_loop(loop: l9.For) -> bool:
    """Whether a loop is made only of scalar lets and tile calls (decided once per loop)."""
    return bool(loop.body) and all(isinstance(s, BODY) for s in loop.body)


def run(interp: Any, loop: l9.For, env: Any, extent: int) -> bool:
    """Run `loop` statement-major if that is the same as the reference's order; False if not."""
    if extent < 2:
        return False
    dst, engine = interp.engines[env.core]
    scalars = dict(env.scalars)
    scalars[loop.var] = np.arange(extent).reshape(-1, 1)          # iterations x cores
    plan, owner = [], {}
    try:
        for s in loop.body:
            if isinstance(s, l9.Let):
                scalars[s.var] = interp.eval(s.value, _Env(scalars))
                continue
            engine.check(s)
            if isinstance(s, l9.CopyTile) and s.cb in interp.via_srca:
                raise NotVector            # a Float32 copy through srcA's TF32: the reference models it
            if dst.state != ("packing" if isinstance(s, l9.PackTile) else "math"):
                raise NotVector
            step = _plan(s, _Env(scalars), interp, env, dst, extent)
            for kind, where in step[1]:
                _claim(owner, kind, where)
            plan.append(step)
    except (NotVector, ProtocolError):
        return False
    with np.errstate(invalid="ignore"):
        for s, _, args in plan:
            _execute(s, args, dst, env)
    for name in [loop.var] + [s.var for s in loop.body if isinstance(s, l9.Let)]:
        v = scalars[name]                                        # the last iteration's values
        if isinstance(v, np.ndarray) and v.ndim == 2:
            v = int(v[-1, 0]) if v.shape[1] == 1 else v[-1]
        env.scalars[name] = v
    return True


class _Env:
    def __init__(self, scalars):
        self.scalars, self.buffers = scalars, {}


def _uniform(interp: Any, e: Any, env: _Env, extent: int) -> np.ndarray:
    """An index per iteration, the same on every core of the group."""
    v = np.asarray(interp.eval(e, env))
    if v.ndim == 1:                      # per core only
        v = v[None, :]
    if v.ndim == 2:
        if not (v == v[:, :1]).all():
            raise NotVector
        v = v[:, 0]
    return np.broadcast_to(v.astype(np.int64), (extent,))


def _front(ring, slots: np.ndarray) -> np.ndarray:
    if slots.min() < 0 or slots.max() >= ring.waited:
        raise NotVector
    return ring.rd + slots


def _dst(dst, slots: np.ndarray) -> np.ndarray:
    if slots.min() < 0 or slots.max() >= dst.capacity:
        raise NotVector
    return slots


def _plan(s: Any, env: _Env, interp: Any, kenv: Any, dst, extent: int) -> tuple:
    """(statement, accesses [(kind, (location per iteration, written?))], arguments)."""
    idx = lambda e: _uniform(interp, e, env, extent)              # noqa: E731
    cbs = kenv.cbs
    match s:
        case l9.CopyTile(cb, i, d) | l9.TransposeTile(cb, i, d) | l9.UnaryBcast(_, cb, i, d, _):
            pages, slots = _front(cbs[cb], idx(i)), _dst(dst, idx(d))
            return s, [(("cb", cb), (pages, False)), ("dst", (slots, True))], (pages, slots)
        case l9.BinaryTiles(_, a_cb, b_cb, a_i, b_i, d, _) | l9.MatmulTiles(a_cb, b_cb, a_i, b_i, d, _):
            pa, pb, slots = _front(cbs[a_cb], idx(a_i)), _front(cbs[b_cb], idx(b_i)), _dst(dst, idx(d))
            return s, [(("cb", a_cb), (pa, False)), (("cb", b_cb), (pb, False)), ("dst", (slots, True))], \
                (pa, pb, slots)
        case l9.ReduceTile(_, _, cb, sc, i, si, d, _):
            pa, pb, slots = _front(cbs[cb], idx(i)), _front(cbs[sc], idx(si)), _dst(dst, idx(d))
            return s, [(("cb", cb), (pa, False)), (("cb", sc), (pb, False)), ("dst", (slots, True))], \
                (pa, pb, slots)
        case l9.SfpuBinary(_, a, b, d) | l9.SfpuBitsBinary(_, a, b, d):
            sa, sb, sd = _dst(dst, idx(a)), _dst(dst, idx(b)), _dst(dst, idx(d))
            return s, [("dst", (sa, False)), ("dst", (sb, False)), ("dst", (sd, True))], (sa, sb, sd)
        case l9.SfpuWhere(c, a, b, d):
            sc, sa, sb, sd = (_dst(dst, idx(x)) for x in (c, a, b, d))
            return s, [("dst", (sc, False)), ("dst", (sa, False)), ("dst", (sb, False)), ("dst", (sd, True))], \
                (sc, sa, sb, sd)
        case l9.SfpuScalar(_, d) | l9.SfpuBitsScalar(_, d) | l9.SfpuUnary(_, d) | l9.SfpuTypecast(d) | l9.FillTile(d):
            sd = _dst(dst, idx(d))
            return s, [("dst", (sd, True))], (sd,)
        case l9.PackTile(d, cb, slot):
            ring, sd, slots = cbs[cb], _dst(dst, idx(d)), idx(slot)
            if slots.min() < 0 or slots.max() >= ring.reserved:
                raise NotVector
            return s, [("dst", (sd, False)), (("cb", cb), (ring.wr + slots, True))], (sd, ring.wr + slots)
    raise NotVector


def _claim(owner: dict, kind: Any, where: tuple) -> None:
    """Record which iteration touches each location; a location written by one iteration and
    touched by another makes the loop iteration-ordered (NotVector)."""
    locations, written = where
    for it, loc in enumerate(locations.tolist()):
        key = (kind, loc)
        seen = owner.setdefault(key, [set(), False])
        seen[0].add(it)
        seen[1] = seen[1] or written
        if seen[1] and len(seen[0]) > 1:
            raise NotVector


def _widen(ring, pages: np.ndarray) -> np.ndarray:
    return widen(ring.pages[slots(pages)])


def widen(pages: np.ndarray) -> np.ndarray:
    """Pages as float32, what the unpacker hands the engine (exact for every format; ml_dtypes
    < 0.7 casts bfloat16 at memory speed, faster than widening its bits by a shift)."""
    return pages.astype(F32)

def slots(d: np.ndarray) -> Any:
    """DST slots or CB pages as a slice when they are evenly spaced (`dst[j*2]`: every other slot),
    a view instead of a gather and scatter, else as they are."""
    first = int(d[0])
    step = int(d[1]) - first if len(d) > 1 else 1
    if step < 1 or not np.array_equal(d, np.arange(first, first + step * len(d), step)):
        return d
    return slice(first, first + step * (len(d) - 1) + 1, step)


def _ufunc_into(f: Any, a: np.ndarray, b: np.ndarray, t: np.ndarray, d: np.ndarray) -> bool:
    """f(a, b) in float32 straight into the DST tiles `d` when f is a ufunc and `d` a view (the
    operands widened as the ufunc reads them, exactly as astype would: no full-size copies); False
    if not."""
    where = slots(d)
    if not isinstance(f, np.ufunc) or type(where) is not slice:
        return False
    f(a, b, out=t[where], dtype=F32, casting="unsafe")
    return True


def _execute(s: Any, args: tuple, dst, env: Any) -> None:
    t, cbs = dst.tiles, env.cbs
    match s:
        case l9.CopyTile(cb):
            pages, d = args
            t[slots(d)] = cbs[cb].pages[slots(pages)]          # widened as it is stored: exact
        case l9.TransposeTile(cb):
            pages, d = args
            t[d] = np.swapaxes(_widen(cbs[cb], pages), -1, -2)
        case l9.UnaryBcast(dim, cb):
            pages, d = args
            t[d] = spread(_widen(cbs[cb], pages), dim)
        case l9.BinaryTiles(op, a_cb, b_cb, _, _, _, bcast):
            pa, pb, d = args
            a, b = cbs[a_cb].pages[slots(pa)], cbs[b_cb].pages[slots(pb)]
            if bcast != "none" or not _ufunc_into(TILE_OPS[op], a, b, t, d):
                a, b = widen(a), widen(b)
                t[slots(d)] = TILE_OPS[op](a, b if bcast == "none" else spread(b, bcast))
        case l9.MatmulTiles(a_cb, b_cb, _, _, _, transpose):
            pa, pb, d = args
            a, b = _widen(cbs[a_cb], pa), _widen(cbs[b_cb], pb)
            t[slots(d)] += a @ (np.swapaxes(b, -1, -2) if transpose else b)      # d: no slot twice
        case l9.ReduceTile(op, dim, cb, sc):
            pa, pb, d = args
            t[d] = reduce_tile(op, dim, t[d], _widen(cbs[cb], pa), _widen(cbs[sc], pb))
        case l9.SfpuBinary(op):
            a, b, d = args
            if not _ufunc_into(TILE_OPS[op], t[slots(a)], t[slots(b)], t, d):
                t[d] = TILE_OPS[op](t[a], t[b])
        case l9.SfpuWhere():
            c, a, b, d = args
            t[d] = where_tile(t[c], t[a], t[b])
        case l9.SfpuScalar(op, _, scalar):
            t[args[0]] = TILE_OPS[op](t[args[0]], F32(scalar))
        case l9.SfpuBitsBinary(op):
            a, b, d = args
            t[d] = TILE_BITS[op](t[a], t[b])
        case l9.SfpuBitsScalar(op, _, value):
            t[args[0]] = TILE_BITS[op](t[args[0]], F32(value))
        case l9.SfpuUnary(op):
            t[args[0]] = TILE_UNARY[op](t[args[0]])
        case l9.SfpuTypecast(_, dtype):
            t[args[0]] = cast(t[args[0]], dtype)
        case l9.FillTile(_, value):
            t[args[0]] = np.full((TILE, TILE), value, dtype=F32)
        case l9.PackTile(_, cb):
            d, pages = args
            ring = cbs[cb]
            ring.pages[slots(pages)] = t[slots(d)]              # rounded as it is stored (astype's rounding)
            ring.written[pages] = True
