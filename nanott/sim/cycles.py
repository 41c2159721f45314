"""The cycle model: each core's five engines on a clock, driven by the L9 simulator's statements.

InterpL9 decides *what* happens and in which order; this model says *when*. `Timed` is InterpL9
with one hook: after a statement has run (its CB condition held, so the event that allowed it has
happened and has a time), `CycleModel.on` advances the clock of the engine that runs it.

Engines per core (docs/reference.md §4.1, §4.2):
  reader, writer   the two data-movement RISC-Vs, each with its own NoC interface (NIU)
  unpack           CB pages -> SrcA/SrcB (cb_wait_front, cb_pop_front, the unpack half of an FPU op)
  math             the FPU and SFPU (tile_regs_acquire/commit, the math half of every op)
  pack             DST -> CB pages (tile_regs_wait/release, pack_tile, cb_reserve_back, cb_push_back)
Rules:
  - An engine runs its statements in program order; each costs the cycles of sim/machine.py.
  - CB back-pressure: each CB remembers when each page was pushed and popped; cb_wait_front n
    starts no earlier than the push of the n-th visible page, cb_reserve_back n no earlier than the
    pop that frees the n-th page. Time waited there is that CB's stall for that engine.
  - An FPU op's unpack may run one op ahead of math (SrcA/SrcB are double-buffered); its math
    starts when its unpack is done. DST is half-sync: acquire k waits for release k - 2, pack's
    tile_regs_wait for the matching commit.
  - A NoC page transfer occupies the issuing RISC-V for NOC_ISSUE_CYCLES, then streams through
    one port of that kernel's NIU at the tt-npe rate for its size: a read's data arrives through
    the sink (absorption) port, a write's or multicast's leaves through the source (injection)
    port; tt-npe models the two as separate resources (NOC0/1_SRC, NOC0/1_SINK), each capped at
    the worker's injection/absorption rate. A DRAM transfer is also capped at an equal share of
    DRAM bandwidth among the cores that move data its way (a read among the cores that read DRAM,
    a write among those that write it; ASSUMPTION: no arbitration modelled; the DRAM floor below
    bounds reads and writes together); it lands after the latency. A barrier waits for the last
    landing; a barrier with a transaction id for the last landing of the reads of that id.
The modelled duration is the latest engine clock, or the DRAM floor (all DRAM bytes at the
aggregate bandwidth) if that is later. Loops and scalar lets cost nothing (ASSUMPTION).
"""
from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Iterator

from nanott.block_float import as_dram_holds
import numpy as np

from nanott.ir import Launches, walk
from nanott.languages import l9
from nanott.languages.l0_interp import scratch_arrays
from nanott.languages.l9_interp import InterpL9
from nanott.sim import machine as m
from nanott.sim.cooperation import Unknown, alike, moving_cores, rect_cores
from nanott.sim.errors import SimulationError
from nanott.sim.forks import BRANCH_STMTS
from nanott.sim.lockstep import Diverged, Lockstep
from nanott.target import TILE, Target

ENGINES = ("reader", "writer", "unpack", "math", "pack")
DST, NOC, SEM = -1, -2, -3     # stall keys beside CB indices: the DST handshake, a NoC barrier, a semaphore
TRACE_LIMIT = 400_000          # events kept for --trace; later ones are counted, not kept
UNPACK = (l9.CbWait, l9.CbPop)
PACK = (l9.RegsWait, l9.RegsRelease, l9.PackTile, l9.CbReserve, l9.CbPush)


class PageTimes:
    """When the pages of one CB on one core were pushed and popped: running counts, and the times
    of the last `pages` of each (older ones can no longer decide a wait)."""

    def __init__(self, pages: int):
        self.pages, self.n_pushed, self.n_popped = pages, 0, 0
        self.pushed: deque[float] = deque(maxlen=pages)
        self.popped: deque[float] = deque(maxlen=pages)

    def push(self, n: int, t: float) -> None:
        self.pushed.extend([t] * n)
        self.n_pushed += n

    def pop(self, n: int, t: float) -> None:
        self.popped.extend([t] * n)
        self.n_popped += n

    def visible_at(self, n: int) -> float:
        """When the first n pages at the front had all been pushed."""
        j = self.n_popped + n - 1
        return self.pushed[j - (self.n_pushed - len(self.pushed))]

    def free_at(self, n: int) -> float:
        """When n pages at the back had become free: pushed + n - pages of them popped."""
        j = self.n_pushed + n - self.pages - 1
        return 0.0 if j < 0 else self.popped[j - (self.n_popped - len(self.popped))]


