"""Data formats of the compute engine: D4 reconfigures srcA, srcB and the packer where an op's CBs
differ from what the engine is configured for, and the L9 simulator is stricter than silicon: an
unpack from a CB of another format than its source register's is a named protocol error (§4.4)
with the source line, both formats and the init that would fix it.

The mutation tests take every example as the pipeline lowers it and remove the reconfigurations
D4 placed (reconfig_data_format_srca/_srcb, pack_reconfig_data_format): each one alone is caught
by F1, all of them by the simulator's run. Float32 copied into the 32-bit DST without
UnpackToDestFp32 rounds to TF32. (The CPU runtime's side: tests/metal/test_runtime_formats.py.)
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from nanott import api
from nanott.ir import CheckError, walk
from nanott.languages import l9
from nanott.passes.f1_verify import verify
from nanott.sim.engine import HW_STARTUP, PACK_RECONFIG, SRCA_RECONFIG, SRCB_RECONFIG, formats_of, needs, slots_of
from nanott.sim.errors import ProtocolError
from nanott.target import WORMHOLE_N150

from conftest import launch_ids, without

RECONFIGS = (SRCA_RECONFIG, SRCB_RECONFIG, PACK_RECONFIG)


def reconfigs(program: l9.Program) -> list[l9.Init]:
    return [x for x in walk(program.kernel("compute").body) if isinstance(x, l9.Init) and x.op in RECONFIGS]


@pytest.mark.parametrize("example", launch_ids())
def test_removing_any_one_reconfig_is_caught_by_f1(example, lowered):
    """Statically, on every path: F1 follows the engine state through loops (a loop head joins the
    state before the loop with the state after its body), so a reconfig needed only from a loop's
    second trip on is caught too, which a run whose cores make one trip cannot show."""
    program = lowered.launch(example, "F1")
    for victim in reconfigs(program):
        with pytest.raises(CheckError) as e:
            verify(without(program, "compute", victim), WORMHOLE_N150)
        # the first op the missing init leaves unconfigured: the victim's own op, or a later one
        # whose state the loop join made unknown; either way the same kind of init is named
        assert f"needs {victim.op}(cb" in str(e.value) and ".py:" in str(e.value), str(e.value)


def format_inits(program: l9.Program) -> list[l9.Init]:
    """Every init G1 emits that sets an unpacker or packer format (the engine model's own table):
    the reconfigs, unary_bcast_init, compute_kernel_hw_startup. nanott emits no `*_with_dt` init:
    0.81 dropped copy_tile_to_dst_init_short_with_dt and mm_init_short_with_dt, so the reconfig
    calls are the one spelling all supported releases share."""
    return [x for x in walk(program.kernel("compute").body) if isinstance(x, l9.Init)
            and (x.op == HW_STARTUP or {"srca", "srcb", "pack"} & set(slots_of(x.op)))]


@pytest.mark.parametrize("example", launch_ids())
def test_removing_any_init_that_sets_a_format_is_caught_by_f1(example, lowered):
    """Not only the reconfigs: each init the engine model says sets a format, removed alone, leaves
    some op without the configuration it needs, at a source line."""
    program = lowered.launch(example, "F1")
    found = format_inits(program)
    assert any(v.op == HW_STARTUP for v in found)
    for victim in found:
        with pytest.raises(CheckError) as e:
            verify(without(program, "compute", victim), WORMHOLE_N150)
        # a missing hw startup is named as such (it has no op of its own); any other at an op's line
        assert (HW_STARTUP in str(e.value) if victim.op == HW_STARTUP else ".py:" in str(e.value)), str(e.value)


@pytest.mark.parametrize("example", launch_ids())
def test_the_simulator_rejects_the_example_without_its_reconfigs(example, lowered):
    """Dynamically: with every reconfig gone, the first op unpacking or packing a CB of another
    format than the engine's stops the run, naming both formats and the call that fixes it."""
    program = lowered.launch(example, "F1")
    found = reconfigs(program)
    if not found:     # the startup configures every format the ops need (one per slot): nothing to reconfigure
        formats = formats_of(program)
        for slot in ("srca", "srcb", "pack"):
            assert len({n.value for x in walk(program.kernel("compute").body) if isinstance(x, l9.DST_OPS)
                        for n in needs(x, formats) if n.slot == slot}) <= 1, slot
        return
    stripped = program
    for victim in found:
        stripped = without(stripped, "compute", victim)
    with pytest.raises(ProtocolError) as e:
        api.simulate(stripped, "L9", lowered.launch_inputs(example))
    what = str(e.value)
    assert "configured for" in what or PACK_RECONFIG in what, what
    assert any(f"{v.op}(cb" in what for v in found), what
    assert re.search(r"at \w+\.py:\d+", what), what                   # the source line


@pytest.mark.slow
@pytest.mark.parametrize("example", launch_ids())
def test_the_simulator_rejects_the_example_without_each_startup_or_broadcast_init(example, lowered):
    """The inits that set formats and are not reconfigs: compute_kernel_hw_startup and every
    unary_bcast_init, each removed alone, stop the L9 run at a source line, naming the init: a
    missing startup at the first init it should precede, a missing broadcast init at the
    unary_bcast that needs it (with what the engine holds instead)."""
    program = lowered.launch(example, "F1")
    victims = [v for v in format_inits(program) if v.op == HW_STARTUP or v.op.startswith("unary_bcast_init")]
    for victim in victims:
        with pytest.raises(ProtocolError) as e:
            api.simulate(without(program, "compute", victim), "L9", lowered.launch_inputs(example))
        what = str(e.value)
        assert re.search(r"at \w+\.py:\d+", what), what
        if victim.op == HW_STARTUP:
            assert f"before {HW_STARTUP}" in what, what
        else:
            assert f"without {victim.op}(cb{victim.cbs[0]}" in what and "slot holds" in what, what


def test_the_examples_mix_formats_so_reconfigs_are_there(lowered):
    """Not vacuous: most examples mix Float16_b and Float32 CBs, and get reconfigured."""
    counts = {ex: len(reconfigs(lowered.launch(ex, "F1"))) for ex in launch_ids()}
    assert sum(1 for n in counts.values() if n) >= len(counts) // 2, counts
    assert counts["gemm_epilogue"] >= 3     # (the GEMM keeps its Float32 sums in DST: D5a, no reconfigs)


def test_a_format_mismatch_names_formats_line_and_fix(lowered):
    program = lowered.program("gemm_big_block", "F1")        # its sums are reloaded: D5a spills them
    victim = next(x for x in reconfigs(program) if x.op == SRCA_RECONFIG and x.cbs == (1,))
    with pytest.raises(ProtocolError) as e:
        api.simulate(without(program, "compute", victim), "L9", lowered.inputs("gemm_big_block"))
    assert ("matmul_block" in str(e.value) and "cb1 (Float16_b) into srcA, which is configured for Float32"
            in str(e.value) and "reconfig_data_format_srca(cb1)" in str(e.value)), str(e.value)
    assert "gemm_big_block.py:27" in str(e.value)


def test_unpack_to_dest_fp32_is_set_for_float32_copies_into_a_32bit_dst(lowered):
    from nanott.backends.metalium.plan import unpack_to_dest_fp32
    p = lowered.program("gemm_big_block", "F1")
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
