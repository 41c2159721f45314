"""Per-thread copies inside a thread role, gathered into block copies (P0).

A producer role may copy its blocks thread by thread, as TileLang's MLA `_ws` decode does:

    for r in T.serial(4):
        row = r * 16 + (tx - 256) // 8
        for u in T.serial(dim // 64):
            T.ptx_cp_async(T.access_ptr(KV_shared[stage, row, 64 * u + (tx - 256) % 8 * 8], "w", 8),
                           T.access_ptr(KV[bid, base + row, head, 64 * u + (tx - 256) % 8 * 8], "r", 8), 8)

Each thread moves 8 contiguous elements; together the role's threads move a block. A Tensix core
has no threads to give them to, but the union is a plain `T.copy` when it is one: P0 enumerates the
role's thread ids and the per-thread loops, puts each index in two parts (its terms of those
variables, evaluated at every point, and the rest, kept symbolic: block indices, the role's loop
variables, lets made outside), and checks that the elements written form a box, each written once,
and that the elements read are the same box translated (each dim of the source either fixed or
following one dim of the destination, in order). Then the nest is that one copy. Anything else in
a role that computes with `tx` (a store, a condition, an index the two parts cannot separate, a
copy that is not a box) is NT301, naming it.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from nanott.diagnostics import NanottError
from nanott.ir import node, walk
from nanott.language.predicate import subst
from nanott.languages import l0
from nanott.languages.l0_interp import Env, InterpL0

HINT = ("write the role's copy as a T.copy of a block region; per-thread copies nanott gathers are "
        "T.ptx_cp_async of T.access_ptr elements whose union over the role's threads is one box")


@node
class ThreadCopy:
    """`T.ptx_cp_async(dst, src, n)` in a role: n contiguous elements (last dim), per thread."""
    dst: str
    dst_at: tuple
    src: str
    src_at: tuple
    n: int


def refuse(what: str, loc: Any) -> NanottError:
    return NanottError("NT301", f"{what}: per-thread work nanott does not gather into block operations", loc,
                       hint=HINT)


def uses(x: Any, tx: str) -> bool:
    return any(isinstance(y, ThreadCopy) or isinstance(y, l0.Var) and y.name == tx for y in walk(x))


def gather(body: tuple, lo: int, hi: int, tx: str, shapes: dict, lets: dict | None = None) -> tuple:
    """A role's body with each statement that works per thread replaced by its block copies; a let
    of `tx` is inlined into the copies that read it."""
    out, lets = [], dict(lets or {})
    for s in body:
        if not uses(s, tx) and not any(isinstance(x, l0.Var) and x.name in lets for x in walk(s)):
            out.append(s)
        elif isinstance(s, l0.Let) and not s.update:
            lets[s.var] = subst(s.value, lets)
        elif isinstance(s, l0.For) and not per_thread_nest(s):
            out.append(l0.For(s.var, s.extent, s.kind, s.num_stages, gather(s.body, lo, hi, tx, shapes, lets), loc=s.loc))
        elif isinstance(s, (l0.For, ThreadCopy)):
            out += nest_copies(s, lo, hi, tx, lets, shapes)
        else:
            raise refuse(f"`tx` in a {type(s).__name__.lower()} statement", s.loc)
    return tuple(out)


def per_thread_nest(s: Any) -> bool:
    """Whether s is a nest of constant loops, lets and ThreadCopys only, holding one."""
    if isinstance(s, ThreadCopy):
        return True
    if isinstance(s, l0.Let):
        return True
    if isinstance(s, l0.For):
        return isinstance(s.extent, l0.Const) and all(per_thread_nest(t) for t in s.body) and \
            any(isinstance(y, ThreadCopy) for y in walk(s.body))
    return False


def nest_copies(s: Any, lo: int, hi: int, tx: str, lets: dict, shapes: dict) -> list:
    """The block copies of one per-thread nest (lets of the role's body before it inlined)."""
    found: list[tuple[ThreadCopy, list]] = []

    def visit(x: Any, loops: list, lets: dict) -> None:
        if isinstance(x, ThreadCopy):
            found.append((subst(x, lets), list(loops)))
        elif isinstance(x, l0.Let):
            lets[x.var] = subst(x.value, lets)
        elif isinstance(x, l0.For):
            inner = dict(lets)
            for t in x.body:
                visit(t, [*loops, (x.var, int(x.extent.value))], inner)
        else:
            raise refuse(f"`tx` in a {type(x).__name__.lower()} statement", x.loc)

    visit(s, [], dict(lets))
    return [block_copy(c, [(tx, lo, hi), *((v, 0, n) for v, n in loops)], c.loc if c.loc.line else s.loc, shapes)
            for c, loops in found]


def split(e: l0.Expr, inner: set[str], loc: Any) -> tuple[Any, l0.Expr]:
    """e as (outer part: an L0 expression of the other variables, inner part: of `inner` only)."""
    terms: list[tuple[int, l0.Expr]] = []

    def flat(x: l0.Expr, sign: int) -> None:
        if isinstance(x, l0.BinOp) and x.op in ("+", "-"):
            flat(x.lhs, sign)
            flat(x.rhs, sign if x.op == "+" else -sign)
        else:
            terms.append((sign, x))
    flat(e, 1)
    outer, mine = l0.Const(0, "int32"), l0.Const(0, "int32")
    for sign, t in terms:
        names = {x.name for x in walk(t) if isinstance(x, l0.Var)}
        if names & inner and names - inner:
            raise refuse(f"an index ({e}) that mixes the thread id or its loops with other values in one term", loc)
        part = mine if names & inner else outer
        part = l0.BinOp("+" if sign > 0 else "-", part, t, loc=loc)
        if names & inner:
            mine = part
        else:
            outer = part
    return outer, mine


def values(e: l0.Expr, axes: list, points: np.ndarray) -> np.ndarray:
    """e at every point (rows of points, one column per axis), evaluated on index arrays at once."""
    env = Env(scalars={a[0]: points[:, k] for k, a in enumerate(axes)})
    return np.broadcast_to(np.asarray(InterpL0().eval(e, env), dtype=np.int64), (len(points),))


def block_copy(c: ThreadCopy, axes: list, loc: Any, shapes: dict) -> l0.Copy:
    """One ThreadCopy over every point of axes ((var, lo, hi): the thread id, then its loops)."""
    inner = {a[0] for a in axes}
    points = np.array(list(itertools.product(*(range(a1, a2) for _, a1, a2 in axes))), dtype=np.int64)
    sides = []
    for at in (c.dst_at, c.src_at):
        outer, coords = [], []
        for k, e in enumerate(at):
            o, m = split(e, inner, loc)
            outer.append(o)
            v = values(m, axes, points)
            if k == len(at) - 1:                  # the n contiguous elements of each thread
                v = (v[:, None] + np.arange(c.n)[None, :]).reshape(-1)
            else:
                v = np.repeat(v, c.n)
            coords.append(v)
        sides.append((outer, np.stack(coords, axis=1)))
    (d_outer, d), (s_outer, s) = sides
    lo_d, hi_d = d.min(axis=0), d.max(axis=0) + 1
    if len({tuple(r) for r in d}) != len(d) or int(np.prod(hi_d - lo_d)) != len(d):
        raise refuse(f"the per-thread copies into {c.dst} write {len(d)} elements that are not one box, "
                     "each once", loc)
    shape = shapes.get(c.dst)
    base = [fold(o) for o in d_outer]
    at = [int(o.value) if isinstance(o, l0.Const) else None for o in base]
    if shape is not None and (None in at or any(a + lo < 0 or a + hi > n for a, lo, hi, n in zip(at, lo_d, hi_d, shape))):
        box = ", ".join(f"{a}:{b}" for a, b in zip(lo_d, hi_d))
        raise refuse(f"the per-thread copies write {c.dst}[{box}], outside its shape "
                     f"{'x'.join(map(str, shape))} (or at a run-time place)", loc)
    src_dims = []
    for j in range(s.shape[1]):
        if (s[:, j] == s[0, j]).all():
            src_dims.append(None)
            continue
        match = [i for i in range(d.shape[1]) if hi_d[i] - lo_d[i] > 1 and (s[:, j] - d[:, i] == s[0, j] - d[0, i]).all()]
        if not match:
            raise refuse(f"the per-thread copies read {c.src} in an order that is not the box of {c.dst} translated", loc)
        src_dims.append(match[0])
    moving = [i for i in range(d.shape[1]) if hi_d[i] - lo_d[i] > 1]
    if [i for i in src_dims if i is not None] != moving:
        raise refuse(f"the per-thread copies from {c.src} to {c.dst} transpose or repeat dims", loc)

    def start(outer: l0.Expr, k: int) -> l0.Expr:
        return fold(l0.BinOp("+", outer, l0.Const(int(k), "int32"), loc=loc))
    d_starts = tuple(start(d_outer[i], lo_d[i]) for i in range(d.shape[1]))
    d_ext = tuple(int(hi_d[i] - lo_d[i]) for i in range(d.shape[1]))
    s_starts = tuple(start(s_outer[j], s[:, j].min()) for j in range(s.shape[1]))
    s_ext = tuple(1 if m is None else d_ext[m] for m in src_dims)
    return l0.Copy(l0.Region(c.src, s_starts, s_ext, loc=loc), l0.Region(c.dst, d_starts, d_ext, loc=loc), loc=loc)


def fold(e: l0.Expr) -> l0.Expr:
    """e with its `0 +` and `+ 0` terms (from split) gone."""
    if isinstance(e, l0.BinOp):
        lhs, rhs = fold(e.lhs), fold(e.rhs)
        zero = lambda x: isinstance(x, l0.Const) and x.value == 0  # noqa: E731
        if e.op == "+" and zero(lhs):
            return rhs
        if e.op in ("+", "-") and zero(rhs):
            return lhs
        if isinstance(lhs, l0.Const) and isinstance(rhs, l0.Const) and e.op in ("+", "-"):
            return l0.Const(lhs.value + rhs.value if e.op == "+" else lhs.value - rhs.value, "int32", loc=e.loc)
        return l0.BinOp(e.op, lhs, rhs, loc=e.loc)
    return e
