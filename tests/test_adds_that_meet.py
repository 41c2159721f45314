"""P0c on atomic adds inside loops that meet across grid blocks (flash attention backward's dQ):
each block's partials go to a DRAM scratch tensor of their own and a second launch sums them in
slice order. Bit for bit what L0's atomic adds give, at L0, L5 and L9; and only where analysis
shows the adds meet across the split dims, never within a slice, and cover the destination."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.ir import Launches
from nanott.loader import load_kernel

ROOT = Path(__file__).resolve().parent.parent

# S slices (by, bz) of X, each block (bx) adding its R row blocks into Y's column block bx: the adds
# of blocks differing in (by, bz) meet; within a slice, r and bx move each add a whole block.
MEET = '''
import nanott.language as T

@T.prim_func
def meet(X: T.Tensor((4, 96, 64), "float32"), Y: T.Tensor((96, 64), "float32")):
    with T.Kernel(2, 2, 2) as (bx, by, bz):
        X_s = T.alloc_shared((32, 32), "float32")
        X_l = T.alloc_fragment((32, 32), "float32")
        for r in T.serial(3):
            T.copy(X[bz * 2 + by, r * 32, bx * 32], X_s)
            for i, j in T.Parallel(32, 32):
                X_l[i, j] = X_s[i, j] * 2.0
            T.atomic_add(Y[r * 32, bx * 32], X_l)
'''


def kernel(tmp_path, text=MEET):
    (tmp_path / "meet.py").write_text(text)
    return load_kernel(tmp_path / "meet.py").prim_func


def test_the_adds_become_partials_per_slice_and_a_launch_that_sums_them(tmp_path):
    p = pipeline.lower(kernel(tmp_path), "P0c")
    assert isinstance(p, Launches) and len(p.launches) == 2
    first, second = p.launches
    (scratch,) = p.scratch
    assert scratch.shape == (4, 96, 64) and scratch.dtype == "float32"      # 4 slices of Y, in fp32
    assert any(a.key == "partials" and "(by, bz)" in a.value for a in first.attrs)
    assert first.grid == (2, 2, 2) and second.grid == (3, 2)                # Y's 3 x 2 blocks of 32 x 32
    assert "atomic_add" not in "\n".join(p.lines())


@pytest.mark.parametrize("level, stop", [("L0", "P0c"), ("L5", "C2b"), ("L9", "F1")])
def test_every_level_gives_the_atomic_adds_bits(tmp_path, level, stop):
    """Y starts nonzero (the adds add to it); the sums in slice order (bx fastest in the grid: by,
    then bz) are L0's atomic adds' order, so the bits agree; and with NumPy within fp32 rounding."""
    pf = kernel(tmp_path)
    arrays = api.random_inputs(api.lower(pf, "P0"), 5)
    arrays["Y"] = np.random.default_rng(5).standard_normal((96, 64)).astype(np.float32)
    got = api.simulate(pipeline.lower(pf, stop), level, arrays)["Y"]
    atomic = api.simulate(api.lower(pf, "P0"), "L0", arrays)["Y"]
    assert np.array_equal(got.view(np.uint32), atomic.view(np.uint32))
    ref = arrays["Y"].astype(np.float64) + 2 * arrays["X"].astype(np.float64).sum(axis=0)
    assert np.max(np.abs(got - ref)) <= 1e-6 * np.max(np.abs(ref))       # 5 fp32 adds per element


@pytest.mark.filterwarnings("ignore::nanott.diagnostics.NanottWarning")   # NT118: Y not all written
@pytest.mark.parametrize("change, why", [
    (("for r in T.serial(3)", "for r in T.serial(2)"), "the adds leave Y's last row block unwritten"),
    (("Y[r * 32, bx * 32]", "Y[0, bx * 32]"), "two iterations of one block add into the same rows"),
])
def test_adds_that_do_not_qualify_stay_nt323(tmp_path, change, why):
    with pytest.raises(NanottError) as e:
        api.lower(kernel(tmp_path, MEET.replace(*change)))
    assert e.value.code == "NT323" and "may meet" in e.value.message, why


def test_flash_attention_bwd_main_launch_sums_dq_over_key_blocks():
    """The example's main launch: dQ's adds meet across the key blocks (by) only."""
    prim_func = load_kernel(ROOT / "examples" / "flash_attention_bwd.py").prim_func
    p = pipeline.lower(prim_func, "P0c")
    assert len(p.launches) == 5                 # forward, preprocess, main, its sum, postprocess
    main, total = p.launches[2:4]
    (scratch,) = [t for t in p.scratch if t.name.startswith("dQ_accum_partial")]
    assert scratch.shape == (2, 1, 128, 2, 64) and scratch.dtype == "float32"
    assert any(a.key == "partials" and "(by)" in a.value for a in main.attrs)
    assert total.grid == (2, 2) and {t.name for t in total.params} == {"dQ_accum", scratch.name}
