"""Issue 9, items 1 and 2: unchanged TileLang files load (the `tilelang` package surface, only during
the load), and the eager style (`@tilelang.jit` + T.const + body annotations + T.empty) lowers.

Numerics are checked against NumPy on random inputs; float32 GEMMs of K <= 128 terms in [-1, 1)
agree with float64 NumPy to about K * 2^-24 of the sum of |terms| (under 1e-5), so 1e-4 of the
output's own scale leaves room for summation order and fails on any wrong element."""
from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from conftest import nanott_cli as nanott
from nanott import api
from nanott.diagnostics import NanottError, NanottWarning
from nanott.language.tilelang_surface import Autotuned, Jit, surface
from nanott.loader import load_kernel, run_module
from nanott.pipeline import STAGES

HERE = Path(__file__).resolve().parent / "kernels" / "tilelang_style"
RNG = np.random.default_rng(9)


def module(name: str):
    with surface(HERE):
        return run_module(HERE / name)


def close(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-4) -> bool:
    scale = float(np.max(np.abs(expected)))
    return scale > 0 and float(np.max(np.abs(actual - expected))) <= rtol * scale


def test_eager_gemm_sizes_come_from_the_arrays_and_the_output_is_returned():
    mod, skipped = module("eager_gemm.py")
    assert isinstance(mod.matmul, Jit) and mod.matmul.options["out_idx"] == [-1]
    assert {s.line for s in skipped} == {33, 34}                # torch.randn(..cuda), do_bench
    a = RNG.uniform(-1, 1, (64, 96)).astype(np.float32)
    b = RNG.uniform(-1, 1, (96, 128)).astype(np.float32)
    for level in ("L0", "L5", "L9"):
        c = api.run(mod.matmul, a, b, level=level, block_M=32, block_N=64)
        assert c.shape == (64, 128) and close(c, a.astype(np.float64) @ b)


def test_eager_kernel_from_the_cli_values_has_the_tensors_then_the_outputs():
    loaded = load_kernel(HERE / "eager_gemm.py", None, {"M": "64", "N": "32", "K": "64",
                                                         "block_M": "32", "block_N": "32"})
    k = loaded.prim_func.parse()
    assert [(p.name, p.shape) for p in k.params] == [("A", (64, 64)), ("B", (64, 32)), ("C", (64, 32))]
    assert ("pass_configs" not in str(k.attrs)) and loaded.name == "matmul"
    assert [line for line, _ in loaded.skipped] == [33, 34]


@pytest.mark.parametrize("sets, code, words", [
    ({"M": "64", "N": "32", "K": "64"}, "NT903", "matmul needs block_M, block_N"),
    ({"M": "64", "block_M": "32", "block_N": "32"}, "NT903", "the size N, K (T.const) has no value"),
    ({"M": "64", "N": "32", "K": "64", "block_M": "32", "block_N": "32", "Q": "1"}, "NT903",
     "no parameter or T.const size Q"),
    ({"A": "3", "block_M": "32", "block_N": "32"}, "NT903", "A of matmul is a tensor"),
])
def test_eager_kernel_missing_or_wrong_values_are_diagnosed(sets, code, words):
    with pytest.raises(NanottError) as e:
        load_kernel(HERE / "eager_gemm.py", None, sets).prim_func.parse()
    assert e.value.code == code and words in e.value.message and "Traceback" not in e.value.render()


