"""Mutation testing of the examples' L9 programs (tests/mutants.py): every non-equivalent single
mutation of a protocol call (delete, duplicate, swap, pages +-1, on every CB call, NoC barrier and
init) must be rejected by F1 statically, at least 95% of them per example, and none may pass both
F1 and the simulator with different outputs (silently wrong).

The fast tier runs two small examples; `make fuzz` (marker `heavy`) runs every example.
"""
from __future__ import annotations

import pytest

from conftest import EXAMPLES
from mutants import example_tally

FAST = ["elementwise_add", "gemm"]


def check(example: str) -> None:
    t = example_tally(example)
    assert t.wrong == 0, f"{t.line()}\n" + "\n".join(t.missed)
    assert t.f1 >= 0.95 * t.non_equivalent, f"{t.line()}\n" + "\n".join(t.missed)
    assert t.non_equivalent > 0.5 * t.total, t.line()      # the mutations do something


@pytest.mark.parametrize("example", FAST)
def test_f1_rejects_the_protocol_mutants(example):
    check(example)


@pytest.mark.heavy
@pytest.mark.parametrize("example", [e for e in EXAMPLES if e not in FAST])
def test_f1_rejects_the_protocol_mutants_of_every_example(example):
    check(example)
