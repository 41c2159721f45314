"""tt.plan.json agrees with the four C++ files it describes, read back from the C++ text itself:
runtime-argument slots and per-core rows, accessor cta offsets and page sizes, CB ids, names,
formats, page sizes and sizes, compile-time arguments, the compute configuration. For every
example and every supported release (the spellings differ, the facts may not).
"""
from __future__ import annotations

import dataclasses
import re

import pytest

from nanott.backends.metalium.api import RELEASES, VERSIONS
from nanott.backends.metalium.plan import Plan
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l9
from nanott.passes.g1_emit_metalium import emit_metalium
from nanott.target import WORMHOLE_N150

from conftest import launch_ids

ARG = re.compile(r"const uint32_t (\w+) = get_arg_val<uint32_t>\((\d+)\);")
ACCESSOR_ARGS = re.compile(r"constexpr auto (\w+)_args = TensorAccessorArgs<(\d+)>\(\);")
ACCESSOR = re.compile(r"const auto (\w+) = TensorAccessor\(\w+_args, (\w+), (\d+)\);")
KERNEL_CB = re.compile(r"constexpr uint32_t cb_(\w+) = (\d+);  // \w+ -> \w+, (\d+) pages x (\d+) blocks of "
                       r"(\d+) B, (\w+)")
HOST_CB = re.compile(r"constexpr uint32_t cb_(\w+) = (\d+);.*\n.*CircularBufferConfig\((\d+), \{\{cb_\1, "
                     r"tt::DataFormat::(\w+)\}\}\)\.set_page_size\(cb_\1, (\d+)\)")
HOST_CTA = re.compile(r"TensorAccessorArgs\(\*(\w+)_buffer\)\.append_to\((\w+)_compile_args\);  // cta (\d+): "
                      r"\1, flags (\d+)")
HOST_ROWS = re.compile(r"const std::vector<std::vector<uint32_t>> (\w+)_args = \{(.*)\};")
HOST_CORES = re.compile(r"const std::vector<CoreCoord> (\w+)_cores = \{(.*)\};")


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("example", launch_ids())
def test_plan_matches_the_cpp(example, release, lowered):
    target = dataclasses.replace(WORMHOLE_N150, release=release)
    program = lowered.launch_for(example, "F1", release)
    if "read_tile_value" not in VERSIONS[release].calls and any(
            isinstance(x, l9.FrontElement) for x in walk(program.kernel("compute").body)):
        with pytest.raises(NanottError, match="has no read_tile_value"):    # compute reads a sent value
            emit_metalium(program, target)
        return
    files = emit_metalium(program, target)
    plan = Plan.from_json(files["tt.plan.json"])
    assert plan.api == release
    cbs = {cb.index: cb for cb in plan.cbs}
    for k in plan.kernels:
        text = files[k.source]
        # runtime arguments: each name read from the slot the plan gives it
        assert {n: int(i) for n, i in ARG.findall(text)} == {
            n: i for i, n in enumerate(k.runtime_args) if f"const uint32_t {n} =" in text}
        # accessors: cta offsets, base-address arguments and page sizes
        assert {t: int(o) for t, o in ACCESSOR_ARGS.findall(text)} == {a.tensor: a.cta_offset for a in k.accessors}
        for tensor, base, page in ACCESSOR.findall(text):
            assert base == f"{tensor}_addr" and int(page) == plan.tensor(tensor).page_bytes
        # CBs: id, name, format, page size, pages
        for name, i, pages, depth, page, fmt in KERNEL_CB.findall(text):
            cb = cbs[int(i)]
            assert (cb.name, cb.format, cb.page_bytes, cb.pages) == (name, fmt, int(page), int(pages) * int(depth))
    # not vacuous: the patterns do find what they check
    assert KERNEL_CB.findall(files["compute.cpp"]) and ACCESSOR.findall(files["reader.cpp"])
    assert ARG.findall(files["reader.cpp"]) and ARG.findall(files["writer.cpp"])
    main = files["main.cpp"]
    found = {int(i): (name, int(size), fmt, int(page)) for name, i, size, fmt, page in HOST_CB.findall(main)}
    assert found == {cb.index: (cb.name, cb.bytes, cb.format, cb.page_bytes) for cb in plan.cbs}
    # compile-time arguments: the host appends each accessor's flags in cta order
    ctas = [(role, tensor, int(off), int(flags)) for tensor, role, off, flags in HOST_CTA.findall(main)]
    assert ctas == [(k.role, a.tensor, a.cta_offset, f) for k in plan.kernels
                    for a, f in zip(k.accessors, k.compile_args)]
    # per-core runtime rows: the plan's values, a tensor's address (the NoC origin) by its host variable
    rows = {role: re.findall(r"\{([^{}]*)\}", body) for role, body in HOST_ROWS.findall(main)}
    assert set(rows) == {k.role for k in plan.kernels} and ctas
    cores = {role: re.findall(r"\{(\d+), (\d+)\}", body) for role, body in HOST_CORES.findall(main)}
    for k in plan.kernels:
        mine = [r for r in plan.runtime_args if r.role == k.role]
        assert [tuple(map(int, c)) for c in cores[k.role]] == [tuple(r.core) for r in mine]
        assert [row.split(", ") for row in rows[k.role]] == [
            [v.replace(".address", "_addr").replace("noc.", "noc_") if isinstance(v, str) else str(v)
             for v in r.values] for r in mine]
    c = plan.compute
    assert f".math_fidelity = MathFidelity::{c.math_fidelity}" in main
    assert f".fp32_dest_acc_en = {str(c.fp32_dest_acc_en).lower()}" in main
    assert sorted(re.findall(r"unpack_to_dest_mode\[cb_(\w+)\] = UnpackToDestMode::UnpackToDestFp32", main)) == \
        sorted(cbs[i].name for i in c.unpack_to_dest_fp32)
    assert all(f'{{"{k}", "{v}"}}' in main for k, v in c.defines)
