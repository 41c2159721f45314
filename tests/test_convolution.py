"""Convolution as an implicit GEMM (examples/convolution.py): a T.Parallel that fills a block of the
im2col matrix with rows of the input picked by index arithmetic is a row gather
(nanott/row_gather.py), read by the reader one row at a time (zeros where the window leaves the
image), and the weights and output are seen through views (nanott/language/views.py).

Numerics at every level against NumPy's convolution on random inputs, for strides, dilations and
paddings other than the example's; the IR of the gather at C1 and D3; the C++; what stays refused.
The tolerance is the output dtype's (bfloat16: 2^-6 of |ref| and of max|ref|, api.within): the
kernel rounds each bfloat16 input product exactly into a float32 sum, then rounds once to bfloat16,
as the reference does, so only the order of the float32 additions differs.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, load_text
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

EXAMPLE = ROOT / "examples" / "convolution.py"


def conv_reference(data: np.ndarray, kernel: np.ndarray, s: int, d: int, p: int) -> np.ndarray:
    """NHWC convolution by its definition, in float32 from the inputs, rounded to their dtype."""
    n, h, w, c = data.shape
    k, _, _, f = kernel.shape
    oh, ow = (h + 2 * p - d * (k - 1) - 1) // s + 1, (w + 2 * p - d * (k - 1) - 1) // s + 1
    x = np.pad(data.astype(np.float32), ((0, 0), (p, p), (p, p), (0, 0)))
    out = np.zeros((n, oh, ow, f), np.float32)
    for a in range(k):
        for b in range(k):
            window = x[:, a * d:a * d + s * (oh - 1) + 1:s, b * d:b * d + s * (ow - 1) + 1:s, :]
            out += window @ kernel[a, b].astype(np.float32)
    return out.astype(data.dtype)


def loaded(**sets):
    return load_kernel(EXAMPLE, "convolution", {k: str(v) for k, v in sets.items()})


CASES = {   # sizes whose output rows (OW) hold whole blocks of block_M rows (the output view's boxes)
    "stride2_pad0": dict(N=1, C=64, H=9, W=65, F=32, K=3, S=2, D=1, P=0, block_M=32, block_N=32, block_K=32),
    "dilation2_pad2": dict(N=2, C=32, H=6, W=32, F=32, K=3, S=1, D=2, P=2, block_M=32, block_N=32, block_K=32),
    "window1": dict(N=1, C=64, H=4, W=64, F=64, K=1, S=1, D=1, P=0, block_M=64, block_N=64, block_K=64),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_convolution_matches_numpy_at_every_level(case):
    sizes = CASES[case]
    check_levels(loaded(**sizes), lambda x: {"out": conv_reference(x["data"], x["kernel"], sizes["S"],
                                                                     sizes["D"], sizes["P"])})


def test_the_examples_reference_is_numpys_convolution():
    """The example's own reference (padding 1) agrees with the general one used here."""
    from nanott.loader import load_kernel as load
    module_reference = load(EXAMPLE).reference
    rng = np.random.default_rng(3)
    data, kernel = rng.standard_normal((1, 4, 6, 8), np.float32), rng.standard_normal((3, 3, 8, 5), np.float32)
    np.testing.assert_array_equal(module_reference(data, kernel), conv_reference(data, kernel, 1, 1, 1))


def test_the_gather_is_one_read_of_rows_and_the_views_are_gone():
    text = str(api.lower(load_kernel(EXAMPLE).prim_func, stop_after="C1"))
    assert "read_to_cb data.tiles[gathered, 0 +2x1] (row i <- row " in text and "else zeros) -> cb0" in text
    assert "kernel_flat" not in text and "out_flat" not in text and "parallel" not in text.split("cb0")[0]
    d3 = str(api.lower(load_kernel(EXAMPLE).prim_func, stop_after="D3"))
    assert "generate_to_cb cb0[r, c] in 64x32 = 0" in d3 and "if ok0:" in d3
    assert "noc_async_read_row data.page[" in d3 and "-> cb0.back[" in d3


def test_emitted_reader_writes_zeros_then_reads_the_rows_that_are_there():
    """The reader's C++ (built and run against NumPy by test_metalium_execute.py, as every example)."""
    reader = api.lower(load_kernel(EXAMPLE).prim_func, stop_after="G1")["reader.cpp"]
    assert "if (ok0) {" in reader and "generate_to_cb: the data_shared block" in reader
    assert reader.count("noc_async_read(data.get_noc_addr(") == 2


def test_channels_not_divided_by_the_block_are_refused_at_the_weights_view():
    """block_K = 64 over C = 96: a block of K would cross from one tap to the next. The weights'
    view says so first (NT331): 64 rows of (KH * KW * C) are no box of (KH, KW, C)."""
    with pytest.raises(NanottError) as err:
        api.lower(loaded(**CASES["window1"] | {"C": 96}).prim_func, stop_after="P0b")
    assert err.value.code == "NT331" and "kernel's (1, 1, 96)" in err.value.message, err.value.render()


STRIDED = """
import nanott.language as T


@T.prim_func
def strided(X: T.Tensor((128, 128), "float32"), Y: T.Tensor((128, 64), "float32")):
    with T.Kernel(4) as by:
        blk = T.alloc_shared((32, 64), "float32")
        for i, j in T.Parallel(32, 64):
            blk[i, j] = X[(by * 32 + i * 3) % 128, 2 * j]
        T.copy(blk, Y[by * 32, 0])
"""


def test_a_block_whose_rows_are_not_runs_of_a_row_is_nt315(tmp_path):
    """Columns 0, 2, 4, ... of a row are no contiguous run: no gather of rows, NT315 with a hint
    naming what a gather needs."""
    with pytest.raises(NanottError) as err:
        api.lower(load_text(tmp_path, STRIDED).prim_func, stop_after="P0b")
    assert err.value.code == "NT315" and "gathered from rows" in err.value.hint, err.value.render()


def test_rows_picked_by_index_arithmetic_are_a_gather_of_any_2d_tensor(tmp_path):
    """The same loop with a contiguous run per row (`j`, not `2 * j`): rows of X picked by
    `(by * 32 + 3 * i) % 128`, read at every level as NumPy indexes them."""
    loaded = load_text(tmp_path, STRIDED.replace("2 * j]", "j]"))
    rows = lambda by: (by * 32 + 3 * np.arange(32)) % 128                            # noqa: E731
    check_levels(loaded, lambda x: {"Y": np.concatenate([x["X"][rows(by), :64] for by in range(4)])})


@pytest.mark.slow
def test_t_im2col_is_the_same_gather(tmp_path):
    """TileLang's `T.im2col(data, data_shared, by, k_iter, KH, S, D, P)` in place of the loop: P0
    writes the loop it stands for (nanott/language/im2col.py), and every level matches NumPy."""
    text = EXAMPLE.read_text()
    start = text.index("            for i, j in T.Parallel(block_M, block_K):")
    end = text.index("            T.copy(kernel_flat")
    text = text[:start] + "            T.im2col(data, data_shared, by, k_iter, KH, S, D, P)\n" + text[end:]
    sizes = CASES["dilation2_pad2"]
    (tmp_path / "conv_im2col.py").write_text(text)
    kernel = load_kernel(tmp_path / "conv_im2col.py", "convolution", {k: str(v) for k, v in sizes.items()})
    assert "read_to_cb data.tiles[gathered" in str(api.lower(kernel.prim_func, stop_after="C1"))
    check_levels(kernel, lambda x: {"out": conv_reference(x["data"], x["kernel"], sizes["S"], sizes["D"],
                                                           sizes["P"])})
