"""The `nanott` command through typer's CliRunner: passes, grammar, explain (stop-after, only, diff,
dump-dir, json), run (exit codes, including a kernel whose reference disagrees), graph, and a user
mistake that prints a diagnostic instead of a traceback.
"""
import json
import re
import shutil

import pytest
from conftest import ROOT, nanott_cli as nanott

from nanott.pipeline import PIPELINE, STAGES

GEMM = str(ROOT / "examples" / "gemm.py")



def test_passes_lists_the_pipeline_in_order():
    lines = nanott("passes").stdout.splitlines()
    assert [line.split()[1] for line in lines] == [s.id for s in PIPELINE]
    b1 = next(line for line in lines if line.split()[1] == "B1")
    assert "nanott/passes/b1_partition_work.py" in b1 and "L1 -> L2" in b1


def test_passes_verbose_names_each_sub_step_under_its_stage():
    lines = nanott("passes", "--verbose").stdout.splitlines()
    for s in PIPELINE:
        at = next(i for i, line in enumerate(lines) if line.split()[1:2] == [s.id])
        shown = [line.split("then", 1)[1].split()[0] for line in lines[at + 1:at + 1 + len(s.steps)]]
        assert shown == [f.__name__ for f in s.steps]
    assert len(lines) == len(PIPELINE) + sum(len(s.steps) for s in PIPELINE)


def test_grammar_prints_a_language():
    assert "L7" in nanott("grammar", "L7").stdout


def test_bad_stage_id_lists_the_valid_ones():
    out = nanott("explain", GEMM, "--stop-after", "Z9", code=2).output
    assert "P0" in out and "G1" in out


def test_explain_stops_after_and_checks_each_stage():
    out = nanott("explain", GEMM, "--stop-after", "D3").stdout
    for s in PIPELINE[:STAGES["D3"].position + 1]:
        assert f"# ----- IR after {s.id} {s.name} ({s.transition}) -----" in out
        assert f"# checked: {s.dst} ok; numerics: max |err|" in out
    assert "IR after D4" not in out
    assert "bit-identical to L7" in out.split("IR after D3")[1]


def test_explain_only_one_stage_with_diff():
    out = nanott("explain", GEMM, "--only", "B1", "--diff").stdout
    assert out.count("# ----- IR after") == 1 and "IR after B1 partition-work (L1 -> L2)" in out
    assert "--- after A3" in out and "+++ after B1" in out


def test_explain_json_is_a_dump():
    dump = json.loads(nanott("explain", GEMM, "--only", "A1", "--format", "json").stdout)
    assert dump["language"] == "L1" and dump["after"] == "A1"


def test_explain_dump_dir_writes_a_file_per_stage(tmp_path):
    nanott("explain", GEMM, "--stop-after", "A2", "--dump-dir", str(tmp_path))
    names = sorted(p.name for p in tmp_path.iterdir())
    stems = [f"{s.position:02d}_{s.stem}" for s in PIPELINE[:STAGES["A2"].position + 1]]   # P0..A2
    assert names == sorted(f"{stem}.{ext}" for stem in stems for ext in ("dot", "json", "txt"))


def test_run_passes_at_every_level():
    out = nanott("run", GEMM, "--level", "L9", "--seed", "3").stdout
    assert out.rstrip().endswith("PASS") and "FAIL" not in out


def test_run_fails_on_a_kernel_that_disagrees_with_its_reference(tmp_path):
    wrong = tmp_path / "wrong_gemm.py"
    wrong.write_text((ROOT / "examples" / "gemm.py").read_text().replace("def reference(", "def _right(", 1)
                     + "\n\ndef reference(*inputs):\n    return _right(*inputs) + 1\n")
    out = nanott("run", str(wrong), "--level", "L0", code=1).stdout
    assert "FAIL" in out


def test_user_mistake_renders_a_diagnostic_without_traceback(tmp_path):
    bad = nanott("run", GEMM, "--set", "no_equals_sign", code=3)
    assert "error NT910" in bad.stderr


@pytest.mark.needs_dot
def test_graph_renders_svg(tmp_path):
    out = tmp_path / "dfg.svg"
    assert "wrote" in nanott("graph", GEMM, "--after", "C3", "-o", str(out)).stdout
    assert out.read_text().lstrip().startswith("<?xml") or "<svg" in out.read_text()


def test_graph_without_dot_writes_the_source(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "dfg.svg"
    assert "no 'dot' found; wrote" in nanott("graph", GEMM, "--after", "B1", "-o", str(out)).stdout
    assert (tmp_path / "dfg.dot").read_text().startswith(("digraph", "strict digraph"))


def test_explain_exits_1_when_the_numbers_disagree_with_the_reference(tmp_path):
    wrong = tmp_path / "wrong_gemm.py"
    wrong.write_text((ROOT / "examples" / "gemm.py").read_text() + "\n\nreference = lambda A, B: A @ B.T\n")
    result = nanott("explain", str(wrong), "--stop-after", "A1", code=1)
    assert "EXCEEDS tol" in result.stdout and "numerics check failed" in result.stderr


def test_syntax_error_in_a_kernel_points_at_its_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""A kernel file with a typo."""\nimport nanott.language as T\ndef main(:\n    pass\n')
    err = nanott("explain", str(bad), code=3).stderr
    assert "bad.py:3:" in err and "error NT902" in err and "def main(:" in err


def test_a_checker_failure_is_a_compiler_bug_exit_4(monkeypatch):
    from dataclasses import replace

    from nanott import pipeline
    broken = tuple(replace(s, function=lambda program, target: program) if s.id == "A1" else s
                   for s in pipeline.PIPELINE)                   # L0 out of an L0 -> L1 pass
    monkeypatch.setattr(pipeline, "PIPELINE", broken)
    monkeypatch.setattr(pipeline, "STAGES", {s.id: s for s in broken})
    result = nanott("explain", GEMM, "--stop-after", "A1", code=4)
    assert "internal error after A1 infer-layout" in result.stderr and "please report it" in result.stderr


def test_compile_release_picks_the_api_table(tmp_path):
    """--release 0.65.0: the older spellings (legacy compute entry, 6-argument matmul_tiles; the
    epilogue GEMM's B^T keeps matmul_tiles, D5b makes the others matmul_block)."""
    nanott("compile", str(ROOT / "examples" / "gemm_epilogue.py"), "-o", str(tmp_path), "--release", "0.65.0")
    compute = (tmp_path / "compute.cpp").read_text()
    assert "// for tt-metal 0.65.0" in compute and "namespace NAMESPACE {" in compute
    assert re.search(r"matmul_tiles\([^;]*, true\);", compute)
    nanott("compile", GEMM, "-o", str(tmp_path), "--release", "0.7", code=2)      # not a release nanott knows
