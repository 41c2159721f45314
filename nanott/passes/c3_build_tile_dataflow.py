"""C3 build-tile-dataflow: L5 -> L6

Changes:   the dataflow becomes explicit, found by analysis of who reads and writes each CB.
           Roles: read_to_cb and generate_to_cb produce their CB (reader), write_from_cb consumes it (writer), a tile
           group that stores to a CB produces it and one that reads a CB consumes it (compute).
           Effects of a tile group on each CB it touches: `update` if it reads and writes it,
           `give` if it only writes it; if it only reads it, `take` when it is the block's last
           reader (no later statement of its statement list reads that CB before one writes it,
           and the loop around the list does not carry it to its next iteration), else `peek`.
           A loop whose body overwrites a CB's block without reading it first and leaves it to
           after the loop (a variable assigned on every trip, read once the loop is done: its
           last reader in the trip peeks it) releases the previous trip's block before the
           write; when no block is alive as the loop starts, a fill gives one before it, so that
           every trip releases one block and gives one.
           Every CB has one producer and one consumer by now (C2a, C2b); one that has not is
           the user's (NT320). A loop carries a CB's block from one iteration to the next when the first statement of
           its body that touches the CB reads it (a Q tile read by every step of a K loop; online
           softmax's running max, read, then updated): the last reader in the body peeks it, and
           after the loop a Release frees it, unless a later group takes it. A loop of exactly
           one trip (`for k in T.serial(1)`, a guard decided true) carries nothing: its body is
           straight-line code, and its last reader looks past the loop for a later one, as C2c's
           live ranges do. A print of a CB
           (T.print of a buffer) reads its block as a group would: when it is the block's last
           reader, a Release after it frees the block.
Preserves: every statement, value and rounding; the order of operations.
Why:       Metalium allows one producer thread and one consumer thread per CB. D1 splits the
           program along these roles.
"""
from __future__ import annotations

from nanott.diagnostics import NanottError
from nanott.ir import CheckError, replace
from nanott.languages import l5, l6
from nanott.passes._cb_plan import check_l1_budget
from nanott.passes._cb_uses import carried_by, leaves, roles, touches, trips
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def build_tile_dataflow(program: l5.Kernel, target: Target) -> l6.Kernel:
    producers, consumers = roles(program)
    for cb in program.cbs:
        made, used = producers[cb.index], consumers[cb.index]
        if len(made) != 1 or len(used) != 1:
            raise NanottError("NT320", f"{cb.name} is written by {' and '.join(made) or 'nobody'} and "
                              f"read by {' and '.join(used) or 'nobody'}; a circular buffer has exactly "
                              "one producer and one consumer", cb.loc,
                              "give each producer its own buffer (copy from DRAM into one, compute into "
                              "another), and remove buffers nobody reads")
    out = Dataflow(program.cbs, producers, consumers).visit(program)
    check_l1_budget(((cb.name, cb.plan, cb.loc) for cb in out.cbs), target)
    return out


def survives(body: tuple, cb: int) -> bool:
    """Whether a trip of a loop with this body leaves a block of `cb` alive: the body's last
    statement touching it writes it, and is no loop carrying it (whose last reader frees it)."""
    last = next(s for s in reversed(body) if cb in set().union(*touches(s)))
    if isinstance(last, l5.For):
        return cb not in carried_by(last.body) and survives(last.body, cb)
    return cb in touches(last)[1]


