"""F1 verify: L9 -> L9

Changes:   nothing: the program comes back unchanged, or F1 raises. The static checks, each
           named, with the kernel and the CB it concerns:
             CB balance       per CB, the pages its producer pushes equal the pages its consumer
                              pops, per iteration of the persistent loop (static loop trip counts
                              multiplied in; a CB with calls in a loop of a run-time trip count,
                              such as an `if` around tile ops, a loop run once or never, is
                              left to the simulators, which count every call of every core
                              at L8 and L9); no reserve or wait asks for more pages than the CB
                              holds (reserving more than is then pushed is legal: reserve polls)
             protocol         each kernel walked once with the simulator's own CB counts
                              (_f1_protocol.py): a wait before every read, a barrier before every
                              push after NoC reads and every pop after NoC writes, no pop before
                              the last read, no push beyond the reservation, every loop trip
                              leaving the counts as it found them
             deadlock         the kernels of a core run against each other with CB page counts
                              only (_f1_deadlock.py): no call waits for a partner that waits
                              forever (a push moved past a loop whose reserves need its pages)
             DST capacity     every DST index, at the largest value its loops and lets give it,
                              is below the DST's capacity, which matches the target's
             init before use  walking the compute kernel with the init model (nanott/sim/engine.py):
                              compute_kernel_hw_startup first and once, and every op's slot holds
                              what the op needs at that point, on every path
             DST handshake    acquire -> commit -> wait -> release, in that order, math only
                              between acquire and commit, packs only between wait and release,
                              every loop body leaving the handshake where it found it
             cooperation      semaphores and multicasts (_f1_cooperation.py): every wait can
                              end, no core waits on itself, every rectangle is inside the grid,
                              on cores of the work split, without its sender
             L1 budget        the CBs fit in L1, and there are no more than the target has
             argument table   every core argument and base address a kernel reads has a slot,
                              and every core of the work split has one row per kernel with as
                              many values as the kernel has slots
Preserves: everything.
Why:       the device detects none of these mistakes: it hangs, or computes garbage. A failed
           check is a compiler bug (a CheckError naming the rule), except the hardware limits
           (L1, CB count), which are the user's kernel asking too much (NT201, NT202).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import CheckError, walk
from nanott.languages import l9
from nanott.passes._cb_plan import check_l1_budget
from nanott.passes._f1_bounds import bound
from nanott.passes._f1_cooperation import check_cooperation
from nanott.passes._f1_deadlock import check_deadlock
from nanott.passes._f1_protocol import check_protocol
from nanott.sim.engine import HW_STARTUP, State, formats_of, needs, through
from nanott.target import Target

MATH = (l9.CopyTile, l9.BinaryTiles, l9.MatmulTiles, l9.MatmulBlock, l9.TransposeTile, l9.UnaryBcast, l9.ReduceTile,
        l9.SfpuBinary, l9.SfpuScalar, l9.SfpuUnary, l9.SfpuTypecast, l9.SfpuWhere, l9.SfpuBitsBinary,
        l9.SfpuBitsScalar, l9.FillTile)
HANDSHAKE = {l9.RegsAcquire: ("idle", "math"), l9.RegsCommit: ("math", "committed"), l9.RegsWait: ("committed", "packing"), l9.RegsRelease: ("packing", "idle")}  # noqa: E501
DST_FIELDS = {l9.CopyTile: ("dst",), l9.BinaryTiles: ("dst",), l9.MatmulTiles: ("dst",), l9.MatmulBlock: ("dst",),
              l9.TransposeTile: ("dst",), l9.UnaryBcast: ("dst",), l9.ReduceTile: ("dst",),
              l9.SfpuBinary: ("a", "b", "dst"), l9.SfpuScalar: ("dst",), l9.SfpuUnary: ("dst",),
              l9.SfpuTypecast: ("dst",), l9.SfpuWhere: ("cond", "a", "b", "dst"), l9.FillTile: ("dst",),
              l9.SfpuBitsBinary: ("a", "b", "dst"), l9.SfpuBitsScalar: ("dst",),
              l9.PackTile: ("dst",)}


def verify(program: l9.Program, target: Target) -> l9.Program:
    compute = program.kernel("compute")
    check_cb_balance(program)
    check_dst_capacity(compute, program.compute, target)
    check_init_before_use(compute, program)
    check_handshake(compute.body, "idle", end="idle")
    check_protocol(program, bound, broken)
    check_cooperation(program, target.grid, broken)
    check_deadlock(program, broken)
    check_l1_budget(((cb.name, cb.plan, cb.loc) for cb in program.cbs), target)
    check_arg_table(program)
    return program


def broken(rule: str, kernel: str, what: str, cb: int | None = None, loc: Any = None) -> CheckError:
    at = f" (from {loc})" if loc is not None and loc.line else ""
    on = f", cb{cb}" if cb is not None else ""
    return CheckError(f"nanott: internal error after F1 verify (a compiler bug, not your kernel)\n"
                      f"  {rule}: {kernel} kernel{on}: {what}{at}")


def pages(stmts: tuple, times: int = 1, run_time: set | None = None) -> dict[tuple[str, int], int]:
    """(call, cb) -> pages, per iteration of the persistent loop (static trip counts multiplied; a
    run-time one counts 1, and the CBs it holds calls of are added to `run_time`)."""
    out: dict[tuple[str, int], int] = {}
    for s in stmts:
        if isinstance(s, l9.For):
            n = s.extent.value if isinstance(s.extent, l9.Const) else 1
            inner = pages(s.body, times * n, run_time)
            if run_time is not None and not isinstance(s.extent, l9.Const) and s.kind != "persistent":
                run_time.update(cb for _, cb in inner)
            for key, v in inner.items():
                out[key] = out.get(key, 0) + v
        elif isinstance(s, (l9.CbReserve, l9.CbPush, l9.CbWait, l9.CbPop)):
            key = (type(s).__name__, s.cb)
            out[key] = out.get(key, 0) + s.pages * times
    return out


def check_cb_balance(program: l9.Program) -> None:
    run_time: set[int] = set()         # CBs with calls in loops of run-time trip counts: the simulator's
    counts = {k.role: pages(k.body, 1, run_time) for k in program.kernels}
    for cb in program.cbs:
        made, used = counts[cb.producer], counts[cb.consumer]
        pushed, popped = made.get(("CbPush", cb.index), 0), used.get(("CbPop", cb.index), 0)
        if pushed != popped and cb.index not in run_time:
            raise broken("CB balance", cb.producer, f"pushes {pushed} pages per iteration, its "
                         f"consumer the {cb.consumer} pops {popped}", cb.index)
    capacity = {cb.index: cb.plan.pages for cb in program.cbs}
    for k in program.kernels:
        for s in walk(k.body):
            if isinstance(s, (l9.CbReserve, l9.CbWait)) and s.pages > capacity[s.cb]:
                raise broken("CB balance", k.role, f"{s.head()} asks for more than the "
                             f"{capacity[s.cb]} pages the CB holds", s.cb, s.loc)


def check_dst_capacity(k: l9.DeviceKernel, config: l9.ComputeConfig, target: Target) -> None:
    if config.dst_tiles != target.dst_capacity(config.fp32_dest_acc):
        raise broken("DST capacity", k.role, f"the compute config says {config.dst_tiles} DST tiles; "
                     f"{target.name} has {target.dst_capacity(config.fp32_dest_acc)} in this mode")

    def visit(stmts: tuple, env: dict) -> None:
        for s in stmts:
            if isinstance(s, l9.For):
                n = bound(s.extent, env)
                visit(s.body, {**env, s.var: (0, n[1] - 1) if n else None})
            elif isinstance(s, l9.Let):
                env = {**env, s.var: bound(s.value, env)}
            for f in DST_FIELDS.get(type(s), ()):
                r = bound(getattr(s, f), env)
                r = r and (r[0], r[1] + s.rt * s.ct - 1) if isinstance(s, l9.MatmulBlock) else r
                if r is None or r[0] < 0 or r[1] >= config.dst_tiles:
                    got = "cannot be bounded" if r is None else f"reaches {r[0] if r[0] < 0 else r[1]}"
                    raise broken("DST capacity", k.role, f"{s.head()}: the index {got}; the DST holds "
                                 f"{config.dst_tiles} tiles", loc=s.loc)
    visit(k.body, {})


def check_init_before_use(k: l9.DeviceKernel, program: l9.Program) -> None:
    if not k.body:                 # no compute at all (a copy through a shared buffer): nothing to set up
        return
    startups = [s for s in walk(k.body) if isinstance(s, l9.Init) and s.op == HW_STARTUP]
    if len(startups) != 1 or startups[0] not in k.body:
        raise broken("init before use", k.role, f"{len(startups)} calls of {HW_STARTUP}, expected "
                     "one at the top level of the kernel")
    formats = formats_of(program)

    def visit(s: Any, state: State) -> None:
        if isinstance(s, l9.Init):
            if s.op != HW_STARTUP and not state.started:
                raise broken("init before use", k.role, f"{s.head()} before {HW_STARTUP}", loc=s.loc)
            return
        for n in needs(s, formats):
            if not state.holds(n):
                why = f"{HW_STARTUP} has not run" if not state.started else (
                    f"the {n.slot} slot may hold {getattr(state, n.slot) or 'anything'}")
                raise broken("init before use", k.role, f"{s.head()} needs {n.init.head()}, but {why}",
                             getattr(s, "cb", None), s.loc)
    through(k.body, State(), formats, visit)


def check_handshake(stmts: tuple, state: str, end: str | None = None) -> str:
    for s in stmts:
        if isinstance(s, l9.For):
            if check_handshake(s.body, state) != state:
                raise broken("DST handshake", "compute", "a loop body leaves the DST in another "
                             "state than it found it", loc=s.loc)
        elif type(s) in HANDSHAKE:
            want, state_after = HANDSHAKE[type(s)]
            if state != want:
                raise broken("DST handshake", "compute", f"{s.head()} while the DST is {state}; "
                             "the order is acquire -> commit -> wait -> release", loc=s.loc)
            state = state_after
        elif isinstance(s, MATH) and state != "math" or isinstance(s, l9.PackTile) and state != "packing":
            raise broken("DST handshake", "compute", f"{s.head()} while the DST is {state}: math "
                         "runs between acquire and commit, packs between wait and release", loc=s.loc)
    if end is not None and state != end:
        raise broken("DST handshake", "compute", f"the kernel ends with the DST {state}")
    return state


def check_arg_table(program: l9.Program) -> None:
    if program.args is None:
        raise broken("argument table", "every", "the program has no argument table (E1 makes it)")
    slots = {a.role: a.names for a in program.args.kernels}
    for k in program.kernels:
        names = slots.get(k.role)
        reads = [b.addr_arg for b in k.bindings] + [x.name for x in walk(k.body) if isinstance(x, l9.CoreArg)]
        missing = [n for n in dict.fromkeys(reads) if names is None or n not in names]
        if missing:
            raise broken("argument table", k.role, f"reads {', '.join(missing)}, which has no slot; "
                         f"its slots are {names}")
        for c in program.work.cores:
            rows = [r for r in program.args.cores if r.core == c.core and r.role == k.role]
            if len(rows) != 1 or len(rows[0].values) != len(names):
                raise broken("argument table", k.role, f"core {c.core} has {len(rows)} rows; it needs "
                             f"one with {len(names)} values")
