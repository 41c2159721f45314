"""Fusing the thread roles of a warp-specialized kernel into one sequential program (P0).

thread_roles.py splits a block's threads into roles (`if tx < 128: ... elif ...`); each role is a
statement list in which the barrier operations stand as `Sync` markers. On the GPU the roles run
concurrently and the barriers forbid the interleavings in which one would read a shared buffer
before another wrote it, or overwrite it before the other read it. A Tensix core runs one program
per block (D1 then splits it into reader, compute and writer by data flow), so the roles must become
one program, in an order the barriers allow:

1. Structure. Each role is straight-line code and loops that hold barrier operations ("sync loops");
   every role has as many sync loops, with the same trip counts (their iteration spaces are the same).
2. Schedule. The roles run as coroutines over their loop nests, every iteration concrete, with the
   barriers' semantics (an mbarrier: `arrive_count` arrivals complete a phase; a role's arrive counts
   its threads; `wait(bar, parity)` passes once the phase of that parity has completed, the previous
   one counting as completed before the first). The scheduler always runs the role furthest behind
   (lowest region and iteration, then lowest thread ids); a wait that can never pass is a deadlock:
   NT329, naming the barrier, the role, the parity and the phase reached.
3. Alignment. The schedule must run each iteration of all roles before the next iteration of any.
   The longest run of iterations whose segments (the statements between two barrier operations)
   run in one order becomes one loop with that body; the iterations before and after it (a rotated
   loop's first trip, a last trip without the prefetch) are peeled, each in its own order.
4. Races. A vector clock per role, joined through each barrier phase (its arrivals happen before
   the waits that pass on it), gives happens-before. Two segments of different roles that touch
   overlapping parts of a buffer, one of them writing, must be ordered by it; else the result
   depends on timing and the fused order is only one of the outcomes: NT329, naming the buffer, the
   roles and the lines. One exception is accepted and recorded (`ws.unordered`): a read placed after
   the first write ever made to that part of the buffer, since the other order would read memory
   nothing wrote, which no kernel can mean.
5. Emission. The segments, in that order, with each role's loop variable renamed to the first
   role's; the barriers go. Attrs record the roles (`ws.roles`) and the schedule (`ws.schedule`:
   `r<role>@<line>`, each segment by its role and its first source line).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import node, walk
from nanott.language.predicate import subst
from nanott.languages import l0
from nanott.languages.l0_interp import Env, InterpL0
from nanott.passes._affine import affine, subst as affine_subst


@node
class Sync:
    """A barrier operation inside a role: arrive or wait on barrier `first + index` of a
    T.alloc_barrier of `count`; `guard` the conditions of the run-time ifs around it."""
    kind: str
    name: str
    first: int
    count: int
    index: Any
    parity: Any
    guard: tuple


@node
class Role:
    """The threads [lo, hi) of a block and the statements they run."""
    lo: int
    hi: int
    body: tuple


@node
class RoleSplit:
    """An `if` on tx at the top of a role: the roles its branches make (flattened by the outer split)."""
    roles: tuple


@dataclass
class BarrierState:
    """One mbarrier: arrivals per phase, phases completed, and the clocks that flowed through it."""
    count: int
    arrived: int = 0
    phase: int = 0
    pending: tuple = ()
    done: dict = field(default_factory=dict)     # completed phase -> the join of its arrivers' clocks


class Barriers:
    """The kernel's barriers (by global id), their arrive counts, and the state common code left."""

    def __init__(self, threads: int):
        self.threads = threads
        self.counts: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.state: dict[int, BarrierState] = {}

    def declare(self, first: int, counts: list, name: str) -> None:
        for i, c in enumerate(counts):
            if not isinstance(c, int) or c <= 0:
                raise NanottError("NT104", f"T.alloc_barrier needs positive int arrive counts, got {c!r}",
                                  hint="T.alloc_barrier(arrive_count=128)")
            self.counts[first + i] = c
            self.names[first + i] = name if len(counts) == 1 else f"{name}[{i}]"

    def of(self, bid: int) -> BarrierState:
        if bid not in self.state:
            self.state[bid] = BarrierState(self.counts[bid])
        return self.state[bid]

    def arrive(self, bid: int, threads: int, clock: tuple, loc: Any) -> None:
        st = self.of(bid)
        st.arrived += threads
        st.pending = join(st.pending, clock)
        if st.arrived > st.count:
            raise NanottError("NT329", f"{st.arrived} threads arrive on {self.names[bid]} in phase "
                              f"{st.phase}, whose arrive_count is {st.count}: the phase would complete early",
                              loc, hint="make arrive_count the number of threads of the roles that arrive")
        if st.arrived == st.count:
            st.done[st.phase] = st.pending
            st.phase, st.arrived, st.pending = st.phase + 1, 0, ()

    def passes(self, bid: int, parity: int) -> tuple | None:
        """The clock a wait joins if it passes now (mbarrier try_wait.parity), else None."""
        st = self.of(bid)
        if st.phase % 2 == parity % 2:
            return None
        return st.done.get(st.phase - 1, ())


