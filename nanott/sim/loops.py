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

from nanott.ir import walk
from nanott.languages import l3, l9
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
    key = _key(interp, loop, env, extent)
    hit = interp.code.get(key) if key is not None else None
    if hit is not None and hit[0] is loop:
        plan = hit[1]
    else:
        try:
            plan = _static_plan(interp, loop, env, extent, dst)
        except ProtocolError:
            return False
        if key is not None:
            interp.code[key] = (loop, plan)
    if plan is None or not _holds(plan, engine, dst, env.cbs):
        return False
    with np.errstate(invalid="ignore"):
        for s, args in plan.steps:
            _execute(s, [_at(a, env.cbs) for a in args], dst, env)
    env.scalars.update(plan.last)
    return True


class _Plan:
    """What a loop's statement-major run needs, worked out once for the values it reads (`_key`):
    its statements with their operands (DST slots; CB slots relative to the ring's pointer), the
    DST phase they need, the highest CB slot each reads or writes (checked on every run against
    the ring's waited and reserved pages), and the last iteration's loop variable and lets."""
    __slots__ = ("steps", "calls", "state", "bounds", "last")

    def __init__(self, steps, calls, state, bounds, last):
        self.steps, self.calls, self.state, self.bounds, self.last = steps, calls, state, bounds, last


class _Slots:
    """Locations per iteration (DST slots, or CB slots from a ring's read or write pointer), and
    the same as a slice when they are evenly spaced (a view instead of a gather)."""
    __slots__ = ("cb", "side", "locs", "span")

    def __init__(self, locs: np.ndarray, cb: int | None = None, side: str = ""):
        self.cb, self.side, self.locs = cb, side, locs
        where = slots(locs)
        self.span = (where.start, where.stop, where.step) if type(where) is slice else None


def _at(a: _Slots, cbs: dict) -> Any:
    """Where `a` is on this run: a slice or an index array."""
    base = 0 if a.cb is None else (cbs[a.cb].rd if a.side == "front" else cbs[a.cb].wr)
    if a.span is None:
        return a.locs + base
    first, stop, step = a.span
    return slice(first + base, stop + base, step)


def _key(interp: Any, loop: l9.For, env: Any, extent: int) -> tuple | None:
    """What a loop's plan depends on besides the loop: its extent, the scalars it reads from
    outside, and for a CB it both reads and writes, where its pointers are apart; None where a
    scalar it reads differs per core (no plan is kept then)."""
    names, both = _reads(interp, loop)
    values = []
    for name in names:
        v = env.scalars.get(name)
        if isinstance(v, np.ndarray):
            if v.ndim != 0:
                return None
            v = v.item()
        values.append(v)
    return ("vector plan", id(loop), extent, tuple(values), tuple(env.cbs[cb].rd - env.cbs[cb].wr for cb in both))


