"""D3b multicast-shared-reads: L8 -> L8

Changes:   a block read (after D3a: `cb_reserve_back c, n`, its page reads, the step's one barrier,
           `cb_push_back c, n`) that every core of a row (or a column) of cores makes with the
           same page ids at every step is read from DRAM by the row's first core only and
           multicast to the others, with tt-metal's sender/receiver handshake on two semaphores
           per CB (`ready` counts the receivers that reserved, `valid` says the data landed):
             sender:    its reads; barrier; wait ready == receivers; ready := 0;
                        multicast the pages to the rectangle; valid := 1 on the rectangle
             receiver:  valid := 0; raise the sender's ready by one (right after its reserve,
                        before the step's reads); wait valid == 1
           With several CBs in a step, each receiver's raise comes right after the reserve of its
           CB, then the reads and their barrier, then every sender's part, then every receiver's
           wait: a core that receives one block and sends another tells its sender it is ready
           before it reads or waits for anything (no cycle of waits, and no sender waits for a
           block it does not need, nor for its receivers' reads of another block).
           Which reads are shared is found by evaluating each read's page ids on every core of
           the work split over its loops (a page id affine in the step's loop variables: two
           values of each decide it), never from names. The groups of cores with equal page ids
           must be runs of W cores along x (or H along y) starting at multiples of W (H); the
           IR states the decision in the `multicast` note. Each run sends from its first core,
           except where rows share one block and columns another: there the rows at y % H == 0
           send from their last core and the columns at x % W == W - 1 from theirs, so that no
           core reads and multicasts two blocks (spread()).
Preserves: every page each core finds in its CB, and when it pushes it; compute and writer.
Why:       with every core reading its own A and B blocks, a GEMM moves M*K*N/bn + K*N*M/bm
           bytes from DRAM, many times the operands; DRAM bandwidth then binds long before the
           matrix engines do (benchmarks/bench_gemm_cycles.py). A row of cores sharing an A block
           reads it once (tt-metal's matmul_multicore_reuse_mcast). A raise placed after the
           step's barrier would wait for that core's own reads of the other block: the sender of
           A would then multicast only once its receivers had read B (at 4096^3 in 128x256x512
           blocks, 1.6% of the run).
"""
from __future__ import annotations

from itertools import product
from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l8
from nanott.passes._affine import affine, subst
from nanott.sim.cooperation import Unknown, core_env, value
from nanott.target import Target

I32 = "int32"


def multicast_shared_reads(program: l8.Program, target: Target) -> l8.Program:
    reader = program.kernel("reader")
    if any(isinstance(x, l8.COOPERATION) for x in walk(reader.body)):
        return program
    plan = Plan(program)
    body = plan.rewrite(reader.body, {}, ())
    if not plan.notes:
        return program
    kernels = tuple(replace(k, body=body) if k.role == "reader" else k for k in program.kernels)
    note = l8.Attr("multicast", "; ".join(plan.notes), loc=program.loc)
    return replace(program, kernels=kernels, attrs=program.attrs + (note,))


def c(v: int) -> l8.Const:
    return l8.Const(v, I32)


def op(o: str, a: Any, b: Any) -> l8.BinOp:
    return l8.BinOp(o, a, b)


class Plan:
    """Reads found shared, and the semaphores they use (two per multicast CB)."""

    def __init__(self, program: l8.Program):
        self.work, self.notes, self.sems = program.work, [], 0

    def rewrite(self, stmts: tuple, lets: dict, loops: tuple) -> tuple:
        out, lets = [], dict(lets)
        for s in stmts:
            if isinstance(s, l8.Let):
                lets[s.var] = s.value
            if isinstance(s, l8.For):
                s = replace(s, body=self.rewrite(s.body, lets, loops + (s,)))
            out.append(s)
        return self.step(tuple(out), lets, loops)

    def step(self, body: tuple, lets: dict, loops: tuple) -> tuple:
        """A loop body of batched block reads: [reserve, reads]+, barrier, push+ (D3a's shape)."""
        barrier = next((i for i, s in enumerate(body) if isinstance(s, l8.NocReadBarrier)), None)
        if barrier is None or not loops or not all(isinstance(s, l8.CbPush) for s in body[barrier + 1:]):
            return body
        runs, i = [], 0
        while i < barrier:
            if not isinstance(body[i], l8.CbReserve):
                return body
            j = i + 1
            while j < barrier and not isinstance(body[j], l8.CbReserve):
                j += 1
            runs.append(body[i:j])
            i = j
        found = [(run, self.groups(run, lets, loops)) for run in runs]
        flips = spread({g[0]: g[1] for _, g in found if g is not None})
        new, raises, sends, waits = [], [], [], []
        for run, groups in found:
            if groups is None:
                new += run
                continue
            ready, valid, self.sems = self.sems, self.sems + 1, self.sems + 2
            sender, rect, is_sender, receiver, receivers, text = senders(*groups, flips.get(groups[0]))
            raises.append(l8.When(receiver, (l8.SemSet(valid, 0), l8.SemInc(ready, *sender)), loc=run[0].loc))
            new += [run[0], raises.pop(), l8.When(is_sender, run[1:], loc=run[0].loc)]
            sends.append(l8.When(is_sender, (l8.SemWait(ready, receivers), l8.SemSet(ready, 0),
                                             l8.McastPages(run[0].cb, run[0].pages, rect),
                                             l8.SemSetMcast(valid, 1, rect)), loc=run[0].loc))
            waits.append(l8.When(receiver, (l8.SemWait(valid, 1),), loc=run[0].loc))
            self.notes.append(f"cb{run[0].cb}'s block read once per {text} and multicast "
                              f"(sem{ready} ready, sem{valid} valid)")
        if not sends:
            return body
        return (*new, body[barrier], *raises, *sends, *waits, *body[barrier + 1:])

    def groups(self, run: tuple, lets: dict, loops: tuple) -> tuple[int, int] | None:
        """The sharing of one block read: (axis, run length), or None."""
        reads = [x for x in walk(run[1:]) if isinstance(x, l8.NocReadPage)]
        inner = {s.var: s for r in run[1:] for s in walk(r) if isinstance(s, l8.For)}
        step_vars = {lp.var: lp for lp in loops[1:]} | inner
        if not reads or not loops or loops[0].kind != "persistent":
            return None
        if any(isinstance(x, l8.Select) for lp in (*loops[1:], *inner.values()) for x in walk(lp.extent)):
            return None            # a loop run once or never (an `if`): cores may differ in whether they read
        for r in reads:            # affine in the step's loop variables (through the lets)
            terms, _ = affine(substituted(r.page, lets, set(step_vars)))
            if any(not isinstance(a, l8.Var) and any(isinstance(v, l8.Var) and v.name in step_vars
                                                      for v in walk(a)) for a, _ in terms):
                return None
        prints: dict[tuple, list] = {}
        for w in self.work.cores:
            env0 = core_env(w)
            seen = []
            for blk in range(w.count):
                env = dict(env0, **{loops[0].var: blk})
                for name, e in lets.items():
                    try:
                        env[name] = value(e, env)
                    except Unknown:
                        pass
                try:
                    seen += pages_read(reads, step_vars, env)
                except Unknown:              # a loop whose extent reads another loop's variable, or a
                    return None              # page id read from DRAM data: no core knows another's
            prints.setdefault(tuple(seen), []).append(w.core)
        return rectangle(list(prints.values()), {w.core for w in self.work.cores})


