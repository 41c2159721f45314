"""C2c's webs (nanott/passes/_c2c_webs.py): a buffer its statement writes whole, without reading it,
holds a new block from there on, and C2c colours each web on its own.

Our kernel (docs/kernels/unrolled_chain.py, the course's): long_chain.py's recurrence with its K loop
unrolled by `T.unroll`, as TileLang users unroll a short loop. Measured from first touch to last,
every step's fragment is alive across both K blocks and the kernel does not fit a core (NT202);
split into webs it fits in five CBs. Numerics at every level against NumPy; the webs of one CB never
meet; and the two ways a web could be wrong are caught: a web started inside a loop that carries
its buffer (a running max read at the top of every trip) fails the protocol checks, and a colouring
that puts two webs that meet on one CB is refused by check_disjoint and, without it, by F1.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels
from test_share_cbs import run_from

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import CheckError
from nanott.loader import load_kernel
from nanott.passes import _c2c_webs
from nanott.passes import c2c_share_circular_buffers as c2c
from nanott.passes._c2c_lives import live_ranges
from nanott.passes._c2c_webs import split_webs
from nanott.passes.c2c_share_circular_buffers import check_disjoint, colour, merge, shareable
from nanott.target import DEFAULT_TARGET

KERNEL = Path(__file__).resolve().parent.parent / "docs" / "kernels" / "unrolled_chain.py"
STEPS, K_BLOCKS = 34, 2


def reference(inputs: dict) -> dict:
    x = inputs["X"].astype(np.float64).reshape(64, K_BLOCKS, 32).transpose(1, 0, 2)    # [kb, row, col]
    h = x * 0.125
    for k in range(1, STEPS):
        h = h * 0.5 + x * ((k % 5 + 1) / 8)
    return {"Y": h.sum(axis=0).astype(np.float32)}


@pytest.fixture(scope="module")
def loaded():
    return load_kernel(KERNEL)                     # make_unrolled_chain(steps=34, k_blocks=2)


def cbs_without_webs(program) -> int:
    """How many CBs C2c's colouring would leave, buffers measured whole (no webs)."""
    lives = live_ranges(program.body)
    shared = colour(shareable(program, lives), lives.spans)
    return len(program.cbs) - sum(cb != owner for cb, owner in shared.items())


def test_only_webs_make_the_unrolled_chain_fit(loaded, monkeypatch):
    program = api.lower(loaded.prim_func, stop_after="C2b")
    assert cbs_without_webs(program) > DEFAULT_TARGET.num_cbs            # every fragment alive at once
    with monkeypatch.context() as m:                                     # C2c without webs: NT202
        m.setattr(c2c, "split_webs", lambda program, buffers: (program, {}))
        with pytest.raises(NanottError, match="hold blocks at once"):
            api.lower(loaded.prim_func, stop_after="C2c")
    split, origin = split_webs(program, set(shareable(program, live_ranges(program.body))))
    assert len(origin) == STEPS * (K_BLOCKS - 1)                         # each fragment: one web per K block
    after = api.lower(loaded.prim_func, stop_after="C2c")
    assert len(after.cbs) == 5 and len(api.lower(loaded.prim_func, stop_after="F1").cbs) == 5


def test_numerics_at_every_level(loaded):
    check_levels(loaded, reference)


def test_each_web_lies_in_one_k_block_and_webs_on_one_cb_never_meet(loaded):
    program = api.lower(loaded.prim_func, stop_after="C2b")
    kind = shareable(program, live_ranges(program.body))
    split, origin = split_webs(program, set(kind))
    lives = live_ranges(split.body)
    for web, buffer in origin.items():                                   # the second K block's web
        assert lives.spans[buffer].last < lives.spans[web].first          # starts after the first's ends
    kind |= {web: kind[b] for web, b in origin.items()}
    shared = colour(kind, lives.spans)
    check_disjoint(shared, lives.spans)
    groups: dict[int, list] = {}
    for cb, owner in shared.items():
        groups.setdefault(owner, []).append(lives.spans[cb])
    for spans in groups.values():
        spans.sort(key=lambda s: s.first)
        assert all(a.last < b.first for a, b in zip(spans, spans[1:]))


