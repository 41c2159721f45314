"""The CPU runtime tracks data formats as the device does, and is stricter about them (slow tier:
one C++ build per example, so it runs with `make test-metal`).

Every example that mixes formats, built from its emitted C++ with every data-format
reconfiguration line removed from compute.cpp (reconfig_data_format_srca/_srcb,
pack_reconfig_data_format), fails on nanott's CPU runtime, naming the call, both formats and the
call that would fix it; the emitted examples themselves pass (tests/test_metalium_execute.py). A
Float32 copy into the 32-bit DST without UnpackToDestFp32 in main.cpp keeps only TF32's bits.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import launch_ids

from nanott.backends.metalium.build import build
from nanott.backends.metalium.execute import RunFailed, run_program, write_files
from nanott.backends.metalium.plan import Plan
from nanott.passes.g1_emit_metalium import emit_metalium
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
    if n == 0:                       # one format only: nothing to reconfigure
        assert len({cb.format for cb in plan.cbs}) == 1
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


def test_without_unpack_to_dest_a_float32_copy_keeps_tf32_bits(lowered, runtime_cache, tmp_path):
    """gemm copies its Float32 partial sums into the 32-bit DST: with UnpackToDestFp32 removed from
    main.cpp, the run's output differs from the emitted program's, by at most TF32's rounding."""
    files = dict(lowered.program("gemm", "G1"))
    plan = Plan.from_json(files["tt.plan.json"])
    inputs = lowered.inputs("gemm")
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
    # eight K steps, each reloading the partial sums through TF32 (2^-10 relative each)
    assert np.abs(rounded - exact).max() <= 8 * 2.0 ** -10 * scale
