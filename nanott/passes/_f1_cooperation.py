"""F1's checks of cores that cooperate (semaphores and multicast, L8's cooperation statements).

Each kernel is walked once per core of the work split, with that core's runtime values (start,
count, x, y); a statement under `if` conditions that read more than those is not judged (the
simulator still is). Per core and semaphore it counts, over one trip of the loops around them,
who raises the semaphore (noc_semaphore_inc from other cores, noc_semaphore_set_multicast onto it)
and which values it is waited for, and checks:
  cores          every core a semaphore is raised on, and every core of a multicast rectangle,
                 is a core of the work split, inside the core grid; no rectangle holds its sender
  waits          every noc_semaphore_wait can end: a wait for v on core c is raised on c by
                 exactly v increments per trip (fewer never get there; more pass it by; where a
                 trip waits on c several times, as D3d's parts do, by the sum of their values,
                 the core setting it back to 0 after each), or set
                 to v by another core's semaphore multicast; the core sets it back to 0 itself
                 (else the next trip finds the last one's value)
  no self-wait   no core waits for a value only it gives the semaphore
  no lost raise  a semaphore other cores raise on c is waited for on c
  data           every core whose reader or writer pushes a CB's pages reads them, or another core
                 multicasts them
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from nanott.ir import walk
from nanott.languages import l9
from nanott.printing import seq
from nanott.sim.cooperation import Unknown, active, core_env, rect_cores, value


def check_cooperation(program: l9.Program, grid: tuple[int, int], broken: Any) -> None:
    cores = {w.core for w in program.work.cores}
    raised: dict[tuple, list] = defaultdict(list)      # (core, sem) -> the other cores that inc it, per trip
    set_to: dict[tuple, set] = defaultdict(set)        # (core, sem) -> values other cores multicast to it
    own: dict[tuple, set] = defaultdict(set)           # (core, sem) -> values the core sets itself
    sent: dict[tuple, set] = defaultdict(set)          # (core, cb) -> cores that multicast cb's pages to it
    waits, written, raiser = [], {}, {}                # raiser: sem -> the role whose kernels raise it
    for k in program.kernels:
        for w in program.work.cores:
            env = core_env(w)
            runs = active(k.body, env, (l9.NocReadPage, l9.GenerateToCb, *l9.COOPERATION))   # one walk for both
            written[(k.role, w.core)] = {s.cb for s in runs if isinstance(s, (l9.NocReadPage, l9.GenerateToCb))}
            for s in runs:
                if not isinstance(s, l9.COOPERATION):
                    continue
                try:
                    where = check_one(s, w.core, env, cores, grid)
                except Unknown:
                    continue
                except ValueError as e:
                    raise broken("cooperation", k.role, f"core ({seq(w.core)}): {s.head()}: {e}", loc=s.loc) from None
                if isinstance(s, (l9.SemInc, l9.SemSetMcast)):
                    raiser[s.sem] = k.role
                if isinstance(s, l9.SemInc):
                    raised[(where[0], s.sem)].append(w.core)
                elif isinstance(s, (l9.SemSetMcast, l9.McastPages)):
                    for c in where:
                        if isinstance(s, l9.McastPages):
                            sent[(c, s.cb)].add(w.core)
                        else:
                            set_to[(c, s.sem)].add(s.value)
                if isinstance(s, (l9.SemSet, l9.SemSetMcast)):
                    own[(w.core, s.sem)].add(s.value)
                elif isinstance(s, l9.SemWait):
                    waits.append((k.role, w.core, s))
    total: dict[tuple, int] = defaultdict(int)         # (core, sem) -> the values waited for, per trip
    for _, core, s in waits:
        total[(core, s.sem)] += s.value
    for role, core, s in waits:
        why = unsatisfied(s, len(raised.get((core, s.sem), [])), set_to.get((core, s.sem), set()),
                          own.get((core, s.sem), set()), total[(core, s.sem)])
        if why:
            raise broken("cooperation", role, f"core ({seq(core)}): {s.head()} {why}", loc=s.loc)
    waited = {(core, s.sem) for _, core, s in waits}
    for core, sem in sorted(set(raised) | set(set_to)):
        if (core, sem) not in waited:
            raise broken("cooperation", raiser[sem], f"core ({seq(core)}): sem{sem} is raised by other cores but "
                         "never waited for there: nothing orders the cores")
    for k in program.kernels:
        if k.role == "compute":
            continue
        fed = {cb for (_, cb) in sent} | set().union(*(written[(k.role, w.core)] for w in program.work.cores))
        for cb in sorted(fed & {s.cb for s in walk(k.body) if isinstance(s, l9.CbPush)}):
            for w in program.work.cores:
                if cb not in written[(k.role, w.core)] and not sent.get((w.core, cb)):
                    raise broken("cooperation", k.role, f"core ({seq(w.core)}) pushes cb{cb}, but neither reads "
                                 "its pages nor receives them by a multicast", cb)


def unsatisfied(s: l9.SemWait, incs: int, multicast: set, own: set, total: int | None = None) -> str:
    """Why a wait for s.value cannot end, trip after trip (or "" when it can); `total`: the values
    of every wait on that semaphore and core in a trip (s.value when s is the only one)."""
    total = s.value if total is None else total
    if 0 not in own:
        return (f"is never set back to 0 by the core itself (it holds {sorted(own) or 'nothing'}): "
                "the next trip's wait would find the last trip's value")
    if s.value in multicast or (incs and incs == total):
        return ""
    if not incs and not multicast:
        return "can never end: no other core raises it (a core cannot wait on itself)"
    waited = f"{s.value}" if total == s.value else f"{total} over the trip's waits"
    return (f"can never end: other cores raise it {incs} time(s) per trip (to {waited}: "
            f"{'never gets there' if incs < total else 'passes it by'}) and multicast {sorted(multicast)}")


def check_one(s: Any, me: tuple, env: dict, cores: set, grid: tuple[int, int]) -> tuple:
    """The cores a statement addresses, checked inside the work split; ValueError when not."""
    match s:
        case l9.SemInc(_, x, y):
            target = (value(x, env), value(y, env))
            if target not in cores:
                raise ValueError(f"core ({seq(target)}) is not a core of the work split")
            return (target,)
        case l9.McastPages(rect=r) | l9.SemSetMcast(rect=r):
            corners = tuple(value(e, env) for e in (r.x0, r.y0, r.x1, r.y1))
            if not (0 <= corners[0] <= corners[2] < grid[0] and 0 <= corners[1] <= corners[3] < grid[1]):
                raise ValueError(f"the rectangle {corners} is not inside the {grid[0]}x{grid[1]} core grid")
            inside = rect_cores(*corners)
            if me in inside:
                raise ValueError("the rectangle holds its sender (the plain multicast does not loop back)")
            missing = [c for c in inside if c not in cores]
            if missing:
                raise ValueError(f"core ({seq(missing[0])}) of the rectangle is not a core of the work split")
            return inside
    return ()
