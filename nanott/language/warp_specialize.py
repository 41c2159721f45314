"""Warp specialization, as TileLang writes it: producer and consumer roles and the barriers between them.

A Hopper kernel may give its warp groups different jobs: `with T.ws(1):` the producer copies the
next K block into shared memory (`T.tma_copy(..., barrier=data_is_ready)`) and arrives on a barrier;
`with T.ws(0):` the consumer waits on that barrier, multiplies, and arrives on another that lets the
producer overwrite the buffers. The barriers (`T.alloc_barrier`, `T.barrier_arrive`,
`T.barrier_wait`, and the mbarrier forms) only forbid the interleavings in which a role would read a
shared buffer before the other role's write of the same iteration, or overwrite it before the read:
what they allow is the kernel's program order, each role's statements where the source writes them.

On a Tensix core that split is not the user's to write: D1 divides every kernel into reader,
compute and writer by the data flow of its statements, and the circular buffers between them (D3:
cb_reserve_back / cb_push_back, cb_wait_front / cb_pop_front) are the producer/consumer
synchronisation the barriers spell out by hand, with `num_stages` pages of slack. So nanott reads a
warp-specialized kernel in program order: a role block is its statements, a `T.tma_copy` is a
`T.copy`, and barriers synchronise nothing more. The L0 kernel records them (`ws.role`,
`barrier0.arrive_count`: Attrs on its grid line) so the IR says what the source asked for; the
roles nanott runs are D1's. Program order must satisfy every wait: a wait for the same trip's
arrive (parity 0 on the first trip) placed before that arrive, or a wait on a barrier nothing
arrives on (which would hang the GPU), is NT329. After `tx = T.get_thread_binding()` the roles are
branches on the thread index, not program order: there the barrier operations are markers that
role_fusion.py schedules (`sync` below).
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.language import ops
from nanott.language.builder import caller_loc, current
from nanott.language.signatures import closed
from nanott.language.values import to_expr
from nanott.languages import l0
from nanott.languages.l0_interp import Env, InterpL0
from nanott.language.role_fusion import Barriers as Registry, Sync


class Barrier:
    """One barrier (or an mbarrier of a list): which arrives the kernel makes on it; `first` its global
    id among the kernel's barriers (role_fusion.py schedules them by it), `count` how many the list has."""

    def __init__(self, name: str, first: int = 0, count: int = 1):
        self.name, self.arrived = name, False
        self.first, self.count = first, count
        self.arrived_in: list[Any] = []          # the statement lists (loop bodies) it arrives in

    def label_as(self, name: Any) -> None:
        if isinstance(name, str):
            self.name = name


class Barriers:
    """`T.alloc_barrier([c0, c1, ...])`: a list of mbarriers, indexed by any expression (`mbars[ko %
    2]`); program order (T.ws) does not tell them apart, the role fusion (tx roles) does."""

    def __init__(self, count: int, first: int = 0):
        self.count, self.one = count, Barrier(f"{count} mbarriers", first, count)

    def label_as(self, name: Any) -> None:
        self.one.label_as(name)

    def __getitem__(self, index: Any) -> Slot:
        return Slot(self.one, index)


class Slot:
    """One mbarrier of a list: the list's bookkeeping and the index."""

    def __init__(self, one: Barrier, index: Any):
        self.one, self.index = one, index


class Role:
    """`with T.ws(i):` a block of statements for warp group i; nanott runs them in place."""

    def __enter__(self) -> Role:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def _barrier(b: Any, what: str) -> tuple[Barrier, Any]:
    if isinstance(b, Slot):
        return b.one, b.index
    if not isinstance(b, Barrier):
        raise NanottError("NT104", f"{what} takes a barrier of T.alloc_barrier, got {type(b).__name__}",
                          caller_loc(), hint="data_is_ready = T.alloc_barrier(arrive_count=128)")
    return b, 0


@closed()
def ws(*ids: Any) -> Role:
    """`with T.ws(1):` the statements of warp group 1 (recorded as `ws.role`)."""
    b = current("T.ws")
    for i in ids:
        b.record("ws.role", i)
    return Role()


@closed()
def alloc_barrier(arrive_count: Any = None) -> Barrier | Barriers:
    """A barrier (`arrive_count` threads arrive per phase), or a list of them (`[c0, c1, ...]`)."""
    b = current("T.alloc_barrier")
    counts = arrive_count if isinstance(arrive_count, (list, tuple)) else [arrive_count]
    first = sum(1 for key, _ in b.attrs if key.startswith("barrier"))
    for i, c in enumerate(counts):
        b.record(f"barrier{first + i}.arrive_count", c)
    if b.barriers is None:
        b.barriers = Registry(b.threads)
    first = len(b.barriers.counts)
    b.barriers.declare(first, list(counts), f"barrier{first}")
    if isinstance(arrive_count, (list, tuple)):
        return Barriers(len(arrive_count), first)
    return Barrier(f"barrier{first}", first)


