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


def swapped(program, first: type, then: type):
    """The program with the first top-level `first` call of a persistent-loop body that is followed
    by a `then` statement swapped with it (in the kernel that has one), and that kernel's role."""
    import dataclasses
    from nanott.ir import walk
    from nanott.languages import l9
    for k in program.kernels:
        for loop in (s for s in walk(k.body) if isinstance(s, l9.For)):
            body = loop.body
            for i in range(len(body) - 1):
                if isinstance(body[i], first) and isinstance(body[i + 1], then) and (
                        then is not l9.For or any(isinstance(x, l9.CbReserve) for x in walk(body[i + 1].body))):
                    new = dataclasses.replace(loop, body=body[:i] + (body[i + 1], body[i]) + body[i + 2:])
                    kernel = dataclasses.replace(k, body=tuple(new if s is loop else s for s in k.body))
                    return dataclasses.replace(program, kernels=tuple(kernel if x is k else x
                                                                      for x in program.kernels)), k.role
    raise AssertionError(f"no {first.__name__} before a {then.__name__}")


def test_f1_finds_a_push_moved_past_a_loop_the_partner_waits_behind(lowered):
    """attention_sink's reader pushes its generated mask (a CB the compute kernel waits for before
    it pops the K blocks) before the loop that reserves those blocks; pushed after the loop instead,
    each kernel still balances its own counts per trip, but the core hangs: F1's cross-kernel run of
    the counts names both waits, and the simulator, running it, deadlocks alike."""
    from nanott import api
    from nanott.ir import CheckError
    from nanott.languages import l9
    from nanott.passes.f1_verify import verify
    from nanott.sim.errors import DeadlockError
    from nanott.target import DEFAULT_TARGET
    program = lowered.program("attention_sink", "F1")
    verify(program, DEFAULT_TARGET)
    late, role = swapped(program, l9.CbPush, l9.For)
    with pytest.raises(CheckError) as e:
        verify(late, DEFAULT_TARGET)
    what = str(e.value)
    assert "cross-kernel deadlock" in what and f"the {role} waits in cb_reserve_back" in what, what
    assert "the compute waits in cb_wait_front" in what and "attention_sink.py:" in what, what
    with pytest.raises(DeadlockError):
        api.simulate(late, "L9", lowered.inputs("attention_sink"))


def test_f1_finds_a_generated_block_stored_before_its_reserve(lowered):
    """A generate_to_cb moved before its cb_reserve_back stores outside the reservation (rule 6),
    as a NoC read or a pack_tile there would."""
    from nanott.ir import CheckError
    from nanott.languages import l9
    from nanott.passes.f1_verify import verify
    from nanott.target import DEFAULT_TARGET
    early, _ = swapped(lowered.program("attention_sink", "F1"), l9.CbReserve, l9.GenerateToCb)
    with pytest.raises(CheckError, match=r"protocol rule 6 .*generate_to_cb to cb\d+ back slot 1, but 0 pages"):
        verify(early, DEFAULT_TARGET)
