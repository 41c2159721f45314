"""Mutation testing of the protocol of an L9 program: every single mutation of a protocol call, and
who notices it: F1's static verifier, the simulator, or nobody (then the mutant must be equivalent:
outputs bit-identical to the unmutated program's).

Mutations, at every protocol call of every kernel (cb_reserve_back, cb_push_back, cb_wait_front,
cb_pop_front, the NoC barriers and transaction ids, every init and reconfig, and the calls of cores that cooperate:
noc_semaphore_set / _wait / _inc, the multicasts), inside loops and `if`s: delete it, duplicate it,
swap it with the statement after it, (for the CB calls) change its page count by +1 and -1, (for
a semaphore's set or wait) its value by +1 and -1, and (for a transaction id's set or barrier) its id
to the other one of D3d's pair.

`python tests/mutants.py [example ...]` prints, per example, the mutants, F1's catch rate over the
non-equivalent ones, and the simulator's.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from nanott import api
from nanott.ir import CheckError, Launches, per_launch
from nanott.languages import l9
from nanott.passes.f1_verify import verify
from nanott.sim.errors import SimulationError
from nanott.target import DEFAULT_TARGET

CALLS = (l9.CbReserve, l9.CbPush, l9.CbWait, l9.CbPop, l9.NocReadBarrier, l9.NocWriteBarrier, l9.Init,
         l9.NocReadTrid, l9.NocReadBarrierTrid,
         l9.SemSet, l9.SemWait, l9.SemInc, l9.McastPages, l9.SemSetMcast)
COUNTED = (l9.CbReserve, l9.CbPush, l9.CbWait, l9.CbPop)
VALUED = (l9.SemSet, l9.SemWait)


def bodies(stmts: tuple, path: tuple = ()) -> Iterator[tuple[tuple, tuple]]:
    """(path, body) for a body and every loop body inside it; a path is the indices down to it."""
    yield path, stmts
    for i, s in enumerate(stmts):
        if isinstance(s, (l9.For, l9.When)):
            yield from bodies(s.body, path + (i,))


def replace_body(stmts: tuple, path: tuple, new: tuple) -> tuple:
    if not path:
        return new
    i, rest = path[0], path[1:]
    loop = stmts[i]
    return stmts[:i] + (dataclasses.replace(loop, body=replace_body(loop.body, rest, new)),) + stmts[i + 1:]


def mutants(program: l9.Program) -> Iterator[tuple[str, l9.Program]]:
    if isinstance(program, Launches):               # each launch's mutants, the others intact
        for i, launch in enumerate(program.launches):
            for what, m in mutants(launch):
                launches = program.launches[:i] + (m,) + program.launches[i + 1:]
                yield f"launch {i}: {what}", dataclasses.replace(program, launches=launches)
        return
    for k, kernel in enumerate(program.kernels):
        for path, body in bodies(kernel.body):
            for i, s in enumerate(body):
                if not isinstance(s, CALLS):
                    continue
                what = f"{kernel.role}: {s.head()} at {path + (i,)}"
                changes = {"delete": body[:i] + body[i + 1:], "duplicate": body[:i + 1] + body[i:]}
                if i + 1 < len(body):
                    changes["swap with next"] = body[:i] + (body[i + 1], s) + body[i + 2:]
                if isinstance(s, COUNTED):
                    for d in (1, -1):
                        if s.pages + d > 0:
                            changes[f"pages {d:+d}"] = body[:i] + (dataclasses.replace(s, pages=s.pages + d),) + body[i + 1:]
                if isinstance(s, (l9.NocReadTrid, l9.NocReadBarrierTrid)):
                    changes["the other id"] = body[:i] + (dataclasses.replace(s, trid=s.trid ^ 1),) + body[i + 1:]
                if isinstance(s, VALUED):
                    for d in (1, -1):
                        if s.value + d >= 0:
                            changes[f"value {d:+d}"] = body[:i] + (dataclasses.replace(s, value=s.value + d),) + body[i + 1:]
                for how, new in changes.items():
                    kernels = list(program.kernels)
                    kernels[k] = dataclasses.replace(kernel, body=replace_body(kernel.body, path, new))
                    yield f"{how}: {what}", dataclasses.replace(program, kernels=tuple(kernels))


@dataclass
class Tally:
    example: str
    total: int = 0
    f1: int = 0                   # rejected by F1
    sim: int = 0                  # passed F1, then a simulator fault or deadlock
    wrong: int = 0                # passed F1 and the simulator, outputs differ: nobody noticed
    equivalent: int = 0           # passed both, outputs bit-identical
    sim_alone: int = 0            # of all non-equivalent mutants, those the simulator alone catches
    strict: int = 0               # equivalent mutants F1 still rejects (a rule stricter than needed)
    missed: list[str] = dataclasses.field(default_factory=list)

    @property
    def non_equivalent(self) -> int:
        return self.total - self.equivalent

    def rate(self, n: int) -> float:
        return n / self.non_equivalent if self.non_equivalent else 1.0

    def line(self) -> str:
        return (f"{self.example}: {self.total} mutants, {self.equivalent} equivalent; of "
                f"{self.non_equivalent} non-equivalent F1 rejects {self.f1} ({100 * self.rate(self.f1):.1f}%), "
                f"the simulator alone (F1 off) {self.sim_alone} ({100 * self.rate(self.sim_alone):.1f}%), "
                f"after F1 the simulator {self.sim}, nobody {self.wrong}; F1 also rejects {self.strict} "
                "equivalent ones")


def run(program: l9.Program, inputs: dict) -> dict | None:
    """The outputs of a simulated run, or None on a simulator fault."""
    try:
        return api.simulate(program, "L9", inputs)
    except (SimulationError, CheckError, IndexError, ValueError, KeyError):
        return None


def tally(example: str, program: l9.Program, inputs: dict, outputs: tuple[str, ...]) -> Tally:
    good = api.simulate(program, "L9", inputs)
    t = Tally(example)
    for what, m in mutants(program):
        t.total += 1
        got = run(m, inputs)
        same = got is not None and all(np.array_equal(got[n], good[n], equal_nan=True) for n in outputs)
        try:
            per_launch(verify, m, DEFAULT_TARGET)
            caught = False
        except CheckError:
            caught = True
        if got is not None and same:
            t.equivalent += 1
            t.strict += caught
            continue
        t.sim_alone += got is None
        if caught:
            t.f1 += 1
        elif got is None:
            t.sim += 1
            t.missed.append(f"(simulator) {what}")
        else:
            t.wrong += 1
            t.missed.append(what)
    return t


def example_tally(example: str) -> Tally:
    from nanott.loader import load_kernel
    from nanott.pipeline import run_stages
    loaded = load_kernel(Path(__file__).resolve().parent.parent / "examples" / f"{example}.py")
    programs = {s.id: p for s, p in run_stages(loaded.prim_func, "F1")}
    inputs = api.random_inputs(programs["P0"], 0)
    return tally(example, programs["F1"], inputs, api.tensor_roles(programs["P0"])[1])


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "examples").glob("*.py"))
    totals = Tally("all")
    for name in names:
        t = example_tally(name)
        print(t.line(), flush=True)
        for m in t.missed:
            print(f"  missed: {m}")
        for f in ("total", "f1", "sim", "wrong", "equivalent", "sim_alone", "strict"):
            setattr(totals, f, getattr(totals, f) + getattr(t, f))
    print(totals.line())
