"""Shared test machinery: a marker per stage, the snapshot layout, `needs_dot` (and `needs_torch`,
`needs_browser`), and one lowering of
each example per session.

`pytest -m B1` runs every test of stage B1 (markers come from PIPELINE). Snapshots live in
`snapshots/<example>/<stem>.txt` and `.dot` (docs/style.md). Examples are the files of examples/.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import traceback
from functools import cache
from pathlib import Path
from typing import Any, Callable

os.environ["TERMINAL_WIDTH"] = "3000"                # before typer is imported (CLI tests)
os.environ["_TYPER_FORCE_DISABLE_TERMINAL"] = "1"

import nanott                   # noqa: E402  first: it pins the order of NumPy's tile sums (nanott/sum_order.py)

import numpy as np
import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from fast_tier import mark_sweeps
from nanott import api
from nanott.pipeline import PIPELINE, Stage, run_stages

ROOT = Path(__file__).resolve().parent.parent


def load_text(tmp_path: Path, text: str, sets: dict | None = None, name: str = "kernel.py"):
    """A kernel file written from `text` into tmp_path and loaded as the CLI would, with `--set`s."""
    from nanott.loader import load_kernel
    path = tmp_path / name
    path.write_text(text)
    return load_kernel(path, None, {k: str(v) for k, v in (sets or {}).items()})
# the real-header tier (tests/metal) downloads ttnn wheels: `make test-metal` runs it
collect_ignore = [] if os.environ.get("NANOTT_TEST_METAL") == "1" else ["metal"]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))


LAST_L0 = [s.id for s in PIPELINE if s.dst == "L0"][-1]        # after it, a program's launches are fixed


@cache
def launch_count(example: str) -> int:
    """How many launches the example's program has after the L0 stages (cheap, at collection: P0c
    may make a split-K kernel two)."""
    from nanott import pipeline
    from nanott.ir import launches_of
    from nanott.loader import load_kernel
    prim_func = load_kernel(ROOT / "examples" / f"{example}.py").prim_func
    return len(launches_of(pipeline.lower(prim_func, LAST_L0, check=False)))


def launch_ids() -> list[str]:
    """Every example, or each launch of an example of several (`flash_decoding:1`): the unit whose
    kernels, CBs and plan the per-program tests check (a launch is a whole Metalium program)."""
    return [ex if launch_count(ex) == 1 else f"{ex}:{i}" for ex in EXAMPLES for i in range(launch_count(ex))]


def cases(keep: Callable[[Stage], bool] = lambda s: True) -> list:
    """(example, stage) parameters in pipeline order, each marked with its stage id."""
    return [pytest.param(ex, s, id=f"{ex}-{s.stem}", marks=getattr(pytest.mark, s.id))
            for s in PIPELINE for ex in EXAMPLES if keep(s)]


def pytest_configure(config):
    for s in PIPELINE:
        config.addinivalue_line("markers", f"{s.id}: tests of stage {s.id} {s.name} ({s.transition})")
    config.addinivalue_line("markers", "heavy: long-running defences (every example's mutants, fresh "
                                       "fuzzing seeds), deselected by `make test`, run by `make fuzz`")
    config.addinivalue_line("markers", "slow: builds C++ with g++, weaves the course, runs the README's and "
                                       "the exercises' commands in fresh processes, or drives a browser; "
                                       "`make test-fast` (pytest -m 'not slow') leaves these out")
    config.addinivalue_line("markers", "needs_dot: renders with graphviz's `dot` (skipped without it, "
                                       "except under CI, where it fails)")
    config.addinivalue_line("markers", "needs_torch: passes torch tensors (a CPU build of torch; skipped "
                                       "without it, except under CI, where it fails)")
    config.addinivalue_line("markers", "needs_browser: drives Debian's chromium with playwright (skipped "
                                       "without them, except under CI, where it fails)")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed (.ci/run installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def expected_snapshot_files() -> set[str]:
    """snapshots/<example>/<stage id>_<name>.txt for every (example, stage), and .dot where the
    stage produces an IR."""
    return ({f"{ex}/{s.stem}.txt" for ex in EXAMPLES for s in PIPELINE}
            | {f"{ex}/{s.stem}.dot" for ex in EXAMPLES for s in PIPELINE if s.dst is not None})


def orphan_snapshots(root: Path = ROOT / "snapshots") -> list[Path]:
    """Snapshot files no (example, stage) produces any more (a stage or an example went away)."""
    present = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    expected = expected_snapshot_files()
    return sorted(p for p in present if p.relative_to(root).as_posix() not in expected)


def pytest_sessionfinish(session, exitstatus):
    """`--snapshot-update` also deletes the orphans (syrupy cannot see them: they have no test)."""
    if session.config.getoption("update_snapshots", default=False):
        for p in delete_orphans(ROOT / "snapshots"):
            print(f"\nsnapshots: deleted {p.relative_to(ROOT)} (no stage produces it)")


def delete_orphans(root: Path) -> list[Path]:
    """Delete the orphan snapshots under root and the example directories they leave empty."""
    orphans = orphan_snapshots(root)
    for p in orphans:
        p.unlink()
    for d in root.iterdir():
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    return orphans


def pytest_collection_modifyitems(config, items):
    """Sweeps over every example run only fast_tier.FAST_EXAMPLES in `make test-fast`."""
    mark_sweeps(items, EXAMPLES)


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_dot") and shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("graphviz's `dot` is missing, and CI must have it (.ci/run installs it)")
        pytest.skip("graphviz's `dot` is not installed")
    if item.get_closest_marker("needs_torch") and importlib.util.find_spec("torch") is None:
        if os.environ.get("CI"):
            pytest.fail("torch is missing, and CI must have it (.ci/run installs the CPU build)")
        pytest.skip("torch is not installed (optional: `make setup-torch`)")
    if item.get_closest_marker("needs_browser") and (why := browser_missing()):
        if os.environ.get("CI"):
            pytest.fail(f"{why}, and CI must have it")
        pytest.skip(why)


class StageText(SingleFileSnapshotExtension):
    """The printed IR of one (example, stage): snapshots/<example>/<stem>.txt."""
    _write_mode = WriteMode.TEXT             # private in syrupy 7.0: pinned, re-checked on upgrade
    file_extension = "txt"

    @classmethod
    def dirname(cls, *, test_location):
        if (params := stage_params(test_location)) is None:     # syrupy scans every test file's site
            return super().dirname(test_location=test_location)
        return str(ROOT / "snapshots" / params["example"])

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0):
        if (params := stage_params(test_location)) is None:
            return super().get_snapshot_name(test_location=test_location, index=index)
        return params["stage"].stem


def stage_params(test_location) -> dict | None:
    """The (example, stage) parameters of a snapshot test, or None for any other test."""
    params = getattr(getattr(test_location.item, "callspec", None), "params", {})
    return params if {"example", "stage"} <= set(params) else None


class StageDot(StageText):
    """The graphviz source of one (example, stage): snapshots/<example>/<stem>.dot."""
    file_extension = "dot"


@pytest.fixture
def stage_text(snapshot):
    return snapshot.use_extension(StageText)


@pytest.fixture
def stage_dot(snapshot):
    return snapshot.use_extension(StageDot)


class Lowerings:
    """Each example lowered once through the whole pipeline; a failure is kept and re-reported by
    every test of that stage and the stages after it (they fail, never skip)."""

    @cache
    def loaded(self, example: str) -> Any:
        from nanott.loader import load_kernel
        return load_kernel(ROOT / "examples" / f"{example}.py")

    @cache
    def _lower(self, example: str) -> tuple[dict[str, Any], tuple[str, str] | None]:
        programs: dict[str, Any] = {}
        try:
            for s, program in run_stages(self.loaded(example).prim_func, "G1"):
                programs[s.id] = program
        except Exception as e:           # noqa: BLE001 (kept, and reported by each later stage)
            return programs, (next(s.id for s in PIPELINE if s.id not in programs),
                              "".join(traceback.format_exception(e)))
        return programs, None

    def program(self, example: str, stage_id: str) -> Any:
        programs, failure = self._lower(example)
        if stage_id not in programs:
            where, trace = failure or ("?", "")
            pytest.fail(f"{example}: lowering stopped at {where}, before {stage_id}:\n{trace}")
        return programs[stage_id]

    def kernel(self, example: str) -> Any:
        return self.program(example, "P0")

    def launch(self, name: str, stage_id: str) -> Any:
        """The program of a launch_ids() name after a stage: the example's, or one of its launches."""
        example, _, i = name.partition(":")
        program = self.program(example, stage_id)
        return program.launches[int(i)] if i else program

    def launch_for(self, name: str, stage_id: str, release: str) -> Any:
        """The launch as lowered for a tt-metal release: the default lowering where the release has
        the same FPU broadcasts (C2's one choice by release), else the example lowered for it."""
        from nanott.backends.metalium.api import fpu_broadcasts
        from nanott.target import DEFAULT_TARGET
        if fpu_broadcasts(release) == fpu_broadcasts(DEFAULT_TARGET.release):
            return self.launch(name, stage_id)
        example, _, i = name.partition(":")
        program = self._for_release(example, stage_id, release)
        return program.launches[int(i)] if i else program

    @cache
    def _for_release(self, example: str, stage_id: str, release: str) -> Any:
        from dataclasses import replace
        from nanott.pipeline import lower
        from nanott.target import DEFAULT_TARGET
        return lower(self.loaded(example).prim_func, stage_id, replace(DEFAULT_TARGET, release=release))

    @cache
    def launch_inputs(self, name: str) -> dict[str, np.ndarray]:
        """Random inputs of one launch on its own (a scratch tensor it reads is random too)."""
        return api.random_inputs(self.launch(name, LAST_L0), seed=0)    # P0c may split a kernel in two

    @cache
    def inputs(self, example: str) -> dict[str, np.ndarray]:
        return api.random_inputs(self.kernel(example), seed=0)

    @cache
    def expected(self, example: str) -> dict[str, np.ndarray]:
        return api.expected_outputs(self.loaded(example), self.kernel(example), self.inputs(example))

    @cache
    def outputs(self, example: str, stage_id: str) -> dict[str, np.ndarray]:
        s = next(s for s in PIPELINE if s.id == stage_id)
        return api.simulate(self.program(example, stage_id), s.dst, self.inputs(example))


