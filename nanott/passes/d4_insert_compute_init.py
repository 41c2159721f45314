"""D4 insert-compute-init: L8 -> L8

Changes:   the compute kernel gets its init calls. First `compute_kernel_hw_startup(in0, in1, out)`
           with the input and output CBs of the first tile group (in0 alone when it reads one
           CB, the output CB when it reads none). Then an `Init` before every tile op whose
           engine slot (fpu, sfpu, pack; see nanott/sim/engine.py) might hold something else at that
           point, by a forward dataflow over the statement tree: a loop's head state is the join
           of the state before it and after its body, to a fixpoint. Before a loop (a For, a
           TFor, or a tile group, which runs its body once per tile), the slots every op inside
           agrees on are set once, so the init is hoisted as far out as nothing changes it;
           where ops alternate, each gets its re-init inside the loop. An init that sets several
           slots (reduce_init: the engine and the packer's edge mask; unary_bcast_init: the
           engine and the packer's format) is hoisted only when the loop agrees on all of them;
           a slot that an init left in the loop sets before any op reads it (a group opening
           with unary_bcast_init, which sets srcA) is not set before the loop at all.
           An op may need several slots: a pack needs its CB's format and no edge mask, so a
           reduction's group ends with reduce_uninit() before its pack.
Preserves: every other statement and its order; the reader and writer kernels; all values
           (an init configures the engine, it computes nothing).
Why:       the engine runs with whatever configuration the last init left (formats, math
           programs, SFPU constants): an omitted init is not detected on the device, it gives
           garbage. The inits read like Metalium's examples: one, hoisted, for a single op
           kind; re-inits where ops alternate.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l5, l8
from nanott.sim.engine import (HW_STARTUP, SLOTS, Need, State, formats_of, loop_entry,
                                          loop_exit, needs, slots_of)
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def insert_compute_init(program: l8.Program, target: Target) -> l8.Program:
    return InsertComputeInit(formats_of(program)).visit(program)


class InsertComputeInit(Rewriter, src=l8.LANG, dst=l8.LANG):
    def __init__(self, formats: dict[int, str]):
        self.formats = formats
        self.placed: dict[tuple, tuple] = {}     # (id of statements, state) -> (statements, place's answer)
        self.agreement: dict[int, tuple] = {}    # id of a body -> (body, agreed's answer)

    def visit_DeviceKernel(self, k: l8.DeviceKernel) -> l8.DeviceKernel:
        group = next((x for x in walk(k.body) if isinstance(x, l5.TileGroup)), None)
        if k.role != "compute" or group is None:
            return k
        startup = hw_startup(group)
        body, _ = self.place(k.body, State().after(startup, self.formats))
        return replace(k, body=(startup, *body))

    def place(self, stmts: tuple, state: State) -> tuple[tuple, State]:
        """The statements with the inits they need, and the state after them (remembered: the
        dataflow asks again for each loop's body at each state its fixpoint visits)."""
        key = (id(stmts), state)
        if key not in self.placed:
            self.placed[key] = (stmts, self.place_anew(stmts, state))
        return self.placed[key][1]

    def place_anew(self, stmts: tuple, state: State) -> tuple[tuple, State]:
        out: list[Any] = []
        for s in stmts:
            body = getattr(s, "body", None)
            if isinstance(body, tuple):
                for n in self.agreed(body):
                    state = self.emit(n, state, out)
                head = loop_entry(state, lambda h: self.place(body, h)[1])
                new_body, exit_ = self.place(body, head)
                out.append(replace(s, body=new_body))
                state = loop_exit(s, head, exit_)
                continue
            if isinstance(s, l8.Init):
                state = state.after(s, self.formats)
            else:
                for n in needs(s, self.formats):
                    state = self.emit(n, state, out)
            out.append(s)
        return tuple(out), state

    def emit(self, n: Need, state: State, out: list) -> State:
        """Append n's init unless the state already holds it; return the state after."""
        if state.holds(n):
            return state
        out.append(n.init)
        return state.after(n.init, self.formats)

    def agreed(self, body: tuple) -> list[Need]:
        """One need per slot that every op in `body` needs with the same value (and no init in
        `body` changes, nor the init of another slot's need, as unary_bcast_init changes srcB),
        whose init sets no slot the body disagrees on: what can be set once before the loop."""
        if id(body) not in self.agreement:
            self.agreement[id(body)] = (body, self.agreed_anew(body))
        return self.agreement[id(body)][1]

    def agreed_anew(self, body: tuple) -> list[Need]:
        if any(isinstance(x, l8.Init) for x in walk(body)):
            return []
        by_slot: dict[str, list[Need]] = {}
        writes: dict[str, set] = {}        # what the inits of the body's needs write to other slots
        writers: dict[str, set] = {}       # the inits that write them
        early: dict[str, set] = {}         # the other inits that set a slot before an op needs it
        for x in walk(body):
            for n in needs(x, self.formats):
                if n.slot not in by_slot:
                    early[n.slot] = writers.get(n.slot, set()) - {n.init}
                by_slot.setdefault(n.slot, []).append(n)
                after = State(True).after(n.init, self.formats)
                for t in set(slots_of(n.init.op)) - {n.slot}:
                    writes.setdefault(t, set()).add(getattr(after, t))
                    writers.setdefault(t, set()).add(n.init)
        same = {s for s, ns in by_slot.items() if all(n.value == ns[0].value for n in ns)
                and writes.get(s, {ns[0].value}) == {ns[0].value}}
        hoisted = [by_slot[s][0] for s in sorted(same, key=SLOTS.index)
                   if all(t in same or t not in by_slot for t in slots_of(by_slot[s][0].init.op))]
        # a slot an init left in the loop sets before any op reads it (unary_bcast_init sets
        # srcA) would be set before the loop for nothing
        inits = {n.init for n in hoisted}
        return [n for n in hoisted if not early[n.slot] - inits]


def hw_startup(group: l5.TileGroup) -> l8.Init:
    """compute_kernel_hw_startup with the group's first two input CBs and its first output CB."""
    ins: list[int] = []
    outs: list[int] = []
    for x in walk(group.body):
        if isinstance(x, l5.TStore):
            outs.append(x.dst.cb)
        elif isinstance(x, l5.TAssign):
            ins += [r.cb for r in walk(x.op) if isinstance(r, l5.TileRef)]
    ins = list(dict.fromkeys(ins))
    out = outs[0]
    ins = ins or [out]
    return l8.Init(HW_STARTUP, (*ins[:2], out), loc=group.loc)

