"""The scheduler: every core's reader, compute and writer kernels run as Python generators.

A kernel is a generator that yields a `Wait` at every synchronisation point (a CB call, a group's
CB conditions, later the DST handshake): what it needs before it can go on. The scheduler resumes a
kernel only once its wait is ready, so the step after a `yield` can act as if the condition holds.

Two orders, both deterministic:
  seed=None  round-robin over (core, role) in order; each kernel runs until it blocks
  seed=k     rounds in a random order drawn from `k`; each ready kernel takes one step per round
A round in which no kernel can take a step, while some have not finished, is a deadlock: the
DeadlockError names every blocked kernel, the CB it waits on with its numbers, and whether the
kernel that could unblock it has finished or is blocked too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from nanott.ir import NOLOC, Loc
from nanott.sim.errors import Blocked, DeadlockError


@dataclass
class Check:
    """One condition of a wait: ready() when it holds, state() saying why not (for the report)."""
    ready: Callable[[], bool]
    state: Callable[[], str]
    cb: int | None = None
    partner: str | None = None          # the role whose progress makes it hold
    partner_kind: str = ""              # "producer" | "consumer"


@dataclass
class Wait:
    """What a kernel waits for at one call (the statement, or its text): every check must hold."""
    at: Any
    checks: tuple[Check, ...]
    loc: Loc = NOLOC

    @property
    def call(self) -> str:
        """The call's text (made only when a report needs it)."""
        return self.at if isinstance(self.at, str) else self.at.head()

    def ready(self) -> bool:
        return all(c.ready() for c in self.checks)

    def blocking(self) -> Check | None:
        return next((c for c in self.checks if not c.ready()), None)


@dataclass
class Task:
    """One kernel on one core."""
    core: tuple[int, ...]
    role: str
    gen: Iterator[Wait]
    wait: Wait | None = None
    done: bool = False
    steps: int = field(default=0)

    def runnable(self) -> bool:
        return not self.done and (self.wait is None or self.wait.ready())

    def step(self) -> None:
        self.steps += 1
        try:
            self.wait = next(self.gen)
        except StopIteration:
            self.done, self.wait = True, None


class Scheduler:
    def __init__(self, seed: int | None = None, listener: Callable[[Task], None] | None = None):
        self.seed, self.listener = seed, listener          # listener(task) after every step (--trace)
        self.rng = np.random.default_rng(seed) if seed is not None else None

    def run(self, tasks: list[Task]) -> None:
        """Run every task to its end; DeadlockError when none can go on."""
        order = list(range(len(tasks)))
        while True:
            if self.rng is not None:
                order = list(self.rng.permutation(len(tasks)))
            progress = False
            for i in order:
                t = tasks[i]
                while t.runnable():
                    t.step()
                    progress = True
                    if self.listener is not None:
                        self.listener(t)
                    if self.rng is not None:
                        break
            if all(t.done for t in tasks):
                return
            if not progress:
                raise DeadlockError(self.blocked(tasks))

    @staticmethod
    def blocked(tasks: list[Task]) -> list[Blocked]:
        by_kernel = {(t.core, t.role): t for t in tasks}
        out = []
        for t in tasks:
            if t.done or t.wait is None:
                continue
            check = t.wait.blocking() or t.wait.checks[0]
            partner = by_kernel.get((t.core, check.partner)) if check.partner else None
            status = ("has finished" if partner is None or partner.done else
                      f"is blocked too, at {partner.wait.call}" if partner.wait else "is running")
            out.append(Blocked(t.core, t.role, t.wait.call, t.wait.loc, check.cb, check.state(),
                               check.partner, check.partner_kind, status))
        return out
