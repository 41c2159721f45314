"""A block a loop writes on every trip without reading it first, and that is read after the loop
(C3: the trip releases the previous trip's block before the write; a fill before the loop gives
the first one; the trip's last reader peeks it).

TileLang's sparse GQA decode combine assigns `lse_local_split = glse[bz, by, k]` on every trip of a
`for k` loop, tests it in an `if`, and reads it again after the loop; P0b keeps such a float
scalar as a vector (one block per trip). Each trip pushed a block nobody popped until after the
loop: the compute kernel's CB counts grew per trip (F1's "protocol balance per loop trip", an
internal error). Numerics against NumPy at every level on random inputs (flags of zeros and ones,
so both branches are taken), exact up to the output dtype's tolerance (a max and one product and
sum per element, as NumPy computes them), the protocol the IR shows, and the C++ built and run.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.ir import walk
from nanott.languages import l6

# the last weight of a row and the largest weight among the flagged ones, carried by `for k`
FLAGGED = '''
import nanott.language as T

B, n, D = 4, 6, 64


@T.prim_func
def last_and_flagged_max(flags: T.Tensor((B, n), "int32"), w: T.Tensor((B, n), "float32"),
                         X: T.Tensor((B, D), "float32"), Y: T.Tensor((B, D), "float32")):
    with T.Kernel(B, threads=128) as bx:
        x = T.alloc_fragment([D], "float32")
        v = T.alloc_var("float32")
        m = T.alloc_var("float32")
        m = -T.infinity("float32")
        for k in T.serial(n):
            v = w[bx, k]
            if flags[bx, k] != 0:
                m = T.max(m, v)
        T.copy(X[bx, 0], x)
        for i in T.Parallel(D):
            Y[bx, i] = x[i] * v + m
'''

# a fragment overwritten by a copy on every trip, summed in the trip, and its last value read after
LAST_ROW = '''
import nanott.language as T

B, n, D = 2, 5, 64


@T.prim_func
def sum_plus_last(A: T.Tensor((B, n, D), "float32"), Y: T.Tensor((B, D), "float32")):
    with T.Kernel(B, threads=128) as bx:
        x = T.alloc_fragment([D], "float32")
        acc = T.alloc_fragment([D], "float32")
        T.clear(acc)
        for k in T.serial(n):
            T.copy(A[bx, k, 0], x)
            for i in T.Parallel(D):
                acc[i] += x[i]
        for i in T.Parallel(D):
            Y[bx, i] = acc[i] + x[i]
'''

# the sparse GQA decode combine's own form: the float scalar tested in the `if`
TESTED = FLAGGED.replace("if flags[bx, k] != 0:", "if v > 0:")


def flagged_inputs(kernel) -> dict[str, np.ndarray]:
    """Random weights and inputs; flags of zeros and ones with one set per row (m is finite)."""
    rng = np.random.default_rng(11)
    inputs = api.random_inputs(kernel, seed=11)
    flags = (rng.random(inputs["flags"].shape) < 0.5).astype(np.int32)
    flags[np.arange(flags.shape[0]), rng.integers(flags.shape[1], size=flags.shape[0])] = 1
    return inputs | {"flags": flags}


def flagged_reference(a: dict) -> dict:
    m = np.where(a["flags"] != 0, a["w"], -np.inf).max(axis=1)
    return {"Y": a["X"] * a["w"][:, -1:] + m[:, None]}


def inputs_of_tested(kernel) -> dict[str, np.ndarray]:
    """Weights of both signs with one positive per row (m is finite)."""
    inputs = api.random_inputs(kernel, seed=12)
    w = inputs["w"].copy()
    w[:, 0] = np.abs(w[:, 0]) + 0.5
    return inputs | {"w": w}


def reference_of_tested(a: dict) -> dict:
    m = np.where(a["w"] > 0, a["w"], -np.inf).max(axis=1)
    return {"Y": a["X"] * a["w"][:, -1:] + m[:, None]}


def test_the_inputs_take_both_branches(tmp_path):
    kernel = api.lower(load_text(tmp_path, FLAGGED).prim_func, stop_after="P0")
    flags = flagged_inputs(kernel)["flags"]
    assert (flags == 0).any() and (flags != 0).any(axis=1).all()
    w = inputs_of_tested(kernel)["w"]
    assert (w < 0).any() and (w > 0).any(axis=1).all()       # the tested form's `if v > 0`, both ways


def test_a_flagged_max_and_the_last_weight_match_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, FLAGGED), flagged_reference, flagged_inputs)


def test_the_scalar_tested_in_the_if_matches_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, TESTED), reference_of_tested, inputs_of_tested)


def test_a_copy_overwritten_every_trip_matches_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, LAST_ROW),
                 lambda a: {"Y": a["A"].sum(axis=1, dtype=np.float32) + a["A"][:, -1]})


def test_each_trip_releases_the_block_it_overwrites(tmp_path):
    """C3: the reader generates a block of x before the loop, each trip releases one (unread)
    before the copy gives the next, and the sum in the trip only peeks it: F1 balances every trip."""
    program = api.lower(load_text(tmp_path, LAST_ROW).prim_func, stop_after="C3")
    body = next(s for s in walk(program) if isinstance(s, l6.For) and s.var == "blk").body
    at = next(i for i, s in enumerate(body) if isinstance(s, l6.For) and s.var == "k")
    loop, before = body[at], body[:at]
    releases = [s for s in loop.body if isinstance(s, l6.Release)]
    assert len(releases) == 1 and releases[0].unread
    x = releases[0].cb
    assert any(isinstance(s, l6.GenerateToCb) and s.cb == x for s in before)
    assert [s.cb for s in loop.body if isinstance(s, l6.ReadToCb)] == [x]
    modes = [e.mode for g in walk(loop) if isinstance(g, l6.TileGroup) for e in g.effects if e.cb == x]
    assert modes == ["peek"]
    api.lower(load_text(tmp_path, LAST_ROW).prim_func, stop_after="F1")     # balanced: F1 verifies


def test_the_float_scalar_in_a_condition_is_a_diagnostic_on_the_device(tmp_path):
    """G1's scalars are 32-bit integers: the combine's float scalar tested in an `if` stops with a
    diagnostic (NT314, exit code 3), no longer an internal error at F1."""
    path = tmp_path / "tested.py"
    path.write_text(TESTED)
    out = nanott_cli("compile", str(path), "-o", str(tmp_path / "out"), code=3).output
    assert "NT314" in out and "float32 element of a DRAM tensor kept as a scalar" in out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
@pytest.mark.parametrize("text", [FLAGGED, LAST_ROW])
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path, text):
    path = tmp_path / "kernel.py"
    path.write_text(text)
    out = nanott_cli("compile", str(path), "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")
