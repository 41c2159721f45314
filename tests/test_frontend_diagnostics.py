"""The frontend's diagnostics: each bad kernel in tests/kernels/ gives its code, its message, the
offending source line with a caret under the statement, and a hint; never a traceback. Also the
loader's NT9xx errors (kernel choice, --set, syntax and import errors).
"""
from __future__ import annotations

from pathlib import Path

import pytest

import nanott.language as T
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel
from nanott.passes.p0_parse import parse

KERNELS = Path(__file__).resolve().parent / "kernels"

# (file, code, message fragment, source line (stripped), hint fragment)
CASES = [
    ("bad_gemm_shape", "NT105", "T.gemm shapes do not agree: A A_s (64, 32), B B_s (64, 64), C C_l (64, 64)",
     "T.gemm(A_s, B_s, C_l)", "K is 32 in A_s but 64 in B_s"),
    ("bad_copy_extent", "NT103", "copy extents do not match: (128, 32) vs (64, 32)",
     "T.copy(A[by * 128:(by + 1) * 128, 0:32], A_s)", "must have the same extents"),
    ("bad_unsupported", "NT301", "T.cumsum is not supported by nanott yet",
     "T.cumsum(A_l, S_l, dim=1)", "nanott lowers T.copy, T.gemm"),
    ("bad_dtype", "NT101", "dtype float64 is not supported by nanott",
     "B: T.Tensor((64, 64), T.float64)):", "supported dtypes: bfloat16, float16, float32"),
    ("bad_symbolic_if", "NT302", "a store into the DRAM tensor B under an `if` on a value known only at run time "
     "((A_s[i, j] > 0))", "B[bx * 64 + i, j] = A_s[i, j]", "the condition reads an on-chip buffer"),
    ("bad_data_if", "NT302", "an `if` reads m, which is written after its copy from DRAM",
     "if m[k] != 0:", "copy the mask from DRAM into its own buffer"),
    ("bad_dram_gemm", "NT106", "T.gemm operand A is the DRAM tensor A",
     "T.gemm(A, B_s, C_l, clear_accum=True)", "copy a tile in first"),
    ("bad_typo", "NT108", "T.cpoy is neither a nanott nor a TileLang operation",
     "T.cpoy(A, A_s)", "did you mean T.copy?"),
    ("bad_python_error", "NT109", "NameError: name 'undefined_offset' is not defined",
     "T.copy(A_s, B[undefined_offset, 0])", "the error is in the statement shown"),
    ("bad_loop_start", "NT304", "T.serial with step 2 is not supported by nanott yet",
     "for k in T.serial(0, 2, 2):", "loops step by 1"),
    ("bad_slice_extent", "NT102", "the slice (bx * 64):(by * 64) of A (dim 0) does not have an extent",
     "T.copy(A[bx * 64:by * 64, :], A_s)", "difference is a Python int"),
]


def caught(fn) -> NanottError:
    with pytest.raises(NanottError) as info:
        fn()
    return info.value


def assert_points_at(err: NanottError, path: Path, source: str, caret: bool = True) -> None:
    """The render names the file and line, shows the line, and puts the caret under the statement."""
    lines = path.read_text().splitlines()
    number = next(i for i, s in enumerate(lines, 1) if s.strip() == source)
    text = lines[number - 1]
    indent = len(text) - len(text.lstrip())
    rendered = err.render().splitlines()
    assert rendered[0].startswith(f"{path}:{number}:" if not caret else
                                  f"{path}:{number}:{indent + 1}: error {err.code}: ")
    assert rendered[1] == "    " + text
    if caret:
        assert rendered[2].index("^") == 4 + indent


@pytest.mark.parametrize("name, code, message, source, hint", CASES, ids=[c[0] for c in CASES])
def test_bad_kernel_diagnostic(name, code, message, source, hint):
    path = KERNELS / f"{name}.py"
    err = caught(lambda: parse(load_kernel(path)))
    assert err.code == code
    assert message in err.message
    assert_points_at(err, path, source)
    assert f"hint: " in err.render() and hint in err.hint


def test_unsupported_names_are_values_until_called():
    op = T.reduce_sum                          # no AttributeError at attribute access
    assert callable(op) and hasattr(T, "atomic_add")
    assert not hasattr(T, "__wrapped__")


def test_unsupported_call_at_module_level_points_at_the_caller():
    path = KERNELS / "bad_module_level.py"
    err = caught(lambda: load_kernel(path))
    assert err.code == "NT301" and "T.erf is not supported by nanott yet" in err.message
    assert_points_at(err, path, "SCALE = T.erf(LOG2E)")


def test_op_outside_a_kernel():
    err = caught(lambda: T.copy(None, None))
    assert err.code == "NT110" and "inside a @T.prim_func kernel" in err.message
    assert err.loc.file == __file__


def test_loader_syntax_and_import_errors_have_lines():
    err = caught(lambda: load_kernel(KERNELS / "bad_syntax.py"))
    assert err.code == "NT902" and "expected ':'" in err.message
    assert_points_at(err, KERNELS / "bad_syntax.py", "with T.Kernel(1) as bx", caret=False)
    err = caught(lambda: load_kernel(KERNELS / "bad_import.py"))
    assert err.code == "NT902" and "KeyError" in err.message
    assert_points_at(err, KERNELS / "bad_import.py", 'N = SIZES["N"]')


def test_loader_kernel_choice():
    err = caught(lambda: load_kernel(KERNELS / "two_kernels.py"))
    assert err.code == "NT901" and "2 kernels (large, small)" in err.message
    assert load_kernel(KERNELS / "two_kernels.py", "small").name == "small"
    err = caught(lambda: load_kernel(KERNELS / "factory_only.py"))
    assert err.code == "NT901" and "no module-level @T.prim_func" in err.message
    assert "factories: scale(M, N=64, dtype='float32')" in err.hint
    assert "e.g. --kernel scale --set M=512 ..." in err.hint and "not_a_factory" not in err.hint
    err = caught(lambda: load_kernel(KERNELS / "two_kernels.py", "nope"))
    assert err.code == "NT901" and "large, small" in err.hint


def test_loader_factories_and_sets():
    loaded = load_kernel(KERNELS / "factory_only.py", "scale", {"M": "32", "dtype": "bfloat16"})
    kernel = parse(loaded)
    assert kernel.params[0].shape == (32, 64) and kernel.params[0].dtype == "bfloat16"
    assert (loaded.name, loaded.reference) == ("scale", None)
    err = caught(lambda: load_kernel(KERNELS / "factory_only.py", "scale", {}))
    assert err.code == "NT903" and err.message == "scale needs M"
    err = caught(lambda: load_kernel(KERNELS / "factory_only.py", "scale", {"M": "32", "Q": "1"}))
    assert err.code == "NT903" and "no parameter Q" in err.message
    err = caught(lambda: load_kernel(KERNELS / "factory_only.py", "not_a_factory", {"x": "3"}))
    assert err.code == "NT903" and "returned a int" in err.message
    err = caught(lambda: load_kernel(KERNELS / "two_kernels.py", "small", {"M": "3"}))
    assert err.code == "NT903"