@dataclass
class Nic:
    """One data-movement kernel's NoC interface: when each port (sink: data coming in, source: data
    going out) is free, how long each has been busy, and the last landing so far."""
    free: dict[str, float] = field(default_factory=lambda: {"sink": 0.0, "source": 0.0})
    port_busy: dict[str, float] = field(default_factory=lambda: {"sink": 0.0, "source": 0.0})
    landed: float = 0.0
    trid: int = 0                                       # the id the next reads carry
    landed_by_trid: dict[int, float] = field(default_factory=dict)   # the last landing of each id's reads

    @property
    def busy(self) -> float:
        """The busier port's cycles (the NoC floor of this interface)."""
        return max(self.port_busy.values())

    def stream(self, port: str, after: float, cycles: float) -> float:
        """The port carries a transfer of `cycles` from no earlier than `after`; returns its end."""
        start = max(self.free[port], after)
        self.free[port] = start + cycles
        self.port_busy[port] += cycles
        return self.free[port]


@dataclass
class Core:
    """The clocks and counters of one core."""
    clock: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ENGINES, 0.0))
    busy: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ENGINES, 0.0))
    stalls: dict[tuple[str, int], float] = field(default_factory=dict)
    pages: dict[int, PageTimes] = field(default_factory=dict)
    nics: dict[str, Nic] = field(default_factory=lambda: {"reader": Nic(), "writer": Nic()})
    math_started: float = 0.0
    commits: deque = field(default_factory=lambda: deque(maxlen=2))
    releases: deque = field(default_factory=lambda: deque(maxlen=2))
    bytes_read: int = 0
    bytes_written: int = 0
    flops: int = 0
    matmul_tiles: int = 0
    weight: int = 1                 # the cores this one stands for (a lockstep group)


