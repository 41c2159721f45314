"""InterpL7: the reader, compute and writer kernels of every core run concurrently.

Each kernel is a Python generator (see nanott/sim/scheduler.py): its statement executor
`exec_kernel_stmt(s, env)` is a generator that yields a `Wait` at every synchronisation point and
goes on only once the scheduler has found it ready. A subclass adds statements by overriding it and
falling through with `case _: yield from super().exec_kernel_stmt(s, env)`.

At L7 a CB is a queue of whole blocks holding at most plan.depth blocks (sim/cb_ring.BlockQueue):
  read_to_cb     waits for room, reads the block from DRAM, pushes it
  tile group     waits until every CB it peeks, takes or updates has a front block and every CB it
                 gives or updates has room; runs InterpL5's tile program on the front blocks,
                 storing into new blocks; then pops (take, update) and pushes (give, update)
  write_from_cb  waits for a front block, writes it to DRAM (a scattered one: its rows where they
                 go), pops it
  release        waits for a front block (the one the loop peeked), pops it
Tile arithmetic is InterpL5's, untouched: a group sees each consumed CB's front block where L5 sees
the CB's one block; only a TStore goes elsewhere (`store_tile`), into the block being given.
Results are bit-identical to InterpL6's; the order of the kernels cannot change them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from nanott.languages import l7
from nanott.languages.l0_interp import Env, NoRule, xy
from nanott.languages.l4_interp import cb_key, moved
from nanott.languages.l6_interp import InterpL6
from nanott.sim.cb_ring import BlockQueue
from nanott.sim.errors import ProtocolError
from nanott.sim.scheduler import Check, Scheduler, Task, Wait
from nanott.target import TILE

CONSUMES, PRODUCES, FREES = ("peek", "take", "update"), ("give", "update"), ("take", "update")


def back_key(index: int) -> str:
    """Where a running tile group keeps the block it is filling for CB `index`."""
    return f"cb.{index}.back"


@dataclass
class KernelEnv(Env):
    """A running device kernel: its scalars, DRAM tensors by name, and its core's CBs by index."""
    core: tuple[int, ...] = ()
    role: str = ""
    cbs: dict[int, Any] = field(default_factory=dict)      # shared by the kernels of one core
    noc: Any = None                                        # L8: this kernel's transfers in flight

    def child(self) -> "KernelEnv":
        """What dataclasses.replace(self, buffers=dict(...), scalars=dict(...)) gives (a subclass's
        fields too), without its walk over the fields: a tile group makes one per run."""
        env = object.__new__(type(self))
        env.__dict__.update(self.__dict__)
        env.buffers, env.scalars = dict(self.buffers), dict(self.scalars)
        return env


class GroupCall:
    """A tile group as its wait names it (its head without the colon), written only when a
    deadlock report asks (Wait.call), not each time the group runs."""
    __slots__ = ("group",)

    def __init__(self, group: Any):
        self.group = group

    def head(self) -> str:
        return self.group.head().rstrip(":")