@pytest.fixture(scope="session")
def lowered() -> Lowerings:
    return Lowerings()


@pytest.fixture(scope="session")
def runtime_cache(tmp_path_factory) -> Path:
    """One build of the C++ CPU runtime per test session, shared by every test that executes C++."""
    return tmp_path_factory.mktemp("runtime")


def cb_named(program: Any, name: str) -> Any:
    """A program's CB by its name (never by its index, which a new stage may change)."""
    return next(cb for cb in program.cbs if cb.name == name)


def with_kernel(program: Any, role: str, **changes: Any) -> Any:
    """The program with its kernel of one role (reader, compute, writer) changed."""
    from dataclasses import replace
    return replace(program, kernels=tuple(replace(k, **changes) if k.role == role else k
                                          for k in program.kernels))


def without(program: Any, role: str, victim: Any) -> Any:
    """The program with one statement (by identity) removed from its kernel of one role, at any depth:
    a protocol mutant."""
    from dataclasses import replace

    def go(stmts: tuple) -> tuple:
        return tuple(replace(s, body=go(s.body)) if isinstance(getattr(s, "body", None), tuple) else s
                     for s in stmts if s is not victim)
    kernel = next(k for k in program.kernels if k.role == role)
    return with_kernel(program, role, body=go(kernel.body))


def nanott_cli(*args: str, code: int = 0):
    """Run the `nanott` command in-process; assert its exit code and that no traceback leaked."""
    from typer.testing import CliRunner

    from nanott.cli import app
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result
