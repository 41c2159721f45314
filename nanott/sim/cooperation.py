"""Cores that cooperate, as the L8/L9 simulators see them: semaphores and NoC multicasts.

Semaphores (docs/reference.md §3.2, `CreateSemaphore`): every core of the run has each semaphore of
the program, an L1 word that starts at 0. `noc_semaphore_set` writes this core's word,
`noc_semaphore_wait` blocks until it equals a value, `noc_semaphore_inc` adds 1 to another core's
word (a NoC atomic, applied when issued: the model has no latency), `noc_semaphore_set_multicast`
writes this core's value into the word of every core of a rectangle.

Multicast (`noc_async_write_multicast`): the sender's reserved pages of a CB are written to the same
L1 pages of that CB on every core of a rectangle. Like any NoC write the data moves later: at the
sender kernel's next semaphore multicast (one NoC, in order: the flag that tells the receivers the
data is there arrives after the data) or write barrier. When it lands, every receiver must have
reserved those pages (rule "mcast": the data would overwrite pages its consumer may still read), and
the sender is not in its own rectangle (the plain multicast does not loop back).

A wait that cannot end is a deadlock like a CB wait; its report names the semaphore's value, the
value awaited, the cores that raised it so far, and the kernels that raise it (and where they are).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from nanott.ir import walk
from nanott.languages import l8
from nanott.languages.l0_interp import BINOPS
from nanott.printing import seq
from nanott.sim.errors import ProtocolError


@dataclass
class Mcast:
    """One multicast in flight: the sender's L1 pages of a CB, bound for a rectangle. `lane`: the
    sender's place in its lockstep group (its ring's pages have a core axis), or None."""
    ring: Any
    first: int
    pages: int
    rows: np.ndarray                    # per sender, its receivers (rows of Cooperation.values)
    lane: np.ndarray | None = None      # per sender, its lane


def rect_cores(x0: int, y0: int, x1: int, y1: int) -> tuple[tuple[int, int], ...]:
    return tuple((x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1))


class Unknown(Exception):
    """An expression that reads more than a core's own runtime values."""


def core_env(work: Any) -> dict[str, int]:
    """A core's runtime values (l2.CoreWork), as the kernels read them."""
    return {"core.start": work.start, "core.count": work.count, "core.logical_x": work.core[0],
            "core.logical_y": work.core[1]}


def value(e: Any, env: dict[str, int]) -> int:
    """An expression of constants, a core's runtime values (and the variables in env); Unknown if
    it reads more."""
    match e:
        case l8.Const(v):
            return int(v)
        case l8.CoreArg(name) if f"core.{name}" in env:
            return env[f"core.{name}"]
        case l8.Var(name) if name in env:          # a loop variable or let, where the caller gives it
            return env[name]
        case l8.BinOp(op, lhs, rhs):
            return int(BINOPS[op](value(lhs, env), value(rhs, env)))
        case l8.Select(cond, then, other):         # a loop run once or never (an `if` around tile ops)
            return value(then, env) if value(cond, env) else value(other, env)
    raise Unknown(e)


def active(stmts: tuple, env: dict[str, int], kinds: tuple[type, ...]) -> list[Any]:
    """The statements of `kinds` a core runs: inside loops, and inside the `if`s whose condition
    holds on it (an `if` whose condition reads more than the core's values is left out)."""
    out = []
    for s in stmts:
        if isinstance(s, l8.When):
            try:
                if value(s.cond, env):
                    out += active(s.body, env, kinds)
            except Unknown:
                pass
        elif isinstance(s, kinds):
            out.append(s)
        if isinstance(s, l8.For):
            out += active(s.body, env, kinds)
    return out


def moving_cores(program: Any, kind: type) -> int:
    """How many cores of the work split run a NoC call of `kind` (l8.NocReadPage: the cores that
    read DRAM, l8.NocWritePage: those that write it) in any kernel; every core if none can be told
    (an `if` that reads more than the core's values). The cycle model shares DRAM bandwidth among
    them; D3d weighs a sender's reads by that share."""
    return sum(any(active(k.body, core_env(w), (kind,)) for k in program.kernels)
               for w in program.work.cores) or len(program.work.cores)


SEM_CALLS = (l8.SemSet, l8.SemWait, l8.SemInc, l8.SemSetMcast)


def own_core(sem: int) -> None:
    raise ProtocolError("sem", f"noc_semaphore_inc of sem{sem} on the core itself: a core "
                        "raises another core's semaphore")


