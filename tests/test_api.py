"""nanott.api: roles by analysis (never by name), seeded inputs, the reference, errors and
tolerances, on a hand-built L0 kernel (no frontend needed) and on the examples through `run`.
"""
import ml_dtypes
import numpy as np
import pytest
from conftest import EXAMPLES

from nanott import api
from nanott.diagnostics import NanottError
from nanott.languages import l0


def add_kernel(dtype="float32", n=64):
    """C-named input + out-named input -> A_in: names chosen so a name heuristic would get it wrong."""
    V, C = l0.Var, l0.Const
    at = (l0.BinOp("*", V("by"), C(32, "int32")), l0.BinOp("*", V("bx"), C(32, "int32")))
    zero = (C(0, "int32"), C(0, "int32"))
    body = (l0.Alloc("s", (32, 32), dtype, "shared"), l0.Alloc("t", (32, 32), dtype, "shared"),
            l0.Copy(l0.Region("C", at, (32, 32)), l0.Region("s", zero, (32, 32))),
            l0.Copy(l0.Region("out", at, (32, 32)), l0.Region("t", zero, (32, 32))),
            l0.Parallel(("i", "j"), (32, 32), (
                l0.Store("s", (V("i"), V("j")), l0.BinOp("+", l0.Load("s", (V("i"), V("j"))),
                                                          l0.Load("t", (V("i"), V("j"))))),)),
            l0.Copy(l0.Region("s", zero, (32, 32)), l0.Region("A_in", at, (32, 32))))
    params = tuple(l0.Tensor(name, (n, n), dtype) for name in ("C", "A_in", "out"))
    kernel = l0.Kernel("add", params, (n // 32, n // 32), ("bx", "by"), body, ())
    l0.LANG.check(kernel)
    return kernel


class Loaded:
    def __init__(self, reference=None):
        self.reference = reference


def test_roles_come_from_writes_not_names():
    assert api.tensor_roles(add_kernel()) == (("C", "out"), ("A_in",))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_random_inputs_seeded_in_range_outputs_nan(dtype):
    k = add_kernel(dtype)
    a, b, c = api.random_inputs(k, 1), api.random_inputs(k, 1), api.random_inputs(k, 2)
    assert all(np.array_equal(a[n], b[n], equal_nan=True) for n in a)
    assert not np.array_equal(a["C"], c["C"])
    assert a["C"].dtype == (ml_dtypes.bfloat16 if dtype == "bfloat16" else np.float32)
    x = a["C"].astype(np.float64)
    assert x.min() >= -1 and x.max() <= 1 and x.std() > 0.3
    assert np.isnan(a["A_in"].astype(np.float64)).all()


def test_expected_outputs_from_l0_interpreter_without_reference():
    k = add_kernel()
    inputs = api.random_inputs(k, 0)
    expected = api.expected_outputs(Loaded(), k, inputs)
    np.testing.assert_array_equal(expected["A_in"], inputs["C"] + inputs["out"])
    assert np.isnan(inputs["A_in"]).all(), "simulate must not write into the arrays it is given"


def test_expected_outputs_from_reference_in_parameter_order():
    k = add_kernel()
    inputs = api.random_inputs(k, 0)
    expected = api.expected_outputs(Loaded(lambda c, out: c - out), k, inputs)
    np.testing.assert_array_equal(expected["A_in"], inputs["C"] - inputs["out"])


@pytest.mark.parametrize("reference", [lambda c, out: (c, out), lambda c, out: c[:1]])
def test_reference_that_does_not_fit_is_a_user_error(reference):
    k = add_kernel()
    with pytest.raises(NanottError):
        api.expected_outputs(Loaded(reference), k, api.random_inputs(k, 0))


def test_errors_and_tolerance():
    e = np.array([1.0, -2.0, 4.0], np.float32)
    assert api.max_abs_error(e + np.float32(0.5), e) == 0.5
    assert api.max_rel_error(e + np.float32(0.5), e) == 0.125
    assert api.max_abs_error(np.array([1.0, np.nan, 4.0], np.float32), e) == np.inf
    assert not api.within(np.array([1.0, np.nan, 4.0], np.float32), e, "float32")
    bf = e.astype(ml_dtypes.bfloat16)
    assert api.within(bf, e * np.float32(1 + 2**-9), "bfloat16")      # one bf16 rounding passes
    assert not api.within(bf, e * np.float32(1.05), "bfloat16")        # 5% off does not
    assert set(api.TOLERANCE) == set(l0.DTYPES)


def test_compare_flags_the_bad_output():
    k = add_kernel()
    inputs = api.random_inputs(k, 0)
    good = api.expected_outputs(Loaded(), k, inputs)
    bad = {"A_in": good["A_in"] + np.float32(0.1)}
    assert [r.ok for r in api.compare(k, good, good)] == [True]
    assert [r.ok for r in api.compare(k, bad, good)] == [False]


def test_user_mistakes_are_diagnostics():
    with pytest.raises(NanottError, match="no stage"):
        api.lower(None, stop_after="Z9")
    with pytest.raises(NanottError, match="no target"):
        api.resolve_target("gpu")
    with pytest.raises(NanottError, match="no level"):
        api.stage_for_level("L12")
    assert [api.stage_for_level(lv).id for lv in ("L0", "L1", "L7", "L8", "L9")] == ["P0c", "A3", "D2", "D4", "F1"]


@pytest.mark.parametrize("level", ["L0", "L9"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_run_writes_outputs_in_place(example, level, lowered):
    loaded, kernel = lowered.loaded(example), lowered.kernel(example)
    arrays = {k: v.copy() for k, v in lowered.inputs(example).items()}
    api.run(loaded.prim_func, *arrays.values(), level=level)
    results = api.compare(kernel, arrays, lowered.expected(example))
    assert results and all(r.ok for r in results)


def test_run_rejects_arrays_that_do_not_fit(lowered):
    loaded = lowered.loaded("gemm")
    arrays = list(lowered.inputs("gemm").values())
    with pytest.raises(NanottError, match="takes 3 arrays"):
        api.run(loaded.prim_func, *arrays[:-1], level="L0")
    with pytest.raises(NanottError, match="must be a"):
        api.run(loaded.prim_func, *arrays[:-1], arrays[-1].astype(np.float64), level="L0")


def test_a_kernel_run_twice_is_lowered_once_with_the_same_result(lowered, monkeypatch):
    loaded = lowered.loaded("gemm")
    first = {k: v.copy() for k, v in lowered.inputs("gemm").items()}
    api.run(loaded.prim_func, *first.values(), level="L9")
    calls = []
    real = api.pipeline.run_stages
    monkeypatch.setattr(api.pipeline, "run_stages", lambda *a, **k: calls.append(a) or real(*a, **k))
    second = {k: v.copy() for k, v in lowered.inputs("gemm").items()}
    api.run(loaded.prim_func, *second.values(), level="L9")
    assert calls == [] and api.identical(first, second, tuple(first))
    api.run(loaded.prim_func, *second.values(), level="L8")              # another level: lowered again
    assert len(calls) == 1