def test_autotuned_factory_runs_with_values_or_with_its_first_configuration(monkeypatch):
    """--set values run as given; without them the first configuration of the search space runs
    (block_M=32 of [32, 64]), with warning NT921 naming it; a --set wins over the configuration;
    configurations that cannot be listed without a GPU stay NT920."""
    loaded = load_kernel(HERE / "factory_autotuned.py", "scale_rows",
                         {"M": "64", "N": "64", "block_M": "32", "block_N": "32"})
    x = RNG.uniform(-1, 1, (64, 64)).astype(np.float32)
    y = np.full_like(x, np.nan)
    api.run(loaded.prim_func, x, y, level="L9")
    assert close(y, x * 2.0 + 1.0)
    assert [(line, why.split(" is ")[0]) for line, why in loaded.skipped] == [(35, "tilelang.carver.arch.CUDA")]
    with pytest.warns(NanottWarning) as w:
        first = load_kernel(HERE / "factory_autotuned.py", "scale_rows", {"M": "64", "N": "64"})
    assert [x.message.error.code for x in w] == ["NT921"]
    assert "the first of the 2 configurations, --set block_M=32 --set block_N=32" in str(w[0].message)
    assert first.prim_func.parse().grid == (2, 2)                             # 64 / 32 each way
    y = np.full_like(x, np.nan)
    api.run(first.prim_func, x, y, level="L9")
    assert close(y, x * 2.0 + 1.0)
    with pytest.warns(NanottWarning):
        chosen = load_kernel(HERE / "factory_autotuned.py", "scale_rows", {"M": "64", "N": "64", "block_M": "64"})
    assert chosen.prim_func.parse().grid == (2, 1)                            # block_M=64 from --set
    monkeypatch.setattr(Autotuned, "first_config", lambda self: None)
    with pytest.raises(NanottError) as e:
        load_kernel(HERE / "factory_autotuned.py", "scale_rows", {"M": "64", "N": "64"})
    assert e.value.code == "NT920" and "autotuned over block_M, block_N" in e.value.message
    assert "--set block_M=... --set block_N=..." in e.value.hint


