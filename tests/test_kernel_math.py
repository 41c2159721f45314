"""Issue 4's first constructs, through the real pipeline from kernels written as source: elementwise
math in T.Parallel (/, unary minus, T.max/T.min, the SFPU functions, ReLU as T.max(x, 0)), casts
(T.cast mid-expression, T.copy between dtypes) and GEMMs with transposed operands.

What each construct becomes at C2 (its tile operation), at D4 (its own init) and at D5 (its
Metalium call); numbers at every interpreted level against NumPy; the L9 simulator and F1 catching
a missing or wrong init; and the constructs still not supported failing with their line.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from conftest import cb_named
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import CheckError, walk
from nanott.languages import l5, l6, l8, l9
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.passes.f1_verify import verify
from nanott.sim.errors import ProtocolError
from nanott.target import DEFAULT_TARGET

KERNEL = '''
import nanott.language as T

@T.prim_func
def math(X: T.Tensor((64, 64), "{x}"), W: T.Tensor((64, 64), "bfloat16"),
         Y: T.Tensor((64, 64), "{y}")):
    with T.Kernel(2, 2) as (bx, by):
        X_s = T.alloc_shared((32, 32), "{x}")
        W_s = T.alloc_shared((32, 32), "bfloat16")
        Y_l = T.alloc_fragment((32, 32), "{acc}")
        T.copy(X[by * 32, bx * 32], X_s)
        T.copy(W[by * 32, bx * 32], W_s)
        for i, j in T.Parallel(32, 32):
            Y_l[i, j] = {value}
        T.copy(Y_l, Y[by * 32, bx * 32])
'''
x, w = "X_s[i, j]", "W_s[i, j]"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def kernel(tmp_path: Path, value: str, x_dtype: str = "bfloat16", y_dtype: str = "float32",
           acc: str = "float32"):
    path = tmp_path / "math_kernel.py"
    path.write_text(KERNEL.format(value=value, x=x_dtype, y=y_dtype, acc=acc))
    return load_kernel(path)


def lowered(tmp_path: Path, value: str, stage: str = "F1", **dtypes):
    return api.lower(kernel(tmp_path, value, **dtypes).prim_func, stop_after=stage)


def tile_program(tmp_path: Path, value: str, **dtypes) -> list[str]:
    """The tile operations C2 makes of `value`, printed."""
    p5 = lowered(tmp_path, value, "C2", **dtypes)
    y = cb_named(p5, "Y_l").index
    (group,) = [g for g in walk(p5.body) if isinstance(g, l5.TileGroup) and
                any(isinstance(s, l5.TStore) and s.dst.cb == y for s in g.body)]
    return [str(s.op) for s in group.body if isinstance(s, l5.TAssign)]


LOAD_X, LOAD_W = "load cb0[ti, tj]", "load cb1[ti, tj]"


# ----- C2: each construct, its tile operation -----
@pytest.mark.parametrize("value, ops", [
    (f"T.exp({x})", [LOAD_X, "exp(t0)"]),
    (f"T.exp2({x})", [LOAD_X, "exp2(t0)"]),
    (f"T.log({x})", [LOAD_X, "log(t0)"]),
    (f"T.sqrt({x})", [LOAD_X, "sqrt(t0)"]),
    (f"T.rsqrt({x})", [LOAD_X, "rsqrt(t0)"]),
    (f"T.abs({x})", [LOAD_X, "abs(t0)"]),
    (f"abs({x})", [LOAD_X, "abs(t0)"]),
    (f"T.sigmoid({x})", [LOAD_X, "sigmoid(t0)"]),
    (f"T.tanh({x})", [LOAD_X, "tanh(t0)"]),
    (f"-{x}", [LOAD_X, "negative(t0)"]),
    (f"T.max({x}, 0)", [LOAD_X, "relu(t0)"]),                    # ReLU, as TileLang writes it
    (f"T.max(0.0, {x})", [LOAD_X, "relu(t0)"]),
    (f"T.max({x}, {w})", [LOAD_X, LOAD_W, "max(t0, t1)"]),
    (f"T.min({x}, 0.5)", [LOAD_X, "fill 0.5", "min(t0, t1)"]),
    (f"{x} / {w}", [LOAD_X, LOAD_W, "div(t0, t1)"]),
    (f"{x} / 4.0", [LOAD_X, "div(t0, 4)"]),
    (f"2.0 / {x}", ["fill 2", LOAD_X, "div(t0, t1)"]),
    (f"{x} + {w}", ["add_tiles(cb0[ti, tj], cb1[ti, tj])"]),
    (f"T.exp(1.0) * {x}", [LOAD_X, "mul(t0, 2.71828198)"]),      # folded: NumPy float32 exp
    (f"T.cast({x} * 3.0, 'bfloat16')", [LOAD_X, "mul(t0, 3)", "cast<bfloat16>(t1)"]),
    (f"({x} * 3.0).astype(T.bfloat16)", [LOAD_X, "mul(t0, 3)", "cast<bfloat16>(t1)"]),
    (f"T.Cast('bfloat16', {x} * 3.0)", [LOAD_X, "mul(t0, 3)", "cast<bfloat16>(t1)"]),
    (f"T.bfloat16({x} * 3.0)", [LOAD_X, "mul(t0, 3)", "cast<bfloat16>(t1)"]),
    (f"T.cast({x}, 'bfloat16')", [LOAD_X]),                       # already bfloat16: nothing
    (f"T.cast({x} * 3.0, 'float32')", [LOAD_X, "mul(t0, 3)"]),    # temporaries are float32
])
def test_c2_lowers_each_construct_to_its_tile_operation(tmp_path, value, ops):
    assert tile_program(tmp_path, value) == ops


def test_c2_casts_a_float32_load_to_bfloat16(tmp_path):
    assert tile_program(tmp_path, f"T.cast({x}, 'bfloat16')", x_dtype="float32") == [
        LOAD_X, "cast<bfloat16>(t0)"]


# ----- numbers: every function at L0, L5 and L9 against NumPy in float64 -----
FUNCTIONS = {
    "T.exp({})": np.exp, "T.exp2({})": np.exp2, "T.log(T.abs({}) + 0.5)": lambda a: np.log(np.abs(a) + 0.5),
    "T.sqrt(T.abs({}))": lambda a: np.sqrt(np.abs(a)), "T.rsqrt(T.abs({}) + 0.5)":
        lambda a: 1 / np.sqrt(np.abs(a) + 0.5), "T.abs({})": np.abs,
    "T.sigmoid({})": lambda a: 1 / (1 + np.exp(-a)), "T.tanh({})": np.tanh, "-{}": np.negative,
    "T.max({}, 0)": lambda a: np.maximum(a, 0), "T.min({}, -0.25)": lambda a: np.minimum(a, -0.25),
    "1.0 / (T.abs({}) + 0.5)": lambda a: 1 / (np.abs(a) + 0.5),
}


@pytest.mark.parametrize("form", sorted(FUNCTIONS))
def test_each_function_at_every_level_matches_numpy(tmp_path, form):
    f = FUNCTIONS[form]
    check_levels(kernel(tmp_path, form.format(x) + f" + {w} * 0.5"),
                 lambda a: {"Y": f(a["X"].astype(np.float64)) + a["W"].astype(np.float64) * 0.5})


def test_max_min_and_division_of_two_tiles(tmp_path):
    value = f"T.max({x}, {w}) / (T.abs(T.min({x}, {w})) + 1.0)"
    check_levels(kernel(tmp_path, value, x_dtype="float32", y_dtype="bfloat16"), lambda a: {
        "Y": (np.maximum(a["X"].astype(np.float64), a["W"].astype(np.float64))
              / (np.abs(np.minimum(a["X"].astype(np.float64), a["W"].astype(np.float64))) + 1))})


def test_a_cast_rounds_where_it_stands_at_every_level(tmp_path):
    """3 X in float32, rounded to bfloat16, minus 3 X: the rounding error, which is not zero."""
    loaded = kernel(tmp_path, f"T.cast({x} * 3.0, 'bfloat16') - {x} * 3.0 + {w} * 0.0", x_dtype="float32")

    def reference(a):
        x3 = a["X"] * np.float32(3.0)
        return {"Y": x3.astype(ml_dtypes.bfloat16).astype(np.float32) - x3}

    check_levels(loaded, reference)
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=7)
    assert np.abs(reference(inputs)["Y"]).max() > 1e-3        # the cast is not a no-op here


# ----- D4 and D5: every SFPU function behind its own init, in one DST pass -----
def test_each_function_gets_its_own_init_and_the_chain_runs_in_one_dst_pass(tmp_path):
    p = lowered(tmp_path, f"T.exp(T.log(T.abs({x}) + 1.0)) * T.sigmoid({w})")
    compute = p.kernel("compute").body
    inits = [s.head() for s in walk(compute) if isinstance(s, l9.Init)]
    calls = [s.head().split(" ")[0] for s in walk(compute) if isinstance(s, (l9.SfpuUnary, l9.SfpuScalar,
                                                                          l9.SfpuBinary))]
    assert calls == ["abs_tile", "add_unary_tile", "log_tile", "exp_tile", "sigmoid_tile",
                     "mul_binary_tile"]
    for call in ("abs_tile", "binop_with_scalar_tile", "log_tile", "exp_tile", "sigmoid_tile",
                 "mul_binary_tile"):
        assert f"{call}_init()" in inits
    assert len([s for s in walk(compute) if isinstance(s, l9.RegsAcquire)]) == 1   # one DST pass


def test_binary_max_min_are_metaliums_binary_max_tile_and_a_cast_asks_for_a_32_bit_dst(tmp_path):
    p = lowered(tmp_path, f"T.max(T.cast({x}, 'bfloat16'), {w})", x_dtype="float32", y_dtype="bfloat16")
    heads = [s.head() for s in walk(p.kernel("compute").body) if hasattr(s, "head")]
    assert "binary_max_tile_init()" in heads and "binary_max_tile dst[0], dst[1] -> dst[0]" in heads
    assert "typecast_tile_init<Float32, Float16_b>()" in heads
    assert p.compute.fp32_dest_acc and p.compute.dst_tiles == DEFAULT_TARGET.dst_capacity(True)
    plain = lowered(tmp_path, f"{x} * 3.0 + {w}", y_dtype="bfloat16", acc="bfloat16")
    cast = lowered(tmp_path, f"T.cast({x} * 3.0, 'bfloat16') + {w}", y_dtype="bfloat16", acc="bfloat16")
    assert not plain.compute.fp32_dest_acc and cast.compute.fp32_dest_acc   # bfloat16 CBs only


def test_a_deep_value_that_overflows_the_dst_is_nt203_with_the_numbers(tmp_path):
    e = "T.exp({})".format
    pair = f"({e(x)} * {e(w)})"                                     # 2 live, then one
    quad = f"({pair} * {pair})"                                     # 3: one quad waits for the other
    value = f"({quad} * {quad}) * ({quad} * {quad})"                # 5, in any order of evaluation
    with pytest.raises(NanottError) as e:
        lowered(tmp_path, value, x_dtype="float32")
    assert e.value.code == "NT203" and "needs 5 DST tiles; the DST holds 4" in e.value.message


# ----- the init model, checked by the L9 simulator and by F1 -----
def without_init(p: l9.Program, op: str, instead: str | None = None) -> l9.Program:
    def edit(stmts):
        out = []
        for s in stmts:
            if isinstance(s, l9.Init) and s.op == op:
                out += [replace(s, op=instead)] if instead else []
            else:
                out.append(replace(s, body=edit(s.body)) if isinstance(s, l9.For) else s)
        return tuple(out)
    return replace(p, kernels=tuple(replace(k, body=edit(k.body)) for k in p.kernels))


def test_the_simulator_faults_an_sfpu_function_without_its_init(tmp_path):
    loaded = kernel(tmp_path, f"T.exp(T.log(T.abs({x}) + 1.0)) + {w}")
    p = api.lower(loaded.prim_func)
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=0)
    with pytest.raises(ProtocolError) as e:
        InterpL9().run(without_init(p, "exp_tile_init"), {k: a.copy() for k, a in inputs.items()})
    assert e.value.rule == "5.3.6" and "exp_tile dst[0] without exp_tile_init()" in str(e.value)
    assert "log_tile_init" in str(e.value)                     # what the slot holds instead
    with pytest.raises(CheckError, match=r"exp_tile dst\[0\] needs exp_tile_init\(\)"):
        verify(without_init(p, "exp_tile_init"), DEFAULT_TARGET)
    with pytest.raises(ProtocolError, match="without exp_tile_init"):   # another function's init
        InterpL9().run(without_init(p, "exp_tile_init", "tanh_tile_init"), inputs)


# ----- casts by copy -----
def test_copies_between_dtypes_are_compute_copies_that_round(tmp_path):
    p6 = api.lower(load_kernel(EXAMPLES / "cast.py").prim_func, stop_after="C3")
    copies = [g for g in walk(p6.body) if isinstance(g, l6.TileGroup)]
    names = {cb.index: (cb.name, cb.dtype) for cb in p6.cbs}
    moved = [(names[g.effects[0].cb], names[g.effects[1].cb]) for g in copies
             if len(g.body) == 2 and isinstance(g.body[0].op, l5.TileLoad)]
    assert (("A_s", "bfloat16"), ("A_f", "float32")) in moved         # widening: exact
    assert (("H_f", "float32"), ("H_h", "bfloat16")) in moved         # narrowing: rounds on pack


# ----- GEMM variants -----
GEMM = '''
import nanott.language as T

@T.prim_func
def g(A: T.Tensor({a}, "bfloat16"), B: T.Tensor({b}, "bfloat16"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 2) as (bx, by):
        A_s = T.alloc_shared({ab}, "bfloat16")
        B_s = T.alloc_shared({bb}, "bfloat16")
        C_l = T.alloc_fragment((32, 64), "float32")
        T.clear(C_l)
        for k in T.Pipelined(2, num_stages=2):
            T.copy(A[{a_at}], A_s)
            T.copy(B[{b_at}], B_s)
            T.gemm(A_s, B_s, C_l, transpose_A={ta}, transpose_B={tb})
        T.copy(C_l, C[by * 32, 0])
'''


def gemm(tmp_path: Path, ta: bool, tb: bool):
    a, ab, a_at = ("(128, 64)", "(64, 32)", "k * 64, by * 32") if ta else ("(64, 128)", "(32, 64)", "by * 32, k * 64")
    b, bb, b_at = ("(64, 128)", "(64, 64)", "0, k * 64") if tb else ("(128, 64)", "(64, 64)", "k * 64, 0")
    path = tmp_path / "g.py"
    path.write_text(GEMM.format(a=a, b=b, ab=ab, bb=bb, a_at=a_at, b_at=b_at, ta=ta, tb=tb))
    return load_kernel(path)


@pytest.mark.parametrize("ta, tb", [(False, True), (True, False), (True, True)])
def test_transposed_gemms_at_every_level(tmp_path, ta, tb):
    def reference(arrays):
        a, b = (arrays[n].astype(np.float64) for n in "AB")
        return {"C": (a.T if ta else a) @ (b.T if tb else b)}
    loaded = gemm(tmp_path, ta, tb)
    check_levels(loaded, reference)
    p = api.lower(loaded.prim_func)
    heads = [s.head() for s in walk(p.kernel("compute").body) if hasattr(s, "head")]
    if tb:                          # B^T keeps matmul_tiles, whose init names the transpose
        assert ("mm_init_short(cb3, cb1, 1)" if ta else "mm_init_short(cb0, cb1, 1)") in heads
    else:                           # D5b makes the subblock one matmul_block, on the transposed A
        assert any(h.startswith("mm_block_init_short(cb3, cb1, 0,") for h in heads), heads
    assert any(h.startswith("transpose_wh_tile cb0[") for h in heads) == ta
    assert ("transpose_wh_init_short(cb0)" in heads) == ta


def test_a_transposed_matmul_after_a_plain_init_faults(tmp_path):
    loaded = gemm(tmp_path, False, True)
    p = api.lower(loaded.prim_func)
    plain = replace(p, kernels=tuple(replace(k, body=tuple(_strip_args(k.body))) for k in p.kernels))
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=0)
    with pytest.raises(ProtocolError, match=r"without mm_init_short\(cb0, cb1, 1\)"):
        InterpL9().run(plain, inputs)


def _strip_args(stmts):
    for s in stmts:
        if isinstance(s, l8.Init):
            yield replace(s, args=())
        elif isinstance(s, l9.For):
            yield replace(s, body=tuple(_strip_args(s.body)))
        else:
            yield s


# ----- still not supported: a diagnostic naming the construct and the line -----
@pytest.mark.parametrize("value, code, words", [
    (f"{x} // 2.0", "NT318", "the operator //"),
    (f"{x} % {w}", "NT318", "the operator %"),
    (f"T.log10({x})", "NT301", "T.log10 is not supported by nanott yet"),
    (f"T.erf({x})", "NT301", "T.erf is not supported by nanott yet"),
])
def test_what_is_not_supported_names_itself_and_its_line(tmp_path, value, code, words):
    with pytest.raises(NanottError) as e:
        lowered(tmp_path, value)
    assert e.value.code == code and words in e.value.message and e.value.loc.line == 14


# ----- a fragment as GEMM A, and a block held through a loop (issue 4, step 3) -----
ATTENTION_PV = '''
import ml_dtypes
import numpy as np
import nanott.language as T

@T.prim_func
def pv(Q: T.Tensor((64, 64), "bfloat16"), K: T.Tensor((128, 64), "bfloat16"),
       V: T.Tensor((128, 64), "bfloat16"), O: T.Tensor((64, 64), "float32")):
    with T.Kernel(2) as bx:
        Q_s = T.alloc_shared((32, 64), "bfloat16")
        K_s = T.alloc_shared((64, 64), "bfloat16")
        V_s = T.alloc_shared((64, 64), "bfloat16")
        S = T.alloc_fragment((32, 64), "float32")
        P = T.alloc_fragment((32, 64), "bfloat16")
        acc = T.alloc_fragment((32, 64), "float32")
        T.copy(Q[bx * 32, 0], Q_s)
        T.clear(acc)
        for k in T.Pipelined(2, num_stages=2):
            T.copy(K[k * 64, 0], K_s)
            T.gemm(Q_s, K_s, S, transpose_B=True, clear_accum=True)
            for i, j in T.Parallel(32, 64):
                P[i, j] = T.exp(S[i, j] * 0.125)
            T.copy(V[k * 64, 0], V_s)
            T.gemm(P, V_s, acc)
        T.copy(acc, O[bx * 32, 0])

def reference(Q, K, V):
    """S and P in float32, as the kernel computes them (P's rounding to bfloat16 would otherwise
    differ by an ulp where exp lands near a rounding boundary); P @ V in float64."""
    q, k = Q.astype(np.float32), K.astype(np.float32)
    p = np.exp((q @ k.T) * np.float32(0.125)).astype(ml_dtypes.bfloat16).astype(np.float64)
    return (p @ V.astype(np.float64)).astype(np.float32)
'''


def test_a_fragment_as_gemm_a_and_a_q_tile_held_through_the_loop(tmp_path):
    """Flash attention's P @ V: P is a fragment computed in the loop, read by the matmul as A.
    Q_s is read once and used by every step: its groups peek it, and a release frees it after
    the loop (C3), which D3 lowers to the cb_pop_front the loop's groups leave out."""
    path = tmp_path / "pv.py"
    path.write_text(ATTENTION_PV)
    loaded = load_kernel(path)
    check_levels(loaded, lambda a: {"O": loaded.reference(a["Q"], a["K"], a["V"])})
    c3 = api.lower(loaded.prim_func, stop_after="C3")
    cbs = {cb.name: cb.index for cb in c3.cbs}
    groups = [x for x in walk(c3.body) if isinstance(x, l6.TileGroup)]
    pv = next(g for g in groups if any(isinstance(x, l5.TAssign) and isinstance(x.op, l5.TileMatmul)
                                       and x.op.a.cb == cbs["P"] for x in walk(g.body)))
    assert l6.CbEffect(cbs["P"], "take") in pv.effects
    q_modes = {e.mode for g in groups for e in g.effects if e.cb == cbs["Q_s"]}
    assert q_modes == {"peek"}
    loop = next(x for x in walk(c3.body) if isinstance(x, l6.For) and x.var == "k")
    persistent = next(x for x in walk(c3.body) if isinstance(x, l6.For) and x.kind == "persistent")
    after = persistent.body[persistent.body.index(loop) + 1]
    assert after == l6.Release(cbs["Q_s"])
    compute = api.lower(loaded.prim_func, stop_after="D3").kernel("compute")
    pops = [x for x in walk(compute.body) if isinstance(x, l8.CbPop) and x.cb == cbs["Q_s"]]
    assert len(pops) == 1 and pops[0].loc == loop.loc


