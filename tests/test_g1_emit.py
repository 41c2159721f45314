"""G1 emit-metalium: the emitted C++ is the L9 program, printed, and it compiles.

Two L9 programs are built by hand here, following the grammars (a GEMM over a persistent block
loop with a K loop; an elementwise kernel with every compute call: copy, FPU add, SFPU scalar,
fill, SFPU binary, packs at explicit slots), and the examples come through the real pipeline
(`lowered`, which fails, never skips, while a pass is missing). The tests check that each file
holds what the IR says (one call per node, runtime arguments at E1's slots, accessors at D2's cta
offsets, CBs and compute configuration from their plans), that another API version changes the
calls, that the output is deterministic, and that every file passes `g++ -std=c++20
-fsyntax-only` against the runtime's headers (nanott/backends/metalium/runtime/include: the
real signatures), warnings as errors.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import launch_ids

from nanott.backends.json import dump, load
from nanott.backends.metalium import api as metalium
from nanott.backends.metalium.build import INCLUDE
from nanott.backends.metalium.host import core_ranges
from nanott.backends.metalium.plan import SCHEMA, Plan, plan_of
from nanott.ir import CheckError, Loc, walk
from nanott.languages import l9
from nanott.passes.e1_finalize_signature import NOC_ORIGIN, finalize_signature
from nanott.passes.g1_emit_metalium import emit_metalium
from nanott.target import WORMHOLE_N150

HEADERS = INCLUDE
FILES = ["reader.cpp", "compute.cpp", "writer.cpp", "main.cpp", "tt.plan.json", "CMakeLists.txt"]
pytestmark = pytest.mark.G1


# ----- two L9 programs, by hand -----
def c(n: int) -> l9.Const:
    return l9.Const(n, "int32")


def v(name: str) -> l9.Var:
    return l9.Var(name)


def op(o: str, a, b) -> l9.BinOp:
    return l9.BinOp(o, a, b)


def tensor(name, rows, cols, fmt="Float16_b", dtype="bfloat16", page=2048) -> l9.Tensor:
    layout = l9.TileLayout("dram", "interleaved", fmt, (rows, cols), (rows // 32, cols // 32), page)
    return l9.Tensor(name, (rows, cols), dtype, layout, l9.Accessor(page, 12, True, 2))


def cb(i, name, producer, consumer, pages=1, fmt="Float16_b", dtype="bfloat16", page=2048):
    plan = l9.CbPlan(fmt, page, pages, 2, "double-buffered")
    return l9.CircularBuffer(i, name, (32, 32 * pages), dtype, "shared", plan, producer, consumer)


def work(n: int) -> l9.WorkSplit:
    return l9.WorkSplit((8, 8), n, tuple(l9.CoreWork((i % 8, i // 8), i, 1) for i in range(n)))


def gemm_program() -> l9.Program:
    """C = A @ B, 64x64x64 in 32x32x32 blocks: 4 blocks on 4 cores, 2 steps along K."""
    at = lambda n: Loc("gemm.py", n)  # noqa: E731
    ids = (l9.Let("bid", op("+", l9.CoreArg("start"), v("b")), loc=at(14)),
           l9.Let("by", op("//", v("bid"), c(2)), loc=at(14)),
           l9.Let("bx", op("%", v("bid"), c(2)), loc=at(14)))
    reads = (l9.CbReserve(0, 1, loc=at(19)),
             l9.NocReadPage("A", op("+", op("*", v("by"), c(2)), v("k")), 0, c(0), loc=at(19)),
             l9.NocReadBarrier(loc=at(19)), l9.CbPush(0, 1, loc=at(19)), l9.CbReserve(1, 1, loc=at(20)),
             l9.NocReadPage("B", op("+", op("*", v("k"), c(2)), v("bx")), 1, c(0), loc=at(20)),
             l9.NocReadBarrier(loc=at(20)), l9.CbPush(1, 1, loc=at(20)))
    reader = l9.DeviceKernel("reader", (l9.For("b", l9.CoreArg("count"), "persistent", 0, ids + (
        l9.For("k", c(2), "pipelined", 2, reads, loc=at(18)),), loc=at(13)),),
        (l9.Binding("A", 0, "A_addr"), l9.Binding("B", 1, "B_addr")))
    k_loop = (l9.CbWait(0, 1, loc=at(21)), l9.CbWait(1, 1, loc=at(21)),
              l9.MatmulTiles(0, 1, c(0), c(0), c(0), loc=at(21)),
              l9.CbPop(0, 1, loc=at(21)), l9.CbPop(1, 1, loc=at(21)))
    compute = l9.DeviceKernel("compute", (
        l9.Init("compute_kernel_hw_startup", (0, 1, 2), loc=at(21)),
        l9.Init("mm_init_short", (0, 1), loc=at(21)),
        l9.For("b", l9.CoreArg("count"), "persistent", 0, (
            l9.CbReserve(2, 1, loc=at(17)), l9.RegsAcquire(loc=at(21)),
            l9.For("k", c(2), "pipelined", 2, k_loop, loc=at(18)),
            l9.RegsCommit(loc=at(21)), l9.RegsWait(loc=at(23)), l9.PackTile(c(0), 2, c(0), loc=at(23)),
            l9.RegsRelease(loc=at(23)), l9.CbPush(2, 1, loc=at(23))), loc=at(13))), ())
    writes = (l9.CbWait(2, 1, loc=at(24)),
              l9.NocWritePage(2, c(0), "C", op("+", op("*", v("by"), c(2)), v("bx")), loc=at(24)),
              l9.NocWriteBarrier(loc=at(24)), l9.CbPop(2, 1, loc=at(24)))
    writer = l9.DeviceKernel("writer", (l9.For("b", l9.CoreArg("count"), "persistent", 0, ids + writes,
                                               loc=at(13)),), (l9.Binding("C", 0, "C_addr"),))
    p = l9.Program("gemm", (tensor("A", 64, 64), tensor("B", 64, 64), tensor("C", 64, 64)), work(4),
                   (cb(0, "A_shared", "reader", "compute"), cb(1, "B_shared", "reader", "compute"),
                    cb(2, "C_local", "compute", "writer")), (reader, compute, writer), (),
                   l9.ComputeConfig(False, 8, "HiFi4"), None)
    return finalize_signature(p, WORMHOLE_N150)


def eltwise_program() -> l9.Program:
    """C = (A + B) * 2 + 0.5 (via DST), 32x192 in blocks of 1x2 tiles: 3 blocks on 3 cores."""
    at = lambda n: Loc("add.py", n)  # noqa: E731
    j, start = v("j"), l9.CoreArg("start")

    def read(tensor_name, cb_index, var, line):
        page = op("+", op("*", start, c(2)), v(var))
        return (l9.CbReserve(cb_index, 2, loc=at(line)), l9.For(var, c(2), "serial", 0, (
            l9.NocReadPage(tensor_name, page, cb_index, v(var), loc=at(line)),), loc=at(line)),
            l9.NocReadBarrier(loc=at(line)), l9.CbPush(cb_index, 2, loc=at(line)))

    def each(node, line):
        return l9.For("j", c(2), "serial", 0, (node,), loc=at(line))

    reader = l9.DeviceKernel("reader", read("A", 0, "j0", 10) + read("B", 1, "j1", 11),
                             (l9.Binding("A", 0, "A_addr"), l9.Binding("B", 1, "B_addr")))
    even, odd = op("*", j, c(2)), op("+", op("*", j, c(2)), c(1))
    compute = l9.DeviceKernel("compute", (
        l9.Init("compute_kernel_hw_startup", (0, 1, 2), loc=at(12)),
        l9.CbWait(0, 2, loc=at(12)), l9.CbWait(1, 2, loc=at(12)), l9.CbReserve(2, 2, loc=at(12)),
        l9.RegsAcquire(loc=at(12)),
        l9.Init("copy_tile_init", (0,), loc=at(13)), l9.CopyTile(0, c(0), c(0), loc=at(13)),
        l9.Init("add_tiles_init", (0, 1), loc=at(13)),
        each(l9.BinaryTiles("add", 0, 1, j, j, even, loc=at(13)), 13),
        l9.Init("binop_with_scalar_tile_init", (), loc=at(13)),
        each(l9.SfpuScalar("mul", even, 2.0, loc=at(13)), 13),
        l9.Init("fill_tile_init", (), loc=at(13)), each(l9.FillTile(odd, 0.5, loc=at(13)), 13),
        l9.Init("add_binary_tile_init", (), loc=at(13)),
        each(l9.SfpuBinary("add", even, odd, even, loc=at(13)), 13),
        l9.RegsCommit(loc=at(13)), l9.RegsWait(loc=at(14)), each(l9.PackTile(even, 2, j, loc=at(14)), 14),
        l9.RegsRelease(loc=at(14)), l9.CbPop(0, 2, loc=at(12)), l9.CbPop(1, 2, loc=at(12)),
        l9.CbPush(2, 2, loc=at(14))), ())
    writer = l9.DeviceKernel("writer", (l9.CbWait(2, 2, loc=at(15)), l9.For("j2", c(2), "serial", 0, (
        l9.NocWritePage(2, v("j2"), "C", op("+", op("*", start, c(2)), v("j2")), loc=at(15)),), loc=at(15)),
        l9.NocWriteBarrier(loc=at(15)), l9.CbPop(2, 2, loc=at(15))), (l9.Binding("C", 0, "C_addr"),))
    p = l9.Program("add", (tensor("A", 32, 192), tensor("B", 32, 192),
                           tensor("C", 32, 192, "Float32", "float32", 4096)), work(3),
                   (cb(0, "A_shared", "reader", "compute", 2), cb(1, "B_shared", "reader", "compute", 2),
                    cb(2, "C_shared", "compute", "writer", 2, "Float32", "float32", 4096)),
                   (reader, compute, writer), (), l9.ComputeConfig(True, 4, "HiFi2"), None)
    return finalize_signature(p, WORMHOLE_N150)


HAND = {"gemm_hand": gemm_program, "eltwise_hand": eltwise_program}
PROGRAMS = [pytest.param(name, id=name) for name in HAND] + [pytest.param(ex, id=ex) for ex in launch_ids()]


def program_of(name: str, lowered) -> l9.Program:
    return HAND[name]() if name in HAND else lowered.launch_for(name, "F1", metalium.TARGET.version)


@pytest.fixture(params=PROGRAMS)
def case(request, lowered) -> tuple[l9.Program, dict[str, str]]:
    p = program_of(request.param, lowered)
    l9.LANG.check(p)
    return p, emit_metalium(p, WORMHOLE_N150, api=metalium.TARGET)   # the printer, in 0.66.0's spelling


@pytest.fixture(scope="module")
def gemm() -> tuple[l9.Program, dict[str, str]]:
    p = gemm_program()
    return p, emit_metalium(p, WORMHOLE_N150, api=metalium.TARGET)


@pytest.fixture(scope="module")
def eltwise() -> tuple[l9.Program, dict[str, str]]:
    p = eltwise_program()
    return p, emit_metalium(p, WORMHOLE_N150, api=metalium.TARGET)


# ----- every file holds what the IR says -----
NODE_CALLS = {"CbReserve": "cb_reserve_back(", "CbPush": "cb_push_back(", "CbWait": "cb_wait_front(",
              "CbPop": "cb_pop_front(", "NocReadPage": "noc_async_read_page(",
              "NocWritePage": "noc_async_write_page(", "NocReadBarrier": "noc_async_read_barrier(",
              "NocWriteBarrier": "noc_async_write_barrier(", "RegsAcquire": "tile_regs_acquire(",
              "RegsCommit": "tile_regs_commit(", "RegsWait": "tile_regs_wait(",
              "RegsRelease": "tile_regs_release(", "CopyTile": "copy_tile(", "MatmulTiles": "matmul_tiles(",
              "PackTile": "pack_tile<true>(", "FillTile": "fill_tile(", "For": "for (",
              "Let": "const uint32_t"}


def test_files_and_headers(case):
    p, files = case
    assert list(files) == FILES
    for name in FILES[:4]:
        assert files[name].startswith(f"// {name}: the ") and f" of {p.name}, emitted by nanott G1 " \
            f"emit-metalium (L9 -> C++)" in files[name].splitlines()[0]
    assert files["CMakeLists.txt"].startswith(f"# CMakeLists.txt: builds the host program of {p.name}")


def test_one_call_per_node(case):
    """Each statement prints as exactly one call: counts of calls equal counts of IR nodes (a
    generated block prints as a loop per dim)."""
    p, files = case
    for k in p.kernels:
        nodes = Counter(type(x).__name__ for x in walk(k.body))
        nodes["For"] += sum(len(x.vars) for x in walk(k.body) if type(x).__name__ == "GenerateToCb")
        body = files[f"{k.role}.cpp"].split("kernel_main() {", 1)[1]
        for node, call in NODE_CALLS.items():
            expected = nodes[node] + (body.count("get_arg_val") if node == "Let" else 0)
            assert body.count(call) == expected, \
                f"{k.role}: {call} x{body.count(call)}, IR has {node} x{nodes[node]}"
        tiles = Counter(f"{x.op}_tiles{'' if x.bcast == 'none' else '_bcast_' + x.bcast}("
                        for x in walk(k.body) if isinstance(x, l9.BinaryTiles))
        tiles.update(f"{l9.sfpu_binary(x.op)}(" for x in walk(k.body) if isinstance(x, l9.SfpuBinary))
        tiles.update(f"{x.op}_unary_tile(" for x in walk(k.body) if isinstance(x, l9.SfpuScalar))
        tiles.update(f"{x.op}_tile(" for x in walk(k.body) if isinstance(x, l9.SfpuUnary))
        tiles.update("typecast_tile<" for x in walk(k.body) if isinstance(x, l9.SfpuTypecast))
        tiles.update("transpose_wh_tile(" for x in walk(k.body) if isinstance(x, l9.TransposeTile))
        tiles.update("unary_bcast<" for x in walk(k.body) if isinstance(x, l9.UnaryBcast))
        tiles.update("reduce_tile<" for x in walk(k.body) if isinstance(x, l9.ReduceTile))
        # an init with template arguments (typecast_tile_init<Float32, Float16_b>) is spelled with
        # the formats' values: count its name
        tiles.update(x.op.split("<")[0] + ("<" if "<" in x.op else "(") for x in walk(k.body)
                     if isinstance(x, l9.Init))
        for call, n in tiles.items():
            assert len(re.findall(r"(?<![\w])" + re.escape(call), body)) == n, f"{k.role}: {call}"


def test_runtime_args_at_e1_slots(case):
    p, files = case
    for k in p.kernels:
        slots = next(a.names for a in p.args.kernels if a.role == k.role)
        reads = re.findall(r"const uint32_t (\w+) = get_arg_val<uint32_t>\((\d+)\);", files[f"{k.role}.cpp"])
        used = {x.name for x in walk(k.body) if isinstance(x, l9.CoreArg)} | {b.addr_arg for b in k.bindings}
        if any(isinstance(x, (l9.SemInc, l9.McastPages, l9.SemSetMcast)) for x in walk(k.body)):
            used |= set(NOC_ORIGIN)            # it addresses other cores: E1's NoC origin
        assert {name for name, _ in reads} == used
        assert all(int(i) == slots.index(name) for name, i in reads)


def test_slots_follow_the_table_not_a_count(gemm):
    """Reverse E1's slot order (names and every core's values): the kernels read the new indices
    and the host passes the values in the new order."""
    p, _ = gemm
    flip = l9.ArgTable(tuple(replace(k, names=k.names[::-1]) for k in p.args.kernels),
                       tuple(replace(r, values=r.values[::-1]) for r in p.args.cores))
    files = emit_metalium(replace(p, args=flip), WORMHOLE_N150)
    assert "const uint32_t count = get_arg_val<uint32_t>(0);" in files["reader.cpp"]
    assert "const uint32_t A_addr = get_arg_val<uint32_t>(3);" in files["reader.cpp"]
    assert "{1, 0, B_addr, A_addr}, {1, 1, B_addr, A_addr}" in files["main.cpp"]


def test_accessors_at_binding_cta_offsets(case):
    p, files = case
    for k in p.kernels:
        text = files[f"{k.role}.cpp"]
        for b in k.bindings:
            page = next(t.layout.page_bytes for t in p.params if t.name == b.tensor)
            assert f"constexpr auto {b.tensor}_args = TensorAccessorArgs<{b.cta_offset}>();" in text
            assert f"const auto {b.tensor} = TensorAccessor({b.tensor}_args, {b.addr_arg}, {page});" in text
        appended = rf"TensorAccessorArgs\(\*(\w+)_buffer\)\.append_to\({k.role}_compile_args\)"
        host = re.findall(appended, files["main.cpp"])
        assert host == [b.tensor for b in sorted(k.bindings, key=lambda b: b.cta_offset)]


def test_cb_constants_from_cb_names(case):
    p, files = case
    for cb_ in p.cbs:
        assert f"constexpr uint32_t cb_{cb_.name} = {cb_.index};" in files["main.cpp"]
        plan = cb_.plan
        assert (f"CircularBufferConfig({plan.pages * plan.page_bytes}, {{{{cb_{cb_.name}, tt::DataFormat::"
                f"{plan.format}}}}}).set_page_size(cb_{cb_.name}, {plan.page_bytes})") in files["main.cpp"]
        for role in (cb_.producer, cb_.consumer):
            assert f"constexpr uint32_t cb_{cb_.name} = {cb_.index};" in files[f"{role}.cpp"]


def test_compute_config_and_every_core_gets_arguments(case):
    p, files = case
    main = files["main.cpp"]
    fp32 = str(p.compute.fp32_dest_acc).lower()
    assert f"MathFidelity::{p.compute.math_fidelity}, .fp32_dest_acc_en = {fp32}" in main
    for role in ("reader", "compute", "writer"):
        rows = [r for r in p.args.cores if r.role == role]
        assert {tuple(r.core) for r in rows} == {tuple(w.core) for w in p.work.cores}
        cores = re.search(rf"const std::vector<CoreCoord> {role}_cores = \{{(.*)\}};", main).group(1)
        assert cores == ", ".join(f"{{{r.core[0]}, {r.core[1]}}}" for r in rows)
    assert main.count("SetRuntimeArgs(") == 3 and main.count("CreateKernel(") == 3


def test_plan_reads_back_and_is_versioned(case):
    p, files = case
    plan = Plan.from_json(files["tt.plan.json"])
    assert plan == plan_of(p, WORMHOLE_N150, metalium.TARGET)
    assert json.loads(files["tt.plan.json"])["schema"] == SCHEMA == "nanott.plan/3"
    assert plan.emitted_by == "nanott G1 emit-metalium (L9 -> C++)" and plan.kernel == p.name
    assert [k.compile_args for k in plan.kernels] == [tuple(t.accessor.cta_flags for t in p.params for b in
                                                            sorted(k.bindings, key=lambda b: b.cta_offset)
                                                            if b.tensor == t.name) for k in p.kernels]


def test_deterministic(case):
    """The same program prints the same bytes, also after a JSON round trip of the IR."""
    p, files = case
    again, _, _ = load(dump(p, "L9", "F1"))
    assert emit_metalium(again, WORMHOLE_N150, api=metalium.TARGET) == files


# ----- the hand-built programs, line by line -----
def test_gemm_reader_lines(gemm):
    _, f = gemm
    reader = f["reader.cpp"]
    assert "    for (uint32_t b = 0; b < count; ++b) {  // gemm.py:13\n" in reader
    assert "        const uint32_t bid = start + b;  // gemm.py:14\n" in reader
    assert "        const uint32_t by = bid / 2;\n" in reader          # the same line: named once
    assert "            cb_reserve_back(cb_A_shared, 1);  // gemm.py:19\n" in reader
    assert "            noc_async_read_page((by * 2) + k, A, get_write_ptr(cb_A_shared));\n" in reader
    assert '#include "api/dataflow/dataflow_api.h"' in reader and "compute_kernel_api" not in reader


def test_gemm_compute_lines(gemm):
    _, f = gemm
    compute = f["compute.cpp"]
    assert "            matmul_tiles(cb_A_shared, cb_B_shared, 0, 0, 0);\n" in compute
    assert "        tile_regs_wait();  // gemm.py:23\n        pack_tile<true>(0, cb_C_local, 0);\n" in compute
    assert "    compute_kernel_hw_startup(cb_A_shared, cb_B_shared, cb_C_local);  // gemm.py:21\n" in compute
    order = [compute.index(call) for call in ("tile_regs_acquire", "matmul_tiles", "tile_regs_commit")]
    assert order == sorted(order)
    assert "void kernel_main() {" in compute and '#include "compute_kernel_api/matmul.h"' in compute


def test_eltwise_compute_lines(eltwise):
    _, f = eltwise
    compute = f["compute.cpp"]
    assert "        mul_unary_tile(j * 2, 0x40000000u);  // 2.0f as float32 bits\n" in compute
    assert "        fill_tile((j * 2) + 1, 0.5f);\n" in compute
    assert "        add_binary_tile(j * 2, (j * 2) + 1, j * 2);\n" in compute
    assert "        add_tiles(cb_A_shared, cb_B_shared, j, j, j * 2);\n" in compute
    assert "    copy_tile_init(cb_A_shared);  // add.py:13\n    copy_tile(cb_A_shared, 0, 0);\n" in compute
    assert "    tile_regs_wait();  // add.py:14\n" in compute
    assert "        pack_tile<true>(j * 2, cb_C_shared, j);\n" in compute
    assert "get_arg_val" not in compute          # no CoreArg in its body: no runtime argument read


def test_eltwise_dataflow_slots_and_host(eltwise):
    _, f = eltwise
    assert "get_write_ptr(cb_A_shared) + j0 * 2048);" in f["reader.cpp"]
    assert ("noc_async_write_page((start * 2) + j2, C, get_read_ptr(cb_C_shared) + j2 * 4096);"
            in f["writer.cpp"])
    main = f["main.cpp"]
    assert 'tilize_nfaces(read_tensor<bfloat16>(in_dir + "/A.bin", 6144), 32, 192)' in main
    assert 'write_tensor(out_dir + "/C.bin", untilize_nfaces(C_result, 32, 192));' in main
    assert "std::vector<float> C_result;" in main and "C_host" not in main
    assert "ReplicatedBufferConfig{.size = 24576}" in main       # 6 tiles of 4096 B
    assert "{A_addr, B_addr, 2}" in main and "{C_addr, 2}" in main
    assert "CoreRange(CoreCoord{0, 0}, CoreCoord{2, 0})" in main


def test_cmake_builds_only_the_host():
    files = emit_metalium(gemm_program(), WORMHOLE_N150)
    cmake = files["CMakeLists.txt"]
    assert "add_executable(gemm main.cpp)" in cmake and "TT::Metalium" in cmake
    assert "reader.cpp" not in cmake.split("add_executable")[1]


@pytest.mark.parametrize("cores, ranges", [
    ([(x, y) for y in range(8) for x in range(8)], [((0, 0), (7, 7))]),
    ([(i % 8, i // 8) for i in range(10)], [((0, 0), (7, 0)), ((0, 1), (1, 1))]),
    ([(i % 8, i // 8) for i in range(20)], [((0, 0), (7, 1)), ((0, 2), (3, 2))]),
    ([(0, 0), (2, 0)], [((0, 0), (0, 0)), ((2, 0), (2, 0))]),
])
def test_core_ranges_cover_exactly(cores, ranges):
    assert core_ranges(tuple(cores)) == ranges


# ----- the API table -----
def test_older_release_changes_the_calls(gemm):
    p, now = gemm
    old = emit_metalium(p, WORMHOLE_N150, api=metalium.VERSIONS["0.65.0"])
    assert "matmul_tiles(cb_A_shared, cb_B_shared, 0, 0, 0, false);" in old["compute.cpp"]
    assert "matmul_tiles(cb_A_shared, cb_B_shared, 0, 0, 0);" in now["compute.cpp"]
    assert "namespace NAMESPACE {\nvoid MAIN {" in old["compute.cpp"]
    assert "kernel_main" not in old["compute.cpp"]
    assert '#include "dataflow_api.h"' in old["reader.cpp"]
    assert '"api": "0.65.0"' in old["tt.plan.json"]


def test_deprecated_tile_transfer_switch(gemm):
    p, _ = gemm
    tiles = emit_metalium(p, WORMHOLE_N150, api=metalium.TARGET.switched("tile-calls", "tile_transfer"))
    assert "noc_async_read_tile((by * 2) + k, A, get_write_ptr(cb_A_shared));" in tiles["reader.cpp"]
    assert "noc_async_write_tile(" in tiles["writer.cpp"] and "_page(" not in tiles["writer.cpp"]


def test_a_call_missing_from_the_table_is_a_compiler_bug(gemm):
    p, _ = gemm
    calls = {k: c_ for k, c_ in metalium.TARGET.calls.items() if k != "mm_init_short"}
    with pytest.raises(CheckError, match="has no 'mm_init_short'"):
        emit_metalium(p, WORMHOLE_N150, api=metalium.Api("broken", calls))


# ----- what the printer refuses -----
def with_compute(p: l9.Program, body: tuple) -> l9.Program:
    k = p.kernel("compute")
    return replace(p, kernels=tuple(replace(k, body=body) if x.role == "compute" else x for x in p.kernels))


def test_refuses_what_it_cannot_print(gemm):
    p, _ = gemm
    with pytest.raises(CheckError, match="runtime-argument table"):
        emit_metalium(replace(p, args=None), WORMHOLE_N150)
    with pytest.raises(CheckError, match=r"no slot for \['start'\]"):
        emit_metalium(with_compute(p, (l9.Let("s", l9.CoreArg("start")),)), WORMHOLE_N150)
    with pytest.raises(CheckError, match="takes"):
        emit_metalium(with_compute(p, (l9.Init("mm_init_short", (0,)),)), WORMHOLE_N150)
    r = p.kernel("reader")
    twice = replace(r, bindings=(r.bindings[0], replace(r.bindings[0], cta_offset=1)))
    with pytest.raises(CheckError, match="declares 'A_args' twice in one scope"):
        emit_metalium(replace(p, kernels=(twice,) + p.kernels[1:]), WORMHOLE_N150)
    with pytest.raises(CheckError, match="not a C\\+\\+ identifier"):
        emit_metalium(with_compute(p, (l9.Let("new", c(1)),)), WORMHOLE_N150)
    with pytest.raises(CheckError, match="has no 'gelu_tile_init'"):
        emit_metalium(with_compute(p, (l9.Init("gelu_tile_init", ()),)), WORMHOLE_N150)
    with pytest.raises(CheckError, match="at most 1 arguments"):
        emit_metalium(with_compute(p, (l9.Init("mm_init_short", (0, 1), (1, 0)),)), WORMHOLE_N150)


def test_a_let_that_rebinds_opens_a_scope(gemm):
    """`let x = 1; use x; let x = 2; use x` keeps the IR's shadowing: the second let and what
    follows it go in a nested block (C++ cannot redeclare in one scope)."""
    p, _ = gemm
    body = (l9.Let("x", c(1)), l9.CopyTile(0, v("x"), c(0)), l9.Let("x", c(2)), l9.CopyTile(0, v("x"), c(1)))
    compute = emit_metalium(with_compute(p, body), WORMHOLE_N150)["compute.cpp"]
    assert ("    const uint32_t x = 1;\n    copy_tile(cb_A_shared, x, 0);\n"
            "    {  // let x again: a new scope\n"
            "        const uint32_t x = 2;\n        copy_tile(cb_A_shared, x, 1);\n    }\n}\n") in compute


def test_refuses_a_let_that_reads_the_name_it_defines(gemm):
    p, _ = gemm
    body = (l9.Let("x", c(1)), l9.Let("x", op("+", v("x"), c(1))))
    with pytest.raises(CheckError, match="reads 'x' in its own definition"):
        emit_metalium(with_compute(p, body), WORMHOLE_N150)


def test_refuses_a_runtime_argument_hidden_by_a_let(gemm):
    p, _ = gemm
    body = (l9.For("i", c(1), "serial", 0, (l9.Let("count", c(3)), l9.Let("n", l9.CoreArg("count")))),)
    with pytest.raises(CheckError, match="runtime argument 'count' is hidden by a loop or let"):
        emit_metalium(with_compute(p, body), WORMHOLE_N150)


def test_refuses_a_gap_in_the_cta_offsets(gemm):
    p, _ = gemm
    r = p.kernel("reader")
    gap = replace(r, bindings=(r.bindings[0], replace(r.bindings[1], cta_offset=2)))
    with pytest.raises(CheckError, match="at cta 2; the accessors before it take 1"):
        emit_metalium(replace(p, kernels=(gap,) + p.kernels[1:]), WORMHOLE_N150)


# ----- it compiles against the real signatures -----
GXX = shutil.which("g++")


def needs_gxx(test):
    """A g++ syntax check of emitted C++: a C++ build, so `make test-fast` leaves it out."""
    return pytest.mark.slow(pytest.mark.skipif(GXX is None, reason="g++ is not installed")(test))


FLAGS = ["-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Werror",
         f"-I{HEADERS}"]


def gxx(path: Path, *defines: str) -> subprocess.CompletedProcess:
    return subprocess.run([GXX, *FLAGS, *defines, str(path)], capture_output=True, text=True, timeout=120)


def compile_all(files: dict[str, str], tmp: Path) -> list[str]:
    """Each kernel as the JIT builds it (DM kernels with their compile-time arguments, compute once
    per TRISC), and the host; the compiler's complaints, if any."""
    plan = Plan.from_json(files["tt.plan.json"])
    for name, text in files.items():
        (tmp / name).write_text(text)
    runs = []
    for k in plan.kernels:
        if k.role == "compute":        # with ComputeConfig.defines, as the JIT build passes them
            defines = " ".join(f"-D{name}={value}" for name, value in plan.compute.defines)
            runs += [(k.source, f"-DTRISC_{t} {defines}".strip()) for t in ("UNPACK", "MATH", "PACK")]
        else:
            runs.append((k.source, "-DKERNEL_COMPILE_TIME_ARGS=" + ",".join(map(str, k.compile_args))))
    runs.append(("main.cpp", '-DNANOTT_KERNEL_DIR="kernels"'))
    return [f"{src} {flag}:\n{r.stderr}" for src, flag in runs if (r := gxx(tmp / src, *flag.split())).returncode]