class InterpL7(InterpL6):
    """L7 runs three kernels per core under the scheduler; CBs are queues of blocks."""

    def __init__(self, seed: int | None = None, listener: Callable[[Task], None] | None = None):
        self.seed = seed                      # None: round-robin; an int: seeded interleavings
        self.listener = listener              # called with the task after every step it takes

    # ----- a run: every (core, role) is a task -----
    def run_cores(self, program: l7.Program, arrays: dict[str, np.ndarray]) -> None:
        """Every core's kernels at once; `arrays` hold the tensors padded to whole tiles (InterpL4)."""
        self.start(program, arrays)
        tasks, cores = [], []
        for work in program.work.cores:
            cbs = {cb.index: self.make_cb(cb) for cb in program.cbs}
            cores.append((work.core, cbs))
            for k in program.kernels:
                env = KernelEnv(dict(arrays), {"core.start": work.start, "core.count": work.count},
                                f"{program.name} core {xy(work.core)} {k.role}",
                                core=work.core, role=k.role, cbs=cbs)
                self.setup_kernel(env)
                tasks.append(Task(work.core, k.role, self.run_kernel(k, env)))
        Scheduler(self.seed, self.listener).run(tasks)
        for core, cbs in cores:
            self.check_drained(core, cbs)
        self.finish(arrays)

    def start(self, program, arrays) -> None:
        """Before the kernels run (L8 tilizes DRAM here)."""

    def make_cb(self, cb) -> Any:
        return BlockQueue(cb)

    def setup_kernel(self, env: KernelEnv) -> None:
        """Per-kernel state (L8 gives each data-movement kernel its NoC)."""

    def finish(self, arrays) -> None:
        """After every kernel ended (L8 untilizes DRAM into the caller's arrays here)."""

    def run_kernel(self, k: l7.DeviceKernel, env: KernelEnv) -> Iterator[Wait]:
        yield from self.exec_kernel_block(k.body, env)
        self.kernel_ended(env)

    def kernel_ended(self, env: KernelEnv) -> None:
        """A kernel ran to its end (L8 checks it left no transfer in flight)."""

    def check_drained(self, core, cbs: dict) -> None:
        """Every block pushed was popped: producer and consumer agree on the counts."""
        for index, q in sorted(cbs.items()):
            if q.leftover():
                raise ProtocolError("5.5", f"cb{index} ends the run with {q.leftover()} (its "
                                    f"producer is the {q.cb.producer}, its consumer the "
                                    f"{q.cb.consumer}: their counts disagree)", core, "program")

    # ----- the statement executor: a generator -----
    def exec_kernel_block(self, stmts: tuple, env: KernelEnv) -> Iterator[Wait]:
        for s in stmts:
            try:
                yield from self.exec_kernel_stmt(s, env)
            except ProtocolError as e:
                raise e.at(env.core, env.role, s.loc) from None

    def exec_kernel_stmt(self, s: Any, env: KernelEnv) -> Iterator[Wait]:
        match s:
            case l7.For(var, extent, _, _, body):
                for i in range(int(self.eval(extent, env))):
                    env.scalars[var] = i
                    yield from self.exec_kernel_block(body, env)
            case l7.Let() | l7.Print():
                self.exec_stmt(s, env)
            case l7.ReadToCb(src, cb):
                q = env.cbs[cb]
                yield Wait(s, (self.room(q),), s.loc)
                block = q.fresh()
                moved(block, src)[...] = self.tiles(src, env).astype(block.dtype)
                q.push(block)
            case l7.GenerateToCb(cb, vars, extents, value):
                q = env.cbs[cb]
                yield Wait(s, (self.room(q),), s.loc)
                block = q.fresh()
                block[...] = self.generate(vars, extents, value, env).astype(block.dtype)
                q.push(block)
            case l7.WriteFromCb(cb, dst):
                q = env.cbs[cb]
                yield Wait(s, (self.front(q),), s.loc)
                if dst.gather is not None:       # rows where the scatter's condition holds (InterpL4)
                    self.scattered(q.front(), dst, env)
                else:
                    out = self.tiles(dst, env)
                    out[...] = moved(q.front(), dst).astype(out.dtype)
                q.pop()
            case l7.TileGroup():
                yield from self.exec_group(s, env)
            case l7.Release(cb):
                q = env.cbs[cb]
                yield Wait(s, (self.front(q),), s.loc)
                q.pop()
            case l7.PrintCb(text, cb):
                q = env.cbs[cb]
                yield Wait(s, (self.front(q),), s.loc)
                self.say_block(text, self.front_block(q), env)
            case _:
                raise NoRule(self, s)

    def exec_group(self, g: l7.TileGroup, env: KernelEnv) -> Iterator[Wait]:
        qs = {e.cb: env.cbs[e.cb] for e in g.effects}
        checks = ([self.front(qs[e.cb]) for e in g.effects if e.mode in CONSUMES]
                  + [self.room(qs[e.cb]) for e in g.effects if e.mode in PRODUCES])
        yield Wait(GroupCall(g), tuple(checks), g.loc)
        inner = env.child()
        inner.buffers.update({cb_key(e.cb): qs[e.cb].front() for e in g.effects if e.mode in CONSUMES})
        given = {e.cb: qs[e.cb].fresh() for e in g.effects if e.mode in PRODUCES}
        inner.buffers.update({back_key(cb): block for cb, block in given.items()})
        self.run_group(g.vars, g.extents, g.body, inner)
        for e in g.effects:
            if e.mode in FREES:
                qs[e.cb].pop()
        for cb, block in given.items():
            qs[cb].push(block)

    @staticmethod
    def front_block(q) -> Any:
        """The block at the front of a CB (a print reads it and leaves it there)."""
        return q.front()

    @staticmethod
    def front(q) -> Check:
        return Check(q.has_front, q.front_state, q.cb.index, q.cb.producer, "producer")

    @staticmethod
    def room(q) -> Check:
        return Check(q.has_room, q.full_state, q.cb.index, q.cb.consumer, "consumer")

    # ----- tiles: reads are InterpL5's (the front block sits where L5 keeps the CB); stores go back
    def tile(self, ref, env: Env) -> np.ndarray:
        """A tile a group reads: InterpL5's rule, on the front block of a CB the group consumes."""
        if cb_key(ref.cb) not in env.buffers:
            raise ProtocolError(6, f"a tile read of cb{ref.cb}, which the group does not peek, take "
                                "or update")
        return super().tile(ref, env)

    def store_tile(self, ref, env: Env) -> np.ndarray:
        """The tile a TStore writes: a view into the block the group gives."""
        if back_key(ref.cb) not in env.buffers:
            raise ProtocolError(6, f"a tile store to cb{ref.cb}, which the group does not give or update")
        row, col = int(self.eval(ref.row, env)) * TILE, int(self.eval(ref.col, env)) * TILE
        return env.buffers[back_key(ref.cb)][row:row + TILE, col:col + TILE]


l7.LANG.interpreter = InterpL7


def demo_kernel() -> l7.Program:
    """L6's hand-built Y = 2 * X + 1, split into reader, compute and writer by D1 and bound by D2."""
    from nanott.languages.l6_interp import demo_kernel as l6_demo
    from nanott.passes.d1_split_device_kernel import split_device_kernel
    from nanott.passes.d2_bind_tensor_accessors import bind_tensor_accessors
    from nanott.target import DEFAULT_TARGET
    return bind_tensor_accessors(split_device_kernel(l6_demo(), DEFAULT_TARGET), DEFAULT_TARGET)


if __name__ == "__main__":
    from nanott.languages.l1_interp import demo_run
    l7.LANG.check(demo_kernel())
    demo_run(InterpL7(), demo_kernel())
