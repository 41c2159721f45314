"""Issue 9, item 3: the dtype vocabulary is one table (nanott/dtypes.py), every consumer reads it,
and a float16 kernel computes the same numbers at every level as NumPy does.

float16 keeps 11 significant bits: y = x * 0.5 - 1 on x in [-1, 1) is exact in float32, and the one
rounding to float16 is what NumPy's astype does, so every level must match NumPy bit for bit."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanott import api, dtypes, pipeline
from nanott.backends.metalium.api import DATA_FORMATS, HOST_TYPES
from nanott.languages import l0
from nanott.languages.l0_interp import np_dtype
from nanott.loader import load_kernel
from nanott.target import FORMATS

HERE = Path(__file__).resolve().parent / "kernels" / "tilelang_style"


@pytest.mark.parametrize("name", list(dtypes.LOWERED))
def test_every_lowered_dtype_has_its_format_storage_and_host_type(name):
    d = dtypes.LOWERED[name]
    assert d.format in DATA_FORMATS and FORMATS[name] == (d.format, d.tile_bytes)
    exponents = 64 if d.format == "Bfp8_b" else 0           # a block float's shared exponents per tile
    assert np_dtype(name).itemsize * 8 == d.bits and d.tile_bytes == 32 * 32 * d.bits // 8 + exponents
    assert HOST_TYPES[d.format][0] == d.host and name in l0.DTYPES


def test_spellings_of_tilelang_torch_and_numpy_name_one_dtype():
    assert {dtypes.canonical(s) for s in ("half", "torch.float16", "float16")} == {"float16"}
    assert dtypes.bits_of("float8_e4m3fn") == 8 and dtypes.bits_of("float") == 32


@pytest.mark.parametrize("level", pipeline.LANGUAGES)
def test_a_float16_factory_kernel_matches_numpy_at_every_level(level):
    loaded = load_kernel(HERE / "f16_scale.py", "scale", {"M": "64", "N": "128"})
    x = np.random.default_rng(3).uniform(-1, 1, (64, 128)).astype(np.float16)
    y = np.full_like(x, np.nan)
    api.run(loaded.prim_func, x, y, level=level)
    expected = (x.astype(np.float32) * np.float32(0.5) - np.float32(1.0)).astype(np.float16)
    assert y.dtype == np.float16 and np.array_equal(y, expected)


@pytest.mark.parametrize("in_dtype, out_dtype", [("int8", "int32"), ("uint8", "int8"), ("int32", "uint8")])
@pytest.mark.parametrize("level", ["L0", "L4", "L9"])
def test_integer_and_bool_tensors_compute_exactly_at_every_level(in_dtype, out_dtype, level):
    """Small integers (|x * 3 - 2| <= 25) are exact in the float32 arithmetic every level uses, so
    each level must equal NumPy's integer arithmetic exactly; uint8 outputs wrap negative values as
    C and NumPy do, so the inputs for a uint8 output are kept at x >= 1."""
    from nanott.language.tilelang_surface import surface
    from nanott.loader import run_module
    with surface(HERE):
        mod, _ = run_module(HERE / "int_affine.py")
    rng = np.random.default_rng(5)
    low = 1 if out_dtype == "uint8" else (0 if in_dtype == "uint8" else -4)
    x = rng.integers(low, 9, (64, 96)).astype(in_dtype)
    mask = rng.integers(0, 2, (64, 96)).astype(bool)
    y = api.run(mod.affine, x, mask, level=level, in_dtype=in_dtype, out_dtype=out_dtype)
    expected = ((x.astype(np.int64) * 3 - 2) * mask).astype(out_dtype)
    assert y.dtype == np.dtype(out_dtype) and np.array_equal(y, expected)
