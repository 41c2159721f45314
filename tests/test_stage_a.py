"""Stage A (A1 infer-layout, A2 plan-circular-buffers, A3 attach-tensor-accessors) on hand-built L0
kernels and on the examples: the layouts, CB plans and accessors each pass must produce, the
diagnostics for shapes nanott cannot lower, and InterpL1 bit-identical to InterpL0 on random inputs
(stage A changes annotations only, so equality is exact: np.array_equal).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kernels_l0 import (BF16, F32, eltwise_kernel, example_kernels, gemm_kernel, loc, lower_to,  # noqa: E402
                        random_arrays, reference, rename, run)
from kernels_l0 import local as local_region  # noqa: E402
from kernels_l0 import mul  # noqa: E402

from nanott.languages.l0_interp import InterpL0  # noqa: E402

from nanott.diagnostics import NanottError  # noqa: E402
from nanott.ir import Loc, replace, walk  # noqa: E402
from nanott.languages import l0, l1  # noqa: E402
from nanott.languages.l1_interp import InterpL1  # noqa: E402
from nanott.passes.a1_infer_layout import infer_layout, tile_layout  # noqa: E402
from nanott.passes.a2_plan_circular_buffers import plan_circular_buffers  # noqa: E402
from nanott.passes.a3_attach_tensor_accessors import attach_tensor_accessors  # noqa: E402
from nanott.target import BLACKHOLE_P150, WORMHOLE_N150  # noqa: E402

pytestmark = [pytest.mark.A1, pytest.mark.A2, pytest.mark.A3]


def allocs(program) -> dict[str, l1.Alloc]:
    return {a.name: a for a in walk(program.body) if isinstance(a, l1.Alloc)}


KERNELS = {
    "gemm": lambda: gemm_kernel(),
    "gemm-bx-rows": lambda: gemm_kernel(bx_on_cols=False),
    "gemm-f32-3-stages": lambda: gemm_kernel(dtype=F32, stages=3, M=64, N=128, K=192, bm=32, bn=64, bk=64),
    "eltwise": lambda: eltwise_kernel(),
    "eltwise-bx-rows": lambda: eltwise_kernel(bx_on_cols=False, M=64, N=160),
    "eltwise-in-place": lambda: eltwise_kernel(in_place=True, dtype=F32),
}


# ----- A1 infer-layout -----
def test_a1_gives_every_tensor_a_tile_layout_and_no_accessor_yet():
    k1 = infer_layout(gemm_kernel(M=128, N=96, K=64, bm=64, bn=32, bk=64), WORMHOLE_N150)
    l1.LANG.check(k1)
    a, b, c = k1.params
    assert a.layout == l1.TileLayout("dram", "interleaved", "Float16_b", (128, 64), (4, 2), 2048)
    assert b.layout.tiles == (2, 3) and c.layout.tiles == (4, 3)
    assert all(isinstance(p, l1.Tensor) and p.accessor is None for p in k1.params)
    assert [p.loc for p in k1.params] == [loc(1, 12), loc(1, 20), loc(1, 28)]


def test_a1_float32_tensors_have_float32_pages():
    k1 = infer_layout(gemm_kernel(dtype=F32), WORMHOLE_N150)
    assert {(p.layout.format, p.layout.page_bytes) for p in k1.params} == {("Float32", 4096)}


def test_a1_allocs_have_no_plan_yet_and_the_body_is_otherwise_untouched():
    k0 = gemm_kernel()
    k1 = infer_layout(k0, WORMHOLE_N150)
    assert [type(s) for s in k1.body] == [l1.Alloc, l1.Alloc, l1.Alloc, l1.Fill, l1.For, l1.Copy]
    for s0, s1 in zip(k0.body, k1.body):
        if isinstance(s1, l1.Alloc):
            assert (s1.name, s1.shape, s1.dtype, s1.scope, s1.cb) == (s0.name, s0.shape, s0.dtype, s0.scope, None)
            assert s1.loc == s0.loc
        else:
            assert s1 == s0 and s1.loc == s0.loc
    assert (k1.grid, k1.block_vars, k1.name) == (k0.grid, k0.block_vars, k0.name)


def test_tile_layout_views_a_tensor_as_2d_and_pads_to_whole_tiles():
    """docs/reference.md §7.1: [prod(outer) * H, W], padded to multiples of 32 in the last two dims."""
    assert tile_layout((3, 64, 96), BF16).tiles == (6, 3)
    ragged = tile_layout((2, 40, 50), F32)
    assert ragged.padded_shape == (2, 64, 64) and ragged.tiles == (4, 2) and ragged.page_bytes == 4096


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_a1_numerics_bit_identical_to_l0(name):
    k0 = KERNELS[name]()
    arrays = random_arrays(k0, seed=1)
    want = reference(k0, arrays)
    got = run(InterpL1(), lower_to(k0, "A1"), arrays)
    assert np.array_equal(got["C"], want["C"])


# ----- A1 diagnostics -----
def kernel_file(tmp_path: Path, lines: dict[int, str]) -> str:
    """A kernel source file whose line n reads lines[n], so a diagnostic can show it."""
    path = tmp_path / "kernel.py"
    path.write_text("".join(lines.get(n, "#") + "\n" for n in range(1, max(lines) + 1)))
    return str(path)


def with_alloc(kernel: l0.Kernel, buffer: str, **changes) -> l0.Kernel:
    body = tuple(replace(s, **changes) if isinstance(s, l0.Alloc) and s.name == buffer else s
                 for s in kernel.body)
    return replace(kernel, body=body)


def test_nt103_block_not_whole_tiles_points_at_the_alloc(tmp_path):
    file = kernel_file(tmp_path, {3: '    A_shared = T.alloc_shared((48, 64), "bfloat16")'})
    k = gemm_kernel(bm=64, bk=64)
    k = replace(k, body=rename(k.body, "A_s", "A_shared"))
    k = with_alloc(k, "A_shared", shape=(48, 64), loc=Loc(file, 3, 4))
    with pytest.raises(NanottError) as e:
        infer_layout(k, WORMHOLE_N150)
    err = e.value
    assert err.code == "NT111" and err.message == "block 48x64 of A_shared is not a multiple of the 32x32 tile"
    text = err.render().splitlines()
    assert text[0] == f"{file}:3:5: error NT111: block 48x64 of A_shared is not a multiple of the 32x32 tile"
    assert text[1] == '        A_shared = T.alloc_shared((48, 64), "bfloat16")'
    assert text[2] == "        ^~~~~~~~"
    assert err.hint == "Tensix tiles are 32x32; use block sizes that are multiples of 32"
    assert text[-1] == "hint: " + err.hint


def test_nt311_a_0d_buffer_is_not_supported_yet(tmp_path):
    file = kernel_file(tmp_path, {5: '    row_max = T.alloc_fragment((), "float")'})
    k = with_alloc(eltwise_kernel(), "T", shape=(), loc=Loc(file, 5, 4))
    with pytest.raises(NanottError) as e:
        infer_layout(k, WORMHOLE_N150)
    assert e.value.code == "NT311" and "not supported yet" in e.value.message and "T" in e.value.message
    text = e.value.render()
    assert f"{file}:5:5: error NT311" in text and "\n        ^~~~~~~\n" in text and e.value.hint


def reference_l0(kernel, arrays):
    return run(InterpL0(), kernel, arrays)


def test_a1_pads_a_ragged_tensor_to_whole_tiles_and_whole_blocks():
    """A 100 x 70 tensor copied in 64 x 32 blocks: rows to a multiple of lcm(32, 64) = 64, columns
    of 32; the grid's last block ends at row 128 and column 96, inside the padding."""
    k = eltwise_kernel(M=128, N=96, bm=64, bn=32)
    k = replace(k, params=tuple(replace(p, shape=(100, 70)) for p in k.params))
    k1 = infer_layout(k, WORMHOLE_N150)
    a = k1.params[0]
    assert a.layout.padded_shape == (128, 96) and a.layout.tiles == (4, 3)
    assert a.describe().endswith("padded 100x70 -> 128x96 with zeros")
    arrays = random_arrays(k, seed=3)
    assert np.array_equal(run(InterpL1(), k1, arrays)["C"], reference_l0(k, arrays)["C"])


