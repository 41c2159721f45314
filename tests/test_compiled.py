"""The compiled executors of L0..L8 (nanott/languages/compiled.py) against the reference
interpreters: bit for bit on every example at every level (tests/test_generality.py compares L0 and L5 on
every fuzzed kernel); a GEMM's K loop
runs statement-major, a loop that breaks the conditions runs iteration by iteration, and a user's
mistake is the reference's own diagnostic."""
import numpy as np
import pytest
from conftest import EXAMPLES, ROOT

import nanott.language as T
from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.ir import Launches, launches_of, walk
from nanott.languages import l0, l0_grid
from nanott.languages.compiled import COMPILED
from nanott.languages.l0_compiled import CompiledL0, batch_plan
from nanott.languages.l0_interp import InterpL0, scratch_arrays
from nanott.loader import load_kernel


def both(kernel, inputs):
    fast, slow = ({k: v.copy() for k, v in inputs.items()} for _ in range(2))
    CompiledL0().run(kernel, fast)
    InterpL0().run(kernel, slow)
    return fast, slow


@pytest.mark.parametrize("level", sorted(COMPILED))
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_compiled_bit_identical_to_the_reference(example, level):
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    kernel, program = api.lower(loaded.prim_func, "P0"), api.lower(loaded.prim_func, api.stage_for_level(level).id)
    inputs = api.random_inputs(kernel, seed=5)
    fast, slow = ({k: v.copy() for k, v in inputs.items()} for _ in range(2))
    if isinstance(program, Launches):                     # several launches: each in turn
        fast.update(scratch_arrays(program))
        slow.update(scratch_arrays(program))
    for launch in launches_of(program):
        COMPILED[level]().run(launch, fast)
        pipeline.interpreter(level)().run(launch, slow)
    _, outputs = api.tensor_roles(kernel)
    assert api.identical(fast, slow, outputs)
    assert api.compare(kernel, fast, api.expected_outputs(loaded, kernel, inputs))[0].ok


def gemm(M, N, K, bm=64, bn=64, bk=32, dtype="bfloat16", accum="float32", ta=False):
    @T.prim_func
    def main(A: T.Tensor((K, M) if ta else (M, K), dtype), B: T.Tensor((K, N), dtype),
             C: T.Tensor((M, N), accum)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            A_s = T.alloc_shared((bk, bm) if ta else (bm, bk), dtype)
            B_s = T.alloc_shared((bk, bn), dtype)
            C_l = T.alloc_fragment((bm, bn), accum)
            T.clear(C_l)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=2):
                if ta:
                    T.copy(A[k * bk, by * bm], A_s)
                else:
                    T.copy(A[by * bm, k * bk], A_s)
                T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, C_l, transpose_A=ta)
            T.copy(C_l, C[by * bm, bx * bn])
    return main


def spy_batches(monkeypatch) -> list[tuple[str, bool]]:
    """Every statement-major run of a K loop: ("grid", ok) for the whole grid at once
    (languages/l0_grid.py), ("block", ok) for one block."""
    seen = []
    grid, block = l0_grid.batch, CompiledL0.batch
    monkeypatch.setattr(l0_grid, "batch", lambda *a: seen.append(("grid", grid(*a))) or seen[-1][1])
    monkeypatch.setattr(CompiledL0, "batch", lambda *a: seen.append(("block", block(*a))) or seen[-1][1])
    return seen


@pytest.mark.parametrize("shape, kw", [((128, 128, 256), {}), ((64, 128, 128), {"ta": True}),
                                       ((64, 64, 128), {"accum": "bfloat16"}),
                                       ((64, 64, 96), {"dtype": "float32", "bk": 16})])
def test_a_gemm_k_loop_runs_statement_major_with_the_reference_rounding(shape, kw, monkeypatch):
    kernel = api.lower(gemm(*shape, **kw), "P0a")
    loop = next(x for x in walk(kernel.body) if isinstance(x, l0.For))
    assert batch_plan(loop) is not None
    batched = spy_batches(monkeypatch)
    fast, slow = both(kernel, api.random_inputs(kernel, seed=1))
    blocks = int(np.prod(kernel.grid))               # once, for every block of the grid at once (one block: itself)
    assert batched == [("grid" if blocks > 1 else "block", True)]
    assert api.identical(fast, slow, ("C",))
    a, b = fast["A"].astype(np.float64), fast["B"].astype(np.float64)      # and it is a GEMM
    expected = (a.T if kw.get("ta") else a) @ b
    assert api.max_rel_error(fast["C"], expected) < (1e-2 if kw.get("accum") == "bfloat16" else 1e-5)


def test_a_ragged_k_loop_falls_back_to_iteration_order(monkeypatch):
    """K = 80 with blocks of 32: the last copy reaches past the tensor (masked), so not batched."""
    kernel = api.lower(gemm(64, 64, 80), "P0a")
    batched = spy_batches(monkeypatch)
    fast, slow = both(kernel, api.random_inputs(kernel, seed=2))
    assert batched and not any(ok for _, ok in batched)
    assert api.identical(fast, slow, ("C",))


def test_loops_whose_order_matters_are_not_batched():
    body = lambda *s: l0.For("k", l0.Const(4, "int32"), "serial", 0, s)            # noqa: E731
    at = (l0.Const(0, "int32"), l0.BinOp("*", l0.Var("k"), l0.Const(32, "int32")))
    zero = (l0.Const(0, "int32"), l0.Const(0, "int32"))
    copy = l0.Copy(l0.Region("A", at, (32, 32)), l0.Region("a", zero, (32, 32)))
    acc = l0.Gemm("a", "a", "c", False, False, False)
    assert batch_plan(body(copy, acc)) is not None
    assert batch_plan(body(acc, copy)) is None                                       # read before the copy
    assert batch_plan(body(copy, l0.Gemm("a", "a", "c", False, False, True))) is None  # clears each trip
    assert batch_plan(body(copy, acc, l0.Gemm("c", "a", "d", False, False, False))) is None  # reads an accumulator
    into_source = l0.Copy(l0.Region("A", at, (32, 32)), l0.Region("A", zero, (32, 32)))
    assert batch_plan(body(into_source, acc)) is None                                # writes what it reads


def test_user_mistakes_are_the_reference_diagnostics():
    V, C = l0.Var, l0.Const
    for index, code in ((l0.BinOp("+", V("i"), C(1, "int32")), "NT120"),
                        (l0.BinOp("//", V("i"), V("bx")), "NT121")):
        body = (l0.Alloc("s", (32, 32), "float32", "shared"),
                l0.Parallel(("i", "j"), (32, 32), (l0.Store("s", (V("i"), V("j")), C(1.0, "float32")),)),
                l0.Parallel(("i", "j"), (32, 32), (l0.Store("s", (V("i"), V("j")), l0.Load("s", (index, V("j")))),)),
                l0.Copy(l0.Region("s", (C(0, "int32"),) * 2, (32, 32)), l0.Region("Y", (C(0, "int32"),) * 2, (32, 32))))
        kernel = l0.Kernel("k", (l0.Tensor("Y", (32, 32), "float32"),), (1, 1), ("bx", "by"), body, ())
        errors = []
        for interp in (CompiledL0(), InterpL0()):
            with pytest.raises(NanottError) as e:
                interp.run(kernel, {"Y": np.zeros((32, 32), np.float32)})
            errors.append((e.value.code, str(e.value)))
        assert errors[0] == errors[1] and errors[0][0] == code