class CycleModel:
    """The clocks of every core of one run; `on` is called once per executed statement."""

    def __init__(self, target: Target, fidelity: str, active_cores: int, trace: bool = False,
                 writing_cores: int | None = None):
        self.target, self.timing = target, m.TIMING[target.name]
        self.phases = m.PHASES[fidelity]
        self.fidelity, self.why = fidelity, None        # why: the program's math-fidelity note, if charged
        self.cores: dict[tuple[int, ...], Core] = {}
        bandwidth = self.timing.dram_bytes_per_cycle          # shared by the cores reading / writing
        self.dram_share = (bandwidth / max(active_cores, 1), bandwidth / max(writing_cores or active_cores, 1))
        self.write_latency = (self.timing.write_latency_base
                              + self.timing.write_latency_per_hop * self.timing.mean_hops())
        self.events: list[tuple] | None = [] if trace else None
        self.dropped = 0
        self.sem_times: dict[tuple, float] = {}          # (core, sem) -> when it last changed
        self.mcast_landed: dict[tuple, float] = {}       # (core, role) -> when its multicasts land

    # ----- one engine doing one thing -----
    def run(self, core: Core, key: tuple, engine: str, start: float, cycles: float, name: str,
            busy: bool = True) -> float:
        """`engine` busy (or, busy=False, waiting) from `start` for `cycles`; returns the end.
        key = (core id, ...) names the core in --trace."""
        end = start + cycles
        core.clock[engine] = end
        core.busy[engine] += cycles if busy else 0.0
        if self.events is not None and cycles > 0:
            if len(self.events) < TRACE_LIMIT:
                self.events.append((key, engine, name, start, cycles))
            else:
                self.dropped += 1
        return end

    def wait_until(self, core: Core, engine: str, cb: int, t: float) -> float:
        """The engine cannot go on before t: the gap is a stall on cb."""
        if t > core.clock[engine]:
            k = (engine, cb)
            core.stalls[k] = core.stalls.get(k, 0.0) + t - core.clock[engine]
            core.clock[engine] = t
        return core.clock[engine]

    def core(self, key: tuple[int, ...], env: Any, interp: Any) -> Core:
        c = self.cores.get(key)
        if c is None:
            c = self.cores[key] = Core(weight=interp.weight(key))
            c.pages = {i: PageTimes(ring.num_pages) for i, ring in env.cbs.items()}
        return c

    # ----- the hook -----
    def on(self, s: Any, env: Any, interp: InterpL9) -> None:
        core = self.core(env.core, env, interp)
        if env.role != "compute":
            self.data_movement(s, env, core, env.role, interp)
        elif isinstance(s, l9.Init):
            for e in ("unpack", "math", "pack"):
                self.run(core, env.core, e, core.clock[e], m.INIT_CYCLES, s.op)
        else:
            self.compute(s, env, core, interp)

    def cb_call(self, s: Any, core: Core, engine: str, key: tuple) -> bool:
        """The four CB calls, on any engine; False for any other statement."""
        match s:
            case l9.CbWait(cb, n):
                start = self.wait_until(core, engine, cb, core.pages[cb].visible_at(n))
            case l9.CbReserve(cb, n):
                start = self.wait_until(core, engine, cb, core.pages[cb].free_at(n))
            case l9.CbPush(cb, n):
                core.pages[cb].push(n, core.clock[engine])
                start = core.clock[engine]
            case l9.CbPop(cb, n):
                core.pages[cb].pop(n, core.clock[engine])
                start = core.clock[engine]
            case _:
                return False
        self.run(core, key, engine, start, m.CB_CALL_CYCLES, type(s).__name__)
        return True

    def data_movement(self, s: Any, env: Any, core: Core, role: str, interp: InterpL9) -> None:
        if self.cb_call(s, core, role, env.core):
            return
        nic = core.nics[role]
        match s:
            case l9.NocReadPage(_, _, cb, _) | l9.NocWritePage(cb, _, _, _):
                self.transfer(core, env.core, role, env.cbs[cb].cb.plan.page_bytes, isinstance(s, l9.NocReadPage))
            case l9.SemSet() | l9.SemWait() | l9.SemInc() | l9.McastPages() | l9.SemSetMcast():
                self.cooperate(s, env, core, role, interp)
            case l9.NocReadTrid(trid):
                nic.trid = trid
                self.run(core, env.core, role, core.clock[role], m.TRID_CYCLES, "noc_async_read_set_trid")
            case l9.NocReadBarrier() | l9.NocWriteBarrier() | l9.NocReadBarrierTrid():
                t = core.clock[role]
                landed = nic.landed_by_trid.get(s.trid, 0.0) if isinstance(s, l9.NocReadBarrierTrid) else nic.landed
                if landed > t:
                    core.stalls[(role, NOC)] = core.stalls.get((role, NOC), 0.0) + landed - t
                    self.run(core, env.core, role, t, landed - t, type(s).__name__, busy=False)

    def transfer(self, core: Core, key: tuple, role: str, size: int, reading: bool) -> None:
        """One DRAM page transfer of `size` bytes issued by `role`: the RISC-V issues it, its NIU
        port streams it, it lands after the latency (the next barrier waits for it)."""
        nic = core.nics[role]
        issued = self.run(core, key, role, core.clock[role], m.NOC_ISSUE_CYCLES, "noc_issue")
        rate = min(self.timing.noc_rate(size), self.dram_share[0 if reading else 1],
                   self.timing.niu_bytes_per_cycle[0 if reading else 1])
        done = nic.stream("sink" if reading else "source", issued, size / rate)
        nic.landed = max(nic.landed, done + (self.timing.read_latency if reading else self.write_latency))
        if reading:
            nic.landed_by_trid[nic.trid] = max(nic.landed_by_trid.get(nic.trid, 0.0), done + self.timing.read_latency)
            core.bytes_read += size
        else:
            core.bytes_written += size

    def cooperate(self, s: Any, env: Any, core: Core, role: str, interp: InterpL9) -> None:
        """Semaphores and multicasts: when they arrive, and how long a wait waits (for every core
        the kernel runs on: a lockstep group's cores share its clocks)."""
        key, t, cores = env.core, core.clock[role], interp.lanes(env)
        changed = self.sem_times

        def raise_at(target: tuple, sem: int, at: float) -> None:
            changed[(target, sem)] = max(changed.get((target, sem), 0.0), at)
        match s:
            case l9.SemWait(sem):
                self.wait_until(core, role, SEM, max(changed.get((c, sem), 0.0) for c in cores))
                self.run(core, key, role, core.clock[role], m.CB_CALL_CYCLES, "noc_semaphore_wait")
            case l9.SemSet(sem):
                at = self.run(core, key, role, t, m.CB_CALL_CYCLES, "noc_semaphore_set")
                for c in cores:
                    raise_at(c, sem, at)
            case l9.SemInc(sem, x, y):
                at = self.run(core, key, role, t, m.NOC_ISSUE_CYCLES, "noc_semaphore_inc") + self.write_latency
                for target in zip(interp.lane_values(x, env), interp.lane_values(y, env)):
                    raise_at(target, sem, at)
            case l9.McastPages(cb, pages, _):
                size = pages * env.cbs[cb].cb.plan.page_bytes
                issued = self.run(core, key, role, t, m.NOC_ISSUE_CYCLES, "noc_async_write_multicast")
                rate = min(self.timing.noc_rate(size), self.timing.niu_bytes_per_cycle[1])
                self.mcast_landed[(key, role)] = core.nics[role].stream("source", issued, size / rate) \
                    + self.write_latency
            case l9.SemSetMcast(sem, _, rect):
                issued = self.run(core, key, role, t, m.NOC_ISSUE_CYCLES, "noc_semaphore_set_multicast")
                at = max(issued + self.write_latency, self.mcast_landed.get((key, role), 0.0))
                for c, r in zip(cores, interp.rects(rect, env)):
                    raise_at(c, sem, issued)
                    for target in rect_cores(*r):
                        raise_at(target, sem, at)

    def compute(self, s: Any, env: Any, core: Core, interp: InterpL9) -> None:
        engine = "unpack" if isinstance(s, UNPACK) else "pack" if isinstance(s, PACK) else "math"
        if self.cb_call(s, core, engine, env.core):
            return
        key, name = env.core, type(s).__name__
        match s:
            case l9.RegsAcquire():
                if len(core.releases) == 2:           # half-sync: two sections, k waits for k - 2
                    self.wait_until(core, "math", DST, core.releases[0])
            case l9.RegsCommit():
                core.commits.append(core.clock["math"])
            case l9.RegsWait():
                self.wait_until(core, "pack", DST, core.commits[-1])
            case l9.RegsRelease():
                core.releases.append(core.clock["pack"])
            case l9.PackTile(_, cb, _):
                size = env.cbs[cb].cb.plan.page_bytes
                self.run(core, key, "pack", core.clock["pack"], size / self.timing.pack_bytes_per_cycle, name)
            case l9.SfpuBinary(op) | l9.SfpuScalar(op) | l9.SfpuUnary(op) | l9.SfpuBitsScalar(op) \
                    | l9.SfpuBitsBinary(op):
                self.sfpu(core, key, op, name)
                self.sfpu(core, key, op, name)
            case l9.SfpuTypecast() | l9.FillTile() | l9.SfpuWhere():
                op = {l9.SfpuTypecast: "typecast", l9.FillTile: "fill", l9.SfpuWhere: "where"}[type(s)]
                self.sfpu(core, key, op, name)
            case _:
                self.fpu(s, env, core, key, name)

    def sfpu(self, core: Core, key: tuple, op: str, name: str) -> None:
        n = m.SFPU_INSTRUCTIONS.get(op, m.SFPU_DEFAULT_INSTRUCTIONS)
        self.run(core, key, "math", core.clock["math"], m.SFPU_VECTORS_PER_TILE * n, name)
        core.flops += TILE * TILE

    def fpu(self, s: Any, env: Any, core: Core, key: tuple, name: str) -> None:
        """An FPU op: its operands' unpack, then its math (docs/reference.md §9 step 1)."""
        match s:
            case l9.MatmulTiles(a_cb, b_cb):
                cbs, math = (a_cb, b_cb), m.MATMUL_TILE_CYCLES_PER_PHASE * self.phases
                core.flops += 2 * TILE ** 3
                core.matmul_tiles += 1
            case l9.MatmulBlock():
                return self.matmul_block(s, env, core, key, name)
            case l9.BinaryTiles(op, a_cb, b_cb):
                cbs = (a_cb, b_cb)
                math = m.ELTWISE_TILE_CYCLES * (self.phases if op == "mul" else 1)
                core.flops += TILE * TILE
            case l9.ReduceTile(op, _, cb, scaler_cb):
                cbs = (cb, scaler_cb)
                math = m.REDUCE_TILE_CYCLES_PER_PHASE * (1 if op == "max" else self.phases)
                core.flops += TILE * TILE
            case l9.CopyTile(cb) | l9.TransposeTile(cb) | l9.UnaryBcast(_, cb):
                cbs, math = (cb,), m.DATACOPY_TILE_CYCLES
            case _:
                raise NotImplementedError(f"the cycle model has no cost for {name}")
        size = sum(env.cbs[cb].cb.plan.page_bytes for cb in cbs)
        rate = self.timing.unpack_both_bytes_per_cycle if len(cbs) == 2 else self.timing.unpack_bytes_per_cycle
        start = max(core.clock["unpack"], core.math_started)
        unpacked = self.run(core, key, "unpack", start, size / rate, name)
        core.math_started = max(core.clock["math"], unpacked)
        self.run(core, key, "math", core.math_started, math, name)

    def matmul_block(self, s: l9.MatmulBlock, env: Any, core: Core, key: tuple, name: str) -> None:
        """matmul_block: per row of the subblock the unpacker holds one tile of one operand and
        streams the other's (tt-llk `_llk_unpack_AB_matmul_`: A held and ct B tiles streamed per
        row when ct >= rt, else B held and rt A tiles per column); the math of rt * ct tiles."""
        a, b = (env.cbs[cb].cb.plan.page_bytes for cb in (s.a_cb, s.b_cb))
        held, streamed, rows, per_row = (a, b, s.rt, s.ct) if s.ct >= s.rt else (b, a, s.ct, s.rt)
        size = rows * (held + per_row * streamed)
        tiles = s.rt * s.ct
        core.flops += 2 * TILE ** 3 * tiles
        core.matmul_tiles += tiles
        start = max(core.clock["unpack"], core.math_started)
        unpacked = self.run(core, key, "unpack", start, size / self.timing.unpack_both_bytes_per_cycle, name)
        core.math_started = max(core.clock["math"], unpacked)
        self.run(core, key, "math", core.math_started, m.MATMUL_TILE_CYCLES_PER_PHASE * self.phases * tiles, name)

    # ----- the figures -----
    def duration(self) -> float:
        timeline = max((max(c.clock.values()) for c in self.cores.values()), default=0.0)
        return max(timeline, self.dram_floor())

    def total(self, what: str) -> float:
        """A counter summed over every core (a group's counts times its size)."""
        return sum(getattr(c, what) * c.weight for c in self.cores.values())

    def dram_floor(self) -> float:
        return (self.total("bytes_read") + self.total("bytes_written")) / self.timing.dram_bytes_per_cycle


