"""The docs are woven from the compiler: every marker block and the pipeline picture must be what
`python docs/weave.py` makes now, and the weaver itself must notice drift."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

DOCS = ROOT / "docs"
_spec = importlib.util.spec_from_file_location("weave", DOCS / "weave.py")
weave = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(weave)


def test_docs_have_not_drifted():
    problems = weave.drift(DOCS)
    assert not problems, "docs drifted from the compiler; run `python docs/weave.py`:\n" + "\n".join(problems)


@pytest.mark.needs_dot
def test_pipeline_svg_shows_the_current_pipeline():
    assert not weave.svg_drift(DOCS)


def test_check_fails_with_a_diff_then_weaving_repairs(tmp_path):
    for name in ("index.md", "pipeline.dot", "pipeline.svg"):
        shutil.copy(DOCS / name, tmp_path / name)
    page = tmp_path / "index.md"
    page.write_text(page.read_text().replace("| B1 | partition-work |", "| B1 | deal-blocks |"))
    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, str(DOCS / "weave.py"), "--docs", str(tmp_path), *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    checked = run("--check")
    assert checked.returncode == 1
    assert "-| B1 | deal-blocks | L1 -> L2 |" in checked.stdout
    assert "+| B1 | partition-work | L1 -> L2 |" in checked.stdout and "index.md" in checked.stdout
    assert run().returncode == 0 and run("--check").returncode == 0


def test_markers_for_deltas_and_sources():
    text = weave.woven("<!-- weave: delta L7 -->\nstale\n<!-- /weave -->\n"
                       "<!-- weave: source nanott/pipeline.py language -->\n<!-- /weave -->\n", "t.md")
    assert "Delta from L6 (made by D1 split-device-kernel" in text and "stale" not in text
    assert "def language(name: str) -> Language:" in text
    with pytest.raises(SystemExit, match="unknown marker 'snapshots gemm B1'"):
        weave.woven("<!-- weave: snapshots gemm B1 -->\n<!-- /weave -->\n", "t.md")
