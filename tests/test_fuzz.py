"""A generator of valid kernels over the supported space, driven by hypothesis: a family (GEMM,
GEMM with transposes and epilogues, ragged GEMM, split-K, a reduction broadcast back, elementwise
math over 1-4 inputs) and a seed that draws its sizes, dtypes, grid and expression (the drawing
functions of test_generality.py), each lowered through F1 and run at L0, L5 and L9 against an
independent NumPy computation.

`make test` runs a fixed set of draws (derandomized: the same kernels on every run); `make fuzz`
(marker `heavy`, NANOTT_FRESH_SEEDS=1) runs many more on fresh seeds, and hypothesis prints the
smallest failing draw, which replays with @example.
"""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import test_generality as gen

FRESH = bool(os.environ.get("NANOTT_FRESH_SEEDS"))
FAMILIES = ("gemm", "gemm_variants", "ragged_gemm", "splitk", "reduction", "elementwise_math")


def run_family(family: str, seed: int, tmp_path) -> None:
    match family:
        case "gemm":
            gen.test_gemm_family(gen.gemm_configs(1, seed)[0])
        case "gemm_variants":
            gen.test_gemm_variants(gen.gemm_variant_configs(1, seed)[0])
        case "ragged_gemm":
            gen.test_ragged_gemm(gen.ragged_gemm_configs(1, seed)[0])
        case "splitk":
            gen.test_splitk_gemm(gen.splitk_configs(1, seed)[0])
        case "reduction":
            gen.test_random_reductions(seed - 3000, tmp_path)
        case "elementwise_math":
            gen.check_random_elementwise(gen.elementwise_source(random.Random(seed), math=True),
                                         tmp_path / f"math_{seed}.py")


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=2, derandomize=True, database=None, **COMMON)
@given(seed=st.integers(0, 2**31))
def test_generated_kernels_match_numpy_fixed_seeds(family, seed, tmp_path):
    run_family(family, seed, tmp_path)


@pytest.mark.heavy
@settings(max_examples=int(os.environ.get("NANOTT_FUZZ_EXAMPLES", "60")), derandomize=not FRESH, **COMMON)
@given(family=st.sampled_from(FAMILIES), seed=st.integers(0, 2**31))
def test_generated_kernels_match_numpy_fresh_seeds(family, seed, tmp_path):
    run_family(family, seed, tmp_path)
