"""F1's loop walk (nanott/passes/_trip_counts.walk_trips), on loop bodies built by hand: what a
loop of one, two and many trips leaves in the protocol counts, and which faults it names.

The walker is F1's own (_f1_protocol.ProtocolWalk) over two CBs: cb0 filled by another kernel,
cb1 fed by the kernel itself (producer and consumer are the walked kernel, as D5a's spilled
accumulator). Each case says what the device would do with the loop's real trip count, and the
walk must agree: no deadlock where every trip can go on, a deadlock where a trip waits for pages
no one will push.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from nanott.languages import l9
from nanott.passes._f1_bounds import bound
from nanott.passes._f1_protocol import ProtocolWalk
from nanott.passes._trip_counts import Deadlock, Unbalanced, walk_trips

pytestmark = [pytest.mark.F1]
OTHER, FED = 0, 1
I32 = "int32"


def walker() -> ProtocolWalk:
    """F1's walker of the compute kernel, over cb0 (reader -> compute) and cb1 (compute -> compute)."""
    cbs = (SimpleNamespace(index=OTHER, plan=SimpleNamespace(pages=8), producer="reader", consumer="compute"),
           SimpleNamespace(index=FED, plan=SimpleNamespace(pages=8), producer="compute", consumer="compute"))
    return ProtocolWalk(bound, SimpleNamespace(cbs=cbs), "compute", program_steps={})


def loop(extent: l9.Expr, *body) -> l9.For:
    return l9.For("t", extent, "serial", 0, tuple(body))


def trips(w: ProtocolWalk, s: l9.For, env: dict | None = None) -> None:
    """The loop walked as ProtocolWalk.stmt walks it: its trip range from its extent."""
    env = env or {}
    n = bound(s.extent, env)
    walk_trips(w, s, n, {**env, s.var: (0, n[1] - 1) if n else None})


def pushed(w: ProtocolWalk, cb: int, n: int) -> None:
    """The kernel reserves and pushes n pages of a CB before the loop."""
    w.block((l9.CbReserve(cb, n), l9.CbPush(cb, n)), {})


def drain(pages: int) -> tuple:
    """A trip that waits for and pops `pages` of the kernel's own CB."""
    return l9.CbWait(FED, pages), l9.CbPop(FED, pages)


def test_a_one_trip_loop_is_walked_once():
    # 4 pages pushed, one trip waits for 4 and pops them: the device finishes; a second walk of
    # the body would wait for 4 pages with none left (the false deadlock of session 11)
    w = walker()
    pushed(w, FED, 4)
    trips(w, loop(l9.Const(1, I32), *drain(4)))
    assert w.own[FED] == 0


def test_a_one_trip_loop_that_waits_for_more_than_was_pushed_is_a_deadlock():
    w = walker()
    pushed(w, FED, 4)
    with pytest.raises(Deadlock, match="cb_wait_front cb1, 8 with 4 pages pushed"):
        trips(w, loop(l9.Const(1, I32), *drain(8)))


def test_the_same_body_twice_is_a_deadlock_at_its_second_trip():
    w = walker()
    pushed(w, FED, 4)
    with pytest.raises(Deadlock, match="cb_wait_front cb1, 4 with 0 pages pushed"):
        trips(w, loop(l9.Const(2, I32), *drain(4)))


def test_a_loop_of_zero_or_one_trips_counts_no_pushes_on_and_every_pop():
    # the extent is a run-time value in 0..1 (a core's count): a later wait may rely only on the
    # pages pushed when the loop does not run, and must survive the pop when it does
    w = walker()
    pushed(w, FED, 2)
    env = {"n": (0, 1)}
    trips(w, loop(l9.Var("n"), l9.CbReserve(FED, 3), l9.CbPush(FED, 3)), env)
    assert w.own[FED] == 2
    trips(w, loop(l9.Var("n"), *drain(2)), env)
    assert w.own[FED] == 0


@pytest.mark.parametrize("n, own", [(2, 2), (3, 3), (7, 7)])
def test_a_page_pushed_to_itself_every_trip_is_counted_for_every_trip(n, own):
    w = walker()
    trips(w, loop(l9.Const(n, I32), l9.CbReserve(FED, 1), l9.CbPush(FED, 1)))
    assert w.own[FED] == own
    w.block(drain(own), {})               # the pages are there for a wait after the loop
    with pytest.raises(Deadlock):
        w.block(drain(1), {})              # and no more


def test_a_run_time_trip_count_counts_the_fewest_pushes_and_the_most_pops():
    w = walker()
    pushed(w, FED, 6)
    trips(w, loop(l9.Var("n"), *drain(1)), {"n": (1, 6)})          # up to 6 pops of 1: 0 left
    assert w.own[FED] == 0
    w = walker()
    pushed(w, FED, 5)
    with pytest.raises(Deadlock, match="pops 1 page"):
        trips(w, loop(l9.Var("n"), *drain(1)), {"n": (1, 6)})      # a sixth pop finds none
    w = walker()
    trips(w, loop(l9.Var("n"), l9.CbReserve(FED, 2), l9.CbPush(FED, 2)), {"n": (3, 6)})
    assert w.own[FED] == 6                                             # 3 trips at least


def test_a_body_that_keeps_changing_another_kernels_cb_is_unbalanced():
    # the reader fills cb0; a trip that pushes to it without reserving again moves `reserved` down
    w = walker()
    w.block((l9.CbReserve(OTHER, 8),), {})
    with pytest.raises(Unbalanced, match="cb0: reserved"):
        trips(w, loop(l9.Const(4, I32), l9.CbPush(OTHER, 1)))
    w = walker()                                   # two trips: walked whole, exactly as they run
    w.block((l9.CbReserve(OTHER, 8),), {})
    trips(w, loop(l9.Const(2, I32), l9.CbPush(OTHER, 1)))
    assert w.cbs[OTHER].reserved == 6


def test_waits_repeated_every_trip_are_balanced():
    w = walker()
    trips(w, loop(l9.Const(5, I32), l9.CbWait(OTHER, 4), l9.CbPop(OTHER, 4), l9.CbReserve(FED, 4),
                  l9.CbPush(FED, 4), *drain(4)))
    assert w.cbs[OTHER].state() == (0, 0) and w.own[FED] == 0