def join(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return tuple(max(x, y) for x, y in zip(a, b))


def value(expr: Any, env: dict, what: str, loc: Any) -> int:
    """An int (index, parity, guard) evaluated at one iteration; NT301 if it depends on more."""
    if isinstance(expr, bool):
        return int(expr)
    if isinstance(expr, int):
        return expr
    try:
        return int(InterpL0().eval(expr, Env(scalars=dict(env))))
    except (NanottError, KeyError, TypeError, AttributeError, ValueError):
        raise NanottError("NT301", f"{what} ({expr}) depends on more than the roles' loop variables: "
                          "nanott fuses roles whose barriers are known at every iteration", loc,
                          hint="index barriers and choose parities from loop variables and sizes") from None


# ----- 1. structure -----
def has_sync(stmts: tuple) -> bool:
    return any(isinstance(x, Sync) for x in walk(stmts))


def regions(role: Role) -> list:
    """A role's body as alternating straight-line runs and sync loops: [run, loop, run, ...]."""
    out, run = [], []
    for s in role.body:
        if isinstance(s, l0.For) and has_sync(s.body):
            if any(isinstance(t, l0.For) and has_sync(t.body) for t in s.body) or \
                    any(not isinstance(t, (Sync, l0.For)) and has_sync((t,)) for t in s.body):
                raise NanottError("NT301", "barrier operations nested deeper than one loop inside a thread "
                                  "role are not supported by nanott yet", s.loc,
                                  hint="keep each role one loop over the iteration space, its barriers in its body")
            out += [tuple(run), s]
            run = []
        elif isinstance(s, RoleSplit) or (not isinstance(s, Sync) and has_sync((s,))):
            raise NanottError("NT301", "a barrier operation inside a construct nanott cannot schedule (a "
                              "T.Parallel, a nested split of the threads)", s.loc,
                              hint="put barrier operations in a role's body or its loop body")
        else:
            run.append(s)
    return out + [tuple(run)]


def segments(items: tuple) -> list:
    """items split at their barrier operations: [(stmts, syncs after them), ...]."""
    out, run = [], []
    for s in items:
        if isinstance(s, Sync):
            out.append((tuple(run), s))
            run = []
        else:
            run.append(s)
    out.append((tuple(run), None))
    return out


def aligned(split: RoleSplit) -> list:
    """Each role's regions; NT301 unless all roles have the same sync loops (count, trip count)."""
    per_role = [regions(r) for r in split.roles]
    shapes = [tuple(trips(x) for x in rs[1::2]) for rs in per_role]
    if len(set(shapes)) != 1:
        desc = "; ".join(f"{r.lo}..{r.hi - 1}: {list(s)}" for r, s in zip(split.roles, shapes))
        raise NanottError("NT301", f"the thread roles loop over different iteration spaces (trip counts of "
                          f"their loops with barriers, by tx: {desc}): nanott fuses roles whose loops agree",
                          split.roles[0].body[0].loc if split.roles[0].body else None,
                          hint="give every role the same loop over the iteration space")
    return per_role


def trips(loop: l0.For) -> int:
    if not isinstance(loop.extent, l0.Const):
        raise NanottError("NT301", f"a loop with barriers whose trip count ({loop.extent}) is known only when "
                          "the kernel runs: nanott fuses roles at parse time", loop.loc,
                          hint="loop a number of times fixed by the sizes")
    return int(loop.extent.value)


# ----- 2. the coroutines -----
@dataclass
class Op:
    role: int
    pos: tuple            # (region, iteration)
    seg: int              # ordinal of the segment in its region
    stmts: tuple
    sync: Any
    env: dict


def program(k: int, regs: list) -> list[Op]:
    """Role k's operations in execution order, every iteration of its sync loops concrete."""
    ops = []
    for ri, reg in enumerate(regs):
        if ri % 2 == 0:
            for n, (stmts, sync) in enumerate(segments(reg)):
                ops.append(Op(k, (ri, 0), n, stmts, sync, {}))
            continue
        for t in range(trips(reg)):
            env = {reg.var: t}
            for n, (stmts, sync) in enumerate(segments(reg.body)):
                ops.append(Op(k, (ri, t), n, stmts, sync, env))
    return ops


@dataclass
class Event:
    """A segment as it ran: its role, place, statements, and the role's vector clock then."""
    role: int
    pos: tuple
    seg: int
    stmts: tuple
    env: dict
    clock: tuple


def schedule(split: RoleSplit, bars: Barriers, per_role: list) -> list[Event]:
    roles = split.roles
    progs = [program(k, regs) for k, regs in enumerate(per_role)]
    pcs = [0] * len(roles)
    clocks = [tuple(0 for _ in roles) for _ in roles]
    trace: list[Event] = []

    def blocked(k: int) -> bool:
        op = progs[k][pcs[k]]
        s = op.sync
        if s is None or s.kind != "wait" or not guard(s, op.env):
            return False
        return bars.passes(barrier_id(s, op.env), value(s.parity, op.env, "a barrier parity", s.loc)) is None

    while True:
        live = [k for k in range(len(roles)) if pcs[k] < len(progs[k])]
        if not live:
            return trace
        ready = [k for k in live if not blocked(k)]
        if not ready:
            raise Stuck(trace, deadlock(split, bars, progs, pcs, live))
        k = min(ready, key=lambda r: (progs[r][pcs[r]].pos, r))
        op = progs[k][pcs[k]]
        pcs[k] += 1
        if op.stmts:
            c = list(clocks[k])
            c[k] += 1
            clocks[k] = tuple(c)
            trace.append(Event(k, op.pos, op.seg, op.stmts, op.env, clocks[k]))
        s = op.sync
        if s is None or not guard(s, op.env):
            continue
        bid = barrier_id(s, op.env)
        if s.kind == "arrive":
            bars.arrive(bid, roles[k].hi - roles[k].lo, clocks[k], s.loc)
        else:
            clocks[k] = join(clocks[k], bars.passes(bid, value(s.parity, op.env, "a barrier parity", s.loc)))


class Stuck(Exception):
    """A deadlock, with the trace that led to it (a race in it is the better diagnostic)."""

    def __init__(self, trace: list, error: NanottError):
        super().__init__(error.message)
        self.trace, self.error = trace, error


def guard(s: Sync, env: dict) -> bool:
    return all(value(g, env, "the condition around a barrier operation", s.loc) for g in s.guard)


def barrier_id(s: Sync, env: dict) -> int:
    i = value(s.index, env, "a barrier index", s.loc)
    if not 0 <= i < s.count:
        raise NanottError("NT104", f"barrier index {i} out of range: {s.name} has {s.count}", s.loc,
                          hint="index a list of T.alloc_barrier by 0 .. count - 1")
    return s.first + i


def tx(role: Role) -> str:
    return f"tx {role.lo}..{role.hi - 1}"


def deadlock(split: RoleSplit, bars: Barriers, progs: list, pcs: list, live: list) -> NanottError:
    def blocked(j: int) -> str:
        op = progs[j][pcs[j]]
        bid = barrier_id(op.sync, op.env)
        st = bars.of(bid)
        parity = value(op.sync.parity, op.env, "a barrier parity", op.sync.loc)
        where = f" at iteration {next(iter(op.env.values()))}" if op.env else ""
        return (f"{tx(split.roles[j])} waits on {bars.names[bid]} with parity {parity}{where} (line "
                f"{op.sync.loc.line}: {st.phase} phase(s) completed, {st.arrived} of {st.count} arrivals in the phase under way)")
    return NanottError("NT329", "deadlock: every role that has not finished waits on a barrier no role can "
                       "arrive on any more: " + "; ".join(blocked(j) for j in live),
                       progs[live[0]][pcs[live[0]]].sync.loc,
                       hint="every wait needs the arrivals of its phase: check the arrive in the producing "
                            "role, the arrive_count, and the parity (phase k waits with parity k % 2)")


# ----- 3. alignment -----
def fused_order(split: RoleSplit, per_role: list, trace: list[Event]) -> list:
    """Per region, the segments in the order the schedule ran them: a straight run as a list of
    events, a sync loop as its chunks (an order every iteration of a run follows, and the iterations
    before and after that run, each in its own order)."""
    for a, b in zip(trace, trace[1:]):
        if b.pos < a.pos:
            raise NanottError("NT329", f"the barriers make the role {tx(split.roles[a.role])} run iteration "
                              f"{a.pos[1]} before the role {tx(split.roles[b.role])} finishes iteration {b.pos[1]}: "
                              "a skewed schedule nanott does not fuse into one loop", b.stmts[0].loc,
                              hint="let every role finish an iteration before any starts the next")
    out = []
    for ri in range(len(per_role[0])):
        evs = [e for e in trace if e.pos[0] == ri]
        if ri % 2 == 0:
            out.append(evs)
            continue
        orders: dict[int, tuple] = {}
        for e in evs:
            orders[e.pos[1]] = orders.get(e.pos[1], ()) + ((e.role, e.seg),)
        out.append((per_role[0][ri], chunks([orders.get(t, ()) for t in range(trips(per_role[0][ri]))])))
    return out


def chunks(orders: list) -> list:
    """The iterations as ("loop", a, b, order) for the longest run of iterations in one order, and
    ("once", t, order) for each iteration before and after it (peeled: the first trips of a rotated
    loop, the last one's guarded prefetch)."""
    best, start = (0, 0), 0
    for t in range(1, len(orders) + 1):
        if t == len(orders) or orders[t] != orders[start]:
            if t - start > best[1] - best[0]:
                best = (start, t)
            start = t
    a, b = best
    return [("once", t, orders[t]) for t in range(a)] + [("loop", a, b, orders[a])] + \
        [("once", t, orders[t]) for t in range(b, len(orders))]


# ----- 4. races -----
def box(region: l0.Region, env: dict) -> tuple:
    """Per dim, (terms, constant, extent) of the region's start at this iteration (_affine.py): the
    loop variables put in, block variables and lets left as atoms."""
    values = {k: l0.Const(v, "int32") for k, v in env.items()}
    out = []
    for start, ext in zip(region.starts, region.extents):
        terms, const = affine(affine_subst(start, values))
        out.append((frozenset((a, c) for a, c in terms if c), const, ext))
    return tuple(out)


def accesses(stmts: tuple, env: dict, parts: dict) -> list:
    """(buffer, box or None for all of it, writes, statement) for every buffer the statements touch; a
    gemm operand that stands in for a part of a buffer (parts.py) touches that part."""
    out = []

    def operand(name: str, s: Any) -> tuple:
        r = parts.get(name)
        return (name, None, False, s) if r is None else (r.buffer, box(r, env), False, s)
    for s in stmts:
        if isinstance(s, (l0.Copy, l0.AtomicAdd)):
            out += [(s.src.buffer, box(s.src, env), False, s), (s.dst.buffer, box(s.dst, env), True, s)]
            continue
        if isinstance(s, l0.Gemm):
            out += [operand(s.a, s), operand(s.b, s), (s.c, None, True, s)]
        elif isinstance(s, l0.Fill):
            out.append((s.buffer, None, True, s))
        elif isinstance(s, l0.Reduce):
            out += [(s.src, None, False, s), (s.dst, None, True, s)]
        for x in walk(s):
            if isinstance(x, (l0.Store, l0.AtomicStore)):
                out.append((x.buffer, None, True, s))
            elif isinstance(x, l0.Load):
                out.append((x.buffer, None, False, s))
            elif isinstance(x, (l0.Copy, l0.AtomicAdd)) and x is not s:
                out += [(x.src.buffer, None, False, s), (x.dst.buffer, None, True, s)]
    return out


def overlap(a: tuple | None, b: tuple | None) -> bool:
    """Whether two regions may share an element: not when, in some dim, their starts differ by a
    constant (same atoms, same coefficients) at least the extent of the lower one."""
    if a is None or b is None:
        return True
    return not any(x[0] == y[0] and (x[1] + x[2] <= y[1] or y[1] + y[2] <= x[1]) for x, y in zip(a, b))


def check_races(split: RoleSplit, trace: list[Event], fragments: set[str], written_before: set[str],
                parts: dict) -> list[str]:
    """NT329 for two segments of different roles, unordered by the barriers, that touch the same part
    of a buffer, one writing; the notes of the accepted first-write-then-read pairs."""
    seen: dict[str, list] = {}                  # buffer -> [(index in trace, event, box, writes)] so far
    users: dict[str, set] = {}
    notes = []
    for n, e in enumerate(trace):
        for buf, bx, w, stmt in accesses(e.stmts, e.env, parts):
            users.setdefault(buf, set()).add(e.role)
            if buf in fragments and len(users[buf]) > 1:
                a, b = sorted(users[buf])[:2]
                raise NanottError("NT301", f"the fragment {buf} is used by the roles {tx(split.roles[a])} and "
                                  f"{tx(split.roles[b])}: on the GPU each thread has its own registers, one "
                                  "program per block has one buffer", stmt.loc,
                                  hint="exchange data between roles through T.alloc_shared buffers")
            for m, f, fbx, fw, fs in seen.get(buf, ()):
                if f.role == e.role or not (w or fw) or not overlap(bx, fbx) or f.clock[f.role] <= e.clock[f.role]:
                    continue
                first = fw and not w and buf not in written_before and not any(
                    gw and k < m and overlap(gbx, fbx) for k, g, gbx, gw, _ in seen[buf])
                if first:
                    notes.append(f"{buf}: {tx(split.roles[e.role])} reads after the first write by "
                                 f"{tx(split.roles[f.role])}, no barrier between")
                    continue
                raise race(split, buf, (f, fw, fs), (e, w, stmt))
            seen.setdefault(buf, []).append((n, e, bx, w, stmt))
    return sorted(set(notes))


def race(split: RoleSplit, buf: str, first: tuple, second: tuple) -> NanottError:
    def at(ev: Event, writes: bool, stmt: Any) -> str:
        return (f"the role {tx(split.roles[ev.role])} {'writes' if writes else 'reads'} it at line {stmt.loc.line}"
                + (f" (iteration {ev.pos[1]})" if ev.pos[0] % 2 else ""))
    return NanottError("NT329", f"race on {buf}: {at(*first)} and {at(*second)}, and no barrier orders the two: "
                       "the result would depend on timing", second[2].loc,
                       hint="wait, before the second access, on a barrier the first role arrives on after the "
                            "first (check the parity: phase k waits with k % 2)")


# ----- 5. emission -----
def fuse(split: RoleSplit, bars: Barriers, fragments: set[str], written_before: set[str],
         parts: dict) -> tuple[list, dict]:
    """The roles as one statement list, and the Attrs that record how (module docstring)."""
    per_role = aligned(split)
    try:
        trace = schedule(split, bars, per_role)
    except Stuck as stuck:
        check_races(split, stuck.trace, fragments, written_before, parts)
        raise stuck.error from None
    notes = check_races(split, trace, fragments, written_before, parts)
    order = fused_order(split, per_role, trace)
    stmts, sched = [], []
    for ri, item in enumerate(order):
        if ri % 2 == 0:
            for e in item:
                stmts += e.stmts
                sched.append(f"r{e.role}@{e.stmts[0].loc.line}")
            continue
        loop, parts_of = item
        for chunk in parts_of:
            at = l0.Var(loop.var, loc=loop.loc)
            if chunk[0] == "once":
                value, order = l0.Const(chunk[1], "int32", loc=loop.loc), chunk[2]
            else:
                value = at if chunk[1] == 0 else l0.BinOp("+", at, l0.Const(chunk[1], "int32"), loc=loop.loc)
                order = chunk[3]
            body, shown = [], []
            for k, n in order:
                mine = per_role[k][ri]
                seg = segments(mine.body)[n][0]
                if chunk[0] == "once" or chunk[1] != 0 or mine.var != loop.var:
                    seg = subst(seg, {mine.var: value})
                body += seg
                shown.append(f"r{k}@{seg[0].loc.line}")
            if chunk[0] == "once":
                stmts += body
                sched.append(f"{loop.var}={chunk[1]} [{' '.join(shown)}]")
            else:
                stmts.append(l0.For(loop.var, l0.Const(chunk[2] - chunk[1], "int32", loc=loop.loc), loop.kind,
                                    loop.num_stages, tuple(body), loc=loop.loc))
                sched.append(f"loop {loop.var} in {chunk[1]}..{chunk[2]} [{' '.join(shown)}]"
                             if len(parts_of) > 1 else f"loop {loop.var} [{' '.join(shown)}]")
    attrs = {"ws.roles": " ".join(f"r{k}=tx{r.lo}..{r.hi - 1}" for k, r in enumerate(split.roles)),
             "ws.schedule": " ".join(sched)}
    if notes:
        attrs["ws.unordered"] = "; ".join(notes)
    return stmts, attrs
