"""P0 parse: the examples and tests/kernels/forms.py become the L0 we expect.

Structure: parameters, grid, block variables, allocations, copy regions (start-index, slice and
whole-buffer forms, made explicit), loop kinds, lets, folded closure and global values, recorded
CUDA knobs, and locations pointing at the right source lines. Numerics: InterpL0 on each example,
on seeded random inputs, against the example's own NumPy `reference`. Tolerances: float32 outputs
max |err| <= 1e-5 * max(1, max |ref|) (only summation order differs); bfloat16 outputs rtol = atol =
2e-2 (the kernel and the reference may round the same float32 value to neighbouring bfloat16s).
"""
from __future__ import annotations

import time
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from nanott.ir import walk
from nanott.languages import l0
from nanott.languages.l0_interp import InterpL0, np_dtype
from nanott.loader import load_kernel, split_params
from nanott.passes.p0_parse import parse
from nanott.printing import render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["elementwise_add", "gemm", "gemm_bf16_out", "gemm_f32", "elementwise_expr", "gemm_big_block"]
FORMS = ROOT / "tests" / "kernels" / "forms.py"
Z = l0.Const(0, "int32")


def c(v: int) -> l0.Const:
    return l0.Const(v, "int32")


def mul(name: str, k: int) -> l0.BinOp:
    return l0.BinOp("*", l0.Var(name), c(k))


def example(name: str):
    return load_kernel(ROOT / "examples" / f"{name}.py")


def line_of(path: Path, text: str, nth: int = 0) -> tuple[int, int]:
    """(1-based line, column) of the nth source line starting with `text` (after indentation)."""
    hits = [(i, len(s) - len(s.lstrip())) for i, s in enumerate(path.read_text().splitlines(), 1)
            if s.lstrip().startswith(text)]
    return hits[nth]


def stmts(body):
    for s in body:
        yield s
        yield from stmts(getattr(s, "body", ()))


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_parse_to_checked_l0(name):
    loaded = example(name)
    kernel = parse(loaded.prim_func)
    l0.LANG.check(kernel, after="P0 parse")
    assert render(kernel) == render(parse(example(name).prim_func))     # same bytes every time
    assert loaded.reference is not None


def test_gemm_factory_structure():
    k = parse(example("gemm"))
    assert k.params == (l0.Tensor("A", (256, 256), "bfloat16"), l0.Tensor("B", (256, 256), "bfloat16"),
                        l0.Tensor("C", (256, 256), "float32"))
    assert (k.grid, k.block_vars, k.attrs) == ((4, 4), ("bx", "by"), (l0.Attr("threads", "128"),))
    assert [type(s).__name__ for s in k.body] == ["Alloc", "Alloc", "Alloc", "Fill", "For", "Copy"]
    assert k.body[:4] == (l0.Alloc("A_shared", (64, 32), "bfloat16", "shared"),
                          l0.Alloc("B_shared", (32, 64), "bfloat16", "shared"),
                          l0.Alloc("C_local", (64, 64), "float32", "fragment"),
                          l0.Fill("C_local", l0.Const(0.0, "float32")))
    loop = k.body[4]
    assert (loop.var, loop.extent, loop.kind, loop.num_stages) == ("k", c(8), "pipelined", 2)
    assert loop.body == (
        l0.Copy(l0.Region("A", (mul("by", 64), mul("k", 32)), (64, 32)), l0.Region("A_shared", (Z, Z), (64, 32))),
        l0.Copy(l0.Region("B", (mul("k", 32), mul("bx", 64)), (32, 64)), l0.Region("B_shared", (Z, Z), (32, 64))),
        l0.Gemm("A_shared", "B_shared", "C_local", False, False, False))
    assert k.body[5] == l0.Copy(l0.Region("C_local", (Z, Z), (64, 64)),
                                l0.Region("C", (mul("by", 64), mul("bx", 64)), (64, 64)))


def test_gemm_locations_point_at_the_statements():
    path = ROOT / "examples" / "gemm.py"
    k = parse(example("gemm"))
    expected = {l0.Fill: "T.clear(", l0.For: "for k in T.Pipelined", l0.Gemm: "T.gemm("}
    for s in stmts(k.body):
        assert s.loc.file == str(path)
        if type(s) in expected:
            assert (s.loc.line, s.loc.col) == line_of(path, expected[type(s)])
    copies = [s for s in stmts(k.body) if isinstance(s, l0.Copy)]
    for s, text in zip(copies, ["T.copy(A[", "T.copy(B[", "T.copy(C_local"]):
        assert (s.loc.line, s.loc.col) == line_of(path, text)
        assert s.src.loc == s.dst.loc == s.loc
    assert k.params[0].loc.line == line_of(path, "A: T.Tensor")[0]
    assert k.loc.line == line_of(path, "with T.Kernel")[0]