def sync(b: Any, kind: str, one: Barrier, index: Any, parity: Any, loc: Any) -> bool:
    """A barrier operation after `tx = T.get_thread_binding()`: inside a role, a Sync marker the role
    fusion schedules; in the code every thread runs, applied to the barrier now (a wait must pass).
    False before the thread binding (T.ws kernels: program order, below)."""
    if b.thread_range is None:
        return False
    if one.count > 1:                                 # the name is the list's: bar_k_ready[i]
        b.barriers.names.update({one.first + i: f"{one.name}[{i}]" for i in range(one.count)})
    else:
        b.barriers.names[one.first] = one.name
    idx = index if isinstance(index, int) else to_expr(index)
    par = parity if parity is None or isinstance(parity, int) else to_expr(parity)
    if b.in_role():
        b.emit(Sync(kind, one.name, one.first, one.count, idx, par, (), loc=loc), f"T.barrier_{kind}")
        return True
    if len(b.frames) != 1 or not isinstance(idx, int) or not (par is None or isinstance(par, int)):
        raise NanottError("NT301", f"T.barrier_{kind} in code every thread runs, inside a loop or with a "
                          "run-time index or parity, is not supported by nanott yet", loc,
                          hint="put barrier operations in the roles (`if tx < 128:`), or at the top of the kernel")
    bid = one.first + idx
    if kind == "arrive":
        b.barriers.arrive(bid, b.threads, (), loc)
    elif b.barriers.passes(bid, par or 0) is None:
        raise NanottError("NT329", f"deadlock: every thread waits on {b.barriers.names[bid]} with parity "
                          f"{par or 0} before any arrives on it", loc,
                          hint="arrive on the barrier before waiting on it")
    return True


@closed()
def barrier_arrive(barrier: Any) -> None:
    b, (one, index) = current("T.barrier_arrive"), _barrier(barrier, "T.barrier_arrive")
    b.require_kernel("T.barrier_arrive")
    if sync(b, "arrive", one, index, None, caller_loc()):
        return
    one.arrived = True
    one.arrived_in.append(b.frames[-1])


@closed()
def barrier_wait(barrier: Any, parity: Any = None) -> None:
    b, (one, index), loc = current("T.barrier_wait"), _barrier(barrier, "T.barrier_wait"), caller_loc()
    b.require_kernel("T.barrier_wait")
    if sync(b, "wait", one, index, 0 if parity is None else parity, loc):
        return
    early = first_trip_waits(parity) and not any(f is b.frames[-1] for f in one.arrived_in)
    b.at_close.append(lambda: satisfied(one, early, loc))


@closed()
def mbarrier_arrive(mbarrier: Any) -> None:
    barrier_arrive(mbarrier)


@closed()
def mbarrier_wait_parity(mbarrier: Any, parity: Any = None) -> None:
    barrier_wait(mbarrier, parity)


@closed()
def cp_async_barrier_noinc(barrier: Any) -> None:
    """`T.cp_async_barrier_noinc(bar)`: each thread's earlier cp.async copies arrive on bar when they
    land (no increment of the expected count): an arrive of the role's threads, after its copies."""
    barrier_arrive(barrier)


@closed("eviction_policy")
def tma_copy(src: Any, dst: Any, barrier: Any = None, **knobs: Any) -> None:
    """`T.tma_copy(src, dst, barrier=b)`: a T.copy; the barrier it completes on is the CB's push."""
    b = current("T.tma_copy")
    b.record_knobs("copy.", knobs)
    if barrier is not None:
        _barrier(barrier, "T.tma_copy")
    b.emit(ops.copy(b, src, dst), "T.tma_copy")


def first_trip_waits(parity: Any) -> bool:
    """Whether a wait with this parity blocks on the first trip, every loop variable 0, until an
    arrive of that same trip (parity 0: the barrier's first phase); parity 1, the previous trip's
    phase, passes at once. A parity of anything but loop and block variables is not judged."""
    if parity is None:
        return False
    expr = to_expr(parity)
    names = {x.name for x in walk(expr) if isinstance(x, l0.Var)}
    try:
        return int(InterpL0().eval(expr, Env(scalars=dict.fromkeys(names, 0)))) % 2 == 0
    except (NanottError, KeyError, TypeError):
        return False


def satisfied(barrier: Barrier, early: bool, loc: Any) -> None:
    """NT329 for a wait program order does not satisfy (checked when the launch closes): nothing in
    the launch arrives on its barrier, or it waits for an arrive of its own trip written after it."""
    if not barrier.arrived:
        raise NanottError("NT329", f"T.barrier_wait on {barrier.name}, which no T.barrier_arrive "
                          "of this kernel arrives on: it would wait forever", loc,
                          hint="arrive on the barrier in the role that produces the data")
    if early:
        raise NanottError("NT329", f"T.barrier_wait waits for this iteration's arrive on {barrier.name}, "
                          "which comes later in program order: nanott runs the roles in program order, "
                          "so the waiting role would read before the arriving role wrote", loc,
                          hint="write the producing role's block (its copies and arrive) before the "
                               "consuming role's block in the loop body")