class TimedRun:
    """A mixin for an L9 simulator: the cycle model listens, `model` holds the times after run()."""

    def __init__(self, model_args: dict, seed: int | None = None, **more: Any):
        super().__init__(seed=seed, **more)
        self.model_args, self.model = model_args, None

    def start(self, program: l9.Program, arrays: dict) -> None:
        super().start(program, arrays)
        args = dict(self.model_args)
        fidelity = args.pop("fidelity", None) or program.compute.math_fidelity
        readers, writers = (moving_cores(program, kind) for kind in (l9.NocReadPage, l9.NocWritePage))
        self.model = CycleModel(fidelity=fidelity, active_cores=readers, writing_cores=writers, **args)
        if fidelity == program.compute.math_fidelity:
            self.model.why = next((a.value for a in program.attrs if a.key == "math-fidelity"), None)

    def exec_kernel_stmt(self, s: Any, env: Any) -> Iterator:
        yield from super().exec_kernel_stmt(s, env)
        if not isinstance(s, (l9.For, l9.Let, l9.Print, l9.PrintCb, l9.When)):   # T.print: a debug aid, not timed
            self.timed(s, env)

    def timed(self, s: Any, env: Any) -> None:
        """The model hears of a statement the kernel `env` has run."""
        self.model.on(s, env, self)

    @staticmethod
    def weight(key: tuple) -> int:
        """How many cores the clocks of `key` stand for."""
        return 1

    def ran_vector(self, loop: l9.For, env: Any, n: int) -> None:
        """The engines still run the loop's calls one by one, in program order."""
        calls = [s for s in loop.body if not isinstance(s, l9.Let)]
        for _ in range(n):
            for s in calls:
                self.timed(s, env)


    def ran_moves(self, found: tuple, env: Any, n: int) -> None:
        """A nest of NoC transfers queued at once: the model hears its calls one by one, in order."""
        calls = [s for s in found[1] if not isinstance(s, l9.Let)]
        for _ in range(n):
            for s in calls:
                self.timed(s, env)


