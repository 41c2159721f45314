"""G1 for real: the emitted C++ built with g++ against nanott's CPU implementation of the Metalium
API (nanott/backends/metalium/runtime), run, and checked.

For every example, the program G1 prints compiles, runs on seeded random inputs and matches the
NumPy reference within the output dtype's tolerance (api.TOLERANCE), and agrees with nanott's own
L9 interpreter: bit for bit unless the kernel sums (a matmul or a reduction: NumPy's order differs
from the runtime's) or calls a transcendental SFPU function (libm's and NumPy's float32 functions
may differ in the last bit). A hand-built program calls every compute operation G1 prints; a small
C++ program checks the face order of tiles and the interleaving of DRAM pages over the banks.
A protocol broken on purpose in the emitted text is reported, not hung on: a dropped cb_push_back
is a deadlock naming the blocked kernel (core and role), its call and its CB; a dropped read
barrier breaks rule 7. `nanott compile` writes the files and, with --execute, prints its verdict
last; `nanott explain --only G1` shows the three kernels one after another.

The runtime is compiled once per session into a shared cache; each program is then four compiles
and a link (about 2-4 s on two cores).
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import time

import ml_dtypes
import numpy as np
import pytest
from conftest import EXAMPLES, ROOT, nanott_cli as nanott

from nanott import api
from nanott.backends.metalium.api import VERSIONS
from nanott.backends.metalium.build import build
from nanott.backends.metalium.execute import RunFailed, execute, run_program, write_files
from nanott.backends.metalium.plan import Plan
from nanott.ir import launches_of, walk
from nanott.languages import l9
from nanott.target import BLACKHOLE_P150, WORMHOLE_N150

pytestmark = [pytest.mark.G1, pytest.mark.slow, pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")]
INEXACT = {"exp", "exp2", "log", "tanh", "sigmoid"}       # float32 functions libm and NumPy may round apart


def exact_on_cpu(program: l9.Program) -> bool:
    """Whether the CPU runtime should reproduce the L9 interpreter bit for bit: unless it sums (a
    matmul or a reduction: NumPy adds in another order) or calls a function of INEXACT."""
    return not any(isinstance(x, l9.MatmulTiles) or isinstance(x, l9.ReduceTile) and x.op == "sum"
                   or isinstance(x, l9.SfpuUnary) and x.op in INEXACT
                   for launch in launches_of(program) for x in walk(launch.kernels))


@pytest.mark.parametrize("example", EXAMPLES)
def test_execute_matches_numpy_and_the_l9_interpreter(example, lowered, runtime_cache, tmp_path):
    write_files(tmp_path, lowered.program(example, "G1"))
    run = execute(tmp_path, lowered.loaded(example), lowered.kernel(example), WORMHOLE_N150, 0, runtime_cache)
    assert run.results and all(r.ok for r in run.results), run.results
    simulated, program = lowered.outputs(example, "F1"), lowered.program(example, "F1")
    dtypes = {p.name: p.dtype for p in lowered.kernel(example).params}
    for name, out in run.outputs.items():
        assert out.dtype == simulated[name].dtype and out.shape == simulated[name].shape
        if exact_on_cpu(program):
            assert np.array_equal(out, simulated[name]), f"{name} differs from InterpL9's"
        else:
            assert api.within(out, simulated[name], dtypes[name])


def test_another_target_runs_too(lowered, runtime_cache, tmp_path):
    """Blackhole p150: 8 DRAM banks aligned to 64 B, a 13 x 10 grid (NANOTT_CPU_DEVICE)."""
    from nanott.pipeline import run_stages
    files = None
    for _, files in run_stages(lowered.loaded("gemm_f32").prim_func, "G1", BLACKHOLE_P150):
        pass
    write_files(tmp_path, files)
    run = execute(tmp_path, lowered.loaded("gemm_f32"), lowered.kernel("gemm_f32"), BLACKHOLE_P150, 3,
                  runtime_cache)
    assert all(r.ok for r in run.results), run.results


# the calls whose spelling a release changes: matmul_tiles (6 arguments in 0.65), typecast_tile_init
# (plain in 0.65), the broadcasts and reductions (0.81's inits), two launches; the headers' paths
# (dataflow_api.h, api/compute/) and the entry point (0.65's `namespace NAMESPACE { void MAIN }`);
# where_tile (where_fp32_tile up to 0.66, where_tile<DataFormat::Float32> in 0.81)
BY_RELEASE = ["gemm_f32", "cast", "softmax", "flash_decoding", "topk"]


@pytest.mark.parametrize("release", list(VERSIONS))
@pytest.mark.parametrize("example", BY_RELEASE)
def test_every_release_builds_and_runs_on_the_cpu_runtime(example, release, lowered, runtime_cache, tmp_path):
    """`nanott compile --release R --execute`: each supported release's spelling builds against the
    CPU runtime (which picks the release's declarations by NANOTT_TT_METAL_MINOR) and matches
    NumPy; 0.65.0 could not build before (no dataflow_api.h at the top of the include tree)."""
    builds_and_runs_on(release, example, lowered, runtime_cache, tmp_path)


def builds_and_runs_on(release: str, example: str, lowered, runtime_cache, tmp_path) -> None:
    """The example emitted for a release (which its files name), built and run on the CPU runtime:
    every output within tolerance of NumPy (also tests/metal/test_releases_execute.py)."""
    from nanott.pipeline import run_stages
    target = dataclasses.replace(WORMHOLE_N150, release=release)
    files = None
    for _, files in run_stages(lowered.loaded(example).prim_func, "G1", target):
        pass
    assert any(f"// for tt-metal {release}" in text for text in files.values())
    write_files(tmp_path, files)
    run = execute(tmp_path, lowered.loaded(example), lowered.kernel(example), target, 0, runtime_cache)
    assert run.results and all(r.ok for r in run.results), run.results


def test_a_fragment_as_gemm_a_with_a_held_q_tile_runs(runtime_cache, tmp_path):
    """Flash attention's P @ V on the CPU device: P a fragment read as A, Q_s peeked by every step of
    the loop and popped once after it (issue 4, step 3)."""
    from test_kernel_math import ATTENTION_PV

    from nanott.loader import load_kernel
    (tmp_path / "pv.py").write_text(ATTENTION_PV)
    loaded = load_kernel(tmp_path / "pv.py")
    write_files(tmp_path / "out", api.lower(loaded.prim_func, stop_after="G1"))
    run = execute(tmp_path / "out", loaded, api.lower(loaded.prim_func, stop_after="P0"), WORMHOLE_N150,
                  0, runtime_cache)
    assert run.results and all(r.ok for r in run.results), run.results


def every_compute_call() -> l9.Program:
    """test_g1_emit's hand-built elementwise program, its compute kernel rewritten to call every
    operation G1 prints that the examples may not: transpose_wh_tile, mul_tiles, a row broadcast, a
    column reduction, unary_bcast<ROW>, the SFPU binary ops with max and min, every SFPU function,
    a typecast, a scalar op, a fill."""
    from test_g1_emit import c, eltwise_program, op, v, with_compute
    j = v("j")
    even, odd = op("*", j, c(2)), op("+", op("*", j, c(2)), c(1))

    def each(node):
        return l9.For("j", c(2), "serial", 0, (node,))

    def sfpu(name, *nodes):
        return (l9.Init(name, ()), *map(each, nodes))

    def unary(names, d):
        return (x for f in names for x in sfpu(f"{f}_tile_init", l9.SfpuUnary(f, d)))

    body = (l9.Init("compute_kernel_hw_startup", (0, 1, 2)), l9.CbWait(0, 2), l9.CbWait(1, 2),
            l9.CbReserve(2, 2), l9.RegsAcquire(),
            l9.Init("transpose_wh_init_short", (0,)), each(l9.TransposeTile(0, j, even)),
            l9.Init("mul_tiles_init", (0, 1)), each(l9.BinaryTiles("mul", 0, 1, j, j, odd)),
            *sfpu("binary_max_tile_init", l9.SfpuBinary("max", even, odd, even)),
            l9.Init("sub_bcast_rows_init_short", (0, 1)),
            each(l9.BinaryTiles("sub", 0, 1, j, j, odd, "rows")),
            *sfpu("binary_min_tile_init", l9.SfpuBinary("min", even, odd, odd)),
            l9.Init("reduce_init<MAX, REDUCE_COL>", (0, 1, 2)),
            each(l9.ReduceTile("max", "col", 0, 1, j, c(0), odd, 2)), l9.Init("reduce_uninit", ()),
            l9.Init("unary_bcast_init<ROW>", (0, 2)), each(l9.UnaryBcast("rows", 0, j, even, 2)),
            *sfpu("add_binary_tile_init", l9.SfpuBinary("add", even, odd, even)),
            *sfpu("rsub_binary_tile_init", l9.SfpuBinary("rsub", odd, even, odd)),
            *unary(("abs", "sqrt", "negative", "exp", "relu", "exp2", "log"), even),
            *unary(("sigmoid", "tanh", "abs", "rsqrt"), odd),
            *sfpu("typecast_tile_init<Float32, Float16_b>", l9.SfpuTypecast(even, "bfloat16")),
            *sfpu("div_binary_tile_init", l9.SfpuBinary("div", even, odd, even)),
            *sfpu("binop_with_scalar_tile_init", l9.SfpuScalar("sub", even, 0.25)),
            *sfpu("fill_tile_init", l9.FillTile(odd, -3.0)),
            *sfpu("sub_binary_tile_init", l9.SfpuBinary("sub", even, odd, even)),
            # unary_bcast_init left the packer's format unknown (0.66 sets it, 0.81 not)
            l9.Init("pack_reconfig_data_format", (2,)),
            l9.RegsCommit(), l9.RegsWait(), each(l9.PackTile(even, 2, j)), l9.RegsRelease(),
            l9.CbPop(0, 2), l9.CbPop(1, 2), l9.CbPush(2, 2))
    return with_compute(eltwise_program(), body)


def test_every_compute_call_agrees_with_the_l9_interpreter(runtime_cache, tmp_path):
    program = every_compute_call()
    l9.LANG.check(program)
    from nanott.passes.g1_emit_metalium import emit_metalium
    write_files(tmp_path, emit_metalium(program, WORMHOLE_N150))
    plan = Plan.from_json((tmp_path / "tt.plan.json").read_text())
    rng = np.random.default_rng(7)
    arrays = {t.name: rng.uniform(-1, 1, (32, 192)).astype(np.float32) for t in program.params}
    arrays = {n: a.astype(ml_dtypes.bfloat16) if n != "C" else np.full_like(a, np.nan)
              for n, a in arrays.items()}
    expected = api.simulate(program, "L9", arrays)["C"]
    out = run_program(tmp_path, build(tmp_path, plan, runtime_cache), plan, arrays, WORMHOLE_N150)["C"]
    # The chain runs ~20 SFPU calls (exp, log, rsqrt, tanh, div, ...) where the CPU runtime calls
    # libm and the interpreter NumPy's vectorised loops: each differs by a few ulp, and the chain
    # (a divide and an rsqrt among them) amplifies that to ~2e-4 relative on some CPUs. 1e-3 of each
    # element's own magnitude still fails any wrong call (those move elements by O(1)).
    close = np.abs(out.astype(np.float64) - expected) <= 1e-3 * np.maximum(np.abs(expected), 1)
    assert np.isfinite(expected).all() and close.all()


LAYOUT_CHECK = r"""
// Checks two layouts of nanott's CPU runtime against docs/reference.md: tilize_nfaces puts element (i, j)
// of a 64 x 96 matrix at tile (i/32, j/32), face ((i%32)/16, (j%32)/16), row i%16, column j%16
// (§7.1); a DRAM buffer of pages of 2048 B + 16 B (aligned up to the DRAM alignment) has page p in
// bank p % banks at offset base + (p / banks) * aligned page (§3.5). Prints what it finds.
#include <cstdio>
#include <tt-metalium/distributed.hpp>
#include <tt-metalium/tilize_utils.hpp>
#include "state.hpp"
using namespace tt::tt_metal;

int main() {
    std::vector<uint32_t> m(64 * 96);
    for (uint32_t e = 0; e < m.size(); ++e) m[e] = e;
    const auto t = tilize_nfaces(m, 64, 96);
    bool faces = untilize_nfaces(t, 64, 96) == m;
    for (uint32_t i = 0; i < 64; ++i)
        for (uint32_t j = 0; j < 96; ++j) {
            const uint32_t tile = (i / 32) * 3 + j / 32, r = i % 32, c = j % 32;
            faces &= t[tile * 1024 + ((r / 16) * 2 + c / 16) * 256 + (r % 16) * 16 + c % 16] == i * 96 + j;
        }
    auto device = distributed::MeshDevice::create_unit_mesh(0);
    const uint32_t page = 2064, pages = 30;
    auto buffer = distributed::MeshBuffer::create(distributed::ReplicatedBufferConfig{.size = page * pages},
        distributed::DeviceLocalBufferConfig{.page_size = page, .buffer_type = BufferType::DRAM},
        device.get());
    std::vector<uint8_t> data(page * pages);
    for (uint32_t p = 0; p < pages; ++p)
        for (uint32_t b = 0; b < page; ++b) data[p * page + b] = uint8_t(p * 7 + b);
    distributed::EnqueueWriteMeshBuffer(device->mesh_command_queue(), buffer, data);
    const auto& d = *nanott_cpu::Access::device(*buffer);
    const uint32_t banks = d.arch.dram_banks, align = d.arch.dram_alignment;
    const uint32_t aligned = (page + align - 1) / align * align;
    bool interleaved = true;
    for (uint32_t p = 0; p < pages; ++p)
        for (uint32_t b = 0; b < page; ++b)
            interleaved &= d.banks[p % banks][buffer->address() + (p / banks) * aligned + b] ==
                           uint8_t(p * 7 + b);
    std::printf("faces %s, interleaved %s over %u banks, aligned page %u\n", faces ? "ok" : "WRONG",
                interleaved ? "ok" : "WRONG", banks, aligned);
    return faces && interleaved ? 0 : 1;
}
"""


@pytest.mark.parametrize("target", [WORMHOLE_N150, BLACKHOLE_P150], ids=lambda t: t.name)
def test_tiles_in_faces_and_pages_interleaved_over_the_banks(target, runtime_cache, tmp_path):
    import subprocess
    from nanott.backends.metalium.build import COMMON, RUNTIME, compiler, runtime_objects
    from nanott.backends.metalium.execute import device_spec
    (tmp_path / "layout.cpp").write_text(LAYOUT_CHECK)
    exe = tmp_path / "layout"
    objects = [str(o) for o in runtime_objects(compiler(), runtime_cache, lambda _: None)]
    subprocess.run([compiler(), *COMMON, f"-I{RUNTIME / 'src'}", "-O1", str(tmp_path / "layout.cpp"),
                    *objects, "-o", str(exe)], check=True)
    env = {"NANOTT_CPU_DEVICE": device_spec(target)}
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=env)
    aligned = -(-2064 // target.dram_alignment) * target.dram_alignment
    expected = f"faces ok, interleaved ok over {target.dram_banks} banks, aligned page {aligned}\n"
    assert r.stdout == expected, r.stderr


# ----- a broken protocol is reported, never hung on -----
def broken(lowered, example: str, role: str, call: str, tmp_path, runtime_cache):
    """The example's program with the first `call` line of its `role` kernel dropped, built;
    (the line dropped, the plan, the executable)."""
    files = dict(lowered.program(example, "G1"))
    lines = files[f"{role}.cpp"].splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.lstrip().startswith(call + "("))
    dropped = lines.pop(i)
    files[f"{role}.cpp"] = "".join(lines)
    write_files(tmp_path, files)
    plan = Plan.from_json(files["tt.plan.json"])
    return dropped, plan, build(tmp_path, plan, runtime_cache)


def test_a_dropped_push_is_a_deadlock_naming_kernel_and_cb(lowered, runtime_cache, tmp_path):
    dropped, plan, exe = broken(lowered, "elementwise_add", "reader", "cb_push_back", tmp_path, runtime_cache)
    name = re.search(r"cb_push_back\((\w+),", dropped).group(1)
    cb = next(c for c in plan.cbs if f"cb_{c.name}" == name)
    start = time.perf_counter()
    with pytest.raises(RunFailed) as failed:
        run_program(tmp_path, exe, plan, lowered.inputs("elementwise_add"), WORMHOLE_N150, timeout=60)
    assert time.perf_counter() - start < 30
    report = str(failed.value)
    assert "failed (deadlock)" in report and "nanott-cpu: deadlock" in report
    cores = len(plan.cores)
    assert re.search(rf"on cores \(0,0\)\.\.\(\d+,\d+\) \({cores} cores\): compute waits in "
                     rf"cb_wait_front\(cb {cb.index}, \d+\): cb {cb.index} has 0 of the \d+ pages it needs "
                     r"visible; its producer, the reader, has finished", report), report
    assert f"cb {cb.index} is {name} (reader -> compute" in report
    assert re.search(rf"compute\.cpp:\d+: cb_wait_front\({name}, \d+\);  // elementwise_add\.py:\d+", report)


def test_a_dropped_read_barrier_breaks_rule_7(lowered, runtime_cache, tmp_path):
    _, plan, exe = broken(lowered, "gemm", "reader", "noc_async_read_barrier", tmp_path, runtime_cache)
    with pytest.raises(RunFailed) as failed:
        run_program(tmp_path, exe, plan, lowered.inputs("gemm"), WORMHOLE_N150, timeout=60)
    report = str(failed.value)
    assert "failed (a broken rule)" in report
    assert re.search(r"error: reader on core \(\d+,\d+\): cb_push_back\(cb [01], \d+\) with \d+ NoC reads "
                     r"into its pages in flight \(docs/reference\.md §5\.2 rule 7", report), report


# ----- the command -----



def test_compile_writes_the_files(tmp_path):
    out = nanott("compile", str(ROOT / "examples" / "gemm.py"), "-o", str(tmp_path)).stdout
    names = ["reader.cpp", "compute.cpp", "writer.cpp", "main.cpp", "tt.plan.json", "CMakeLists.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert out.startswith("wrote reader.cpp, compute.cpp") and not (tmp_path / "build").exists()


def test_row_sums_reduced_across_cores_run_on_the_cpu_runtime(tmp_path, runtime_cache):
    """P0c's two launches for a row reduction split over cores (a scratch tensor of partial row
    sums between them) build, run and match NumPy."""
    result = nanott("compile", str(ROOT / "tests" / "kernels" / "row_sums_split.py"), "-o", str(tmp_path / "out"),
                    "--execute", "--seed", "2", "--runtime-cache", str(runtime_cache))
    assert result.stdout.splitlines()[-1].endswith("within tolerance: PASS")
    assert "y: max abs err" in result.stdout


def test_compile_execute_prints_the_verdict_last(tmp_path, runtime_cache):
    result = nanott("compile", str(ROOT / "examples" / "elementwise_expr.py"), "-o", str(tmp_path / "out"),
                    "--execute", "--seed", "5", "--runtime-cache", str(runtime_cache))
    last = result.stdout.splitlines()[-1]
    assert re.fullmatch(r"nanott compile --execute: max rel err \S+ against NumPy, within tolerance: PASS",
                        last)
    assert "C: max abs err" in result.stdout
    assert "nanott: compiling reader.cpp, compute.cpp, writer.cpp and main.cpp" in result.stderr


def test_compile_execute_fails_when_the_numbers_disagree(tmp_path, runtime_cache):
    wrong = tmp_path / "wrong_add.py"
    source = (ROOT / "examples" / "elementwise_add.py").read_text()
    wrong.write_text(source.replace("def reference(", "def _right(", 1)
                     + "\n\ndef reference(*inputs):\n    return _right(*inputs) + 1\n")
    result = nanott("compile", str(wrong), "-o", str(tmp_path / "out"), "--execute", "--runtime-cache",
                    str(runtime_cache), code=1)
    assert result.stdout.splitlines()[-1].endswith("NOT within tolerance: FAIL")


def test_explain_only_g1_shows_the_three_kernels_in_turn():
    out = nanott("explain", str(ROOT / "examples" / "gemm.py"), "--only", "G1").stdout
    banners = re.findall(r"^// ----- (\S+) -----$", out, re.M)
    assert banners[:3] == ["reader.cpp", "compute.cpp", "writer.cpp"]
    compute = out.index("// ----- compute.cpp")
    assert out.index("void kernel_main()", compute) < out.index("// ----- writer.cpp")


def test_the_runtime_is_cached_per_user_not_per_checkout(monkeypatch, tmp_path):
    from nanott.backends.metalium.build import user_cache
    monkeypatch.delenv("NANOTT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache() == tmp_path / "xdg" / "nanott"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache() == tmp_path / "home" / ".cache" / "nanott"
    monkeypatch.setenv("NANOTT_CACHE", str(tmp_path / "mine"))
    assert user_cache() == tmp_path / "mine"


def test_a_kernel_without_compute_verifies_builds_and_runs(runtime_cache, tmp_path):
    """A copy through a shared buffer leaves the compute kernel empty: F1 asks it for no init (it
    used to report a compiler bug), G1 still includes the compute API (the runtime registers the
    kernel through it), and the program runs and matches NumPy, as it does at L9."""
    from nanott.loader import load_kernel
    loaded = load_kernel(ROOT / "tests" / "kernels" / "copy_only.py")
    program = api.lower(loaded.prim_func, "G1")
    assert "common.h" in program["compute.cpp"] and "kernel_main() {\n}" in program["compute.cpp"]
    kernel = api.lower(loaded.prim_func, "P0")
    inputs = api.random_inputs(kernel, 3)
    at_l9 = api.simulate(api.lower(loaded.prim_func, "F1"), "L9", inputs)
    assert np.array_equal(at_l9["C"], inputs["A"])
    write_files(tmp_path, program)
    run = execute(tmp_path, loaded, kernel, WORMHOLE_N150, 0, runtime_cache)
    assert run.results and all(r.ok for r in run.results), run.results
