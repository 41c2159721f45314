"""A1a remove-dead-buffers: a buffer nobody reads, and the work that only fills it, go; the kernel
then lowers to L9 and agrees with NumPy where C3 used to reject it (NT320)."""
from dataclasses import replace

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT

from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l1
from nanott.loader import load_kernel

pytestmark = pytest.mark.A1a

KERNEL = ROOT / "docs" / "kernels" / "add_with_leftovers.py"


@pytest.fixture
def loaded():
    return load_kernel(KERNEL)


def buffers(program) -> list[str]:
    return [x.name for x in walk(program) if isinstance(x, l1.Alloc)]


def test_dead_buffers_and_their_writers_go(loaded):
    before = api.lower(loaded.prim_func, "A1")
    after = api.lower(loaded.prim_func, "A1a")
    assert buffers(before) == ["A_s", "B_s", "never", "kept", "sink", "C_l"]
    assert buffers(after) == ["A_s", "B_s", "C_l"]
    copies = [x for x in walk(after) if isinstance(x, l1.Copy)]
    assert [(c.src.buffer, c.dst.buffer) for c in copies] == [("A", "A_s"), ("B", "B_s"), ("C_l", "C")]
    assert sum(isinstance(x, l1.Parallel) for x in walk(after)) == 1


def test_the_kernel_runs_where_c3_rejected_it(loaded, monkeypatch):
    kernel = api.lower(loaded.prim_func, "P0")
    inputs = api.random_inputs(kernel, seed=0)
    expected = api.expected_outputs(loaded, kernel, inputs)
    results = api.compare(kernel, api.simulate(api.lower(loaded.prim_func, "F1"), "L9", inputs), expected)
    assert all(r.ok for r in results), results
    without = tuple(replace(s, function=lambda program, target: program) if s.id == "A1a" else s
                    for s in pipeline.PIPELINE)
    monkeypatch.setattr(pipeline, "PIPELINE", without)
    monkeypatch.setattr(pipeline, "STAGES", {s.id: s for s in without})
    with pytest.raises(NanottError) as e:
        api.lower(loaded.prim_func, "C3")
    assert e.value.code == "NT320" and "read by nobody" in e.value.message


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_examples_lose_nothing(example, lowered):
    """Every buffer of the examples reaches a tensor, so A1a leaves their IR as A1 made it."""
    assert lowered.program(example, "A1a") == lowered.program(example, "A1")
