"""Programs of several launches (ir.Launches): a prim_func with more than one `T.Kernel`, whose
launches run in order on DRAM they share, scratch tensors (T.alloc_global) carrying data from one
launch to the next. Checked on a two-launch kernel nobody wrote as an example (scale into a
scratch tensor, then add), against NumPy at every level, and on flash_decoding's structure."""
import numpy as np
import pytest
from conftest import ROOT

import nanott.language as T
from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import Launches
from nanott.loader import load_kernel
from nanott.passes.g1_emit_metalium import emit_metalium
from nanott.pipeline import lower
from nanott.target import DEFAULT_TARGET

M, N, BM, BN = 64, 128, 32, 64


def two_launches(first_scales: bool = True):
    """Launch 0: S = 2 A (S scratch); launch 1: C = S + B. With first_scales False the launches are
    swapped: the add reads S before anything wrote it."""

    @T.prim_func
    def scale_then_add(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32"),
                       C: T.Tensor((M, N), "float32")):
        S = T.alloc_global((M, N), "float32")

        def scale():
            with T.Kernel(N // BN, M // BM) as (bx, by):
                a = T.alloc_fragment((BM, BN), "float32")
                T.copy(A[by * BM, bx * BN], a)
                for i, j in T.Parallel(BM, BN):
                    a[i, j] = a[i, j] * 2.0
                T.copy(a, S[by * BM, bx * BN])

        def add():
            with T.Kernel(N // BN, M // BM) as (bx, by):
                s = T.alloc_fragment((BM, BN), "float32")
                b = T.alloc_shared((BM, BN), "float32")
                T.copy(S[by * BM, bx * BN], s)
                T.copy(B[by * BM, bx * BN], b)
                for i, j in T.Parallel(BM, BN):
                    s[i, j] = s[i, j] + b[i, j]
                T.copy(s, C[by * BM, bx * BN])

        for launch in ((scale, add) if first_scales else (add, scale)):
            launch()

    return scale_then_add


def arrays(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (M, N)).astype(np.float32), rng.uniform(-1, 1, (M, N)).astype(np.float32),
            np.full((M, N), np.nan, np.float32))


def test_several_kernels_parse_to_launches_of_the_tensors_each_uses():
    program = lower(two_launches(), "P0")
    assert isinstance(program, Launches) and len(program.launches) == 2
    assert [t.name for t in program.scratch] == ["S"]
    assert [[t.name for t in k.params] for k in program.launches] == [["A", "S"], ["B", "C", "S"]]
    text = "\n".join(program.lines())
    assert "2 launches, in order" in text and "launch 1:" in text


@pytest.mark.parametrize("level", [f"L{i}" for i in range(10)])
def test_two_launches_match_numpy_at_every_level(level):
    """float32 in and out: 2a + b is exact in float32 arithmetic except the add's one rounding, and
    every level computes it the same way, so the tolerance is float32's own (api.TOLERANCE)."""
    a, b, c = arrays()
    api.run(two_launches(), a, b, c, level=level)
    assert api.within(c, 2.0 * a + b, "float32"), f"{level}: max err {np.nanmax(np.abs(c - (2 * a + b)))}"


def test_launches_run_in_order_on_shared_dram():
    """Swapped, the add reads the scratch tensor before the scale writes it: NaN (never written)."""
    a, b, c = arrays()
    api.run(two_launches(first_scales=False), a, b, c, level="L9")
    assert np.isnan(c).all()


def test_g1_emits_each_launch_and_one_host_program_running_them_in_order():
    files = emit_metalium(lower(two_launches(), "F1"), DEFAULT_TARGET)
    assert {f"launch{i}_{r}.cpp" for i in (0, 1) for r in ("reader", "compute", "writer")} <= set(files)
    main = files["main.cpp"]
    first, second = main.index("// launch 0 of 2"), main.index("// launch 1 of 2")
    assert first < main.index("EnqueueMeshWorkload") < main.index("Finish(queue)") < second
    assert main.count("EnqueueMeshWorkload") == 2 and main.rindex("Finish(queue)") > second
    assert main.index('"/launch1_reader.cpp"') > second > main.index('"/launch0_reader.cpp"')
    assert "S_buffer" in main and 'in_dir + "/S.bin"' not in main and 'out_dir + "/S.bin"' not in main


def test_flash_decoding_is_a_split_and_a_combine():
    program = lower(load_kernel(ROOT / "examples" / "flash_decoding.py").prim_func, "P0")
    split, combine = program.launches
    assert {t.name for t in program.scratch} == {"glse", "Output_partial"}
    assert {t.name for t in split.params} == {"Q", "K", "V", "glse", "Output_partial"}
    assert {t.name for t in combine.params} == {"Output", "glse", "Output_partial"}


def test_alloc_global_inside_a_kernel_is_a_diagnostic():
    @T.prim_func
    def inside(A: T.Tensor((32, 32), "float32")):
        with T.Kernel(1) as bx:
            T.alloc_global((32, 32), "float32")
            a = T.alloc_fragment((32, 32), "float32")
            T.fill(a, 1.0)
            T.copy(a, A[0, 0])

    with pytest.raises(NanottError, match="NT304"):
        lower(inside, "P0")


def test_launches_that_reach_a_tensor_differently_share_one_padded_layout():
    """The first launch writes S in two 64-row blocks (reaching row 128 of 96: A1 pads S to 128
    rows), the second reads it in three 32-row blocks (reaching 96): A1 pads S for both as far as
    the first needs, one DRAM buffer (it was NT324). The rows past 96 are written and never read,
    so C = A exactly (float32 copies)."""
    @T.prim_func
    def reach(A: T.Tensor((96, 64), "float32"), C: T.Tensor((96, 64), "float32")):
        S = T.alloc_global((96, 64), "float32")
        with T.Kernel(1, 2) as (bx, by):
            A_s = T.alloc_shared((64, 64), "float32")
            T.copy(A[by * 64, 0], A_s)
            T.copy(A_s, S[by * 64, 0])
        with T.Kernel(1, 3) as (bx, by):
            S_s = T.alloc_shared((32, 64), "float32")
            T.copy(S[by * 32, 0], S_s)
            T.copy(S_s, C[by * 32, 0])

    first, second = lower(reach, "A1").launches
    assert [t.layout.padded_shape for t in first.params if t.name == "S"] == \
        [t.layout.padded_shape for t in second.params if t.name == "S"] == [(128, 64)]
    a = np.random.default_rng(4).uniform(-1, 1, (96, 64)).astype(np.float32)
    for level in ("L0", "L9"):
        c = np.full_like(a, np.nan)
        api.run(reach, a, c, level=level)
        assert np.array_equal(c, a), level
