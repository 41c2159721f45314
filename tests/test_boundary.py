"""The error boundary and the exit codes (nanott/boundary.py): 0 ok, 1 numerics mismatch, 2 usage
error, 3 a diagnostic, 4 internal error; closed signatures of the T.* operations and bool flags.

Each case is a small bad input, run through the CLI in-process; a diagnostic must carry its code,
the user's line and a caret, and no case but a genuine compiler bug may show a traceback.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, nanott_cli as nanott

from nanott import boundary
from nanott.cli import app

GEMM_SRC = (ROOT / "examples" / "gemm.py").read_text()


def kernel(tmp_path: Path, source: str, name: str = "k.py") -> str:
    path = tmp_path / name
    path.write_text(source)
    return str(path)


def caret_at(err: str, text: str) -> None:
    """The diagnostic quotes the line holding `text` and puts its caret under `text`'s start."""
    lines = err.splitlines()
    i = next(i for i, line in enumerate(lines) if text in line and not line.startswith(("hint", "/")))
    assert lines[i + 1].index("^") == lines[i].index(text), err


@pytest.mark.parametrize("wrong, right", [("transpose_b=True", "transpose_B"), ("clear=True", "clear_accum"),
                                          ("polcy=None", "policy")])
def test_a_misspelt_gemm_keyword_is_nt113_with_the_nearest_name(tmp_path, wrong, right):
    src = GEMM_SRC.replace("T.gemm(A_shared, B_shared, C_local)", f"T.gemm(A_shared, B_shared, C_local, {wrong})")
    err = nanott("run", kernel(tmp_path, src), "--level", "L0", code=3).stderr
    assert "error NT113" in err and f"did you mean {right}?" in err
    caret_at(err, wrong.split("=")[0] + "=")


def test_an_unknown_keyword_of_a_reduction_is_nt113(tmp_path):
    src = (ROOT / "examples" / "softmax.py").read_text()
    assert "T.reduce_max(" in src
    src = re.sub(r"T\.reduce_max\(([^)]*)\)", r"T.reduce_max(\1, axis=1)", src, count=1)
    err = nanott("explain", kernel(tmp_path, src), "--stop-after", "P0", code=3).stderr
    assert "error NT113" in err and "T.reduce_max has no parameter 'axis'" in err


def test_too_many_positional_arguments_is_nt113(tmp_path):
    src = GEMM_SRC.replace("T.gemm(A_shared, B_shared, C_local)",
                           "T.gemm(A_shared, B_shared, C_local, False, False, None, False, 1, None, None, True)")
    err = nanott("run", kernel(tmp_path, src), "--level", "L0", code=3).stderr
    assert "error NT113" in err and "too many positional arguments" in err


@pytest.mark.parametrize("value", ['"False"', "0", "1", "None"])
def test_a_flag_must_be_a_bool(tmp_path, value):
    src = GEMM_SRC.replace("T.gemm(A_shared, B_shared, C_local)", f"T.gemm(A_shared, B_shared, C_local, "
                           f"transpose_B={value})")
    err = nanott("run", kernel(tmp_path, src), "--level", "L0", code=3).stderr
    assert "error NT114" in err and "transpose_B must be True or False" in err
    caret_at(err, "transpose_B=")


def test_a_known_cuda_knob_is_accepted_and_recorded(tmp_path):
    src = GEMM_SRC.replace("T.gemm(A_shared, B_shared, C_local)", "T.gemm(A_shared, B_shared, C_local, "
                           "policy=T.GemmWarpPolicy.FullRow, k_pack=2)")
    assert nanott("run", kernel(tmp_path, src), "--level", "L0").stdout.rstrip().endswith("PASS")


def test_a_kernel_file_that_is_not_python_is_nt902(tmp_path):
    err = nanott("run", kernel(tmp_path, GEMM_SRC, "gemm.txt"), code=3).stderr
    assert "error NT902" in err and "not a Python file" in err


def test_a_negative_seed_is_a_usage_error():
    assert nanott("run", str(ROOT / "examples" / "gemm.py"), "--seed", "-1", code=2)


def test_a_missing_kernel_file_is_a_usage_error(tmp_path):
    nanott("run", str(tmp_path / "nope.py"), code=2)