class Dataflow(Rewriter, src=l5.LANG, dst=l6.LANG):
    """L5 -> L6: roles on CBs, effects on tile groups; each statement list is walked knowing what
    follows the statement being rewritten (`self.rest`)."""

    def __init__(self, cbs: tuple, producers: dict[int, list[str]], consumers: dict[int, list[str]]):
        self.names = [cb.name for cb in cbs]
        self.cbs = {cb.index: cb for cb in cbs}
        self.producers, self.consumers = producers, consumers
        self.rest: tuple = ()
        self.after: tuple = ()                   # what follows the loops of one trip around self.rest
        self.carried: set[int] = set()           # CBs the innermost enclosing loop carries
        self.written: set[int] = set()           # CBs some statement before this one writes
        self.kept: set[int] = set()              # CBs the innermost loop's last trip leaves to after it
        self.done: tuple = ()                    # the statements of this list before this one
        self.release_before: dict[int, list[int]] = {}   # id of a loop-body statement -> CBs to release

    def visit_Kernel(self, k: l5.Kernel) -> l6.Kernel:
        return self.rebuild(k, body=self.block(k.body))

    def visit_CircularBuffer(self, cb: l5.CircularBuffer) -> l6.CircularBuffer:
        return self.rebuild(cb, producer=self.producers[cb.index][0], consumer=self.consumers[cb.index][0])

    def block(self, stmts: tuple) -> tuple:
        out = []
        for i, s in enumerate(stmts):
            self.rest, self.done = stmts[i + 1:], stmts[:i]
            out.extend(l6.Release(cb, True, loc=s.loc) for cb in self.release_before.pop(id(s), ()))
            r = self.visit(s)
            self.written |= touches(s)[1]
            out.extend(r if isinstance(r, list) else [r])
        return tuple(out)

    def visit_For(self, f: l5.For) -> list:
        reads, writes = touches(f)
        for cb in sorted(reads - writes):
            if self.consumers[cb] != ["compute"]:
                raise NanottError("NT319", f"{self.names[cb]} is produced outside the loop over {f.var} "
                                  f"and read inside it by the {self.consumers[cb][0]}; only compute "
                                  "can hold a block through a loop yet", f.loc,
                                  "copy or compute the block inside the loop, once per iteration")
        once = trips(f.extent) == (1, 1)         # one trip: straight-line code, nothing carried
        carried = set() if once else carried_by(f.body)
        rest, done, outer, kept, after = self.rest, self.done, self.carried, self.kept, self.after
        self.kept = set()
        before = [] if once else [self.visit(g) for g in self.overwritten(f, carried)]
        self.carried, self.after = carried, (*rest, *after) if once else ()
        body = self.block(f.body)
        self.carried, self.rest, self.done, self.kept, self.after = outer, rest, done, kept, after
        return [*before, replace(f, body=body), *(l6.Release(cb, loc=f.loc) for cb in sorted(carried)
                                         if self.mode(False, False, cb) == "take")]

    def overwritten(self, f: l5.For, carried: set[int]) -> list:
        """The CBs whose block one trip of `f` gives and leaves alive to the next trip, which
        writes it again without reading it: each trip releases the block before that write. The
        fills (L5) that give a block before the loop when none is alive there."""
        fills = []
        for cb in sorted(touches(f)[1] - carried):
            read_after = self.read_after(cb)
            if not (survives(f.body, cb) or read_after) or self.consumers[cb] != ["compute"]:
                continue
            if read_after:                       # the trip's last reader keeps it for after the loop
                self.kept.add(cb)
            touching = [s for s in leaves(f.body) if cb in set().union(*touches(s))]
            first = next(s for s in f.body if cb in set().union(*touches(s)))
            self.release_before.setdefault(id(first), []).append(cb)
            if not self.alive_before(cb):
                fills.append(self.fill(touching[0], cb))
        return fills

    def read_after(self, cb: int) -> bool:
        """Whether the first statement after the loop in its list touching `cb` reads it."""
        later = next((s for s in leaves((*self.rest, *self.after)) if cb in set().union(*touches(s))), None)
        return later is not None and cb in touches(later)[0]

    def alive_before(self, cb: int) -> bool:
        """Whether the statements before the loop in its list leave a block of `cb` alive."""
        last = [s for s in leaves(self.done) if cb in set().union(*touches(s))]
        return bool(last) and cb in touches(last[-1])[1]

    def fill(self, g, cb: int):
        """A statement of the CB's producer giving a block of `cb` of zeros (never read: the loop's
        first trip releases it): the reader generates it, compute fills it as the write `g` does."""
        if self.producers[cb] == ["reader"]:
            buf = self.cbs[cb]
            return l5.GenerateToCb(cb, ("r_fill", "c_fill"), tuple(buf.shape), l5.Const(0.0, buf.dtype), loc=g.loc)
        stores = [t for t in getattr(g, "body", ()) if isinstance(t, l5.TStore) and t.dst.cb == cb]
        if not isinstance(g, l5.TileGroup) or not stores:
            raise CheckError(f"cb{cb}: a loop overwrites it in a form C3 cannot fill before the loop: {g}")
        return l5.TileGroup(g.vars, g.extents, (l5.TAssign("t0", l5.TileFill(0.0), loc=g.loc),
                                                *(l5.TStore(t.dst, "t0", loc=g.loc) for t in stores)), loc=g.loc)

    def visit_TileGroup(self, g: l5.TileGroup) -> l6.TileGroup:
        reads, writes = touches(g)
        effects = tuple(l6.CbEffect(cb, self.mode(cb in reads, cb in writes, cb), loc=g.loc)
                        for cb in sorted(reads | writes))
        return self.rebuild(g, body=g.body, effects=effects)

    def visit_PrintCb(self, p: l5.PrintCb) -> list:
        """A print reads its CB's block: when it is the block's last reader, a Release frees it."""
        if p.cb not in self.written:
            raise NanottError("NT326", f"T.print of {self.names[p.cb]} before anything writes it is not "
                              "supported: its circular buffer has no block yet for the print to read", p.loc,
                              "print the buffer after the copy, T.fill or operation that writes it")
        return [p, *[l6.Release(p.cb, loc=p.loc)] * (self.mode(True, False, p.cb) == "take")]

    def mode(self, reads: bool, writes: bool, cb: int) -> str:
        if writes:
            return "update" if reads else "give"
        for s in leaves((*self.rest, *self.after)):      # is a later statement reading this block?
            later_reads, later_writes = touches(s)
            if cb in later_reads:
                return "peek"
            if cb in later_writes:
                return "take"
        return "peek" if cb in self.carried | self.kept else "take"   # the next trip or after the loop reads it