class Timed(TimedRun, InterpL9):
    """InterpL9, timed: every core on its own clocks."""


class TimedLockstep(TimedRun, Lockstep):
    """Lockstep, timed: the cores step in Lockstep's groups (forking at D3b's ifs), and the model
    keeps one set of clocks per class of cooperation.alike (cores that run the same statements
    with partners of one class keep the same time), weighted by the class's size in the totals:
    a statement a group (or a branch of a fork) runs is timed once for each class among its
    cores. A program whose ifs hold more than a branch may run (CB calls, tile operations) steps
    a group per class instead, never forking."""

    def start(self, program: l9.Program, arrays: dict) -> None:
        super().start(program, arrays)
        try:
            classes = alike(program)
        except Unknown:
            raise Diverged("an if or a partner core reads more than the core's runtime values") from None
        first: dict[int, tuple] = {}
        self.class_of = {w.core: first.setdefault(classes[w.core], w.core) for w in program.work.cores}
        self.class_size = Counter(self.class_of.values())
        self.fork = all(isinstance(x, BRANCH_STMTS) for w in walk(program.kernels) if isinstance(w, l9.When)
                        for x in walk(w.body) if hasattr(x, "head"))

    def groups(self, program: l9.Program) -> dict[tuple, list]:
        if self.fork:
            return super().groups(program)
        groups = defaultdict(list)              # a group per class: cores that take other ifs never meet
        for work in program.work.cores:
            groups[(work.count, self.class_of[work.core])].append(work)
        return groups

    def weight(self, key: tuple) -> int:
        return self.class_size[key]

    def timed(self, s: Any, env: Any) -> None:
        for view in self.views(env):
            self.model.on(s, view, self)

    def views(self, env: Any) -> list[ClassView]:
        """The classes among the cores a kernel (or a branch of one) runs for, once per env."""
        if env.views is None:
            cores, lanes = self.lanes(env), {}
            for i, c in enumerate(cores):
                lanes.setdefault(self.class_of[c], []).append(i)
            env.views = [ClassView(key, env.role, env.cbs, env, [cores[i] for i in ix],
                                   None if len(ix) == len(cores) else np.array(ix)) for key, ix in lanes.items()]
        return env.views

    def branch(self, body: tuple, env: Any) -> Iterator:
        """Lockstep's branch, with the semaphore calls it runs without exec_kernel_stmt timed too."""
        for s in body:
            yield from super().branch((s,), env)
            if type(s) in (l9.SemWait, l9.SemSet, l9.SemInc):
                self.timed(s, env)

    def lanes(self, env: Any) -> list:
        return env.cores if type(env) is ClassView else super().lanes(env)

    def lane_values(self, e: Any, env: Any) -> Any:
        return super().lane_values(e, env.narrowed() if type(env) is ClassView else env)