def test_a_block_held_through_a_loop_by_the_writer_is_still_nt319(tmp_path):
    path = tmp_path / "held.py"
    path.write_text('''
import nanott.language as T

@T.prim_func
def held(X: T.Tensor((32, 32), "float32"), O: T.Tensor((32, 64), "float32")):
    with T.Kernel(1) as bx:
        X_s = T.alloc_shared((32, 32), "float32")
        T.copy(X[0, 0], X_s)
        for k in T.serial(2):
            T.copy(X_s, O[0, k * 32])
''')
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(path).prim_func)
    assert e.value.code == "NT319" and "read inside it by the writer" in e.value.message
    assert e.value.loc.line == 9


RUNNING_MAX = '''
import nanott.language as T

@T.prim_func
def running(X: T.Tensor((32, 96), "float32"), Y: T.Tensor((32, 32), "float32")):
    with T.Kernel(1) as bx:
        X_s = T.alloc_shared((32, 32), "float32")
        m = T.alloc_fragment((32, 32), "float32")
        d = T.alloc_fragment((32, 32), "float32")
        acc = T.alloc_fragment((32, 32), "float32")
        T.fill(m, -1.0)
        T.fill(acc, 0.0)
        for k in T.serial(3):
            T.copy(X[0, k * 32], X_s)
            for i, j in T.Parallel(32, 32):
                d[i, j] = X_s[i, j] - m[i, j]
            for i, j in T.Parallel(32, 32):
                m[i, j] = T.max(m[i, j], X_s[i, j])
            for i, j in T.Parallel(32, 32):
                acc[i, j] = acc[i, j] + d[i, j] * m[i, j]
        T.copy(acc, Y[0, 0])
'''


def test_a_block_the_loop_carries_is_peeked_by_its_last_reader_and_released_after(tmp_path):
    """m is read at the top of each step (d = X - m), then updated, then read last (acc += d * m):
    that last read must leave m's block for the next step (peek), and a release after the loop
    frees it (online softmax's running max has this shape)."""
    path = tmp_path / "running.py"
    path.write_text(RUNNING_MAX)
    loaded = load_kernel(path)

    def reference(a):
        x, m, acc = a["X"].astype(np.float64), np.full((32, 32), -1.0), np.zeros((32, 32))
        for k in range(3):
            xs = x[:, 32 * k:32 * (k + 1)]
            d = xs - m
            m = np.maximum(m, xs)
            acc = acc + d * m
        return {"Y": acc}

    check_levels(loaded, reference)
    c3 = api.lower(loaded.prim_func, stop_after="C3")
    m = next(cb.index for cb in c3.cbs if cb.name == "m")
    modes = [e.mode for g in walk(c3.body) if isinstance(g, l6.TileGroup) for e in g.effects if e.cb == m]
    assert modes == ["give", "peek", "update", "peek"]
    assert sum(isinstance(x, l6.Release) and x.cb == m for x in walk(c3.body)) == 1
