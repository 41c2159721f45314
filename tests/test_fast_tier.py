"""The fast tier's examples still use, between them, everything any example's IR uses (fast_tier.py)."""
from __future__ import annotations

import pytest
from conftest import EXAMPLES
from fast_tier import FAST_EXAMPLES, features, mark_sweeps

from nanott.pipeline import PIPELINE

STAGES = [s for s in PIPELINE if s.dst is not None]


@pytest.mark.slow           # lowers every example through every stage
def test_the_fast_examples_cover_every_production_and_word(lowered):
    used: dict[tuple, str] = {}
    for example in EXAMPLES:
        for s in STAGES:
            for f in features(s.dst, lowered.program(example, s.id)):
                used.setdefault(f, f"{example} after {s.id}")
    fast = {f for ex in FAST_EXAMPLES for s in STAGES for f in features(s.dst, lowered.program(ex, s.id))}
    missing = sorted(set(used) - fast, key=str)
    assert not missing, ("`make test-fast` sweeps fast_tier.FAST_EXAMPLES, and none of them uses "
                         + "; ".join(f"{f} (first in {used[f]})" for f in missing[:8])
                         + ": add that example to FAST_EXAMPLES")


def test_the_fast_examples_are_examples():
    assert set(FAST_EXAMPLES) <= set(EXAMPLES)


class _Item:
    """The little of a pytest item that mark_sweeps reads."""
    def __init__(self, test: str, example: str):
        self.module = type("M", (), {"__name__": "test_x"})
        self.originalname, self.callspec, self.marks = test, type("C", (), {"params": {"example": example}}), []

    def add_marker(self, mark) -> None:
        self.marks.append(mark.name)


def test_a_sweep_runs_only_the_fast_examples_and_a_chosen_few_always_run():
    sweep = [_Item("test_sweep", ex) for ex in EXAMPLES] + [_Item("test_sweep", "flash_decoding:1")]
    few = [_Item("test_few", ex) for ex in EXAMPLES if ex not in FAST_EXAMPLES][:2]
    mark_sweeps(sweep + few, EXAMPLES)
    assert {i.callspec.params["example"] for i in sweep if "slow" in i.marks} == set(EXAMPLES) - set(FAST_EXAMPLES)
    assert few and not any(i.marks for i in few)