def test_a1_pads_only_as_far_as_the_live_grid_reaches():
    """A grid larger than the tensor: its last row of blocks starts at row 128, wholly outside the
    100 rows, and writes nothing. A1 drops that row of blocks (3 -> 2 along by) and pads to 128
    rows, not to the 192 where it would end; C is bit-identical to L0's, which runs every block."""
    k = eltwise_kernel(M=192, N=64, bm=64, bn=32)
    k = replace(k, params=tuple(replace(p, shape=(100, 64)) for p in k.params))
    k1 = infer_layout(k, WORMHOLE_N150)
    assert k.grid == (2, 3) and k1.grid == (2, 2)
    assert k1.params[0].layout.padded_shape == (128, 64)
    arrays = random_arrays(k, seed=3)
    assert np.array_equal(run(InterpL1(), k1, arrays)["C"], reference_l0(k, arrays)["C"])


def test_a1_keeps_blocks_that_write_inside_and_pads_what_they_read():
    """Blocks whose reads of A lie wholly outside it (TileLang reads zeros there) but whose writes of
    C land inside stay: the grid is kept and A is padded to where those reads end."""
    k = eltwise_kernel(M=128, N=64, bm=64, bn=32)
    shifted = l0.Region("A", (l0.BinOp("+", k.body[4].src.starts[0], l0.Const(128, "int32")),
                              k.body[4].src.starts[1]), k.body[4].src.extents)
    k = replace(k, body=(*k.body[:4], replace(k.body[4], src=shifted), *k.body[5:]))
    k1 = infer_layout(k, WORMHOLE_N150)
    assert k1.grid == k.grid and k1.params[0].layout.padded_shape == (256, 64)
    arrays = random_arrays(k, seed=4)
    assert np.array_equal(run(InterpL1(), k1, arrays)["C"], reference_l0(k, arrays)["C"])