@pytest.mark.parametrize("path", [ROOT / "examples" / "elementwise_expr.py", FORMS], ids=lambda p: p.stem)
def test_every_node_has_a_location_in_the_kernel_file(path):
    kernel = parse(load_kernel(path))
    nodes = list(walk(kernel))
    assert len(nodes) > 50
    for x in nodes:
        assert x.loc.file == str(path) and x.loc.line > 0, f"{type(x).__name__} {x} has no location"
    stores = [x for x in nodes if isinstance(x, l0.Store)]
    for s in stores:                  # expressions: their statement's line; variables: their binding's
        assert all(x.loc == s.loc for x in walk(s) if not isinstance(x, l0.Var))
        loop = next(p for p in stmts(kernel.body) if isinstance(p, l0.Parallel) and s in p.body)
        assert all(x.loc == loop.loc for x in walk(s) if isinstance(x, l0.Var))


def test_elementwise_add_parallel_and_whole_buffer_copy():
    k = parse(example("elementwise_add"))
    assert k.grid == (2, 4) and k.params[2] == l0.Tensor("C", (256, 256), "float32")
    i, j = l0.Var("i"), l0.Var("j")
    par = next(s for s in k.body if isinstance(s, l0.Parallel))
    assert par == l0.Parallel(("i", "j"), (64, 128), (l0.Store("C_local", (i, j), l0.BinOp(
        "+", l0.Load("A_shared", (i, j)), l0.Load("B_shared", (i, j)))),))
    assert l0.Copy(l0.Region("C_local", (Z, Z), (64, 128)), l0.Region("C_shared", (Z, Z), (64, 128))) in k.body
    path = ROOT / "examples" / "elementwise_add.py"
    assert par.loc.line == line_of(path, "for i, j in T.Parallel")[0]
    assert par.body[0].loc.line == line_of(path, "C_local[i, j] =")[0]


def test_elementwise_expr_constants_and_mixed_dtypes():
    k = parse(example("elementwise_expr"))
    assert [p.dtype for p in k.params] == ["bfloat16", "float32", "bfloat16", "bfloat16"]
    i, j = l0.Var("i"), l0.Var("j")
    load = lambda b: l0.Load(b, (i, j))                                   # noqa: E731
    value = l0.BinOp("-", l0.BinOp("+", l0.BinOp("*", load("A_shared"), l0.Const(2.0, "float32")),
                                   load("B_shared")),
                     l0.BinOp("*", load("D_shared"), l0.Const(0.5, "float32")))
    par = next(s for s in k.body if isinstance(s, l0.Parallel))
    assert par.body == (l0.Store("C_local", (i, j), value),)


def test_gemm_bf16_out_subscript_tensors_row_grid_and_attrs():
    k = parse(example("gemm_bf16_out"))
    assert k.grid == (3, 2) and [p.dtype for p in k.params] == ["bfloat16"] * 3
    assert k.attrs == (l0.Attr("gemm.policy", "FullRow"), l0.Attr("threads", "256"),
                       l0.Attr("use_swizzle", "10"))
    loop = next(s for s in k.body if isinstance(s, l0.For))
    assert loop.body[0].src == l0.Region("A", (mul("bx", 64), mul("k", 64)), (64, 64))
    assert loop.body[1].src == l0.Region("B", (mul("k", 64), mul("by", 128)), (64, 128))


def test_gemm_f32_and_big_block():
    k = parse(example("gemm_f32"))
    loop = next(s for s in k.body if isinstance(s, l0.For))
    assert (k.grid, loop.num_stages, loop.extent) == ((10, 10), 3, c(2))
    assert {p.dtype for p in k.params} == {"float32"}
    big = parse(example("gemm_big_block"))
    assert big.grid == (1, 1)
    assert l0.Alloc("C_local", (128, 128), "float32", "fragment") in big.body


def test_forms_copy_regions_lets_and_loops():
    k = parse(load_kernel(FORMS))
    b, batch, row = l0.Var("b"), l0.Var("batch"), l0.Var("row")
    assert (k.grid, k.block_vars) == ((4,), ("b",))
    assert k.body[:2] == (l0.Let("batch", l0.BinOp("//", b, c(2))),
                          l0.Let("row", l0.BinOp("*", l0.BinOp("%", b, c(2)), c(32))))
    copies = [s for s in stmts(k.body) if isinstance(s, l0.Copy)]
    assert copies[0].src == l0.Region("X", (batch, row, Z), (1, 32, 96))           # left-padded
    assert copies[1].src == l0.Region("Y", (row, Z), (32, 96))                      # slice
    assert copies[2].dst == l0.Region("Z", (batch, row, Z), (1, 32, 96))           # index + slices
    assert l0.Fill("acc", l0.Const(1.0, "float32")) in k.body
    loops = [s for s in k.body if isinstance(s, (l0.For, l0.Parallel))]
    assert [(type(s).__name__, getattr(s, "kind", "")) for s in loops] == [
        ("For", "serial"), ("Parallel", ""), ("Parallel", ""), ("Parallel", ""), ("For", "serial")]
    i, j = l0.Var("i"), l0.Var("j")
    assert loops[0].body[0].body == (l0.Store("acc", (i, j), l0.BinOp(
        "+", l0.Load("acc", (i, j)), l0.BinOp("*", l0.Load("X_s", (i, j)), l0.Const(0.5, "float32")))),)
    unrolled = [s.body[0].value.rhs for s in loops[2:4]]                           # for c in [1.0, 2.0]
    assert unrolled == [l0.Const(1.0, "float32"), l0.Const(2.0, "float32")]
    assert loops[2].loc.line == loops[3].loc.line


