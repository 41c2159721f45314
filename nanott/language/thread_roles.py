"""Warp specialization written with the thread index: `tx = T.get_thread_binding()` and branches on it.

A Hopper kernel may split its threads into roles by hand:

    tx = T.get_thread_binding()
    if tx < 128:                     # consumer 0
        ...
    elif tx >= 128 and tx < 256:     # consumer 1
        ...
    else:                            # producer
        ...

each role a loop over the same iteration space, synchronised by barriers (`T.alloc_barrier`,
`T.barrier_arrive`, `T.barrier_wait(bar, parity)`, `T.cp_async_barrier_noinc`). The roles run
concurrently on the GPU. nanott has one program per block, so P0 fuses them into one sequential
program in an order the barriers allow (role_fusion.py), drops the barriers, and lets D1 find the
reader, compute and writer again from the data flow.

Here: the thread index and the conditions on it. A comparison of `tx` with a Python int is a
`ThreadCond`, an interval of thread ids; `and` of two is their intersection. An `if` on one
(branches.py) splits the block's threads: each branch is the role of the threads where its
condition holds (an empty one is skipped, a full one is not a split). `tx` in arithmetic (per-thread
work: each thread copying its own 8 elements) is NT301: it has no block-level meaning yet.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nanott.diagnostics import NanottError
from nanott.language.builder import caller_loc, current
from nanott.language.signatures import closed
from nanott.language.values import Sym, to_expr
from nanott.language.thread_copies import ThreadCopy
from nanott.languages import l0

HINT_PER_THREAD = ("write the role's work on whole blocks (T.copy of a region, T.gemm, T.Parallel); "
                   "branches on tx (`if tx < 128:`) are what nanott reads as roles")


@dataclass(frozen=True)
class ThreadCond:
    """The threads [lo, hi) of the block: a condition on `tx`."""
    lo: int
    hi: int
    threads_only = True

    def __and__(self, other: Any) -> ThreadCond:
        if not isinstance(other, ThreadCond):
            raise per_thread("`and` of a condition on tx with another condition")
        return ThreadCond(max(self.lo, other.lo), min(self.hi, other.hi))

    __rand__ = __and__

    def __bool__(self) -> bool:
        raise per_thread("a condition on tx used as a Python bool")

    def __str__(self) -> str:
        return f"tx in [{self.lo}, {self.hi})"


class ThreadIndex:
    """What `T.get_thread_binding()` returns: `tx`, the thread's index in the block. Compared with a
    Python int it is a ThreadCond. Inside a role, arithmetic on it and indices of it are run-time
    values of a variable nanott names (per-thread work: thread_copies.py gathers the copies it
    makes into block copies, and refuses the rest); outside the roles they are NT301."""

    def __init__(self, threads: int, name: str):
        self.threads, self.name = threads, name

    def _cond(self, op: str, k: Any) -> ThreadCond:
        if not isinstance(k, int) or isinstance(k, bool):
            raise per_thread(f"tx {op} {k!r}: tx compared with something else than a Python int")
        lo, hi = {"<": (0, k), "<=": (0, k + 1), ">": (k + 1, self.threads), ">=": (k, self.threads),
                  "==": (k, k + 1)}[op]
        return ThreadCond(max(lo, 0), min(hi, self.threads))

    def __lt__(self, k): return self._cond("<", k)
    def __le__(self, k): return self._cond("<=", k)
    def __gt__(self, k): return self._cond(">", k)
    def __ge__(self, k): return self._cond(">=", k)
    def __eq__(self, k): return self._cond("==", k)     # noqa: E704
    __hash__ = object.__hash__

    def per_thread(self) -> Any:
        """tx as a run-time value, inside a role; NT301 elsewhere."""
        b = current("tx")
        if not b.in_role():
            raise per_thread("tx in arithmetic or an index outside a role (`if tx < ...:`)")
        return Sym(l0.Var(self.name, loc=b.loc))

    def __add__(self, o): return self.per_thread() + o
    def __radd__(self, o): return o + self.per_thread()
    def __sub__(self, o): return self.per_thread() - o
    def __rsub__(self, o): return o - self.per_thread()
    def __mul__(self, o): return self.per_thread() * o
    def __rmul__(self, o): return o * self.per_thread()
    def __floordiv__(self, o): return self.per_thread() // o
    def __mod__(self, o): return self.per_thread() % o

    def __index__(self) -> int:
        raise per_thread("tx used as a Python int")

    def __bool__(self) -> bool:
        raise per_thread("tx used as a Python bool")


def per_thread(what: str) -> NanottError:
    return NanottError("NT301", f"{what} is not supported by nanott yet: a Tensix core runs one "
                       "program per block, not one per thread", caller_loc(), hint=HINT_PER_THREAD)


@closed("thread")
def get_thread_binding(dim: int = 0, **_: Any) -> ThreadIndex:
    """`tx = T.get_thread_binding()`: the thread index, for branches that split the block into roles."""
    b = current("T.get_thread_binding")
    b.require_kernel("T.get_thread_binding")
    if dim != 0:
        raise NanottError("NT301", f"T.get_thread_binding({dim}): only the first thread dimension is "
                          "supported by nanott", caller_loc(), hint="launch with threads=N, one dimension")
    threads = b.threads
    if not isinstance(threads, int) or threads <= 0:
        raise NanottError("NT104", "T.get_thread_binding in a T.Kernel without threads=N", caller_loc(),
                          hint="with T.Kernel(gx, gy, threads=384) as (bx, by):")
    b.roles_on()
    return ThreadIndex(threads, b.tx_name)


@closed()
def thread_binding(start: Any, stop: Any = None, thread: str = "threadIdx.x", annotations: Any = None) -> ThreadIndex:
    """`kr = T.thread_binding(0, n, thread="threadIdx.x")`: a thread index bound by hand, the same
    value as `T.get_thread_binding()` when it spans the block's threads along x. Any other thread
    dimension (a block of 2-D threads, `threads=(32, 4)`) is NT301: its threads each do a slice of
    the work (a GEMV's partial dot products, combined by T.tvm_thread_allreduce), per-thread work
    nanott does not gather into block operations."""
    lo, hi = (0, start) if stop is None else (start, stop)
    b = current("T.thread_binding")
    if thread != "threadIdx.x" or not isinstance(b.threads, int) or (lo, hi) != (0, b.threads):
        raise NanottError("NT301", f"T.thread_binding({lo}, {hi}, thread={thread!r}) in a block of threads="
                          f"{b.threads}: a thread index bound by hand to anything but the block's "
                          "one dimension of threads is per-thread work, not supported by nanott: a Tensix core "
                          "runs one program per block, not one per thread", caller_loc(),
                          hint="write the block's work on whole blocks: T.copy the rows, then "
                               "`for i, k in T.Parallel(...)` accumulating into a T.alloc_reducer (or "
                               "T.reduce_sum), as TileLang's tile GEMV writes it")
    return get_thread_binding(0)


class Pointer:
    """`T.access_ptr(buf[i, j], mode, n)`: n elements from one element of a buffer (per thread)."""

    def __init__(self, at: Any, n: int):
        self.at, self.n = at, n


@closed("ignore_last_ndim")
def access_ptr(base: Any, access_type: Any = "r", *extents: Any, offset: Any = 0, extent: Any = None,
               **_: Any) -> Pointer:
    """A pointer to an element, for T.ptx_cp_async: its element and how many follow it."""
    if not hasattr(base, "buffer") or not hasattr(base, "indices") or offset != 0:
        raise NanottError("NT301", "T.access_ptr of anything but one element (`buf[i, j]`, no offset) is not "
                          "supported by nanott", caller_loc(), hint=HINT_PER_THREAD)
    sizes = extents[0] if len(extents) == 1 and isinstance(extents[0], (list, tuple)) else extents
    n = extent if extent is not None else 1
    for e in sizes if extent is None else ():
        n *= e
    if not isinstance(n, int) or n <= 0:
        raise NanottError("NT301", f"T.access_ptr with a run-time extent ({n}) is not supported by nanott",
                          caller_loc(), hint=HINT_PER_THREAD)
    return Pointer(base, n)


@closed()
def ptx_cp_async(dst: Any, src: Any, num_elems: Any, predicate: Any = None) -> None:
    """`T.ptx_cp_async(dst_ptr, src_ptr, n)`: one thread's copy of n contiguous elements, inside a role;
    thread_copies.py gathers the role's into block copies."""
    b = current("T.ptx_cp_async")
    b.require_kernel("T.ptx_cp_async")
    if not (isinstance(dst, Pointer) and isinstance(src, Pointer)) or predicate is not None \
            or not isinstance(num_elems, int) or not b.in_role():
        raise NanottError("NT301", "T.ptx_cp_async is supported by nanott between two T.access_ptr, without a "
                          "predicate, with an int count, inside a thread role", caller_loc(), hint=HINT_PER_THREAD)
    b.emit(ThreadCopy(dst.at.buffer.label, tuple(to_expr(i) for i in dst.at.indices), src.at.buffer.label,
                      tuple(to_expr(i) for i in src.at.indices), num_elems, loc=caller_loc()), "T.ptx_cp_async")