def test_a_grid_far_larger_than_its_tensors_runs_at_l9_without_padding(tmp_path):
    """Issue 11: a 64x64 add on a 40x30 grid of 32x32 blocks used to pad every tensor to 960x1280;
    now A1 keeps the 2x2 blocks that write inside C, pads nothing, and L9 agrees with NumPy."""
    import nanott
    from nanott.loader import load_kernel
    path = tmp_path / "big_grid.py"
    path.write_text("import nanott.language as T\n\n\n@T.prim_func\n"
                    "def main(A: T.Tensor((64, 64), 'float32'), B: T.Tensor((64, 64), 'float32'),\n"
                    "         C: T.Tensor((64, 64), 'float32')):\n"
                    "    with T.Kernel(40, 30) as (bx, by):\n"
                    "        A_s = T.alloc_shared((32, 32), 'float32')\n"
                    "        B_s = T.alloc_shared((32, 32), 'float32')\n"
                    "        T.copy(A[by * 32, bx * 32], A_s)\n"
                    "        T.copy(B[by * 32, bx * 32], B_s)\n"
                    "        for i, j in T.Parallel(32, 32):\n"
                    "            A_s[i, j] = A_s[i, j] + B_s[i, j]\n"
                    "        T.copy(A_s, C[by * 32, bx * 32])\n")
    prim = load_kernel(path).prim_func
    with pytest.warns(UserWarning):
        a1 = nanott.lower(prim, "A1")
    assert a1.grid == (2, 2) and all(t.layout.padded_shape == (64, 64) for t in a1.params)
    rng = np.random.default_rng(5)
    a, b = (rng.uniform(-1, 1, (64, 64)).astype(np.float32) for _ in range(2))
    c = np.full((64, 64), np.nan, np.float32)
    with pytest.warns(UserWarning):
        nanott.run(prim, a, b, c, level="L9")
    assert np.array_equal(c, a + b)                # one float32 add per element, as NumPy's


