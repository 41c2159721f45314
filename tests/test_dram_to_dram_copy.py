"""P0b: a T.copy from one DRAM tensor to another (flash attention backward's postprocess, dQ's
float32 accumulator into a float16 dQ) goes through an on-chip block, and a fragment of the
destination's dtype where the dtypes differ; every level matches NumPy."""
from __future__ import annotations

import numpy as np
import pytest
from ml_dtypes import bfloat16

from nanott import api
from nanott.languages import l0
from nanott.loader import load_kernel

POST = '''
import nanott.language as T

@T.prim_func
def post(A: T.Tensor((1, 128, 2, 64), "float32"), B: T.Tensor((1, 128, 2, 64), "DTYPE")):
    with T.Kernel(2, 2, 1) as (bx, by, bz):
        T.copy(A[bz, bx * 64:(bx + 1) * 64, by, :], B[bz, bx * 64:(bx + 1) * 64, by, :])
'''


@pytest.mark.parametrize("dtype, through", [("bfloat16", ["shared", "fragment"]), ("float32", ["shared"])])
@pytest.mark.parametrize("level, stop", [("L0", "P0c"), ("L5", "C2b"), ("L9", "F1")])
def test_a_copy_between_dram_tensors_goes_through_l1(tmp_path, dtype, through, level, stop):
    (tmp_path / "post.py").write_text(POST.replace("DTYPE", dtype))
    pf = load_kernel(tmp_path / "post.py").prim_func
    k = api.lower(pf, "P0b")
    assert [s.scope for s in k.body if isinstance(s, l0.Alloc)] == through
    arrays = api.random_inputs(api.lower(pf, "P0"), 3)
    got = api.simulate(api.lower(pf, stop), level, arrays)["B"]
    want = arrays["A"].astype(bfloat16 if dtype == "bfloat16" else np.float32)     # one rounding, or none
    assert np.array_equal(got.astype(np.float32), want.astype(np.float32))