def test_a_reference_that_raises_is_nt919_at_its_line(tmp_path):
    src = GEMM_SRC.replace('    return A.astype(np.float32) @ B.astype(np.float32)',
                           '    return A.astype(np.float32) @ B.astype(np.float32).T[:3]')
    err = nanott("run", kernel(tmp_path, src), "--level", "L0", code=3).stderr
    assert "error NT919" in err and "the file's reference raised ValueError" in err
    caret_at(err, "A.astype(np.float32) @")


def test_a_long_expression_chain_parses(tmp_path):
    """A few thousand operations in one expression: Python's default recursion limit is not the user's."""
    src = (ROOT / "examples" / "elementwise_add.py").read_text()
    chain = " + ".join(["A_shared[i, j]"] * 1500)
    src = src.replace("A_shared[i, j] + B_shared[i, j]", f"{chain} + B_shared[i, j]")
    src = src.replace("return A.astype(np.float32) + B.astype(np.float32)",
                      "return 1500 * A.astype(np.float32) + B.astype(np.float32)")
    assert nanott("run", kernel(tmp_path, src), "--level", "L0").stdout.rstrip().endswith("PASS")


def patch_stage(monkeypatch, stage_id: str, function) -> None:
    """Replace one stage's function in the pipeline list (stages hold their functions)."""
    from nanott import pipeline
    stages = tuple(dataclasses.replace(s, function=function) if s.id == stage_id else s for s in pipeline.PIPELINE)
    monkeypatch.setattr(pipeline, "PIPELINE", stages)
    monkeypatch.setattr(pipeline, "STAGES", {s.id: s for s in stages})


def test_a_simulator_fault_is_a_diagnostic_and_a_compiler_bug_exit_4(monkeypatch):
    """A protocol fault F1 misses (here: F1 disabled and every cb_wait_front dropped) prints as NT501
    or NT502 with the statement's line, exits 4 and asks for a report, with no traceback."""
    from nanott import pipeline
    from nanott.languages import l8

    def drop(x):
        if isinstance(x, tuple):
            return tuple(drop(y) for y in x if not isinstance(y, l8.CbWait))
        if dataclasses.is_dataclass(x):
            return dataclasses.replace(x, **{f.name: drop(getattr(x, f.name)) for f in dataclasses.fields(x)})
        return x
    real = pipeline.STAGES["D3"].function
    patch_stage(monkeypatch, "D3", lambda program, target: drop(real(program, target)))
    patch_stage(monkeypatch, "F1", lambda program, target: program)
    result = nanott("run", str(ROOT / "examples" / "elementwise_add.py"), "--level", "L9", code=4)
    assert re.search(r"error NT50[12]", result.stderr) and boundary.REPORT in result.stderr


def test_an_unexpected_exception_is_a_traceback_with_a_report_request_exit_4(monkeypatch):
    def broken(program, target):
        raise ZeroDivisionError("a bug")
    patch_stage(monkeypatch, "B1", broken)
    result = CliRunner().invoke(app, ["run", str(ROOT / "examples" / "gemm.py"), "--level", "L2"])
    assert result.exit_code == boundary.INTERNAL
    assert "Traceback" in result.output and "ZeroDivisionError: a bug" in result.output
    assert boundary.REPORT in result.output


def test_the_exit_codes_are_documented_in_help_and_readme():
    help_text = CliRunner().invoke(app, ["--help"]).output
    readme = (ROOT / "README.md").read_text()
    for text in (help_text, readme):
        flat = " ".join(text.split())
        for phrase in ("0 ok", "1 numerics mismatch", "2 usage error", "3 a diagnostic", "4 internal error"):
            assert phrase in flat, phrase


def test_every_t_op_with_knobs_is_closed():
    """A T.* operation that takes **knobs must list them (@closed): an open **kwargs would take a
    misspelt keyword silently."""
    import inspect

    import nanott.language as T
    open_ops = [n for n in T.__all__ if callable(f := getattr(T, n)) and inspect.isfunction(f)
                and any(p.kind is p.VAR_KEYWORD for p in inspect.signature(inspect.unwrap(f)).parameters.values())
                and not hasattr(f, "cuda_knobs") and n != "prim_func"]
    assert not open_ops, f"T.* operations with an open **kwargs: {open_ops}"