def _reads(interp: Any, loop: l9.For) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The scalars a loop reads other than its own variable, and the CBs it both reads and packs
    into (decided once per loop)."""
    key = ("vector reads", id(loop))
    hit = interp.code.get(key)
    if hit is None or hit[0] is not loop:
        nodes = list(walk(loop.body))
        names = {x.name for x in nodes if isinstance(x, l9.Var)} - {loop.var}
        names |= {f"core.{x.name}" for x in nodes if isinstance(x, l3.CoreArg)}
        packed = {s.cb for s in loop.body if isinstance(s, l9.PackTile)}
        read = {cb for s in loop.body if not isinstance(s, (l9.PackTile, l9.Let)) for cb in _cbs_read(s)}
        hit = interp.code[key] = (loop, (tuple(sorted(names)), tuple(sorted(packed & read))))
    return hit[1]


def _cbs_read(s: Any) -> tuple[int, ...]:
    match s:
        case l9.CopyTile(cb) | l9.TransposeTile(cb) | l9.UnaryBcast(_, cb):
            return (cb,)
        case l9.BinaryTiles(_, a_cb, b_cb) | l9.MatmulTiles(a_cb, b_cb):
            return (a_cb, b_cb)
        case l9.ReduceTile(_, _, cb, sc):
            return (cb, sc)
    return ()


def _static_plan(interp: Any, loop: l9.For, env: Any, extent: int, dst) -> _Plan | None:
    """The plan, or None if the loop cannot run statement-major whatever the engine's and the
    rings' state (iterations that share a location, an index that differs per core)."""
    scalars = dict(env.scalars)
    scalars[loop.var] = np.arange(extent).reshape(-1, 1)          # iterations x cores
    steps, calls, bounds, owner, state = [], [], [], {}, None
    try:
        for s in loop.body:
            if isinstance(s, l9.Let):
                scalars[s.var] = interp.eval(s.value, _Env(scalars))
                continue
            if isinstance(s, l9.CopyTile) and s.cb in interp.via_srca:
                raise NotVector            # a Float32 copy through srcA's TF32: the reference models it
            want = "packing" if isinstance(s, l9.PackTile) else "math"
            if state not in (None, want):
                raise NotVector            # one phase of the DST for the whole loop
            state = want
            accesses, args = _plan(s, _Env(scalars), interp, dst, extent)
            for kind, where in accesses:
                _claim(owner, kind, where, env.cbs)
            bounds += [(a.cb, a.side, int(a.locs.max())) for a in args if a.cb is not None]
            steps.append((s, args))
            calls.append(s)
    except NotVector:
        return None
    last = {}
    for name in [loop.var] + [s.var for s in loop.body if isinstance(s, l9.Let)]:
        v = scalars[name]                                        # the last iteration's values
        if isinstance(v, np.ndarray) and v.ndim == 2:
            v = int(v[-1, 0]) if v.shape[1] == 1 else v[-1]
        last[name] = v
    return _Plan(tuple(steps), tuple(calls), state, tuple(bounds), last)


def _holds(plan: _Plan, engine: Any, dst, cbs: dict) -> bool:
    """The rules of this run the reference would check on the loop's calls: each op's init in
    effect, the DST in the plan's phase, every slot in the waited (read) or reserved (packed)
    pages of its ring."""
    if dst.state != plan.state:
        return False
    try:
        for s in plan.calls:
            engine.check(s)
    except ProtocolError:
        return False
    for cb, side, top in plan.bounds:
        ring = cbs[cb]
        if top >= (ring.waited if side == "front" else ring.reserved):
            return False
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


def _front(cb: int, slots: np.ndarray) -> _Slots:
    if slots.min() < 0:
        raise NotVector
    return _Slots(np.array(slots), cb, "front")


def _back(cb: int, slots: np.ndarray) -> _Slots:
    if slots.min() < 0:
        raise NotVector
    return _Slots(np.array(slots), cb, "back")


def _dst(dst, slots: np.ndarray) -> _Slots:
    if slots.min() < 0 or slots.max() >= dst.capacity:
        raise NotVector
    return _Slots(np.array(slots))


def _plan(s: Any, env: _Env, interp: Any, dst, extent: int) -> tuple[list, tuple[_Slots, ...]]:
    """(accesses [(kind, (slots, written?))], operands) of one statement."""
    idx = lambda e: _uniform(interp, e, env, extent)              # noqa: E731
    match s:
        case l9.CopyTile(cb, i, d) | l9.TransposeTile(cb, i, d) | l9.UnaryBcast(_, cb, i, d, _):
            pages, slots = _front(cb, idx(i)), _dst(dst, idx(d))
            return [(("cb", cb), (pages, False)), ("dst", (slots, True))], (pages, slots)
        case l9.BinaryTiles(_, a_cb, b_cb, a_i, b_i, d, _) | l9.MatmulTiles(a_cb, b_cb, a_i, b_i, d, _):
            pa, pb, slots = _front(a_cb, idx(a_i)), _front(b_cb, idx(b_i)), _dst(dst, idx(d))
            return [(("cb", a_cb), (pa, False)), (("cb", b_cb), (pb, False)), ("dst", (slots, True))], \
                (pa, pb, slots)
        case l9.ReduceTile(_, _, cb, sc, i, si, d, _):
            pa, pb, slots = _front(cb, idx(i)), _front(sc, idx(si)), _dst(dst, idx(d))
            return [(("cb", cb), (pa, False)), (("cb", sc), (pb, False)), ("dst", (slots, True))], \
                (pa, pb, slots)
        case l9.SfpuBinary(_, a, b, d) | l9.SfpuBitsBinary(_, a, b, d):
            sa, sb, sd = _dst(dst, idx(a)), _dst(dst, idx(b)), _dst(dst, idx(d))
            return [("dst", (sa, False)), ("dst", (sb, False)), ("dst", (sd, True))], (sa, sb, sd)
        case l9.SfpuWhere(c, a, b, d):
            sc, sa, sb, sd = (_dst(dst, idx(x)) for x in (c, a, b, d))
            return [("dst", (sc, False)), ("dst", (sa, False)), ("dst", (sb, False)), ("dst", (sd, True))], \
                (sc, sa, sb, sd)
        case l9.SfpuScalar(_, d) | l9.SfpuBitsScalar(_, d) | l9.SfpuUnary(_, d) | l9.SfpuTypecast(d) | l9.FillTile(d):
            sd = _dst(dst, idx(d))
            return [("dst", (sd, True))], (sd,)
        case l9.PackTile(d, cb, slot):
            sd, pages = _dst(dst, idx(d)), _back(cb, idx(slot))
            return [("dst", (sd, False)), (("cb", cb), (pages, True))], (sd, pages)
    raise NotVector


