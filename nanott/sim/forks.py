"""Where the cores of one lockstep group part ways: D3b's `if`s, which hold on some cores only.

A multicast's sender and its receivers run the same reader kernel with different runtime values;
D3b puts each role's handshake under an `if` on the core's coordinates, and lays the `if`s of one
step side by side (the sender's wait for its receivers, then the receivers' raise of it, or the
other way round). Splitting the cores into a lockstep group per role costs a full step of the
program per group; keeping them in one group and running each `if` on the cores where it holds
does not, as long as the cores that wait can wait while the others go on.

So a run of consecutive `if`s is one fork: each core runs, in program order, the bodies of the
`if`s that hold on it. Cores that take the same bodies form one branch, run on a `GroupEnv` narrowed
to their lanes (their slice of every per-core scalar); the branches are interleaved the way the
scheduler interleaves kernels (each runs until it blocks; when all are blocked the group waits for
any of them), which is one of the schedules the cores could take; the group goes on when every
branch is done. A branch may only move data and signal (NoC reads, semaphores, multicasts, loops
and lets around them): a CB call or a tile operation on some cores of a group would split the CB
state the group shares, so it is `Diverged` and the reference runs instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from nanott.languages import l9
from nanott.languages.l7_interp import KernelEnv
from nanott.sim.scheduler import Check, Wait

BRANCH_STMTS = (l9.For, l9.Let, l9.When, l9.NocReadPage, l9.NocWritePage, l9.SemSet, l9.SemWait, l9.SemInc,
                l9.McastPages, l9.SemSetMcast)


@dataclass
class GroupEnv(KernelEnv):
    """A kernel running for a lockstep group; `lanes`: the group's cores (their indices) a branch
    runs on, None for all of them."""
    lanes: np.ndarray | None = None
    rows: np.ndarray | None = None      # its cores' rows in the semaphore table, once asked for
    views: list | None = None           # the cycle model's classes among its cores (sim/cycles.py)
    cores: list | None = None           # its cores, once asked for (Lockstep.lanes)

    def narrowed(self, lanes: np.ndarray) -> "GroupEnv":
        """This env on some of its lanes: every per-core scalar sliced to them (when first read)."""
        return GroupEnv(self.buffers, Sliced(self.scalars, lanes), self.where, self.core, self.role,
                        self.cbs, self.noc, lanes if self.lanes is None else self.lanes[lanes])

    @property
    def key(self) -> tuple:
        """Which cores of which group it runs for, as a dict key."""
        return self.core, None if self.lanes is None else self.lanes.tobytes()


class Sliced(dict):
    """A branch's scalars: the group's, each per-core value sliced to the branch's lanes the first
    time it is read; what the branch sets (loop variables, lets) is its own."""

    def __init__(self, group: dict, lanes: np.ndarray):
        super().__init__()
        self.group, self.lanes, self.width = group, lanes, len(group["core.start"])

    def __missing__(self, name: str) -> Any:
        v = self.group[name]
        if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == self.width:
            v = v[self.lanes]
        self[name] = v
        return v


def runs(stmts: tuple) -> list[tuple[bool, tuple]]:
    """A block cut into (is a run of ifs, its statements) parts, in order."""
    out: list[tuple[bool, tuple]] = []
    for s in stmts:
        when = isinstance(s, l9.When)
        if out and out[-1][0] == when:
            out[-1] = (when, out[-1][1] + (s,))
        else:
            out.append((when, (s,)))
    return out


def branches(whens: tuple, holds: np.ndarray) -> list[tuple[np.ndarray, tuple]]:
    """(lanes, the statements they run) per set of cores taking the same `if`s; `holds` has a row
    per `if` and a column per lane."""
    keys, inverse = np.unique(holds.T, axis=0, return_inverse=True)
    out = []
    for k, key in enumerate(keys):
        body = tuple(s for w, on in zip(whens, key) if on for s in w.body)
        if body:
            out.append((np.flatnonzero(inverse.reshape(-1) == k), body))
    return out


def interleaved(gens: list[Iterator[Wait]]) -> Iterator[Wait]:
    """Run generators of Waits as one: each until it blocks; when all are blocked, wait for any."""
    waits: list[Wait | None] = [None] * len(gens)
    live = list(range(len(gens)))
    while live:
        moved = False
        for i in list(live):
            while waits[i] is None or waits[i].ready():
                try:
                    waits[i] = next(gens[i])
                except StopIteration:
                    live.remove(i)
                    break
                moved = True
        if live and not moved:
            yield any_of([waits[i] for i in live]) if len(live) > 1 else waits[live[0]]


def any_of(waits: list[Wait]) -> Wait:
    first = waits[0]
    ready: Callable[[], bool] = lambda: any(w.ready() for w in waits)
    state = lambda: "; ".join(f"{w.call}: {(w.blocking() or w.checks[0]).state()}" for w in waits if w.checks)
    return Wait(first.at, (Check(ready, state),), first.loc)