def hide_torch(monkeypatch) -> None:
    """Make the surface act as if torch were not installed (its stand-in answers `import torch`)."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else find_spec(name, *a))


def test_module_level_cuda_work_without_torch_is_declined_when_the_kernel_needs_it(monkeypatch):
    """Without torch, nanott's stand-in loads `import torch` and declines the CUDA call (NT920),
    reported at its line because the kernel reads the name it binds. (torch is hidden from the
    surface here, so the test means the same whether or not torch is installed.)"""
    hide_torch(monkeypatch)
    with pytest.raises(NanottError) as e:
        load_kernel(HERE / "needs_cuda.py", None, {"block": "32"})
    assert e.value.code == "NT920" and "torch.zeros" in e.value.message
    assert e.value.loc.line == 10


@pytest.mark.needs_torch
def test_module_level_cuda_work_with_torch_reports_its_error_when_the_kernel_needs_it():
    """With a CPU build of torch (no GPU here), the CUDA call raises torch's own error: the load
    fails with it (NT902), at its line, because the kernel needs the name it would have bound."""
    with pytest.raises(NanottError) as e:
        load_kernel(HERE / "needs_cuda.py", None, {"block": "32"})
    assert e.value.code == "NT902" and "not compiled with CUDA" in e.value.message
    assert e.value.loc.line == 10


@pytest.mark.parametrize("torch_installed", [False, pytest.param(True, marks=pytest.mark.needs_torch)])
def test_cuda_device_queries_answer_sm_90_during_the_load_with_or_without_torch(monkeypatch, torch_installed):
    """A factory that picks its block from torch.cuda.get_device_capability() loads, takes its sm_90
    configuration (64-row blocks: a 256-row tensor is 4 blocks, sm_80's 32 rows would be 8) and
    matches NumPy; after the load torch's own query is back (it raises on this GPU-less machine)."""
    if not torch_installed:
        hide_torch(monkeypatch)
    loaded = load_kernel(HERE / "device_configured.py", None, {"M": "256", "N": "64"})
    assert loaded.prim_func.parse().grid == (4,) and not loaded.skipped
    x = RNG.uniform(-1, 1, (256, 64)).astype(np.float32)
    y = np.full_like(x, np.nan)
    api.run(loaded.prim_func, x, y, level="L9")
    assert close(y, x * 3.0 - 1.0)
    if torch_installed:
        import torch
        assert torch.cuda.is_available() is False and torch.cuda.get_device_capability.__module__.startswith("torch")
        with pytest.raises(Exception, match="CUDA"):
            torch.cuda.get_device_capability()


def test_a_persistent_kernel_takes_one_block_per_answered_sm_and_covers_every_tile():
    """`driver.get_num_sms()` answers the default target's 64 Tensix cores during the load: the grid
    is 64 blocks and 140 row tiles take three waves, the third taken by 12 blocks only (its `if`
    false for the other 52), so a wrong wave count or a wrong guard leaves rows of NaN or misplaced rows."""
    loaded = load_kernel(HERE / "persistent_rows.py", None, {"M": str(140 * 32), "N": "32"})
    assert loaded.prim_func.parse().grid == (64,) and not loaded.skipped
    x = RNG.uniform(-1, 1, (140 * 32, 32)).astype(np.float32)
    for level in ("L0", "L9"):
        y = np.full_like(x, np.nan)
        api.run(loaded.prim_func, x, y, level=level)
        assert close(y, x + 0.5), level


def test_the_surface_is_active_only_during_the_load():
    real = types.ModuleType("tilelang")                  # what a real TileLang install would be
    sys.modules["tilelang"] = real
    try:
        mod, _ = module("factory_autotuned.py")
        assert sys.modules["tilelang"] is real and "sizes_helper" not in sys.modules
        assert isinstance(mod.scale_rows, Autotuned) and mod.tilelang is not real
        assert mod.T.__name__ == "nanott.language" and str(HERE) not in sys.path
    finally:
        del sys.modules["tilelang"]
    with pytest.raises(NanottError) as e:
        mod.tilelang.profiler.do_bench(lambda: 0)
    assert e.value.code == "NT920" and "tilelang.profiler.do_bench is not honoured" in e.value.message


def test_cli_finds_the_eager_kernel_by_its_decorator():
    out = nanott("explain", str(HERE / "eager_gemm.py"), "--stop-after", "B1", "--set", "M=64",
                 "--set", "N=64", "--set", "K=64", "--set", "block_M=32", "--set", "block_N=32").output
    assert "kernel matmul(A: float32[64x64], B: float32[64x64], C: float32[64x64])" in out
    assert out.count("# checked:") == STAGES["B1"].position + 1 and "EXCEEDS" not in out  # P0..B1
    assert "eager_gemm.py:33: note: skipped while loading" in out


def test_a_scalar_parameter_is_named_not_a_python_error(tmp_path):
    """`max_seqlen_q: T.int32` (the varlen attention files): T.int32 is a str, and no annotation text;
    without a --set value it is NT903 at its line (with one it is a size: tests/test_dynamic_sizes.py)."""
    path = tmp_path / "scalar_param.py"
    path.write_text("import tilelang\nimport tilelang.language as T\n\n\n@tilelang.jit\ndef f(n):\n"
                    "    @T.prim_func\n    def main(A: T.Tensor((n,), T.float32), m: T.int32, B: T.Tensor((n,), T.float32)):\n"
                    "        with T.Kernel(1) as bx:\n            s = T.alloc_shared((n,), T.float32)\n"
                    "            T.copy(A, s)\n            T.copy(s, B)\n    return main\n")
    with pytest.raises(NanottError) as err:
        load_kernel(path, None, {"n": "32"}).prim_func.parse()
    assert err.value.code == "NT903" and "scalar parameter m" in err.value.message and err.value.loc.line == 8
    assert err.value.hint == "--set m=..."


def test_a_view_of_an_on_chip_buffer_is_named_not_a_python_error(tmp_path):
    """`T.Tensor(shape, dtype, buf.data)`: `.data` is the buffer's storage; a view of a DRAM tensor
    is an access of it (tests/test_views.py), a view of an on-chip block is NT304 at its line, never
    an AttributeError (NT109)."""
    path = tmp_path / "view.py"
    path.write_text("import tilelang\nimport tilelang.language as T\n\n\n@tilelang.jit\ndef f(n):\n"
                    "    @T.prim_func\n    def main(A: T.Tensor((n, n), T.float32), B: T.Tensor((n, n), T.float32)):\n"
                    "        with T.Kernel(1) as bx:\n            s = T.alloc_shared((n, n), T.float32)\n"
                    "            flat = T.Tensor((n * n,), T.float32, s.data)\n"
                    "            T.copy(A, s)\n            T.copy(s, B)\n    return main\n")
    with pytest.raises(NanottError) as err:
        load_kernel(path, None, {"n": "32"}).prim_func.parse()
    assert err.value.code == "NT304" and "view of the on-chip buffer" in err.value.message
    assert err.value.loc.line == 11


DEQUANT = """import tilelang
import tilelang.language as T
from tvm import tirx


@tilelang.jit
def f(n):
    @T.prim_func
    def main(A: T.Tensor((n, n), T.int8), B: T.Tensor((n, n), T.float32)):
        with T.Kernel(1) as bx:
            s = T.alloc_shared((n, n), T.int8)
            o = T.alloc_fragment((n, n), T.float32)
            T.annotate_layout({s: tilelang.layout.make_swizzled_layout(s)})
            T.copy(A, s)
            for i, j in T.Parallel(n, n):
                o[i, j] = UNPACK
            T.copy(o, B)
    return main
"""


@pytest.mark.parametrize("unpack, code", [
    ("s[i, j] * tirx.const(2, T.int8) if s[i, j].dtype == T.int8 else None", None),
    ("s[i, j] >> tirx.const(4, T.uint8)", None),
    ("s[i, j] & 15", None),
    ("tirx.reinterpret(T.int8, (s[i, j] & 15) << tirx.const(4, T.uint8)) >> tirx.const(4, T.int8)", None),
    ("(s[i, j] << tirx.const(12, T.uint16)).astype(T.uint16) >> tirx.const(12, T.uint16)", None),
    ("T.cast(s[i, j] << 8, T.int16) >> 8", None),
    ("(s[i, j] * 0.5) >> 1", "NT301"),
])
def test_a_swizzle_is_recorded_and_bit_operations_are_named(tmp_path, unpack, code):
    """make_swizzled_layout changes no value: recorded on the kernel, the kernel runs; `>>`, `&` and
    tirx.reinterpret of an int8 buffer's elements (int4 unpacking, sign extension) run with NumPy's
    meaning; a bit operation on a float is NT301 at its line, never a TypeError (NT109)."""
    path = tmp_path / "dequant.py"
    path.write_text(DEQUANT.replace("UNPACK", unpack))
    prim_func = load_kernel(path, None, {"n": "32"}).prim_func
    parse = prim_func.parse
    if code:
        with pytest.raises(NanottError) as err:
            parse()
        assert err.value.code == code and "bit operation" in err.value.message and err.value.loc.line == 16
        assert "float" in err.value.message     # integers' bit operations run; a float's do not
        return
    kernel = parse()
    assert ("layout.s", "swizzled") in {(a.key, a.value) for a in kernel.attrs}
    A = np.arange(-512, 512).reshape(32, 32).astype(np.int8)
    B = np.zeros((32, 32), np.float32)
    api.run(prim_func, A, B, level="L0")
    expected = {"T.uint16": (A.astype(np.int32) << 12).astype(np.uint16) >> 12,     # NumPy's wrap to 16 bits
                "T.int16": (A.astype(np.int32) << 8).astype(np.int16) >> 8,
                "reinterpret": ((A & 15) << 4).astype(np.uint8).view(np.int8) >> 4,   # the low nibble, signed
                "* tirx": 2 * A.astype(np.float32), ">> tirx": A >> 4, "& 15": A & 15}
    case = next(text for text in expected if text in unpack)
    assert (B == np.asarray(expected[case], np.float32)).all()


@pytest.mark.parametrize("unpack, words", [
    ("tirx.reinterpret(T.bfloat16, (s[i, j] & 15).astype(T.uint16) << tirx.const(7, T.uint16))",
     "T.reinterpret of integer bits as bfloat16"),
    ("(s[i, j] * 0.5).astype(T.uint16)", "a float value cast to uint16"),
])
def test_float_bits_and_a_float_in_uint16_are_refused_at_their_line(tmp_path, unpack, words):
    """An mxfp4 decoder's last step, integer bits read as a bfloat16 (NT301), and a float value cast
    to a 16-bit integer dtype, which only integer expressions have (NT101): refused at the line."""
    path = tmp_path / "dequant.py"
    path.write_text(DEQUANT.replace("UNPACK", unpack))
    with pytest.raises(NanottError) as err:
        load_kernel(path, None, {"n": "32"}).prim_func.parse()
    assert words in err.value.message and err.value.loc.line == 16 and err.value.hint


def test_tilelang_c_names_and_the_dtype_constructor_are_tilelangs():
    """T.int, T.uint (and short, long, double) are the dtypes TileLang's dtypes.py gives them, and
    T.dtype(x) names x's dtype as TileLang displays it, from a name, a dtype, NumPy, torch or a
    Python type: a helper that checks `T.dtype(fmt) in [T.int, T.uint]` (the dequantize helpers)
    accepts what TileLang accepts and refuses the rest."""
    import nanott.language as T
    assert (T.int, T.uint, T.short, T.long, T.double) == ("int32", "uint32", "int16", "int64", "float64")
    assert all(isinstance(d, T.dtype) for d in (T.int, T.uint))
    assert [T.dtype(x) for x in ("uint", "int", "float", T.uint32, np.float16, np.dtype("int8"), int, float,
                                 bool)] == ["uint32", "int32", "float32", "uint32", "float16", "int8", "int32",
                                            "float32", "bool"]
    assert T.dtype("uint") in [T.int, T.uint] and T.dtype(T.uint8) not in [T.int, T.uint]
    assert T.int(7) == 7 and isinstance(T.int(7.9), int) and T.double(2) == 2.0


C_NAMES = """import tilelang
import tilelang.language as T


def checked(fmt):
    fmt = T.dtype(fmt)
    assert fmt in [T.int, T.uint], fmt
    return fmt


@tilelang.jit
def f(n, fmt="int"):
    dt = checked(fmt)

    @T.prim_func
    def main(A: T.Tensor((n, n), dt), B: T.Tensor((n, n), T.int)):
        with T.Kernel(1) as bx:
            s = T.alloc_shared((n, n), T.dtype("int"))
            T.copy(A, s)
            for i, j in T.Parallel(n, n):
                s[i, j] = s[i, j] * T.int(3) + 1
            T.copy(s, B)
    return main
"""


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_a_kernel_in_tilelang_c_names_runs(tmp_path, level):
    """A kernel whose tensors are `T.int` and `T.dtype("int")` (int32): exact integer arithmetic, so
    the comparison with NumPy is exact."""
    path = tmp_path / "c_names.py"
    path.write_text(C_NAMES)
    loaded = load_kernel(path, None, {"n": "32"})
    assert [p.dtype for p in loaded.prim_func.parse().params] == ["int32", "int32"]
    a = RNG.integers(-1000, 1000, (32, 32)).astype(np.int32)
    b = np.zeros_like(a)
    api.run(loaded.prim_func, a, b, level=level)
    np.testing.assert_array_equal(b, a * 3 + 1)


MACRO = """import tilelang
import tilelang.language as T


@tilelang.jit
def f(n, scale=2.0):
    @T.macro
    def scaled_exp(src, dst, k):
        for i, j in T.Parallel(n, n):
            dst[i, j] = T.exp(src[i, j] * scale) + k

    @T.prim_func
    def main(A: T.Tensor((n, n), T.float32), B: T.Tensor((n, n), T.float32)):
        with T.Kernel(1) as bx:
            s = T.alloc_shared((n, n), T.float32)
            o = T.alloc_fragment((n, n), T.float32)
            T.copy(A, s)
            scaled_exp(s, o, 1.0)
            scaled_exp(o, o, bx)
            T.copy(o, B)
            EXTERN
    return main
"""


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_a_macro_is_written_into_the_kernel_where_it_is_called(tmp_path, level):
    """`@T.macro` called twice, on other buffers and arguments (a Python float, a block index): each
    call's loop is in L0, and the kernel matches NumPy. exp of values up to e^(2e^2+...) stays small
    here (inputs in [-0.5, 0.5)); float32 exp is within a few ulp, so 1e-5 of the scale."""
    path = tmp_path / "macro.py"
    path.write_text(MACRO.replace("EXTERN", "pass"))
    loaded = load_kernel(path, None, {"n": "32"})
    kernel = loaded.prim_func.parse()
    assert str(kernel).count("parallel") == 2 and "scaled_exp" not in str(kernel)
    a = RNG.uniform(-0.5, 0.5, (32, 32)).astype(np.float32)
    b = np.zeros_like(a)
    api.run(loaded.prim_func, a, b, level=level)
    x = a.astype(np.float64)
    assert close(b, np.exp(2 * (np.exp(2 * x) + 1)), rtol=1e-5)


@pytest.mark.parametrize("extern, what", [
    ("T.import_source('extern \"C\" __device__ void f(half* x) {}')", "T.import_source of C/CUDA device source"),
    ("T.call_extern('handle', 'decode_fp4_to_bf16', s.data, o.data)", "T.call_extern of the external device "
                                                                      "function decode_fp4_to_bf16"),
])
def test_foreign_device_code_is_named(tmp_path, extern, what):
    """C/CUDA source brought into a kernel (the fast dequantize examples) is NT301 at its line, naming
    the construct, never NT108 ("not a TileLang operation") or a Python error."""
    path = tmp_path / "extern.py"
    path.write_text(MACRO.replace("EXTERN", extern))
    with pytest.raises(NanottError) as err:
        load_kernel(path, None, {"n": "32"}).prim_func.parse()
    assert err.value.code == "NT301" and err.value.message.startswith(what) and err.value.loc.line == 21
    assert "fast_dequant=False" in err.value.hint