def test_nt312_a_ragged_tensor_read_and_written(tmp_path):
    file = kernel_file(tmp_path, {1: "def main(A: T.Tensor((100, 96), dtype)):"})
    k = eltwise_kernel()
    body = (*k.body, l0.Copy(local_region("C_s", (32, 32)), l0.Region("A", k.body[4].src.starts, (32, 32)),
                             loc=loc(13)))
    k = replace(k, body=body,
                params=(l0.Tensor("A", (100, 96), BF16, loc=Loc(file, 1, 9)), *k.params[1:]))
    with pytest.raises(NanottError) as e:
        infer_layout(k, WORMHOLE_N150)
    assert e.value.code == "NT312"
    assert "100x96, padded to 128x96, and the kernel both reads and writes it" in e.value.message
    assert e.value.render().splitlines()[1:3] == ["    def main(A: T.Tensor((100, 96), dtype)):",
                                                  "             ^"]


def test_a1_lays_a_1d_tensor_along_row_0_of_a_row_of_tiles():
    """A vector (n,) is the row [1, n] of docs/reference.md §7.1: padded to (32, n'), one row of tiles."""
    layout = tile_layout((70,), F32, (96,))
    assert layout.padded_shape == (32, 96) and layout.tiles == (1, 3) and layout.page_bytes == 4096


def bshd_kernel(block: tuple[int, ...]) -> l0.Kernel:
    """A [2, 100, 3, 64] tensor copied in blocks of `block` (extents over its four dims) at
    (b, s * 64, h, 0) into a 64 x 64 buffer, then out to a tensor of the same shape."""
    starts = (l0.Var("bz"), mul(l0.Var("bx"), l0.Const(64, "int32")), l0.Var("by"), l0.Const(0, "int32"))
    body = (l0.Alloc("S", (64, 64), F32, "shared", loc=loc(3)),
            l0.Copy(l0.Region("X", starts, block), local_region("S", (64, 64)), loc=loc(4)),
            l0.Copy(local_region("S", (64, 64)), l0.Region("Y", starts, block), loc=loc(5)))
    params = tuple(l0.Tensor(n, (2, 100, 3, 64), F32, loc=loc(1, 12 + 8 * i)) for i, n in enumerate("XY"))
    return l0.Kernel("bshd", params, (2, 3, 2), ("bx", "by", "bz"), body, (), loc=loc(2))


def test_a1_stores_a_tensor_copied_in_blocks_of_other_dims_with_those_dims_last():
    """Q[b, s0:s1, h, :] copies move (seq, dim) blocks of a BSHD tensor: DRAM stores it BHSD, the
    seq dim padded to 128 (100 rows in blocks of 64), as the 2-D view [2 * 3 * 128, 64]."""
    k1 = infer_layout(bshd_kernel((1, 64, 1, 64)), WORMHOLE_N150)
    x = k1.params[0]
    assert x.layout.order == (0, 2, 1, 3) and x.layout.padded_shape == (2, 3, 128, 64)
    assert x.layout.tiles == (24, 2) and x.layout.stored((2, 100, 3, 64)) == (2, 3, 100, 64)
    assert "dims stored in order (0, 2, 1, 3) as 2x3x128x64" in x.describe()
    assert "padded 2x3x100x64 -> 2x3x128x64 with zeros" in x.describe()
    arrays = random_arrays(bshd_kernel((1, 64, 1, 64)), seed=2)
    l4 = lower_to(bshd_kernel((1, 64, 1, 64)), "C1")
    from nanott.languages.l4_interp import InterpL4
    assert np.array_equal(run(InterpL4(), l4, arrays)["Y"], arrays["X"])


