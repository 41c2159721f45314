"""Data formats of the compute engine: D4 reconfigures srcA, srcB and the packer where an op's CBs
differ from what the engine is configured for, and the L9 simulator is stricter than silicon: an
unpack from a CB of another format than its source register's is a named protocol error (§4.4)
with the source line, both formats and the init that would fix it.

The mutation tests take every example as the pipeline lowers it and remove, one at a time, each
reconfiguration D4 placed (reconfig_data_format_srca/_srcb, pack_reconfig_data_format): each
removal must be caught. Float32 copied into the 32-bit DST without UnpackToDestFp32 rounds to TF32.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nanott import api
from nanott.ir import walk
from nanott.languages import l9
from nanott.sim.engine import PACK_RECONFIG, SRCA_RECONFIG, SRCB_RECONFIG
from nanott.sim.errors import ProtocolError

from conftest import EXAMPLES

RECONFIGS = (SRCA_RECONFIG, SRCB_RECONFIG, PACK_RECONFIG)


def reconfigs(program: l9.Program) -> list[l9.Init]:
    return [x for x in walk(program.kernel("compute").body) if isinstance(x, l9.Init) and x.op in RECONFIGS]


def without(program: l9.Program, victim: l9.Init) -> l9.Program:
    """The program with one Init node (by identity) removed from its compute kernel."""
    def go(stmts: tuple) -> tuple:
        out = []
        for s in stmts:
            if s is victim:
                continue
            body = getattr(s, "body", None)
            out.append(replace(s, body=go(body)) if isinstance(body, tuple) else s)
        return tuple(out)
    return replace(program, kernels=tuple(replace(k, body=go(k.body)) if k.role == "compute" else k
                                          for k in program.kernels))


@pytest.mark.parametrize("example", EXAMPLES)
def test_removing_any_reconfig_is_caught_by_the_simulator(example, lowered):
    program = lowered.program(example, "F1")
    found = reconfigs(program)
    inputs = lowered.inputs(example)
    for victim in found:
        with pytest.raises(ProtocolError) as e:
            api.simulate(without(program, victim), "L9", inputs)
        what = str(e.value)
        cb = victim.cbs[0]
        assert f"cb{cb}" in what and victim.head() in what, what
        assert str(victim.loc) in what, what                         # the source line of the op
        if victim.op != PACK_RECONFIG:                               # both formats, named
            assert e.value.rule == "4.4" and "configured for" in what, what


def test_the_examples_mix_formats_so_reconfigs_are_there(lowered):
    """Not vacuous: most examples mix Float16_b and Float32 CBs, and get reconfigured."""
    counts = {ex: len(reconfigs(lowered.program(ex, "F1"))) for ex in EXAMPLES}
    assert sum(1 for n in counts.values() if n) >= len(EXAMPLES) // 2, counts
    assert counts["gemm"] >= 3


def test_a_format_mismatch_names_formats_line_and_fix(lowered):
    program = lowered.program("gemm", "F1")
    victim = next(x for x in reconfigs(program) if x.op == SRCA_RECONFIG and x.cbs == (1,))
    with pytest.raises(ProtocolError) as e:
        api.simulate(without(program, victim), "L9", lowered.inputs("gemm"))
    assert ("matmul_tiles" in str(e.value) and "cb1 (Float16_b) into srcA, which is configured for Float32"
            in str(e.value) and "reconfig_data_format_srca(cb1)" in str(e.value)), str(e.value)
    assert "gemm.py:28" in str(e.value)


def test_unpack_to_dest_fp32_is_set_for_float32_copies_into_a_32bit_dst(lowered):
    from nanott.backends.metalium.plan import unpack_to_dest_fp32
    p = lowered.program("gemm", "F1")
    fmt = {cb.index: cb.plan.format for cb in p.cbs}
    copied = {x.cb for x in walk(p.kernel("compute").body) if isinstance(x, l9.CopyTile)}
    assert p.compute.fp32_dest_acc
    assert set(unpack_to_dest_fp32(p)) == {cb for cb in copied if fmt[cb] == "Float32"} != set()


def test_tf32_rounding_keeps_ten_mantissa_bits():
    from nanott.sim.dst import to_tf32
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    y = to_tf32(x)
    assert np.all(np.abs(y - x) <= np.abs(x) * 2.0 ** -10)          # truncated below bit 10
    assert np.any(y != x) and np.all(to_tf32(y) == y)
