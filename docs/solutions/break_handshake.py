"""D5' forget-a-release: L9 -> L9, the solution of exercise 6.2 (docs/06_EF_signature_and_verification.md).

Changes:   the first tile_regs_release of the compute kernel is deleted.
Preserves: everything else; the program is still in L9 (its checker accepts it).
Why:       to see F1 catch, before anything runs, what the device would only show as a hang.

    python docs/solutions/break_handshake.py    runs F1 on GEMM with one release missing
"""
from __future__ import annotations

import lowering
from nanott.ir import CheckError
from nanott.languages import l9
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


class ForgetARelease(Rewriter, src=l9.LANG, dst=l9.LANG):
    def __init__(self):
        self.forgotten = False

    def visit_RegsRelease(self, r: l9.RegsRelease) -> list:
        if self.forgotten:
            return [r]
        self.forgotten = True
        return []


def forget_a_release(program: l9.Program, target: Target) -> l9.Program:
    return ForgetARelease().visit(program)


if __name__ == "__main__":
    try:
        lowering.lower_with("gemm", "F1", after={"E1": forget_a_release})
        print("F1 accepted the program")
    except CheckError as e:
        print(e)
