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
    assert [a.value for a in first.attrs if a.key == "partials"] == [
        "the adds into Y of blocks differing in (by + (bz * 2)) meet: 4 slices of partials, summed in slice "
        "order by the next launch"]
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
    (("for r in T.serial(3)", "for r in T.serial(by + 2)"), "the slices add into different numbers of rows"),
    (("Y[r * 32, bx * 32]", "Y[0, bx * 32]"), "two iterations of one block add into the same rows"),
])
def test_adds_that_do_not_qualify_stay_nt323(tmp_path, change, why):
    with pytest.raises(NanottError) as e:
        api.lower(kernel(tmp_path, MEET.replace(*change)))
    assert e.value.code == "NT323" and "may meet" in e.value.message, why


@pytest.mark.filterwarnings("ignore::nanott.diagnostics.NanottWarning")   # NT118: Y not all written
def test_adds_that_leave_rows_unwritten_are_summed_where_they_are(tmp_path):
    """Two of Y's three row blocks added into: no launch per block of Y (its last would sum partials
    never written), but one per position of the add (bx, r), bit for bit L0's adds."""
    pf = kernel(tmp_path, MEET.replace("for r in T.serial(3)", "for r in T.serial(2)"))
    p = pipeline.lower(pf, "P0c")
    assert [k.grid for k in p.launches] == [(2, 2, 2), (2,)] and "for r in 0..2:" in "\n".join(p.launches[1].lines())
    arrays = api.random_inputs(api.lower(pf, "P0"), 5)
    arrays["Y"] = np.random.default_rng(5).standard_normal((96, 64)).astype(np.float32)
    got = api.simulate(pipeline.lower(pf, "F1"), "L9", arrays)["Y"]
    atomic = api.simulate(api.lower(pf, "P0"), "L0", arrays)["Y"]
    assert np.array_equal(got.view(np.uint32), atomic.view(np.uint32))
    ref = arrays["Y"].astype(np.float64)
    ref[:64] += 2 * arrays["X"][:, :64].astype(np.float64).sum(axis=0)
    assert np.max(np.abs(got - ref)) <= 1e-6 * np.max(np.abs(ref))       # 5 fp32 adds per element


def test_flash_attention_bwd_main_launch_sums_dq_over_key_blocks():
    """The example's main launch: dQ's adds meet across the key blocks (by) only."""
    prim_func = load_kernel(ROOT / "examples" / "flash_attention_bwd.py").prim_func
    p = pipeline.lower(prim_func, "P0c")
    assert len(p.launches) == 5                 # forward, preprocess, main, its sum, postprocess
    main, total = p.launches[2:4]
    (scratch,) = [t for t in p.scratch if t.name.startswith("dQ_accum_partial")]
    assert scratch.shape == (2, 1, 128, 2, 64) and scratch.dtype == "float32"
    assert any(a.key == "partials" and "differing in by meet" in a.value for a in main.attrs)
    assert total.grid == (2, 2) and {t.name for t in total.params} == {"dQ_accum", scratch.name}


# GQA's dK and dV: 4 heads (bx) in groups of 2 share one row of Y, added into after the work; Z is
# added into by every head. Two adds, two sums; Y's slice is bx % 2, which the start (bx // 2) leaves.
GROUPS = '''
import nanott.language as T

@T.prim_func
def groups(X: T.Tensor((4, 64, 64), "float32"), Y: T.Tensor((2, 64, 64), "float32"),
           Z: T.Tensor((64, 64), "float32")):
    with T.Kernel(4, 2) as (bx, by):
        X_s = T.alloc_shared((32, 64), "float32")
        X_l = T.alloc_fragment((32, 64), "float32")
        X_h = T.alloc_fragment((32, 64), "float32")
        T.copy(X[bx, by * 32:(by + 1) * 32, :], X_s)
        T.copy(X_s, X_l)
        for i, j in T.Parallel(32, 64):
            X_h[i, j] = X_l[i, j] * 0.5
        T.atomic_add(Y[bx // 2, by * 32:(by + 1) * 32, :], X_l)
        T.atomic_add(Z[by * 32:(by + 1) * 32, :], X_h)
'''


@pytest.mark.parametrize("level, stop", [("L0", "P0c"), ("L9", "F1")])
def test_heads_of_a_group_meet_in_a_slice_of_their_own(tmp_path, level, stop):
    pf = kernel(tmp_path, GROUPS)
    p = pipeline.lower(pf, "P0c")
    assert [k.grid for k in p.launches] == [(4, 2), (2, 2), (2,)]          # the work, Y's 2x2 blocks, Z's 2
    assert [t.shape for t in p.scratch] == [(2, 2, 64, 64), (4, 64, 64)]     # 2 heads per group; all 4 heads
    assert "differing in (bx % 2)" in p.launches[0].attrs[-2].value
    arrays = api.random_inputs(api.lower(pf, "P0"), 7)
    rng = np.random.default_rng(7)
    arrays["Y"], arrays["Z"] = (rng.standard_normal(s).astype(np.float32) for s in ((2, 64, 64), (64, 64)))
    got = api.simulate(pipeline.lower(pf, stop), level, arrays)
    atomic = api.simulate(api.lower(pf, "P0"), "L0", arrays)
    x = arrays["X"].astype(np.float64)
    refs = {"Y": arrays["Y"] + x.reshape(2, 2, 64, 64).sum(axis=1), "Z": arrays["Z"] + 0.5 * x.sum(axis=0)}
    for name, ref in refs.items():
        assert np.array_equal(got[name].view(np.uint32), atomic[name].view(np.uint32)), name
        assert np.max(np.abs(got[name] - ref)) <= 1e-6 * np.max(np.abs(ref)), name   # 2 or 4 fp32 adds
