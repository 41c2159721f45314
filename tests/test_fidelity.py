"""Math fidelity chosen from the dtypes (D5, passes/_d5_fidelity.py): the fewest phases whose
products are exact, checked against the ISA's functional model of the phases (tt-isa-documentation's
ELWMUL model: SrcA/SrcB bit masks per phase, the result the sum of the phase products), which is
written here again, not imported."""
from __future__ import annotations

import warnings
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from conftest import nanott_cli

from nanott import api
from nanott.diagnostics import NanottError, NanottWarning
from nanott.loader import load_kernel

pytestmark = [pytest.mark.D5]
ROOT = Path(__file__).resolve().parent.parent
PHASES = {"LoFi": (0,), "HiFi2": (0, 1), "HiFi3": (0, 1, 2), "HiFi4": (0, 1, 2, 3)}
ORDER = list(PHASES)


def phased_product(a_src: np.ndarray, b_src: np.ndarray, fidelity: str) -> np.ndarray:
    """SrcA x SrcB as the matrix engine forms it at `fidelity` (float32 bit masks per phase)."""
    x, y = a_src.astype(np.float32), b_src.astype(np.float32)
    xi, yi = x.view(np.uint32), y.view(np.uint32)
    out = np.zeros_like(x)
    for p in PHASES[fidelity]:
        sa = (xi & 0xFFF80000).view(np.float32) if p & 1 == 0 else x - (xi & 0xFFF83FFF).view(np.float32)
        sb = (yi & 0xFFFE0000).view(np.float32) if p & 2 == 0 else y - (yi & 0xFFFE1FFF).view(np.float32)
        out = out + sa * sb
    return out


def chosen(dtype: str, fidelity: str | None = None) -> tuple[str, dict]:
    sets = dict(M="64", N="64", K="64", block_M="32", block_N="32", block_K="32", dtype=f'"{dtype}"')
    prim_func = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets=sets).prim_func
    program = api.lower(prim_func, "F1", fidelity=fidelity)
    return program.compute.math_fidelity, {a.key: a.value for a in program.attrs}


@pytest.mark.parametrize("dtype", ["bfloat16", "float8_e4m3fn", "float8_e5m2"])
def test_the_fewest_phases_with_exact_products(dtype):
    fidelity, notes = chosen(dtype)
    rng = np.random.default_rng(0)
    numpy_type = getattr(ml_dtypes, dtype)
    # matmul: in0 (A) goes to SrcB, in1 (B) to SrcA; values of the dtype, on a wide range of exponents
    a, b = (rng.standard_normal(4096).astype(np.float32) * 2.0 ** rng.integers(-4, 4, 4096) for _ in "ab")
    a, b = a.astype(numpy_type).astype(np.float32), b.astype(numpy_type).astype(np.float32)
    exact = a * b                                          # at most 8 x 8 significant bits: exact in fp32
    assert np.array_equal(phased_product(b, a, fidelity), exact)
    if fidelity != "LoFi":                                 # one phase fewer loses some product's low bits
        assert not np.array_equal(phased_product(b, a, ORDER[ORDER.index(fidelity) - 1]), exact)
    assert notes["math-fidelity"].startswith(f"{fidelity}: the dtype rule")


def test_bf16_keeps_hifi4_and_fp8_needs_one_phase():
    assert chosen("bfloat16")[0] == "HiFi4"
    fidelity, notes = chosen("float8_e4m3fn")
    assert fidelity == "LoFi" and "float8_e4m3fn x float8_e4m3fn" in notes["math-fidelity"]


def test_a_users_fidelity_overrides_the_rule_and_says_so():
    """Fewer phases than the rule: the user's choice stands, the note names both, NT207 warns
    (the device's products would lose bits); more phases than the rule: no warning."""
    with pytest.warns(NanottWarning, match="NT207|fewer phases than HiFi4"):
        fidelity, notes = chosen("bfloat16", "HiFi2")
    assert fidelity == "HiFi2"
    assert "the user's choice" in notes["math-fidelity"] and "the dtype rule gives HiFi4" in notes["math-fidelity"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", NanottWarning)
        fidelity, notes = chosen("float8_e4m3fn", "HiFi4")
    assert fidelity == "HiFi4" and "the dtype rule gives LoFi" in notes["math-fidelity"]


def test_an_unknown_fidelity_is_a_diagnostic():
    with pytest.raises(NanottError) as e:
        chosen("bfloat16", "HiFi5")
    assert e.value.code == "NT942" and "HiFi2" in e.value.hint


def test_the_cli_fidelity_reaches_the_emitted_cpp(tmp_path):
    """`compile --fidelity` sets the ComputeConfig of main.cpp; a bad name is NT942, not a traceback."""
    gemm = str(ROOT / "examples" / "gemm.py")
    r = nanott_cli("compile", gemm, "-o", str(tmp_path), "--fidelity", "HiFi2")
    assert "MathFidelity::HiFi2" in (tmp_path / "main.cpp").read_text() and "warning NT207" in r.output
    assert "error NT942" in nanott_cli("explain", gemm, "--stop-after", "A1", "--fidelity", "hifi2", code=3).output
