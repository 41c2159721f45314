"""A loop's trips and the CB counts they leave, for F1's protocol walk (_f1_protocol.py).

The walk runs a loop body twice: the second trip must leave the counts as the first did (a wait
repeated every trip is idempotent; a push or pop that does not balance is not). Two exceptions,
both of D5c's subblock-at-a-time CBs: counts an earlier statement left (a wait of more pages than a
trip's) settle after one trip, so a third walk decides; and a CB the kernel feeds itself may gain
(or lose) the same pages every trip, carried over the loop's trips as the count a later wait can
rely on (the fewest trips that push, the most that pop); popping more than was pushed is a deadlock.
A loop of at most two trips is walked whole: one of at most one trip is walked once (a second walk
would judge a trip the device never runs: a wait for pages the first trip popped is no deadlock
when there is no second trip), and where it may run no trip at all, the pages it pushes to a CB the
kernel feeds itself are not counted on after it.
"""
from __future__ import annotations

from typing import Any


class Unbalanced(Exception):
    """A loop body that leaves the protocol counts other than it found them."""

    def __init__(self, loop: Any, before: tuple, after: tuple):
        changed = [f"cb{i}: reserved {b[0]} -> {a[0]}, waited {b[1]} -> {a[1]}, own pushed {b[2]} -> {a[2]}"
                   for (i, b), (_, a) in zip(before, after) if a != b]
        super().__init__(f"each trip of `for {loop.var}` changes the CB counts again: {'; '.join(changed)}")
        self.loc = loop.loc


class Deadlock(Exception):
    """A wait no other kernel can end: what the simulator reports as a deadlock."""


def walk_trips(walker: Any, loop: Any, trips: tuple[int, int] | None, env: dict) -> None:
    """The loop's body walked as its trips run (walker: _f1_protocol.ProtocolWalk)."""
    if trips is not None and trips[1] <= 1:
        before = dict(walker.own)
        walker.block(loop.body, env)
        if trips[0] == 0:                   # maybe no trip: the fewest pushes, the most pops
            walker.own.update({i: min(n, before[i]) for i, n in walker.own.items()})
        return
    walker.block(loop.body, env)
    first = walker.state()
    walker.block(loop.body, env)
    walks, step = 2, settled(walker.fed, first, walker.state())
    if step is None and (trips is None or trips[1] > 2):
        first, walks = walker.state(), 3
        walker.block(loop.body, env)
        step = settled(walker.fed, first, walker.state())
        if step is None:
            raise Unbalanced(loop, first, walker.state())
    if step is not None and any(step.values()):
        if trips is None:
            raise Unbalanced(loop, first, walker.state())
        for i, d in step.items():
            left = walker.own[i] + d * ((trips[0] if d > 0 else trips[1]) - walks)
            if left < 0:
                raise Deadlock(f"each trip of `for {loop.var}` pops {-d} page(s) of cb{i} more than it "
                               "pushes, more than the kernel pushed before the loop")
            walker.own[i] = left


def settled(fed: set[int], a: tuple, b: tuple) -> dict[int, int] | None:
    """Per CB, the pages a trip adds to the kernel's own count, if the trips from a to b left every
    other count as it was and only CBs the kernel feeds itself gained or lost pages; else None."""
    step = {}
    for (i, x), (_, y) in zip(a, b):
        if x[:2] != y[:2] or (x[2] != y[2] and i not in fed):
            return None
        step[i] = y[2] - x[2]
    return step
