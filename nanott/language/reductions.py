"""A T.Parallel that accumulates into a vector: P0 makes it an elementwise map and a T.reduce.

TileLang writes a row reduction as an accumulation inside the elementwise loop, into a buffer that
one of the loop's variables does not index (its GEMV accumulates into a `T.alloc_reducer`):

    for i, j in T.Parallel(bm, bn):             o_terms = alloc_fragment((bm, bn), float32)
        o[i] += a[i, j] * x[j]          ->      for i, j in T.Parallel(bm, bn):
                                                    o_terms[i, j] = a[i, j] * x[j]
                                                reduce_sum o_terms -> o, dim 1, accumulating

L0's T.Parallel runs all its iterations at once (every element of a map is independent), so an
accumulation across iterations is given its meaning here, by analysis of the store: in a 2-D
T.Parallel, an on-chip 1-D buffer stored at one loop variable, whose stored value is its own old
value at that index combined by `+` (sum), `max` or `min` with a term that does not read it. The
other variable is the reduced dim. No other statement of the loop may use that buffer (a partial sum
read mid-loop has no meaning once the sum is a reduction): NT317 names it. The temporary is float32,
so a term is rounded only where the user rounded it; a row's terms are summed in float32 and added to
the old value, rounded to the buffer's dtype once. A TileLang reducer's threads combine their
partials in no fixed order either: the value is the sequential one up to float32 summation order.
"""
from __future__ import annotations

from typing import Callable

from nanott.diagnostics import NanottError
from nanott.ir import replace, walk
from nanott.languages import l0

COMBINE = {"+": "sum", "max": "max", "min": "min"}


def reduction(s, p: l0.Parallel, on_chip: set[str]) -> tuple[str, int, l0.Expr] | None:
    """(op, reduced dim, term) when s is `v[x] = v[x] (op) term` in p, v an on-chip vector and x one
    of p's two variables."""
    if not (isinstance(s, l0.Store) and s.buffer in on_chip and len(p.vars) == 2 and len(s.indices) == 1
            and isinstance(s.indices[0], l0.Var) and s.indices[0].name in p.vars):
        return None
    v = s.value
    if not (isinstance(v, l0.BinOp) and v.op in COMBINE):
        return None
    same = lambda e: isinstance(e, l0.Load) and e.buffer == s.buffer and e.indices == s.indices  # noqa: E731
    term = v.rhs if same(v.lhs) else v.lhs if same(v.rhs) else None
    if term is None or any(isinstance(x, l0.Load) and x.buffer == s.buffer for x in walk(term)):
        return None
    kept = p.vars.index(s.indices[0].name)
    return COMBINE[v.op], 1 - kept, term


def split_reductions(p: l0.Parallel, on_chip: set[str], fresh: Callable[[str], str]) -> list:
    """p, or: an Alloc per accumulated vector, p storing the terms, and a Reduce per vector."""
    before, body, after = [], [], []
    for n, s in enumerate(p.body):
        found = reduction(s, p, on_chip)
        if found is None:
            body.append(s)
            continue
        op, dim, term = found
        others = [x for m, t in enumerate(p.body) if m != n for x in walk(t)
                  if isinstance(x, (l0.Load, l0.Store)) and x.buffer == s.buffer]
        if others:
            raise NanottError("NT317", f"{s.buffer} accumulates a reduction over {p.vars[dim]} in this "
                              f"T.Parallel, and another of its statements uses {s.buffer} too", others[0].loc,
                              "finish the reduction first: accumulate in one T.Parallel, read the result in the next")
        tmp = fresh(f"{s.buffer}_terms")
        before.append(l0.Alloc(tmp, p.extents, "float32", "fragment", loc=s.loc))
        body.append(l0.Store(tmp, tuple(l0.Var(v, loc=s.loc) for v in p.vars), term, loc=s.loc))
        after.append(l0.Reduce(op, tmp, s.buffer, dim, False, loc=s.loc))
    return [*before, replace(p, body=tuple(body)), *after]