def _claim(owner: dict, kind: Any, where: tuple, cbs: dict) -> None:
    """Record which iteration touches each location (a CB's at its pointer now: the plan is kept
    only while the pointers of a CB read and packed stay as far apart, `_key`); a location written
    by one iteration and touched by another makes the loop iteration-ordered (NotVector)."""
    at, written = where
    locations = at.locs if at.cb is None else at.locs + (cbs[at.cb].rd if at.side == "front" else cbs[at.cb].wr)
    for it, loc in enumerate(locations.tolist()):
        key = (kind, loc)
        seen = owner.setdefault(key, [set(), False])
        seen[0].add(it)
        seen[1] = seen[1] or written
        if seen[1] and len(seen[0]) > 1:
            raise NotVector


def _widen(ring, pages: Any) -> np.ndarray:
    return widen(ring.pages[pages])


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


def _ufunc_into(f: Any, a: np.ndarray, b: np.ndarray, t: np.ndarray, where: Any) -> bool:
    """f(a, b) in float32 straight into the DST tiles `where` when f is a ufunc and `where` a
    slice (a view: the operands widened as the ufunc reads them, exactly as astype would, no
    full-size copies); False if not."""
    if not isinstance(f, np.ufunc) or type(where) is not slice:
        return False
    f(a, b, out=t[where], dtype=F32, casting="unsafe")
    return True


def _execute(s: Any, args: list, dst, env: Any) -> None:
    """One statement for every iteration; `args` its operands where they are on this run (a
    slice or an index array each: DST slots, or L1 pages of a ring)."""
    t, cbs = dst.tiles, env.cbs
    match s:
        case l9.CopyTile(cb):
            pages, d = args
            t[d] = cbs[cb].pages[pages]                        # widened as it is stored: exact
        case l9.TransposeTile(cb):
            pages, d = args
            t[d] = np.swapaxes(_widen(cbs[cb], pages), -1, -2)
        case l9.UnaryBcast(dim, cb):
            pages, d = args
            t[d] = spread(_widen(cbs[cb], pages), dim)
        case l9.BinaryTiles(op, a_cb, b_cb, _, _, _, bcast):
            pa, pb, d = args
            a, b = cbs[a_cb].pages[pa], cbs[b_cb].pages[pb]
            if bcast != "none" or not _ufunc_into(TILE_OPS[op], a, b, t, d):
                a, b = widen(a), widen(b)
                t[d] = TILE_OPS[op](a, b if bcast == "none" else spread(b, bcast))
        case l9.MatmulTiles(a_cb, b_cb, _, _, _, transpose):
            pa, pb, d = args
            a, b = _widen(cbs[a_cb], pa), _widen(cbs[b_cb], pb)
            t[d] += a @ (np.swapaxes(b, -1, -2) if transpose else b)      # d: no slot twice
        case l9.ReduceTile(op, dim, cb, sc):
            pa, pb, d = args
            t[d] = reduce_tile(op, dim, t[d], _widen(cbs[cb], pa), _widen(cbs[sc], pb))
        case l9.SfpuBinary(op):
            a, b, d = args
            if not _ufunc_into(TILE_OPS[op], t[a], t[b], t, d):
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
            ring.pages[pages] = t[d]                           # rounded as it is stored (astype's rounding)
            ring.written[pages] = True
