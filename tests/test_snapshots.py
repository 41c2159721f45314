"""Snapshots: the printed IR (`.txt`) and graphviz source (`.dot`) of every (example, stage), one
readable file each under snapshots/<example>/, so a change of the IR is a change of a file in the PR.

Update with `python -m pytest tests/test_snapshots.py --snapshot-update`.
"""
import pytest
from conftest import ROOT, cases, delete_orphans, orphan_snapshots

from nanott.cli import printed


@pytest.mark.parametrize("example, stage", cases())
def test_text(example, stage, lowered, stage_text):
    assert printed(stage, lowered.program(example, stage.id)) == stage_text


@pytest.mark.parametrize("example, stage", cases(lambda s: s.dst is not None))
def test_dot(example, stage, lowered, stage_dot):
    from nanott.backends.graphviz import to_dot
    assert to_dot(lowered.program(example, stage.id)).source == stage_dot


def test_no_orphan_snapshots():
    orphans = [p.relative_to(ROOT).as_posix() for p in orphan_snapshots()]
    assert not orphans, ("snapshots no (example, stage) produces (`--snapshot-update` deletes them):\n"
                         + "\n".join(orphans))


def test_snapshot_update_deletes_orphans(tmp_path):
    """What `--snapshot-update` deletes: a file named by position (the old scheme) and an example
    that went away; a snapshot some (example, stage) produces stays."""
    for name in ("gemm/B1_partition-work.txt", "gemm/05_B1_partition-work.txt", "gone/P0_parse.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    deleted = delete_orphans(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in deleted) == [
        "gemm/05_B1_partition-work.txt", "gone/P0_parse.txt"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "gemm", "gemm/B1_partition-work.txt"]
