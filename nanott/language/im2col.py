"""`T.im2col(img, col, nhw_step, c_step, kernel, stride, dilation, pad)`: one block of the im2col
matrix of an NHWC image, as TileLang's convolution gathers it, written out as the T.Parallel loop
of index arithmetic it stands for (TileLang's earlier convolution example wrote this loop by hand):

    for i, j in T.Parallel(block_M, block_K):
        k = c_step * block_K + j                       # column: tap (kh, kw) and channel c
        m = nhw_step * block_M + i                     # row: output pixel (n, oh, ow)
        h = m % (OH * OW) // OW * stride + k // (KW * C) * dilation - pad
        w = m % OW * stride + k // C % KW * dilation - pad
        col[i, j] = T.if_then_else(0 <= h < H and 0 <= w < W, img[m // (OH * OW), h, w, k % C], 0)

with (block_M, block_K) the shape of col, (N, H, W, C) that of img, a square window of `kernel`
taps, and OH, OW the output's size. Nothing about it is special after P0: the loop is an ordinary
L0 T.Parallel, which the passes read as a gather of rows by analysis of its indices
(nanott/row_gather.py), as they would the same loop written by hand.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.language.builder import Builder, LoopSpec
from nanott.language.intrinsics import if_then_else
from nanott.language.values import Buffer, fold_int


def im2col(b: Builder, img: Any, col: Any, nhw_step: Any, c_step: Any, kernel: Any, stride: Any = 1,
           dilation: Any = 1, pad: Any = 0) -> None:
    if not (isinstance(img, Buffer) and len(img.shape) == 4 and isinstance(col, Buffer) and len(col.shape) == 2):
        raise NanottError("NT104", "T.im2col gathers from a 4-D NHWC tensor into a 2-D block",
                          hint="T.im2col(data, data_shared, by, k_iter, KH, S, D, P) with data (N, H, W, C) "
                               "and data_shared (block_M, block_K)")
    k, s, d, p = (fold_int(x, f"T.im2col's {n}") for x, n in ((kernel, "kernel"), (stride, "stride"),
                                                             (dilation, "dilation"), (pad, "pad")))
    _, height, width, channels = img.shape
    oh, ow = ((n + 2 * p - d * (k - 1) - 1) // s + 1 for n in (height, width))
    block_m, block_k = col.shape
    for i, j in b._loop(LoopSpec("parallel", (block_m, block_k)), ("i", "j")):
        kk, m = c_step * block_k + j, nhw_step * block_m + i
        h = m % (oh * ow) // ow * s + kk // (k * channels) * d - p
        w = m % ow * s + kk // channels % k * d - p
        inside = (h >= 0) & (w >= 0) & (h < height) & (w < width)
        b.store(col, (i, j), if_then_else(inside, img[m // (oh * ow), h, w, kk % channels], 0))