@dataclass
class ClassView:
    """A kernel as the model sees one class of the cores it runs for: `core` names the class's
    clocks (its first core), `cores` are its cores there, `lanes` their places among the kernel's
    (None: all of them)."""
    core: tuple
    role: str
    cbs: dict
    env: Any
    cores: list
    lanes: Any

    def narrowed(self) -> Any:
        """The kernel's env on this class's cores alone (its values there, for the model to read)."""
        return self.env if self.lanes is None else self.env.narrowed(self.lanes)


def simulate_timed(program: l9.Program, arrays: dict, target: Target, fidelity: str | None = None,
                   trace: bool = False, written: Any = None) -> tuple[dict, CycleModel]:
    """api.simulate at L9 with the cycle model: (all arrays after the run, the model). In lockstep
    where it can run; the reference InterpL9, timed per core, where it cannot (and reports). A
    program of several launches: a model per launch, in a list."""
    if isinstance(program, Launches):              # a model per launch, run in order on one DRAM
        copies, models = {k: v.copy() for k, v in arrays.items()} | scratch_arrays(program), []
        for launch in program.launches:
            copies, model = simulate_timed(launch, copies, target, fidelity, trace, written)
            models.append(model)
        return copies, models
    args = {"target": target, "fidelity": fidelity, "trace": trace}
    copies = {k: v.copy() for k, v in arrays.items()}
    as_dram_holds(program.params, copies)
    try:
        interp = TimedLockstep(args, written=written)
        interp.run(program, copies)
    except (Diverged, SimulationError):
        copies = {k: v.copy() for k, v in arrays.items()}
        interp = Timed(args)
        interp.run(program, copies)
    as_dram_holds(program.params, copies)       # an fp8 output as DRAM holds it (api.execute)
    return copies, interp.model
