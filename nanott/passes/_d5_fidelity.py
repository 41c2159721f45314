"""Math fidelity for D5, from the formats of the FPU ops' operands: the fewest phases whose
products are exact, so every level's numbers (exact products) stay the device's.

The matrix engine multiplies 5 bits of SrcA (the hidden bit and the top 4 of the mantissa) by 7
of SrcB (the hidden bit and the top 6) per phase; phase 1 brings SrcA's next 5 mantissa bits, phase
2 SrcB's next 4, phase 3 the two low parts together (tt-isa-documentation's
ELWMUL model and tech_reports/matrix_engine). A matmul sends in0 (A) to SrcB and in1 (B) to SrcA;
an eltwise mul in0 to SrcA, in1 to SrcB; a reduce its input to SrcA and its scaler to SrcB. So:
  LoFi   every SrcA operand has at most 4 mantissa bits and every SrcB one at most 6
  HiFi2  some SrcA operand has more (its low bits need phase 1)
  HiFi3  some SrcB operand has more, no SrcA one (phase 2 is in HiFi3's 0, 1, 2)
  HiFi4  both, or a format whose bits the phases cannot all reach (TF32 from float32, float16)
A kernel without a matmul, mul or sum keeps HiFi4: fidelity changes none of its ops.
A user's choice (Target.math_fidelity, from `--fidelity` or `fidelity=`) overrides the rule; the
`math-fidelity` note says which decided, and D5 warns (NT207) when the choice has fewer phases than
the rule: the device's products then lose low bits that every level's simulator keeps.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import walk
from nanott.languages import l9
from nanott.terminals import MATH_FIDELITIES as PHASES     # fewest phases first

MANTISSA = {"bfloat16": 7, "float8_e4m3fn": 3, "float8_e5m2": 2}    # explicit bits; others: unreachable
SRCA_BITS, SRCB_BITS = 4, 6                                         # what phase 0 multiplies
FIDELITY = {(False, False): "LoFi", (True, False): "HiFi2", (False, True): "HiFi3", (True, True): "HiFi4"}


def operands(kernel: Any) -> list[tuple[int, int, str]]:
    """(SrcA's CB, SrcB's CB, op) of every FPU op that fidelity applies to."""
    out = []
    for s in walk(kernel.body):
        match s:
            case l9.MatmulTiles(a_cb, b_cb) | l9.MatmulBlock(a_cb, b_cb):
                out.append((b_cb, a_cb, "matmul"))
            case l9.BinaryTiles("mul", a_cb, b_cb):
                out.append((a_cb, b_cb, "mul"))
            case l9.ReduceTile(op, _, cb, scaler_cb) if op != "max":
                out.append((cb, scaler_cb, f"reduce {op}"))
    return out


def choose(program: Any, override: str | None = None) -> tuple[str, str | None, str]:
    """(fidelity, why, the rule's fidelity) for the program's compute kernel: the dtype rule's, or
    the user's `override` (Target.math_fidelity: `--fidelity`, `fidelity=`), the rule's beside it.
    why is None only for a kernel without an FPU op that fidelity applies to, and no override."""
    dtype = {cb.index: cb.dtype for cb in program.cbs}
    ops = operands(program.kernel("compute"))
    rule, why = rule_for(ops, dtype)
    if override is None:
        return rule, why and f"{rule}: the dtype rule, {why}", rule
    if not ops:
        return override, f"{override}: the user's choice (--fidelity); no op of this kernel depends on it", rule
    lossy = PHASES.index(override) < PHASES.index(rule)
    return override, (f"{override}: the user's choice (--fidelity), where the dtype rule gives {rule}, {why}"
                      + ("; with fewer phases the device's products lose low bits the simulators keep"
                         if lossy else "")), rule


def rule_for(ops: list[tuple[int, int, str]], dtype: dict[int, str]) -> tuple[str, str | None]:
    """The dtype rule (module docstring): (fidelity, the ops it is the fewest exact phases for)."""
    if not ops:
        return "HiFi4", None
    bits = [(MANTISSA.get(dtype[a], 99), MANTISSA.get(dtype[b], 99)) for a, b, _ in ops]
    fidelity = FIDELITY[(any(a > SRCA_BITS for a, _ in bits), any(b > SRCB_BITS for _, b in bits))]
    pairs = sorted({f"{op} {dtype[b] if op == 'matmul' else dtype[a]} x {dtype[a] if op == 'matmul' else dtype[b]}"
                    for a, b, op in ops})
    inexact = sorted({dtype[c] for a, b, _ in ops for c in (a, b)} - set(MANTISSA))
    if inexact:                                     # TF32 from float32, float16: no phase count is exact
        return fidelity, f"every phase, the nearest to exact products for {', '.join(pairs)} ({', '.join(inexact)} " \
                         f"{'has' if len(inexact) == 1 else 'have'} mantissa bits no phase reaches)"
    return fidelity, f"the fewest phases with exact products for {', '.join(pairs)}"