def test_nt313_a_tensor_copied_in_blocks_of_three_dims():
    with pytest.raises(NanottError) as e:
        infer_layout(bshd_kernel((1, 64, 2, 32)), WORMHOLE_N150)
    assert e.value.code == "NT313" and "blocks of more than two dims" in e.value.message
    assert e.value.loc == loc(1, 12) and e.value.hint


def test_nt303_on_chip_buffers_of_3_dims_are_not_supported_yet():
    with pytest.raises(NanottError) as e:
        infer_layout(with_alloc(eltwise_kernel(), "T", shape=(2, 32, 32)), WORMHOLE_N150)
    assert e.value.code == "NT313" and e.value.loc == loc(5)


# ----- A2 plan-circular-buffers -----
def plans(kernel: l0.Kernel, target=WORMHOLE_N150) -> dict[str, l1.CbPlan]:
    return {n: a.cb for n, a in allocs(lower_to(kernel, "A2", target)).items()}


def test_a2_gemm_pipelined_inputs_and_in_place_accumulator():
    p = plans(gemm_kernel(bm=64, bn=32, bk=64, stages=2))
    assert p["A_s"] == l1.CbPlan("Float16_b", 2048, 4, 2, "pipelined, 2 stages")
    assert p["B_s"] == l1.CbPlan("Float16_b", 2048, 2, 2, "pipelined, 2 stages")
    assert p["C_l"] == l1.CbPlan("Float32", 4096, 2, 2, "updated in place: old and new block")


@pytest.mark.parametrize("stages, depth, why", [(3, 3, "pipelined, 3 stages"), (1, 1, "pipelined, 1 stage"),
                                                (0, 1, "pipelined, 0 stages")])
def test_a2_depth_follows_num_stages(stages, depth, why):
    p = plans(gemm_kernel(stages=stages))
    assert (p["A_s"].depth, p["A_s"].why) == (depth, why) and p["B_s"].depth == depth


def test_a2_a_serial_loop_double_buffers_its_dram_copies():
    p = plans(gemm_kernel(kind="serial", stages=0))
    assert {(p[n].depth, p[n].why) for n in ("A_s", "B_s")} == {(2, "double-buffered")}


def test_a2_eltwise_double_buffers_dram_traffic_and_keeps_one_block_of_a_temporary():
    p = plans(eltwise_kernel(bm=64, bn=32))
    assert {n: (p[n].depth, p[n].why) for n in p} == {
        "A_s": (2, "double-buffered"), "B_s": (2, "double-buffered"), "C_s": (2, "double-buffered"),
        "T": (1, "one block")}
    assert p["T"] == l1.CbPlan("Float32", 4096, 2, 1, "one block") and p["A_s"].page_bytes == 2048


def test_a2_a_store_that_reads_its_buffer_is_in_place():
    p = plans(eltwise_kernel(in_place=True))
    assert (p["C_s"].depth, p["C_s"].why) == (2, "updated in place: old and new block")


def test_a2_decides_from_use_not_from_names():
    """Swap every buffer name for a neutral one: the same depths come out, buffer for buffer."""
    k = gemm_kernel(stages=3)
    names = {"A_s": "x", "B_s": "C_l_accumulator", "C_l": "A_pipelined"}
    renamed = k
    for old, new in names.items():
        renamed = replace(renamed, body=rename(renamed.body, old, new))
    before, after = plans(k), plans(renamed)
    assert {names[n]: (p.depth, p.why) for n, p in before.items()} == {n: (p.depth, p.why) for n, p in after.items()}


def test_a2_nt201_when_the_cbs_do_not_fit_in_l1():
    k = gemm_kernel(M=512, N=512, K=512, bm=256, bn=256, bk=256, stages=4)   # 2 x 4 x 128 KiB + 512 KiB
    with pytest.raises(NanottError) as e:
        lower_to(k, "A2")
    err = e.value
    assert err.code == "NT201" and "1,536 KiB" in err.message and "1,363 KiB" in err.message
    assert "num_stages" in err.hint and err.loc in (loc(3), loc(4), loc(5))
    lower_to(gemm_kernel(M=512, N=512, K=512, bm=256, bn=256, bk=256, stages=2), "A2")   # 1 MiB fits