def pages_read(reads: list, step_vars: dict, env: dict) -> list[int]:
    """The page ids of `reads` at the first two values of each step loop's variable."""
    seen = []
    for vals in product(*([0, min(1, value(lp.extent, env) - 1)] for lp in step_vars.values())):
        env.update(zip(step_vars, vals))
        seen += [value(r.page, env) for r in reads]
    return seen


def substituted(e: Any, lets: dict, keep: set) -> Any:
    """e with the lets it reads put in place, nested lets too (a page id as what it computes)."""
    for _ in range(len(lets)):
        e = subst(e, {k: v for k, v in lets.items() if k not in keep})
    return e


def rectangle(groups: list[list], cores: set) -> tuple[int, int] | None:
    """Runs of W cores along x from multiples of W (axis 0), or of H along y (axis 1): (axis, W or H)."""
    if len(groups) == len(cores):
        return None
    for axis in (0, 1):
        size = len(groups[0])
        ok = all(len(g) == size and len({p[1 - axis] for p in g}) == 1
                 and sorted(p[axis] for p in g) == list(range(min(p[axis] for p in g), min(p[axis] for p in g) + size))
                 and min(p[axis] for p in g) % size == 0 for g in groups)
        if ok and size > 1:
            return axis, size
    return None


ME = (l8.CoreArg("logical_x"), l8.CoreArg("logical_y"))


def spread(sizes: dict[int, int]) -> dict[int, tuple[Any, str]]:
    """Where rows of W cores share one CB's block and columns of H cores another's, the first
    core of a row would also be the first of its column for the rows at y % H == 0: it would read
    and multicast both blocks, twice the others' NoC traffic (its NIU binds the GEMM). So those
    rows send from their last core, and the columns at x % W == W - 1 from theirs, which leaves
    every core at most one block to send. Per axis: (flip, 1 on the runs that send from their last
    core, else 0, as integer arithmetic: (H - 1 - y % H) // (H - 1) is 1 only at y % H == 0; the
    words for the note)."""
    if sizes.keys() != {0, 1}:
        return {}
    w, h = sizes[0], sizes[1]
    return {0: (op("//", op("-", c(h - 1), op("%", ME[1], c(h))), c(h - 1)), f"by its last core where y % {h} == 0"),
            1: (op("//", op("%", ME[0], c(w)), c(w - 1)), f"by its last core where x % {w} == {w - 1}")}


def senders(axis: int, size: int, flip: tuple[Any, str] | None) -> tuple:
    """(sender xy, rectangle, is-sender, is-receiver, receivers, text) of runs of `size` cores along
    `axis`, each sending from its first core, or from its last where `flip` is 1."""
    first = op("*", op("//", ME[axis], c(size)), c(size))
    at = op("%", ME[axis], c(size))
    where = c(0) if flip is None else op("*", flip[0], c(size - 1))
    sender, lo, hi = list(ME), list(ME), list(ME)
    if flip is None:
        sender[axis], lo[axis], hi[axis] = first, op("+", first, c(1)), op("+", first, c(size - 1))
    else:
        sender[axis] = op("+", first, where)
        lo[axis] = op("-", op("+", first, c(1)), flip[0])
        hi[axis] = op("-", op("+", first, c(size - 1)), flip[0])
    text = f"{'row' if axis == 0 else 'column'} of {size} cores" + ("" if flip is None else f", {flip[1]}")
    return tuple(sender), l8.Rect(*lo, *hi), op("==", at, where), op("!=", at, where), size - 1, text