def test_a_colouring_that_puts_webs_that_meet_on_one_cb_is_caught(loaded):
    program = api.lower(loaded.prim_func, stop_after="C2b")
    kind = shareable(program, live_ranges(program.body))
    split, origin = split_webs(program, set(kind))
    kind |= {web: kind[b] for web, b in origin.items()}
    lives = live_ranges(split.body)
    shared = colour(kind, lives.spans)
    web = min(origin)                                                    # h0's second web, and h1's:
    h1 = next(w for w, b in origin.items() if b == origin[web] + 1)      # alive together (h1 reads h0)
    bad = shared | {h1: shared[web]}
    with pytest.raises(AssertionError, match="live ranges meet"):
        check_disjoint(bad, lives.spans)
    inputs = api.random_inputs(api.lower(loaded.prim_func, stop_after="P0"), seed=3)
    with pytest.raises((CheckError, NanottError)):                      # F1 (or the simulator) refuses it
        api.simulate(run_from(merge(split, bad, origin), "C2c"), "L9", inputs)


RUNNING_MAX = '''
import nanott.language as T


@T.prim_func
def running_max(X: T.Tensor((32, 128), "float32"), Y: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_shared((32, 32), "float32")
        m = T.alloc_fragment((32, 32), "float32")
        m_prev = T.alloc_fragment((32, 32), "float32")
        half = T.alloc_fragment((32, 32), "float32")
        T.fill(m, -T.infinity("float32"))
        for k in T.serial(4):
            T.copy(X[0, k * 32], x)
            T.copy(m, m_prev)
            for i, j in T.Parallel(32, 32):
                m[i, j] = T.max(m_prev[i, j], x[i, j])
        for i, j in T.Parallel(32, 32):
            half[i, j] = m[i, j] * 0.5
        for i, j in T.Parallel(32, 32):
            m[i, j] = m[i, j] + half[i, j]
        T.copy(m, Y[0, 0])
'''


def test_a_web_inside_a_loop_that_carries_its_buffer_is_caught(tmp_path, monkeypatch):
    """m is read at the top of every trip (the loop carries it) and rewritten whole below: one web
    (m_prev and half, alive one after the other, share a CB so that the kernel fits 4 CBs).
    Mutation: let webs start inside carrying loops; the next trip then reads the web written before
    the loop, never the one its last trip wrote. C3 releases a block a loop overwrites each trip
    (tests/test_loop_overwritten_blocks.py), so the mutant's protocol balances; its dataflow is
    wrong from C2c's own output on, and the numeric check after C2c (L5's interpreter against the
    reference) refuses it: the running max is lost, far beyond one rounding."""
    path = tmp_path / "running_max.py"
    path.write_text(RUNNING_MAX)
    kernel = load_kernel(path).prim_func
    program = api.lower(kernel, stop_after="C2b")
    small = replace(DEFAULT_TARGET, num_cbs=len(program.cbs) - 1)
    inputs = api.random_inputs(api.lower(kernel, stop_after="P0"), seed=5)
    top = inputs["X"].reshape(32, 4, 32).max(axis=1)
    got = api.simulate(api.lower(kernel, "F1", small), "L9", inputs)["Y"]
    np.testing.assert_array_equal(got, top + top * np.float32(0.5))    # a max, a halving, one rounding
    buffers = set(shareable(program, live_ranges(program.body)))
    assert split_webs(program, buffers)[1] == {}                          # m stays one web
    monkeypatch.setattr(_c2c_webs.Webs, "kept", lambda self, loop: (setattr(self, "loops", self.loops + 1),
                                                                   set())[1])
    broken, origin = split_webs(program, buffers)
    assert [program.cbs[b].name for b in origin.values()] == ["m"]
    wrong = api.simulate(broken, "L5", inputs)["Y"]
    assert np.abs(wrong - (top + top * np.float32(0.5))).max() > 0.1 * np.abs(top).max()