class Cooperation:
    """The semaphores of every core of one run, and the rings multicasts land in."""

    def __init__(self, program: Any):
        self.cores = cores = [w.core for w in program.work.cores]
        self.ids = {c: i for i, c in enumerate(cores)}                # core -> its row in `values`
        self.record = True                                            # keep who raised what (False: lockstep)
        self.raisers: dict[int, set] = {}                             # sem -> the roles whose kernels raise it
        sems = []
        for k in program.kernels:
            for x in walk(k.body):
                if isinstance(x, SEM_CALLS):
                    sems.append(x.sem)
                if isinstance(x, (l8.SemInc, l8.SemSetMcast)):
                    self.raisers.setdefault(x.sem, set()).add(k.role)
        self.values = np.zeros((len(cores), max(sems, default=-1) + 1), dtype=np.int64)
        self.at = np.full((max(c[0] for c in cores) + 1, max(c[1] for c in cores) + 1), -1)
        for c, i in self.ids.items():
            self.at[c] = i                                            # (x, y) -> the core's row
        self.group = np.full(len(cores), -1)                          # row -> its rings' group
        self.lane = np.full(len(cores), -1)                           # row -> its lane in them
        self.cbs: list[dict] = []                                     # group -> the rings
        self.raised_by: dict[tuple, list] = defaultdict(list)     # (core, sem) -> cores that raised it
        self.rings: dict[tuple, tuple[dict[int, Any], int | None]] = {}   # core -> its CBs, its lane
        self.finished: set[tuple] = set()
        self.landing: dict[tuple, list] = {}                          # receivers -> Cooperation.receiving

    def core_ready(self, core: tuple, cbs: dict[int, Any], lane: int | None = None) -> None:
        self.rings[core] = (cbs, lane)
        if not self.cbs or self.cbs[-1] is not cbs:
            self.cbs.append(cbs)
        self.group[self.ids[core]], self.lane[self.ids[core]] = len(self.cbs) - 1, -1 if lane is None else lane

    def target(self, core: tuple, call: str) -> tuple:
        if core not in self.rings:
            raise ProtocolError("sem", f"{call}: core ({seq(core)}) is not a core of this run")
        return core

    # ----- semaphores -----
    def set(self, core: tuple, sem: int, value: int) -> None:
        self.values[self.ids[core], sem] = value

    def inc(self, core: tuple, source: tuple, sem: int) -> None:
        if core == source:
            own_core(sem)
        self.target(core, "noc_semaphore_inc")
        self.values[self.ids[core], sem] += 1
        self.raised_by[(core, sem)].append(source)

    def holds(self, core: tuple, sem: int, value: int) -> bool:
        return self.values[self.ids[core], sem] == value

    # ----- the same for many cores at once (a lockstep group's lanes: rows of `values`) -----
    def rows(self, xs: np.ndarray, ys: np.ndarray, call: str) -> np.ndarray:
        """The rows of the cores at (xs, ys); the error of `target` for the first not of this run."""
        inside = (xs >= 0) & (xs < self.at.shape[0]) & (ys >= 0) & (ys < self.at.shape[1])
        rows = np.where(inside, self.at[np.where(inside, xs, 0), np.where(inside, ys, 0)], -1)
        if (rows < 0).any():
            bad = np.argwhere(rows < 0)[0]
            self.target((int(xs[tuple(bad)]), int(ys[tuple(bad)])), call)
        return rows

    def inc_rows(self, targets: np.ndarray, sources: np.ndarray, sem: int) -> None:
        """noc_semaphore_inc from each source row to its target row (who raised a semaphore is not
        kept: a lockstep deadlock is reported by the reference, which keeps it)."""
        if (targets == sources).any():
            own_core(sem)
        np.add.at(self.values[:, sem], targets, 1)

    def state(self, cores: list[tuple], sem: int, value: int) -> str:
        """Why a wait has not ended (on the first of `cores` where it has not): the value, who
        raised it, who should."""
        core = next((c for c in cores if not self.holds(c, sem, value)), cores[0])
        now = self.values[self.ids[core], sem]
        by = self.raised_by.get((core, sem), [])
        so_far = f"raised by core(s) {seq(f'({seq(c)})' for c in by)}" if by else "never raised"
        roles = sorted(self.raisers.get(sem, ()))
        if not roles:
            who = "no kernel of the program raises it"
        else:
            done = sorted(c for c in self.rings if all((c, r) in self.finished for r in roles))
            who = (f"it is raised by the {seq(roles)} kernel(s) of other cores"
                   + (f"; finished on {len(done)} core(s): {seq(f'({seq(c)})' for c in done[:8])}" if done else ""))
        return f"semaphore sem{sem} of core ({seq(core)}) is {now}, waits for {value}; {so_far}; {who}"

    # ----- multicast: from one core, or from every core of a lockstep group at once -----
    def rect_rows(self, senders: np.ndarray, rects: tuple[np.ndarray, ...], call: str) -> np.ndarray:
        """The rows of the cores of each sender's rectangle (x0, y0, x1, y1: one value per
        sender), a row of the result per sender, in rect_cores' order."""
        x0, y0, x1, y1 = (np.asarray(v, dtype=np.int64).reshape(-1) for v in rects)
        w, h = x1 - x0 + 1, y1 - y0 + 1
        if (w != w[0]).any() or (h != h[0]).any():
            raise ProtocolError("mcast", f"{call}: the cores of one lockstep group send to rectangles "
                                "of different shapes")                # the reference runs them one by one
        if w[0] <= 0 or h[0] <= 0:
            raise ProtocolError("mcast", f"{call} to an empty rectangle {(int(x0[0]), int(y0[0]), int(x1[0]), int(y1[0]))}")
        dx, dy = (d.reshape(-1) for d in np.meshgrid(np.arange(w[0]), np.arange(h[0])))
        rows = self.rows(x0[:, None] + dx, y0[:, None] + dy, call)
        holds = (rows == senders[:, None]).any(axis=1)
        if holds.any():
            raise ProtocolError("mcast", f"{call} from core ({seq(self.cores[senders[holds][0]])}) to a "
                                "rectangle that holds it")
        return rows

    def mcast(self, rows: np.ndarray, ring: Any, pages: int, lanes: list) -> Mcast:
        """noc_async_write_multicast of the reserved pages of `ring` from each sender (its `lanes`
        on the ring's core axis, or [None]: a core's own ring) to its row of `rows` (rect_rows)."""
        first = ring.back(0, "noc_async_write_multicast")
        ring.back(pages - 1, "noc_async_write_multicast")
        return Mcast(ring, first, pages, rows, None if lanes[0] is None else np.asarray(lanes))

    def land(self, m: Mcast) -> None:
        """The pages arrive on every receiver, into its reserved region of the same CB (the
        receivers that share rings, a lockstep group's, at once)."""
        region = m.first + np.arange(m.pages)
        data = m.ring.pages[region] if m.lane is None else m.ring.pages[region][:, m.lane]
        for g, rows, lanes, sender in self.receiving(m.rows):
            dst = self.cbs[g][m.ring.index]
            if not (dst.wr <= m.first and m.first + m.pages <= dst.wr + dst.reserved):
                raise ProtocolError("mcast", f"a multicast lands in pages {m.first}..{m.first + m.pages - 1} "
                                    f"of cb{dst.index} on core ({seq(self.cores[rows[0]])}), which has reserved "
                                    f"{dst.reserved} page(s) from page {dst.wr}")
            if lanes[0] < 0:                     # a core's own ring, from a core's own
                dst.pages[region] = data
                dst.written[region] = True
            else:
                dst.pages[region[:, None], lanes] = data[:, sender]
                dst.written[region[:, None], lanes] = True

    def receiving(self, receivers: np.ndarray) -> list[tuple]:
        """(group, rows, lanes, sender of each) per group of rings (a lockstep group's) that the
        receivers of a multicast, a row of them per sender, are in; kept per receivers (the rings
        are all set up before the first send)."""
        key = (receivers.shape, receivers.tobytes())
        if key not in self.landing:
            flat, sender = receivers.reshape(-1), np.repeat(np.arange(receivers.shape[0]), receivers.shape[1])
            groups = self.group[flat]
            self.landing[key] = [(g, flat[groups == g], self.lane[flat[groups == g]], sender[groups == g])
                                 for g in dict.fromkeys(groups.tolist())]
        return self.landing[key]

    def set_mcast(self, senders: np.ndarray, sem: int, value: int, rows: np.ndarray) -> None:
        """noc_semaphore_set_multicast from each sender to its row of `rows` (rect_rows)."""
        self.values[senders, sem] = value
        self.values[rows.reshape(-1), sem] = value
        if self.record:
            for s, targets in zip(senders, rows):
                for r in targets:
                    self.raised_by[(self.cores[r], sem)].append(self.cores[s])


