"""The CPU runtime tracks data formats as the device does, and is stricter about them (slow tier:
one C++ build per example, so it runs with `make test-metal`).

Every example that mixes formats, built from its emitted C++ with every data-format
reconfiguration line removed from compute.cpp (reconfig_data_format_srca/_srcb,
pack_reconfig_data_format), fails on nanott's CPU runtime, naming the call, both formats and the
call that would fix it; the emitted examples themselves pass (tests/test_metalium_execute.py). A
Float32 copy into the 32-bit DST without UnpackToDestFp32 in main.cpp keeps only TF32's bits.
The other inits that set formats, removed: every unary_bcast_init (the runtime checks that each
unary_bcast runs after its own init), or compute_kernel_hw_startup (every init needs it first).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import launch_ids

from nanott.backends.metalium.build import build
from nanott.backends.metalium.execute import RunFailed, run_program, write_files
from nanott.backends.metalium.plan import Plan
from nanott.ir import walk
from nanott.languages import l9
from nanott.passes.g1_emit_metalium import emit_metalium
from nanott.sim.engine import formats_of, needs
from nanott.target import WORMHOLE_N150

RECONFIG = re.compile(r"^\s*(reconfig_data_format_src[ab]|pack_reconfig_data_format)\(.*\n", re.M)


@pytest.fixture(scope="module")
def runtime_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("runtime")


@pytest.mark.parametrize("example", launch_ids())
def test_the_runtime_rejects_the_example_without_its_reconfigs(example, lowered, runtime_cache, tmp_path):
    files = emit_metalium(lowered.launch(example, "F1"), WORMHOLE_N150)     # one launch: a program
    stripped, n = RECONFIG.subn("", files["compute.cpp"])
    plan = Plan.from_json(files["tt.plan.json"])
    if n == 0:                       # the startup configures every format the ops need: nothing to reconfigure
        program = lowered.launch(example, "F1")
        formats = formats_of(program)
        for slot in ("srca", "srcb", "pack"):
            assert len({need.value for x in walk(program.kernel("compute").body) if isinstance(x, l9.DST_OPS)
                        for need in needs(x, formats) if need.slot == slot}) <= 1, slot
        return
    write_files(tmp_path, files | {"compute.cpp": stripped})
    with pytest.raises(RunFailed) as failed:
        run_program(tmp_path, build(tmp_path, plan, runtime_cache), plan, lowered.launch_inputs(example),
                    WORMHOLE_N150, timeout=60)
    report = str(failed.value)
    formats = {cb.format for cb in plan.cbs}
    m = re.search(r"on cb\d+ \((\w+)\) while (srcA|srcB|the packer) is configured for (\w+|an unknown "
                  r"format): (reconfig_data_format_src[ab]|pack_reconfig_data_format)\(\d+\) before it would "
                  r"fix that", report)
    assert m and m[1] in formats and (m[3] in formats or m[3] == "an unknown format"), report


BCAST_INIT = re.compile(r"^\s*unary_bcast_init<BroadcastType::(ROW|COL)>\((\w+)(, \w+)?\);.*\n", re.M)
STARTUP = re.compile(r"^\s*compute_kernel_hw_startup\(.*\n", re.M)


def failure(files: dict, compute: str, inputs: dict, runtime_cache, tmp_path) -> str:
    """The CPU runtime's complaint about the program with compute.cpp replaced."""
    plan = Plan.from_json(files["tt.plan.json"])
    write_files(tmp_path, files | {"compute.cpp": compute})
    with pytest.raises(RunFailed) as failed:
        run_program(tmp_path, build(tmp_path, plan, runtime_cache), plan, inputs, WORMHOLE_N150, timeout=60)
    return str(failed.value)


@pytest.mark.parametrize("example", launch_ids())
def test_the_runtime_rejects_the_example_without_its_broadcast_inits(example, lowered, runtime_cache, tmp_path):
    """Every unary_bcast_init removed: the first unary_bcast names the init the engine holds instead
    and the one it needs (without it the unpacker would not broadcast on the device), or, where the
    missing init also set srcA's format, the format it unpacks with."""
    files = emit_metalium(lowered.launch(example, "F1"), WORMHOLE_N150)
    stripped, n = BCAST_INIT.subn("", files["compute.cpp"])
    if n == 0:                       # no vector spread over tiles: nothing to remove
        assert not any(isinstance(x, l9.UnaryBcast) for x in walk(lowered.launch(example, "F1").kernels))
        return
    report = failure(files, stripped, lowered.launch_inputs(example), runtime_cache, tmp_path)
    m = re.search(r"unary_bcast<(ROW|COL)> on cb(\d+) while the unpacker and math are configured by (\S+): "
                  r"unary_bcast_init<BroadcastType::(ROW|COL)>\((\d+)\) before it would fix that", report)
    fmt = re.search(r"unary_bcast on cb\d+ \((\w+)\) while srcA is configured for (\w+)", report)
    assert (m and m[1] == m[4] and m[2] == m[5] and "unary_bcast_init" not in m[3]) or fmt, report


@pytest.mark.parametrize("example", ["elementwise_add", "gemm", "softmax"])
def test_the_runtime_rejects_the_example_without_its_startup(example, lowered, runtime_cache, tmp_path):
    """compute_kernel_hw_startup removed: the first init names the full init it needs first."""
    files = emit_metalium(lowered.launch(example, "F1"), WORMHOLE_N150)
    stripped, n = STARTUP.subn("", files["compute.cpp"])
    assert n == 1
    report = failure(files, stripped, lowered.launch_inputs(example), runtime_cache, tmp_path)
    assert re.search(r"\w+ before the compute kernel's full init \(compute_kernel_hw_startup", report), report


def test_without_unpack_to_dest_a_float32_copy_keeps_tf32_bits(lowered, runtime_cache, tmp_path):
    """gemm_big_block copies its Float32 partial sums into the 32-bit DST (16 tiles: D5a spills
    them): with UnpackToDestFp32 removed from main.cpp, the run's output differs from the emitted
    program's, by at most TF32's rounding."""
    files = dict(lowered.program("gemm_big_block", "G1"))
    plan = Plan.from_json(files["tt.plan.json"])
    inputs = lowered.inputs("gemm_big_block")
    write_files(tmp_path, files)
    exact = run_program(tmp_path, build(tmp_path, plan, runtime_cache), plan, inputs, WORMHOLE_N150)["C"]
    main = re.sub(r"^\s*unpack_to_dest_mode\[\w+\] = UnpackToDestMode::UnpackToDestFp32;.*\n", "",
                  files["main.cpp"], flags=re.M)
    assert main != files["main.cpp"]
    other = tmp_path / "tf32"
    other.mkdir()
    write_files(other, files | {"main.cpp": main})
    rounded = run_program(other, build(other, plan, runtime_cache), plan, inputs, WORMHOLE_N150)["C"]
    scale = np.abs(exact).max()
    assert not np.array_equal(rounded, exact)
    # two K steps, each reloading the partial sums through TF32 (2^-10 relative each), and the
    # store-back copy once more
    assert np.abs(rounded - exact).max() <= 3 * 2.0 ** -10 * scale
