"""F1's cross-kernel deadlock check: the kernels of one core run against each other with CB page
counts only, so a call that waits for a partner kernel which itself waits forever is found before
any run.

The per-kernel walk (_f1_protocol.py) sees one kernel's own calls: every push then balances every
pop per loop trip, yet a push moved past a loop can still hang the core. The reader below reserves
cb16, then loops pushing cb5 (4 pages, the whole CB) trip after trip, and pushes cb16 only after
the loop; the compute kernel waits for cb16 before it pops cb5. The reader's second trip waits for
cb5's pages, the compute kernel for cb16's: both wait forever.

    reader                      compute
    cb_reserve_back cb16, 2     cb_wait_front cb16, 2      <- waits for the reader's push
    for k in 0..2:              for k in 0..2:
      cb_reserve_back cb5, 4      cb_wait_front cb5, 4
      cb_push_back cb5, 4         cb_pop_front cb5, 4
    cb_push_back cb16, 2

Each kernel is a fixed sequence of CB calls: loop extents and lets are integers that depend on the
core's (start, count) and on loop variables, never on data (a run-time `if` is NT302). A blocking
call waits for a count only its partner changes (reserve n: free pages = capacity - visible >= n;
wait n: visible >= n; push and pop never block), so whether the kernels of a core finish does not
depend on which of them runs first: one run of the counts, in any order, answers for every
interleaving and every input. Every core of the work split is run (its blocks decide extents that
depend on block ids, as a causal mask's loop does), until BUDGET calls in all: past it, or at an
extent it cannot evaluate, a core is not judged (the simulator still is). Loops without CB calls
are skipped.
"""
from __future__ import annotations

from typing import Any, Iterator

from nanott.ir import walk
from nanott.languages import l9
from nanott.languages.l0_interp import Env
from nanott.languages.l3_interp import InterpL3

CALLS = (l9.CbReserve, l9.CbPush, l9.CbWait, l9.CbPop)
BUDGET = 200_000                       # CB calls in all: about a second of Python


class NotJudged(Exception):
    """An extent or let this walk cannot evaluate, or a core past the budget."""


class CallStream:
    """One kernel's CB calls in program order, on one core."""

    def __init__(self, kernel: l9.DeviceKernel, scalars: dict[str, int], has_calls: dict | None = None):
        self.role = kernel.role
        self.evaluator = InterpL3()
        self.has_calls = {} if has_calls is None else has_calls   # id(loop) -> holds CB calls (shared by cores)
        self.calls = self.stream(kernel.body, dict(scalars))
        self.next: Any = None

    def value(self, e: Any, scalars: dict[str, Any]) -> int:
        try:
            return int(self.evaluator.eval(e, Env({}, scalars, "")))
        except Exception as err:       # a let of a value no index needs: judged only if used
            raise NotJudged(f"{e} cannot be evaluated statically") from err

    def calls_in(self, loop: l9.For) -> bool:
        if id(loop) not in self.has_calls:
            self.has_calls[id(loop)] = any(isinstance(x, CALLS) for x in walk(loop.body))
        return self.has_calls[id(loop)]

    def stream(self, stmts: tuple, scalars: dict[str, Any]) -> Iterator[Any]:
        for s in stmts:
            if isinstance(s, CALLS):
                yield s
            elif isinstance(s, l9.Let):
                scalars = {**scalars, s.var: Lazy(s.value, scalars, self)}
            elif isinstance(s, l9.For) and self.calls_in(s):
                for i in range(self.value(s.extent, Resolved(scalars))):
                    yield from self.stream(s.body, {**scalars, s.var: i})

    def peek(self) -> Any:
        if self.next is None:
            self.next = next(self.calls, False)
        return self.next


class Lazy:
    """A let's value, evaluated when an extent needs it."""

    def __init__(self, e: Any, scalars: dict[str, Any], stream: CallStream):
        self.e, self.scalars, self.stream, self.v = e, scalars, stream, None

    def get(self) -> int:
        if self.v is None:
            self.v = self.stream.value(self.e, Resolved(self.scalars))
        return self.v


class Resolved(dict):
    """Scalars with lets evaluated on lookup."""

    def __getitem__(self, name: str) -> Any:
        v = super().__getitem__(name)
        return v.get() if isinstance(v, Lazy) else v


class CoreRun:
    """Every kernel of one core run with CB counts only (visible = pages pushed and not popped)."""

    def __init__(self, program: l9.Program, core: Any, budget: int = BUDGET, has_calls: dict | None = None):
        scalars = {"core.start": core.start, "core.count": core.count}
        self.streams = [CallStream(k, scalars, has_calls) for k in program.kernels]
        self.pages = {cb.index: cb.plan.pages for cb in program.cbs}
        self.visible = dict.fromkeys(self.pages, 0)
        self.calls, self.budget = 0, budget

    def blocks(self, c: Any) -> bool:
        if isinstance(c, l9.CbReserve):
            return self.pages[c.cb] - self.visible[c.cb] < c.pages
        return isinstance(c, l9.CbWait) and self.visible[c.cb] < c.pages

    def run(self) -> list[CallStream]:
        """The kernels left blocked when none can go on (none when all end)."""
        while True:
            moved = False
            for s in self.streams:
                while (c := s.peek()) is not False and not self.blocks(c):
                    if isinstance(c, (l9.CbPush, l9.CbPop)):
                        self.visible[c.cb] += c.pages if isinstance(c, l9.CbPush) else -min(c.pages, self.visible[c.cb])
                    s.next, moved, self.calls = None, True, self.calls + 1
                    if self.calls > self.budget:
                        raise NotJudged(f"more than {self.budget} CB calls")
            if not moved:
                return [s for s in self.streams if s.peek() is not False]

    def why(self, s: CallStream) -> str:
        c = s.peek()
        have = (f"{self.pages[c.cb] - self.visible[c.cb]} of the {c.pages} pages it needs free"
                if isinstance(c, l9.CbReserve) else f"{self.visible[c.cb]} of the {c.pages} pages it needs visible")
        return f"the {s.role} waits in {c.head()} ({have})"


def check_deadlock(program: l9.Program, broken: Any) -> None:
    """A CheckError naming every blocked kernel of the first core whose kernels cannot all end."""
    budget, has_calls = BUDGET, {}       # whether a loop holds CB calls is the same on every core
    for core in program.work.cores:
        if budget <= 0:
            return
        run = CoreRun(program, core, budget, has_calls)
        try:
            stuck = run.run()
        except NotJudged:
            stuck = []
        budget -= run.calls
        if stuck:
            raise broken("cross-kernel deadlock", stuck[0].role, f"on core {core.core} with {core.count} "
                         f"block(s): " + "; ".join(map(run.why, stuck)), loc=stuck[0].peek().loc)