def alike(program: Any) -> dict[tuple[int, int], int]:
    """core -> class: cores of one class run the same statements (the same block count, the same
    `if`s) with partners of one class (the cores they raise or multicast to, and the cores that
    raise or multicast to them), so they keep the same time: the classes of partition refinement,
    from the `if`s up, until no class splits. Unknown when an `if`, a raised core or a rectangle
    reads more than a core's runtime values."""
    conds = [x.cond for x in walk(program.kernels) if isinstance(x, l8.When)]
    works = program.work.cores
    out: dict[tuple, list] = {w.core: [] for w in works}
    for w in works:
        env = core_env(w)
        for k in program.kernels:
            for s in active(k.body, env, (l8.SemInc, l8.McastPages, l8.SemSetMcast)):
                targets = ([(value(s.at_x, env), value(s.at_y, env))] if isinstance(s, l8.SemInc)
                           else rect_cores(*(value(getattr(s.rect, f), env) for f in ("x0", "y0", "x1", "y1"))))
                out[w.core] += [(type(s).__name__, k.role, t) for t in targets]
    into: dict[tuple, list] = {w.core: [] for w in works}
    for c, edges in out.items():
        for kind, role, t in edges:
            into.setdefault(t, []).append((kind, role, c))
    key = {w.core: (w.count, *(bool(value(c, core_env(w))) for c in conds)) for w in works}
    while True:
        new = {c: (key[c], tuple(sorted((k, r, key.get(t)) for k, r, t in out[c])),
                   tuple(sorted((k, r, key.get(s)) for k, r, s in into[c]))) for c in key}
        ids = {v: i for i, v in enumerate(dict.fromkeys(new.values()))}
        new = {c: ids[v] for c, v in new.items()}
        if len(set(new.values())) == len(set(key.values())):
            return new
        key = new
