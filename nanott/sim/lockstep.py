"""The fast L9 simulator: cores in lockstep, one NumPy call per tile operation for all of them.

Every core runs the same three kernels; only the runtime arguments differ (`core.start`, and
`core.count`, the number of blocks). Cores with the same count take the same path through every
loop, so `Lockstep` runs them as one group: one reader, one compute and one writer task for the
group, whose scalars are arrays with one element per core, whose CB pages and DST tiles carry a
core axis (`pages[page]` is the page on every core of the group: shape (cores, 32, 32)), and whose
NoC reads and writes move one page per core with one fancy-indexing call.

What is shared is what lockstep makes equal: the CB counters and pointers, the DST handshake state,
the engine configuration, the NoC's in-flight list. Every protocol rule InterpL8 and InterpL9
check is checked here by the same code, once for the group, since each core would make the same
calls in the same order. Where cores of a group would differ (a loop extent, a CB slot or a DST
index that is not the same on every core), `Diverged` is raised. D3b's `if`s, which hold on a
multicast's sender and not on its receivers, fork the group instead (sim/forks.py): the cores that
take the same bodies run them as a branch, the branches interleaved, and the group goes on after.
Semaphores are rows of one table (sim/cooperation.py): a group's sets, increments and waits are
one NumPy call each; each core keeps its own CB page flags (rule 5 holds per core).

A T.print prints one line per core of the group, each naming its core, as the reference does
(the lines of different cores come in another order: the group's cores print together).

`simulate` runs Lockstep and, on divergence or on any protocol error or deadlock, runs the
reference InterpL9 instead: it is the reference that reports the error, per core, with its line.
Arithmetic is the reference's, op for op, on a stack of tiles, so results are bit-identical
(tests/test_lockstep.py checks every example and the fuzzed kernels).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from nanott.ir import launches_of, walk
from nanott.languages import l0, l3, l9
from nanott.languages.l0_interp import BINOPS, np_dtype, shown, unwritten_into, xy
from nanott.languages.printed import block_lines
from nanott.languages.l9_interp import InterpL9
from nanott.sim import forks, loops, transfers
from nanott.sim.cb_ring import CbRing
from nanott.sim.errors import ProtocolError, SimulationError
from nanott.sim.forks import GroupEnv
from nanott.sim.loops import widen
from nanott.sim.noc import Noc, Transfer
from nanott.sim.scheduler import Check, Scheduler, Task, Wait
from nanott.sim.scratch import Scratch
from nanott.target import TILE

F32 = np.float32
COOPERATE = (l9.SemSet, l9.SemWait, l9.SemInc, l9.McastPages, l9.SemSetMcast)


class Diverged(Exception):
    """Cores of one lockstep group would take different paths."""


class Lockstep(InterpL9):
    """InterpL9 over groups of cores with equal block counts, each group stepped as one."""

    width = 1                                   # cores in the group being set up
    core_axis = True

    def __init__(self, seed: int | None = None, written: Callable[[int], None] | None = None,
                 scratch: Scratch | None = None):
        super().__init__(seed=seed)
        self.written = written or (lambda pages: None)   # told of DRAM pages written (progress)
        self.scratch = scratch                         # where its big buffers come from (sim/scratch.py)
        self.code: dict[Any, tuple[Any, Any]] = {}     # id(node) -> (it, its closure or verdict)

    fork = True         # cores that take different ifs share a group (sim/forks.py); False: they never do

    def groups(self, program: l9.Program) -> dict[tuple, list]:
        """The cores by block count: they take the same path through every loop (D3b's ifs fork
        the group where they hold on some of its cores)."""
        groups = defaultdict(list)
        for work in program.work.cores:
            groups[(work.count,)].append(work)
        return groups

    def run_cores(self, program: l9.Program, arrays: dict[str, np.ndarray]) -> None:
        self.start(program, arrays)
        groups = self.groups(program)
        tasks, rings = [], []
        self.group_size = {works[0].core: len(works) for works in groups.values()}
        self.group_cores = {works[0].core: [w.core for w in works] for works in groups.values()}
        self.name = program.name
        for (count, *_), works in groups.items():
            self.width = len(works)
            cbs = {cb.index: self.make_cb(cb) for cb in program.cbs}
            rings.append((works[0].core, cbs))
            starts = np.array([w.start for w in works], dtype=np.int64)
            for k in program.kernels:
                xy = {f"core.logical_{a}": np.array([w.core[i] for w in works]) for i, a in enumerate("xy")}
                env = GroupEnv(dict(arrays), {"core.start": starts, "core.count": count, **xy},
                                core=works[0].core, role=k.role, cbs=cbs)
                self.setup_kernel(env)
                tasks.append(Task(works[0].core, k.role, self.run_kernel(k, env)))
        Scheduler(self.seed, self.listener).run(tasks)
        for core, cbs in rings:
            self.check_drained(core, cbs)
        self.finish(arrays)

    def say(self, s: l0.Print, env: GroupEnv) -> None:
        """T.print: a line for each core of the group, with that core's value."""
        cores = self.group_cores[env.core]
        values = np.broadcast_to(np.asarray(self.eval(s.value, env)), (len(cores),))
        for core, value in zip(cores, values):
            self.out(f"[L9 {self.name} core {xy(core)} {env.role}] {s.label()} = {shown(value)}")

    def say_block(self, label: str, block: np.ndarray, env: GroupEnv) -> None:
        """T.print of a CB: the lines of each core of the group, from its own block."""
        for core, own in zip(self.group_cores[env.core], block):
            for line in block_lines(label, own):
                self.out(f"[L9 {self.name} core {xy(core)} {env.role}] {line}")

    def start(self, program: l9.Program, arrays: dict[str, np.ndarray]) -> None:
        super().start(program, arrays)
        self.dram.scratch = self.scratch

    def buffer(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """An uninitialised array, from the run's scratch if it has one."""
        return np.empty(shape, dtype) if self.scratch is None else self.scratch.empty(shape, dtype)

    def make_cb(self, cb) -> CbRing:
        ring = CbRing(cb)
        ring.pages = unwritten_into(self.buffer((ring.num_pages, self.width, TILE, TILE), np_dtype(cb.dtype)), cb.dtype)
        ring.written = np.zeros((ring.num_pages, self.width), bool)     # each core's page written
        return ring

    def setup_kernel(self, env: GroupEnv) -> None:
        super().setup_kernel(env)
        self.coop.record = False                       # a deadlock is the reference's to report
        if env.noc is not None:
            env.noc = LockstepNoc(self.dram, self.rng)
            env.noc.written, env.noc.coop = self.written, self.coop
            env.noc.writer = np.array([self.coop.ids[c] for c in self.group_cores[env.core]])
        if env.role == "compute":
            dst = self.engines[env.core][0]
            dst.tiles = self.buffer((dst.capacity, self.width, TILE, TILE), F32)
            dst.tiles.fill(0)

    # ----- values: expressions compiled once; uniform ones, and page ids per core -----
    def eval(self, e: Any, env: GroupEnv) -> Any:
        """The reference's eval, through a closure compiled on first use (Const, Var, core
        arguments and arithmetic; anything else falls through to the reference's rules)."""
        entry = self.code.get(id(e))
        if entry is None or entry[0] is not e:         # e is kept alive, so its id is not reused
            entry = self.code[id(e)] = (e, compiled(e))
        return entry[1](env.scalars) if entry[1] is not None else super().eval(e, env)

    def ran_vector(self, loop: l9.For, env: GroupEnv, n: int) -> None:
        """A loop ran statement-major, all `n` iterations at once (the cycle model listens here)."""

    def vector(self, loop: l9.For) -> bool:
        """loops.vector_loop, decided once per loop."""
        key = ("loop", id(loop))
        if key not in self.code or self.code[key][0] is not loop:
            self.code[key] = (loop, loops.vector_loop(loop))
        return self.code[key][1]

    def moves(self, loop: l9.For) -> Any:
        """transfers.nest, decided once per loop."""
        key = ("moves", id(loop))
        if key not in self.code or self.code[key][0] is not loop:
            self.code[key] = (loop, transfers.nest(loop))
        return self.code[key][1]

    def ran_moves(self, found: tuple, env: GroupEnv, n: int) -> None:
        """A nest of NoC transfers ran as one per statement, `n` iterations (the cycle model listens here)."""

    def index(self, e: Any, env: GroupEnv) -> int:
        """A value every core of the group must agree on (a loop extent, a CB slot, a DST index)."""
        v = self.eval(e, env)
        if isinstance(v, np.ndarray):
            first = v.flat[0]
            if not (v == first).all():
                raise Diverged(f"{e} differs between the cores of a group")
            v = first
        return int(v)

    def lanes(self, env: GroupEnv) -> list[tuple[int, ...]]:
        if env.cores is None:                       # once per env (a branch's lanes do not change)
            cores = self.group_cores[env.core]
            env.cores = cores if env.lanes is None else [cores[i] for i in env.lanes]
        return env.cores

    def rows(self, env: GroupEnv) -> np.ndarray:
        """The rows of the kernel's cores in the run's semaphore table (sim/cooperation.py)."""
        if env.rows is None:
            env.rows = np.array([self.coop.ids[c] for c in self.lanes(env)])
        return env.rows

    def cooperate(self, s: Any, env: GroupEnv) -> Iterator[Wait]:
        """Semaphores of every core of the group at once, as rows of one table; multicasts are
        InterpL8's, sender by sender (their landing is one call per receiving group)."""
        if type(s) is l9.SemWait:
            yield self.sem_wait(s, env)
        elif not self.signal(s, env):
            yield from super().cooperate(s, env)
            return
        yield Wait(s, (), s.loc)

    def sem_wait(self, s: l9.SemWait, env: GroupEnv) -> Wait:
        """noc_semaphore_wait on every core of the group: until each core's value is s.value."""
        column, rows, sem, value = self.coop.values[:, s.sem], self.rows(env), s.sem, s.value
        return Wait(s, (Check(lambda: not np.count_nonzero(column[rows] != value),
                              lambda: self.coop.state(self.lanes(env), sem, value)),), s.loc)

    def signal(self, s: Any, env: GroupEnv) -> bool:
        """noc_semaphore_set and _inc (they never block) on every core of the group at once; False
        for any other statement."""
        if type(s) is l9.SemSet:
            self.coop.values[self.rows(env), s.sem] = s.value
        elif type(s) is l9.SemInc:
            at = self.kept(("inc", s), env, (s.at_x, s.at_y), lambda: self.coop.rows(
                self.pages(s.at_x, env), self.pages(s.at_y, env), "noc_semaphore_inc"))
            self.coop.inc_rows(at, self.rows(env), s.sem)
        else:
            return False
        return True

    def branch(self, body: tuple, env: GroupEnv) -> Iterator[Wait]:
        """A branch of a fork: its statements in order, the signals without a yield (within a group
        no other branch needs a turn after a statement that never blocks)."""
        for s in body:
            try:
                if type(s) is l9.SemWait:
                    yield self.sem_wait(s, env)
                elif not self.signal(s, env):
                    yield from self.exec_kernel_stmt(s, env)
            except ProtocolError as e:
                raise e.at(env.core, env.role, s.loc) from None

    def receivers(self, s: Any, env: GroupEnv, call: str) -> np.ndarray:
        r = s.rect
        return self.kept(("rect", s), env, (r.x0, r.y0, r.x1, r.y1), lambda: super(Lockstep, self).receivers(s, env, call))

    def kept(self, what: tuple, env: GroupEnv, reads: tuple, f: Callable[[], Any]) -> Any:
        """f(), kept for the group (or branch) where the expressions it reads read nothing but
        the cores' runtime values."""
        key = (what[0], id(what[1]), env.key)
        hit = self.code.get(key)
        if hit is not None and hit[0] is what[1]:
            return hit[1]
        v = f()
        if all(self.of_cores(e) for e in reads):
            self.code[key] = (what[1], v)
        return v

    def lane_ids(self, env: GroupEnv) -> list[int]:
        return list(range(len(self.group_cores[env.core]))) if env.lanes is None else env.lanes.tolist()

    def lane_values(self, e: Any, env: GroupEnv) -> np.ndarray:
        return self.pages(e, env)

    def pages(self, e: Any, env: GroupEnv) -> np.ndarray:
        """A DRAM page id (a core coordinate, ...) per core of the group; kept where it reads only
        the cores' runtime values (D3b's partners and rectangles: the same every step)."""
        return self.kept(("per core", e), env, (e,), lambda: per_core(self.eval(e, env), self.width_of(env)))

    def of_cores(self, e: Any) -> bool:
        """Whether e reads nothing but constants and the core's runtime values."""
        key = ("of cores", id(e))
        if key not in self.code or self.code[key][0] is not e:
            self.code[key] = (e, not any(isinstance(x, l9.Var) for x in walk(e)))
        return self.code[key][1]

    @staticmethod
    def width_of(env: GroupEnv) -> int:
        return len(env.scalars["core.start"])

    # ----- D3b's ifs: the group forks where they hold on some of its cores (sim/forks.py) -----
    def exec_kernel_block(self, stmts: tuple, env: GroupEnv) -> Iterator[Wait]:
        key = ("runs", id(stmts))
        if key not in self.code or self.code[key][0] is not stmts:
            parts = forks.runs(stmts)
            self.code[key] = (stmts, parts if self.fork and any(w for w, _ in parts) else None)
        parts = self.code[key][1]
        if parts is None:
            yield from super().exec_kernel_block(stmts, env)
            return
        for whens, part in parts:
            yield from self.forked(part, env) if whens else super().exec_kernel_block(part, env)

    def forked(self, whens: tuple, env: GroupEnv) -> Iterator[Wait]:
        """Consecutive ifs: each core runs the bodies of those that hold on it, the cores taking the
        same ones as one branch; the branches interleaved, as the cores would run."""
        parts = self.kept(("fork", whens), env, tuple(w.cond for w in whens), lambda: forks.branches(
            whens, np.array([self.pages(w.cond, env) != 0 for w in whens])))
        if len(parts) == 1 and len(parts[0][0]) == self.width_of(env):   # every core takes the same ifs
            yield from self.exec_kernel_block(parts[0][1], env)
            return
        if len(parts) == 1:                                          # one branch: the others skip the ifs
            yield from self.branch(parts[0][1], env.narrowed(parts[0][0]))
        else:
            yield from forks.interleaved([self.branch(body, env.narrowed(lanes)) for lanes, body in parts])

    def exec_kernel_stmt(self, s: Any, env: GroupEnv) -> Iterator[Wait]:
        if env.lanes is not None and not isinstance(s, forks.BRANCH_STMTS):
            raise Diverged(f"{s.head()} under an if that holds on some cores of a group only")
        if type(s) in COOPERATE:                       # InterpL8 would hand it to cooperate too
            yield from self.cooperate(s, env)
            return
        match s:
            case l9.For(var, extent, _, _, body):
                n = self.index(extent, env)
                if env.role == "compute" and self.vector(s) and loops.run(self, s, env, n):
                    self.ran_vector(s, env, n)
                    return
                if env.role != "compute" and (found := self.moves(s)) and (m := transfers.run(self, found, env)):
                    self.ran_moves(found, env, m)
                    return
                for i in range(n):
                    env.scalars[var] = i
                    yield from self.exec_kernel_block(body, env)
            case l9.NocReadPage(tensor, page, cb, slot, row, to):
                env.noc.read(tensor, self.pages(page, env), env.cbs[cb], self.index(slot, env),
                             None if row is None else self.pages(row, env), env.lanes,
                             0 if to is None else self.index(to, env))
            case l9.NocWritePage(cb, slot, tensor, page, row, source):
                env.noc.write(env.cbs[cb], self.index(slot, env), tensor, self.pages(page, env),
                              None if row is None else self.pages(row, env), 0 if source is None else self.index(source, env),
                              env.lanes)
            case l9.GenerateToCb(cb, vars, extents, value):
                self.write_block(env.cbs[cb], self.generate_cores(vars, extents, value, env))
            case _:
                yield from super().exec_kernel_stmt(s, env)

    def generate_cores(self, vars: tuple, extents: tuple, value: Any, env: GroupEnv) -> np.ndarray:
        """InterpL5.generate for every core of the group at once: a value that depends on the block
        (a mask at the diagonal, an element picked by block index) differs per core, so the core
        axis leads, then the block's element axes."""
        inner = env.child()
        for name, v in env.scalars.items():
            if isinstance(v, np.ndarray) and v.ndim == 1:
                inner.scalars[name] = v.reshape(-1, *(1,) * len(extents))
        for axis, (v, n) in enumerate(zip(vars, extents)):
            inner.scalars[v] = np.arange(n).reshape([1] + [n if a == axis else 1 for a in range(len(extents))])
        return np.broadcast_to(np.float32(self.eval(value, inner)), (self.width_of(env), *extents))

    def exec_dst_op(self, s: Any, env: GroupEnv, dst: Any) -> Iterator[Wait]:
        """InterpL9's rule, but a matmul_block is one batched product: its rt A tiles times its ct
        B tiles, each 32x32 product the reference's, added into the rt * ct DST tiles at once
        (the DST tiles are distinct, so the order of the adds does not matter)."""
        if type(s) is not l9.MatmulBlock:
            yield from super().exec_dst_op(s, env, dst)
            return
        a0, b0, d0 = (self.index(x, env) for x in (s.a_index, s.b_index, s.dst))
        dst.tiles[d0:d0 + s.rt * s.ct] += matmul_block(s, env.cbs, dst, a0, b0, d0)

    def front(self, env: GroupEnv, cb: int, index: Any, who: str) -> np.ndarray:
        """InterpL9.front, on the page of every core of the group at once."""
        ring = env.cbs[cb]
        page = ring.pages[ring.front(self.index(index, env), who)]
        return widen(page)


def matmul_block(s: l9.MatmulBlock, cbs: dict, dst: Any, a0: int, b0: int, d0: int) -> np.ndarray:
    """The products of matmul_block `s` at A slot a0, B slot b0 into DST d0, on every core of the
    group: (rt * ct, cores, 32, 32), tile (r, c) A's row r times B's column c. The reference's
    checks first, on the lowest and highest slot of each operand (the waited pages of both CBs,
    the DST's math phase and range), so a failing check changes nothing."""
    ra, rb, rt, ct, kt = cbs[s.a_cb], cbs[s.b_cb], s.rt, s.ct, s.kt
    last = a0 + (rt - 1) * kt                                               # A's rows are kt slots apart
    ra.check_front(min(a0, last), max(a0, last), "matmul_block")
    rb.check_front(b0, b0 + ct - 1, "matmul_block")
    dst.check_math(d0, d0 + rt * ct - 1)
    rows = slice(ra.rd + a0, ra.rd + a0 + (rt - 1) * kt + 1, kt) if kt > 0 else ra.rd + a0 + np.arange(rt) * kt
    a = widen(ra.pages[rows])                                               # (rt, cores, 32, 32)
    b = widen(rb.pages[rb.rd + b0:rb.rd + b0 + ct])                         # (ct, cores, 32, 32)
    return (a[:, None] @ b[None, :]).reshape(rt * ct, *a.shape[1:])


def per_core(v: Any, width: int) -> np.ndarray:
    """A value as int64 ids, one per core (a value already that: itself)."""
    if type(v) is np.ndarray and v.dtype == np.int64 and v.shape == (width,):
        return v
    return np.broadcast_to(np.asarray(v, dtype=np.int64), (width,))


def compiled(e: Any) -> Callable[[dict], Any] | None:
    """A closure over a kernel's scalars computing e as InterpL0.eval does, or None."""
    match e:
        case l0.Const(value, dtype):
            v = np.float32(value) if dtype != "int32" else int(value)
            return lambda scalars: v
        case l0.Var(name):
            return lambda scalars: scalars[name]
        case l3.CoreArg(name):
            key = f"core.{name}"
            return lambda scalars: scalars[key]
        case l0.BinOp(op, lhs, rhs):
            f, a, b = BINOPS[op], compiled(lhs), compiled(rhs)
            if a is None or b is None:
                return None
            if isinstance(rhs, l0.Const):           # the constant taken once: one call less per eval
                c = b({})
                return lambda scalars: f(a(scalars), c)
            return lambda scalars: f(a(scalars), b(scalars))
    return None


@dataclass(frozen=True)
class LaneTransfer(Transfer):
    lanes: Any = None           # the cores of the group it is for (a branch of a fork), None: all


class LockstepNoc(Noc):
    """Noc with one DRAM page id per core: a transfer moves a page on every core of the group."""

    def read(self, tensor: str, pages: np.ndarray, ring: CbRing, slot: int, rows=None, lanes=None,
             to: int = 0) -> None:
        """`lanes`: the cores of the group reading (a branch of a fork), None for all; `to`: the L1
        row a row read lands in."""
        self.reads.append(LaneTransfer(tensor, self.checked(tensor, pages, "noc_async_read_page"), ring,
                                       ring.back(slot, "noc_async_read_page"), rows, to, self.trid, lanes=lanes))

    def write(self, ring: CbRing, slot: int, tensor: str, pages: np.ndarray, rows=None, source: int = 0,
              lanes=None) -> None:
        """`lanes`: the cores of the group writing (a branch of a fork: rows a condition keeps), None
        for all; `source`: the L1 row a row write comes from."""
        self.writes.append(LaneTransfer(tensor, self.checked(tensor, pages, "noc_async_write_page"), ring,
                                        ring.front(slot, "noc_async_write_page"), rows, source, lanes=lanes))

    def checked(self, tensor: str, pages: np.ndarray, call: str) -> np.ndarray:
        count = self.dram.count(tensor)
        bad = (pages < 0) | (pages >= count)
        if bad.any():
            self.dram.page(tensor, int(pages[bad][0]), call)       # raises the reference's error
        return pages

    def read_block(self, tensor: str, pages: np.ndarray, ring: CbRing, l1: np.ndarray, lanes=None) -> None:
        """A nest's reads (sim/transfers.py): page `pages[i, c]` into L1 page `l1[i]` of core c, the
        pages and slots already checked."""
        self.reads.append(LaneTransfer(tensor, pages, ring, l1, trid=self.trid, lanes=lanes))

    def write_block(self, tensor: str, pages: np.ndarray, ring: CbRing, l1: np.ndarray, lanes=None) -> None:
        """A nest's writes: L1 page `l1[i]` of core c to DRAM page `pages[i, c]` (checked, distinct)."""
        self.writes.append(LaneTransfer(tensor, pages, ring, l1, lanes=lanes))

    def reads_into(self, ring: CbRing, region: range | None = None) -> int:
        if region is None:
            return sum(np.size(t.l1_page) for t in self.reads if t.ring is ring)
        inside = np.arange(region.start, region.stop)
        return sum(int(np.isin(t.l1_page, inside).sum()) for t in self.reads if t.ring is ring)

    def writes_from(self, ring: CbRing) -> int:
        return sum(np.size(t.l1_page) for t in self.writes if t.ring is ring) + \
            sum(m.ring is ring for m in self.mcasts)

    def read_barrier(self, trid: int | None = None) -> None:
        for t in self.landing(trid):
            page = self.dram.read(t.tensor, t.page)
            lanes = slice(None) if getattr(t, "lanes", None) is None else t.lanes
            if type(t.l1_page) is np.ndarray:            # a nest's reads: a page per iteration and core
                l1 = loops.slots(t.l1_page)
                if t.lanes is not None and type(l1) is not slice:
                    l1, lanes = t.l1_page[:, None], t.lanes[None, :]
                t.ring.pages[l1, lanes] = page
                t.ring.written[l1, lanes] = True
                continue
            if t.row is None:
                t.ring.pages[t.l1_page, lanes] = page
            else:                               # row t.row[c] of core c's page -> its row t.to
                t.ring.pages[t.l1_page, lanes, t.to] = page[np.arange(len(t.row)), t.row]
            t.ring.written[t.l1_page, lanes] = True

    def write_barrier(self) -> None:
        for t in self.writes:
            if type(t.l1_page) is np.ndarray:            # a nest's writes
                l1 = loops.slots(t.l1_page)
                values = t.ring.pages[l1] if getattr(t, "lanes", None) is None else t.ring.pages[l1][:, t.lanes]
            else:
                values = t.ring.pages[t.l1_page] if getattr(t, "lanes", None) is None else t.ring.pages[t.l1_page, t.lanes]
            lanes = getattr(t, "lanes", None)
            values = values if t.row is None else values[:, t.to]
            self.dram.claim(t.tensor, t.page, t.row, self.writer if lanes is None else self.writer[lanes], values)
            self.dram.write(t.tensor, t.page, values, t.row)
            self.written(t.page.size)
        self.writes = []


def pages_written(program: l9.Program) -> int:
    """The DRAM pages a run writes: every page of every tensor a writer's NoC writes to (the
    total a progress bar counts to), summed over the launches of a program of several."""
    return sum(math.prod(p.layout.tiles) for launch in launches_of(program) for p in launch.params
               if p.name in {s.tensor for s in walk(launch.kernels) if isinstance(s, l9.NocWritePage)})


def simulate(program: l9.Program, arrays: dict[str, np.ndarray], seed: int | None = None,
             written: Callable[[int], None] | None = None) -> str:
    """Run `program` at L9 into `arrays`: in lockstep, or with the reference InterpL9 where the
    cores diverge or the program breaks a rule (the reference then raises its own error).
    `written(n)` hears of every n DRAM pages written. Returns which ran: "lockstep" or "reference"."""
    scratch = Scratch()
    try:
        Lockstep(seed=seed, written=written, scratch=scratch).run(program, arrays)
        return "lockstep"
    except (Diverged, ProtocolError, SimulationError):
        scratch.release()
        InterpL9(seed=seed).run(program, arrays)
        return "reference"
    finally:
        scratch.release()           # the simulator is gone; the results are in `arrays`
