"""InterpL6: runs an L6 kernel, the single program with its dataflow annotated.

Run in program order, a CB's producer and consumer roles and a tile group's effects (peek, take,
give, update) change nothing: they say who may touch a block when the program is split into
concurrent kernels (D1), which the L7 scheduler then enforces. So the rules that change are the
reshaped TileGroup, which runs as in L5, and Release, which frees nothing here (a CB holds one
block); the intermediate CBs C3 added are ordinary CBs, and
L6 is bit-identical to L5.
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l6
from nanott.languages.l0_interp import Env
from nanott.languages.l5_interp import InterpL5


class InterpL6(InterpL5):
    """L6 runs each TileGroup as L5 does; its effects are for the split, not for the numbers."""

    def exec_stmt(self, s: Any, env: Env) -> None:
        match s:
            case l6.TileGroup(vars, extents, body, _effects):
                self.run_group(vars, extents, body, env)
            case l6.Release():
                pass                        # one block per CB here: nothing to free
            case _:
                super().exec_stmt(s, env)


l6.LANG.interpreter = InterpL6


def demo_kernel() -> l6.Kernel:
    """Y = 2 * X + 1, written by hand as C3 annotates L5's demo. S is read and written by compute
    in place, so C3 would reject it (NT320); here a staging CB S_out takes the result instead."""
    from nanott.ir import replace
    from nanott.languages.l5_interp import demo_kernel as l5_demo
    k = l5_demo()
    loop, s = k.body[0], k.cbs[0]
    group = loop.body[4]
    store = replace(group.body[-1], dst=replace(group.body[-1].dst, cb=1))
    cbs = (l6.CircularBuffer(0, s.name, s.shape, s.dtype, s.scope, s.plan, "reader", "compute"),
           l6.CircularBuffer(1, "S_out", s.shape, s.dtype, "intermediate", s.plan, "compute", "writer"))
    body = (*loop.body[:4],                                      # lets and read_to_cb -> cb0
            l6.TileGroup(group.vars, group.extents, (*group.body[:-1], store),
                         (l6.CbEffect(0, "take"), l6.CbEffect(1, "give"))),
            replace(loop.body[5], cb=1))                         # write_from_cb cb1
    return replace(k, cbs=cbs, body=(replace(loop, body=body),))


if __name__ == "__main__":
    from nanott.languages.l1_interp import demo_run
    l6.LANG.check(demo_kernel())
    demo_run(InterpL6(), demo_kernel())
