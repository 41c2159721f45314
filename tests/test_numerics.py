"""Numerics over example x stage: every level's interpreter, on seeded random inputs, against the
example's independent NumPy reference (within api.TOLERANCE), and against the level before it
(bit-identical, unless the later pass declares a `Numerics:` change in its docstring).

Cases run in pipeline order, so the first red line is the first pass that went wrong.
"""
import pytest
from conftest import EXAMPLES, cases

from nanott.api import TOLERANCE, compare, identical, within
from nanott.pipeline import PIPELINE

INTERPRETED = cases(lambda s: s.dst is not None)
ADJACENT = cases(lambda s: s.dst is not None and s.position > 0)


def test_there_are_examples():
    assert "gemm" in EXAMPLES, "examples/gemm.py is the example every tool and chapter starts from"


@pytest.mark.parametrize("example, stage", INTERPRETED)
def test_matches_reference(example, stage, lowered):
    results = compare(lowered.kernel(example), lowered.outputs(example, stage.id), lowered.expected(example))
    bad = [f"{r.name} ({r.dtype}): max |err| {r.max_abs:.3g}, tolerance {TOLERANCE[r.dtype]}"
           for r in results if not r.ok]
    assert results and not bad, f"{example} after {stage.id} {stage.name}: " + "; ".join(bad)


@pytest.mark.parametrize("example, stage", ADJACENT)
def test_same_numbers_as_level_before(example, stage, lowered):
    before = PIPELINE[stage.position - 1]
    now, then = lowered.outputs(example, stage.id), lowered.outputs(example, before.id)
    names = tuple(lowered.expected(example))
    if not stage.changes_rounding:
        assert identical(now, then, names), (
            f"{stage.id} changed the numbers of {before.id} ({before.dst}) but its docstring declares "
            "no `Numerics:` change")
    else:               # a declared change must still stay within the dtype's tolerance of the level before
        dtypes = {p.name: p.dtype for p in lowered.kernel(example).params}
        assert all(within(now[n], then[n], dtypes[n]) for n in names)
