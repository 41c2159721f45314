"""Snapshots: the printed IR (`.txt`) and graphviz source (`.dot`) of every (example, stage), one
readable file each under snapshots/<example>/, so a change of the IR is a change of a file in the PR.

Update with `python -m pytest tests/test_snapshots.py --snapshot-update`.
"""
import pytest
from conftest import EXAMPLES, ROOT, cases

from nanott.cli import printed
from nanott.pipeline import PIPELINE


@pytest.mark.parametrize("example, stage", cases())
def test_text(example, stage, lowered, stage_text):
    assert printed(stage, lowered.program(example, stage.id)) == stage_text


@pytest.mark.parametrize("example, stage", cases(lambda s: s.dst is not None))
def test_dot(example, stage, lowered, stage_dot):
    from nanott.backends.graphviz import to_dot
    assert to_dot(lowered.program(example, stage.id)).source == stage_dot


def expected_snapshot_files() -> set[str]:
    return ({f"{ex}/{s.stem}.txt" for ex in EXAMPLES for s in PIPELINE}
            | {f"{ex}/{s.stem}.dot" for ex in EXAMPLES for s in PIPELINE if s.dst is not None})


def test_no_orphan_snapshots():
    root = ROOT / "snapshots"
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    orphans = sorted(present - expected_snapshot_files())
    assert not orphans, "snapshots no (example, stage) produces (delete them):\n" + "\n".join(orphans)