@needs_gxx
@pytest.mark.slow
def test_every_file_compiles(case, tmp_path):
    _, files = case
    problems = compile_all(files, tmp_path)
    assert not problems, "\n".join(problems)


@needs_gxx
@pytest.mark.parametrize("example", ["gemm", "softmax", "layer_norm", "flash_attention"])
def test_the_default_release_compiles_too(example, lowered, tmp_path):
    """0.81.1's spelling (api/compute/ headers, matmul_init, copy_init, ...) against the CPU headers."""
    files = emit_metalium(lowered.program(example, "F1"), WORMHOLE_N150)
    assert "// for tt-metal 0.81.1" in files["compute.cpp"]
    problems = compile_all(files, tmp_path)
    assert not problems, "\n".join(problems)


@needs_gxx
def test_headers_reject_what_the_api_rejects(gemm, tmp_path):
    """The header set is not shaped to the generator: the older 6-argument matmul_tiles, too few
    compile-time arguments and an 8-byte runtime argument all fail, as on the device."""
    p, files = gemm
    old = emit_metalium(p, WORMHOLE_N150, api=metalium.VERSIONS["0.65.0"])
    (tmp_path / "old.cpp").write_text(old["compute.cpp"])
    r = gxx(tmp_path / "old.cpp", "-DTRISC_MATH", "-DNAMESPACE=chlkc_math")
    assert r.returncode and "too many arguments to function" in r.stderr
    legacy = emit_metalium(p, WORMHOLE_N150, api=metalium.TARGET.switched("legacy", "legacy_compute_main"))
    (tmp_path / "legacy.cpp").write_text(legacy["compute.cpp"])    # the legacy form is still accepted
    assert gxx(tmp_path / "legacy.cpp", "-DTRISC_MATH", "-DNAMESPACE=chlkc_math").returncode == 0
    (tmp_path / "reader.cpp").write_text(files["reader.cpp"])
    r = gxx(tmp_path / "reader.cpp", "-DKERNEL_COMPILE_TIME_ARGS=2")
    assert r.returncode and "compile-time argument index out of range" in r.stderr
    wide = files["reader.cpp"].replace("get_arg_val<uint32_t>(0)", "get_arg_val<uint64_t>(0)")
    (tmp_path / "wide.cpp").write_text(wide)
    r = gxx(tmp_path / "wide.cpp", "-DKERNEL_COMPILE_TIME_ARGS=2,2")
    assert r.returncode and "only 4B args are supported" in r.stderr