def test_a2_leaves_the_cb_count_to_c2c_and_c3():
    """33 buffers on a core of 32 CBs: A2 plans them all; whether they fit is known only once C2c
    has let buffers alive one after another share a CB (tests/test_share_cbs.py), and C3 checks."""
    k = eltwise_kernel()
    extra = tuple(l0.Alloc(f"t{i}", (32, 32), BF16, "fragment", loc=loc(20 + i)) for i in range(29))
    k = replace(k, body=extra + k.body)          # 29 + 4 = 33 buffers; Wormhole has 32 CBs
    p1 = lower_to(k, "A1")                       # A2 on its own: A1a would remove the unused 29
    assert len(allocs(plan_circular_buffers(p1, WORMHOLE_N150))) == 33
    assert len(allocs(plan_circular_buffers(p1, BLACKHOLE_P150))) == 33       # Blackhole has 64
    assert len(plans(k)) == 4                    # through the pipeline, the 29 are gone before A2


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_a2_numerics_bit_identical_to_l0(name):
    k0 = KERNELS[name]()
    arrays = random_arrays(k0, seed=2)
    got = run(InterpL1(), lower_to(k0, "A2"), arrays)
    assert np.array_equal(got["C"], reference(k0, arrays)["C"])


# ----- A3 attach-tensor-accessors -----
@pytest.mark.parametrize("target, banks", [(WORMHOLE_N150, 12), (BLACKHOLE_P150, 8)])
def test_a3_every_tensor_gets_an_interleaved_dram_accessor(target, banks):
    k = lower_to(gemm_kernel(dtype=F32), "A3", target)
    for p in k.params:
        assert p.accessor == l1.Accessor(4096, banks, True, 2)
    assert lower_to(gemm_kernel(), "A3", target).params[0].accessor.page_bytes == 2048


def test_a3_leaves_layouts_and_plans_alone():
    k2 = lower_to(eltwise_kernel(), "A2")
    k3 = attach_tensor_accessors(k2, WORMHOLE_N150)
    assert k3.body == k2.body and [p.layout for p in k3.params] == [p.layout for p in k2.params]
    assert [replace(p, accessor=None) for p in k3.params] == list(k2.params)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_a3_numerics_bit_identical_to_l0(name):
    k0 = KERNELS[name]()
    arrays = random_arrays(k0, seed=3)
    got = run(InterpL1(), lower_to(k0, "A3"), arrays)
    assert np.array_equal(got["C"], reference(k0, arrays)["C"])


def test_interp_l1_needs_its_own_alloc_rule():
    """l1.Alloc is not l0.Alloc: InterpL0 must not run an L1 kernel by accident."""
    from nanott.languages.l0_interp import InterpL0, NoRule
    k1 = lower_to(eltwise_kernel(), "A2")
    with pytest.raises(NoRule, match="InterpL0 has no rule for Alloc"):
        run(InterpL0(), k1, random_arrays(k1))


# ----- the examples, through the real front end -----
@pytest.mark.parametrize("prim_func", example_kernels())
def test_examples_through_a3_bit_identical_to_l0(prim_func):
    from nanott.pipeline import lower
    k0 = lower(prim_func, stop_after="P0")
    k3 = lower(prim_func, stop_after="A3")
    assert all(a.cb is not None for a in allocs(k3).values()) and all(p.accessor for p in k3.params)
    arrays = random_arrays(k0, seed=4)
    from nanott.languages.l0_interp import InterpL0
    want, got = run(InterpL0(), k0, arrays), run(InterpL1(), k3, arrays)
    assert all(np.array_equal(got[n], want[n], equal_nan=True) for n in arrays)
    assert not all(np.isnan(want[n]).all() for n in arrays)
