"""Memory the lockstep L9 simulator keeps from one run to the next.

A lockstep run holds megabytes per buffer: each DRAM tensor tilized (8 MB for a 2048^2 bf16 one),
each CB's pages for every core of a group (4 MB for 32 bf16 pages on 64 cores), the DST tiles of a
group. Fresh memory costs the kernel a page fault per 4 KB the first time it is written: on a
2-core AMD EPYC, about a sixth of an elementwise 2048^2 run at L9 (`ru_minflt`: 6,400 faults a run).
A run made with a `Scratch` takes its big buffers from a pool and gives them back when it ends; the
pool keeps at most LIMIT bytes between runs, as a device keeps its DRAM and L1 allocated between
launches. What a buffer held before is never seen: DRAM is copied in whole, CB pages are filled with
`unwritten` and DST tiles with zeros when taken, as fresh ones are.

Only `lockstep.simulate` uses it, and gives the buffers back after the run has untilized its
results into the caller's arrays and dropped the simulator (nothing else can still see them).
"""
from __future__ import annotations

import math
import threading
from collections import defaultdict

import numpy as np

LIMIT = 256 << 20          # bytes kept between runs, at most
SMALLEST = 256 << 10       # smaller buffers are left to malloc, which keeps them itself

_free: dict[int, list[np.ndarray]] = defaultdict(list)
_kept = [0]
_lock = threading.Lock()


class Scratch:
    """The buffers one run took from the pool."""

    def __init__(self) -> None:
        self.taken: list[np.ndarray] = []

    def empty(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised array (like np.empty), from the pool when one of its size is free."""
        dtype = np.dtype(dtype)
        size = math.prod(shape) * dtype.itemsize
        if size < SMALLEST:
            return np.empty(shape, dtype)
        with _lock:
            free = _free.get(size)
            buf = free.pop() if free else None
            if buf is not None:
                _kept[0] -= size
        if buf is None:
            buf = np.empty(size, np.uint8)
        self.taken.append(buf)
        return buf.view(dtype).reshape(shape)

    def release(self) -> None:
        """Every buffer back to the pool (as many as LIMIT allows); the run must not use them again."""
        with _lock:
            for buf in self.taken:
                if _kept[0] + buf.nbytes <= LIMIT:
                    _free[buf.nbytes].append(buf)
                    _kept[0] += buf.nbytes
        self.taken = []


def kept() -> int:
    """Bytes the pool holds between runs."""
    return _kept[0]