def test_python_if_is_decided_at_parse_time():
    module_kernel = load_kernel(FORMS)
    with_bias = parse(module_kernel)
    factory = load_kernel(FORMS, "make", {"scale": "0.5", "use_bias": "False"})
    without = parse(factory)
    count = lambda k: sum(isinstance(s, l0.Parallel) for s in k.body)          # noqa: E731
    assert (count(with_bias), count(without)) == (3, 2)


def random_inputs(kernel: l0.Kernel, rng) -> dict[str, np.ndarray]:
    inputs, _ = split_params(kernel)
    arrays = {}
    for p in kernel.params:
        if p.name in inputs:
            arrays[p.name] = rng.standard_normal(p.shape).astype(np.float32).astype(np_dtype(p.dtype))
        else:
            arrays[p.name] = np.full(p.shape, np.nan, dtype=np_dtype(p.dtype))
    return arrays


def assert_matches(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    got32, want32 = got.astype(np.float32), want.astype(np.float32)
    if got.dtype == np.dtype(ml_dtypes.bfloat16):
        np.testing.assert_allclose(got32, want32, rtol=2e-2, atol=2e-2)
    else:
        assert np.abs(got32 - want32).max() <= 1e-5 * max(1.0, float(np.abs(want32).max()))


@pytest.mark.parametrize("path", [ROOT / "examples" / f"{n}.py" for n in EXAMPLES] + [FORMS],
                         ids=lambda p: p.stem)
def test_l0_interpreter_matches_reference(path):
    loaded = load_kernel(path)
    kernel = parse(loaded)
    arrays = random_inputs(kernel, np.random.default_rng(0))
    inputs, outputs = split_params(kernel)
    expected = loaded.reference(*(arrays[n].copy() for n in inputs))
    expected = expected if isinstance(expected, tuple) else (expected,)
    InterpL0().run(kernel, arrays)
    assert len(outputs) == len(expected)
    for name, want in zip(outputs, expected):
        assert_matches(arrays[name], want)


def test_parse_is_fast():
    timings = []
    for _ in range(3):
        loaded = example("gemm")                       # fresh module: nothing cached
        start = time.perf_counter()
        parse(loaded)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.1, f"P0 on gemm.py took {min(timings) * 1000:.1f} ms"


def test_t_surface_values():
    import nanott.language as T
    assert isinstance(T.bfloat16, str) and T.float32 == "float32" and T.float == "float32"
    assert T.Tensor[(2, 3), "bfloat16"] == T.Tensor((2, 3), "bfloat16") == T.Tensor([2, 3], T.bfloat16)
    assert T.ceildiv(7, 2) == 4 and T.ceildiv(8, 2) == 4
    assert [p.name for p in T.GemmWarpPolicy] == ["Square", "FullRow", "FullCol"]


# TileLang's MLA decode names its slice bounds (`kv_start = ...; kv_end = ...; KV[b, kv_start:kv_end]`)
LETS_SLICE = '''
import nanott.language as T


@T.prim_func
def lets_slice(A: T.Tensor((256, 64), "float32"), Idx: T.Tensor((4,), "int32"), B: T.Tensor((256, 64), "float32")):
    with T.Kernel(2, threads=128) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        for k in T.serial(2):
            start = 128 * bx + k * 64
            stop = 128 * bx + (k + 1) * 64
            T.copy(A[start:stop, :], A_s)
            T.copy(A_s, B[STOP_START])
'''


def test_a_slice_between_two_lets_spans_their_difference(tmp_path):
    """`start:stop`, two lets that never change and differ by 64, is a 64-row slice (the let `start`
    stands for its value): the copy regions say so, and the kernel copies A to B at every level."""
    from conftest import load_text
    from test_generality import check_levels
    loaded = load_text(tmp_path, LETS_SLICE.replace("STOP_START", "stop - 64:stop, :"))
    copies = [s for s in walk(parse(loaded)) if isinstance(s, l0.Copy)]
    assert [c.src.extents for c in copies] == [(64, 64), (64, 64)]
    assert copies[0].src.starts[0] == l0.Var("start")
    check_levels(loaded, lambda a: {"B": a["A"].copy()})


def test_a_let_of_data_is_not_seen_through(tmp_path):
    """Two loads of one element are not known to be equal when the kernel is parsed: NT102 stays."""
    from conftest import load_text
    from nanott.diagnostics import NanottError
    text = LETS_SLICE.replace("128 * bx + k * 64", "Idx[bx] + k * 64").replace(
        "128 * bx + (k + 1) * 64", "Idx[bx] + (k + 1) * 64").replace("STOP_START", "0:64, :")
    with pytest.raises(NanottError) as info:
        parse(load_text(tmp_path, text))
    assert info.value.code == "NT102" and "start:stop" in info.value.message
