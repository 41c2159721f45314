"""CompiledKernels: L7's and L8's kernel loops and lets without the levels' long `match`.

A device kernel of L7 or L8 is mostly loops and lets around the protocol's calls. InterpL8 reaches
the rule for a `for` or a `let` only after trying its own eighteen productions, and InterpL7 runs
each statement, a `let` too, as a generator of its own. This mixin (before InterpL7 or InterpL8, in
their compiled executors, languages/compiled.py) runs those two statements by InterpL7's rules
directly in the block that holds them: a loop binds its variable and runs its body as the block it
is, a `let` is InterpL0's rule as a closure (languages/l0_compiled.py); every other statement goes to
the level's `exec_kernel_stmt`, and a protocol error is located by the statement it came from, as
InterpL7.exec_kernel_block locates it, so both give the same results and the same errors
(tests/test_compiled.py: every example at L7 and L8 against the reference).
"""
from __future__ import annotations

from typing import Any, Iterator

from nanott.languages import l0
from nanott.sim.errors import ProtocolError
from nanott.sim.scheduler import Wait


class CompiledKernels:
    def exec_kernel_block(self, stmts: tuple, env: Any) -> Iterator[Wait]:
        for s in stmts:
            try:
                kind = type(s)
                if kind is l0.Let:
                    self.compiled(s, self.stmt)(env)
                elif kind is l0.For:
                    var, body = s.var, s.body
                    for i in range(int(self.eval(s.extent, env))):
                        env.scalars[var] = i
                        yield from self.exec_kernel_block(body, env)
                else:
                    yield from self.exec_kernel_stmt(s, env)
            except ProtocolError as e:
                raise e.at(env.core, env.role, s.loc) from None
