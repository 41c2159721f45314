"""`--inputs FILE.npz`: index tables a kernel needs, given instead of drawn (nanott/given_inputs.py).

A kernel of ours (tests/kernels/token_table.py) reads two tables that must agree, as NSA's varlen
kernel's TokenIndices and Offsets do; random values send an index outside its buffer (NT120) and
the hint names the random tables and --inputs. Given tables replace the random ones at every level
(explain), in `run` and in `compile --execute`, compared with the file's NumPy reference (float32
output: api.within's 1e-4 of |ref| and of max|ref|; the kernel only moves and multiplies once, so
every level is exact). A given array of the wrong shape or lossy dtype is NT915, one that names no
input NT943.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import ROOT, nanott_cli

from nanott import api
from nanott.given_inputs import random_tables, with_given
from nanott.loader import load_kernel

KERNEL = str(ROOT / "tests" / "kernels" / "token_table.py")
TABLES = {"Offs": np.array([0, 40, 128]), "Tok": np.array([[0, 0], [0, 8], [1, 0], [1, 56]])}   # int64, as NumPy makes them


@pytest.fixture
def tables(tmp_path):
    path = tmp_path / "tables.npz"
    np.savez(path, **TABLES)
    return path


def test_random_tables_are_nt120_naming_them(tmp_path):
    """The reference indexes with the tables too: it fails first (NT919), with the same hint; a
    file without one fails in the L0 interpreter (NT120)."""
    out = nanott_cli("run", KERNEL, "--level", "L0", code=3).output
    assert "error NT919" in out and "Offs, Tok are random here" in out and "--inputs FILE.npz" in out
    bare = tmp_path / "bare.py"
    bare.write_text(open(KERNEL).read().split("\n\ndef reference")[0] + "\n")
    out = nanott_cli("run", str(bare), "--level", "L0", code=3).output
    assert "error NT120" in out and "Offs, Tok are random here" in out and "--inputs FILE.npz" in out


def test_the_random_tables_are_found_by_analysis():
    kernel = api.lower(load_kernel(ROOT / "tests" / "kernels" / "token_table.py").prim_func, stop_after="P0")
    assert random_tables(kernel, {}) == ["Offs", "Tok"]
    assert random_tables(kernel, TABLES) == []


def test_given_tables_replace_the_random_ones_at_every_level(tables):
    out = nanott_cli("explain", KERNEL, "--inputs", str(tables), "-q").output
    checked = [line for line in out.splitlines() if line.startswith("# checked:")]
    assert len(checked) > 20 and all("vs reference (tol" in line for line in checked), out[-2000:]
    assert "max |err| 0 vs reference" in checked[-1]


def test_run_uses_them_and_the_rest_stays_random(tables):
    out = nanott_cli("run", KERNEL, "--inputs", str(tables)).output
    assert out.strip().endswith("seed 0: PASS")
    kernel = api.lower(load_kernel(ROOT / "tests" / "kernels" / "token_table.py").prim_func, stop_after="P0")
    random = api.random_inputs(kernel, 0)
    given = with_given(kernel, random, TABLES)
    assert given["Tok"].dtype == np.int32 and np.array_equal(given["Tok"], TABLES["Tok"])
    assert np.array_equal(given["X"], random["X"])


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_compile_execute_uses_them(tables, tmp_path):
    out = nanott_cli("compile", KERNEL, "--inputs", str(tables), "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS"), out


def test_bad_given_arrays_are_diagnostics(tmp_path):
    np.savez(tmp_path / "shape.npz", Tok=np.zeros((4, 3), np.int64))
    np.savez(tmp_path / "lossy.npz", Tok=np.full((4, 2), 2 ** 40))
    np.savez(tmp_path / "name.npz", Tokens=np.zeros((4, 2), np.int32))
    np.savez(tmp_path / "output.npz", Y=np.zeros((128, 64), np.float32))
    (tmp_path / "text.npz").write_text("not an archive")
    for name, code, words in (("shape", "NT915", "Tok must be a int32[4, 2] array, got int64[4, 3]"),
                              ("lossy", "NT915", "values (they change in the conversion)"),
                              ("name", "NT943", "--inputs gives Tokens, no parameter of the kernel"),
                              ("output", "NT943", "Y, an output the kernel only writes"),
                              ("text", "NT943", "not a NumPy .npz archive")):
        out = nanott_cli("run", KERNEL, "--level", "L0", "--inputs", str(tmp_path / f"{name}.npz"), code=3).output
        assert f"error {code}: " in out and words in out, out


ROUTED = str(ROOT / "tests" / "kernels" / "routed_runs.py")
ROUTES = {"Start": np.array([0, 20, 70, 96]), "Rows": np.array([20, 32, 26, 0])}   # block 3: no rows, at the end


@pytest.fixture
def routes(tmp_path):
    path = tmp_path / "routes.npz"
    np.savez(path, **ROUTES)
    return path


def test_a_masked_run_past_the_end_reads_no_page_outside(routes):
    """Fused MoE's padding block, in small: block 3 starts at the end of X and W with no rows. P0b's
    run of W copies the last tile row instead (its masks zeros), so every level runs and matches
    the reference; it used to copy a row past W (L4: an empty slice, L9: a page past the last)."""
    out = nanott_cli("explain", ROUTED, "--inputs", str(routes), "-q").output
    checked = [line for line in out.splitlines() if line.startswith("# checked:")]
    assert len(checked) > 20 and all("vs reference (tol" in line for line in checked), out[-2000:]
    p0b = nanott_cli("explain", ROUTED, "--only", "P0b", "-q", "--no-check").output
    assert "min(((m_start // 32) + 1), 2)" in p0b and "min((m_start // 32), 2)" in p0b


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_a_masked_run_past_the_end_executes(routes, tmp_path):
    out = nanott_cli("compile", ROUTED, "--inputs", str(routes), "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS"), out
