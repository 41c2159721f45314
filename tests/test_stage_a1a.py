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


OVERWRITTEN = ROOT / "tests" / "kernels" / "overwritten_values.py"


@pytest.mark.parametrize("stop_after", ["P0a", "A1a", "C3", "D5", "F1"])
def test_overwritten_values_go_and_the_kernel_agrees_with_numpy(stop_after):
    """A fragment filled then cleared by a gemm, and one computed then computed again (valid TileLang:
    issue 11 item 4): A1a drops the dead values, then D_s, which only a dead value read; at every
    level the kernel agrees with the file's NumPy reference on random inputs (C3 used to build an
    unbalanced program, a 'compiler bug' at F1)."""
    loaded = load_kernel(OVERWRITTEN)
    after = api.lower(loaded.prim_func, "A1a")
    assert buffers(after) == ["A_s", "B_s", "C_l", "S_l"]
    assert not any(isinstance(x, l1.Fill) for x in walk(after))
    assert sum(isinstance(x, l1.Parallel) for x in walk(after)) == 1
    kernel = api.lower(loaded.prim_func, "P0")
    for seed in (0, 1):
        inputs = api.random_inputs(kernel, seed)
        program = api.lower(loaded.prim_func, stop_after)
        actual = api.simulate(program, pipeline.STAGES[stop_after].dst, inputs)
        results = api.compare(kernel, actual, api.expected_outputs(loaded, kernel, inputs))
        assert all(r.ok for r in results), results


@pytest.mark.parametrize("edit, parallels, fills", [
    (("for i, j in T.Parallel(32, 32):\n            S_l[i, j] = C_l",
      "for i, j in T.Parallel(32, 16):\n            S_l[i, j] = C_l"), 2, 0),
    (("S_l[i, j] = C_l[i, j] + 1.0", "S_l[i, j] = C_l[i, j] + S_l[i, j]"), 2, 0),
    (("T.fill(C_l, 1.0)", "T.fill(C_l, 1.0)\n        T.copy(C_l, C[by * 32, bx * 32])"), 1, 1),
], ids=["partial-overwrite", "read-by-the-overwrite", "read-between"])
def test_a_value_someone_may_read_stays(edit, parallels, fills, tmp_path):
    """Only a value overwritten whole and unread goes: a partial overwrite, an overwrite that reads
    the old value, or a read in between keep it (and with it D_s or the fill)."""
    path = tmp_path / "kept.py"
    source = OVERWRITTEN.read_text()
    assert edit[0] in source
    path.write_text(source.replace(edit[0], edit[1]))
    after = api.lower(load_kernel(path).prim_func, "A1a")
    assert sum(isinstance(x, l1.Parallel) for x in walk(after)) == parallels
    assert sum(isinstance(x, l1.Fill) for x in walk(after)) == fills


def test_a_value_read_after_its_loop_stays(tmp_path):
    """A value that the next trip of its loop overwrites stays: the last trip's value is read after."""
    path = tmp_path / "looped.py"
    source = OVERWRITTEN.read_text()
    old = "        for i, j in T.Parallel(32, 32):\n            S_l[i, j] = C_l"
    assert old in source
    path.write_text(source.replace(old, "        for k in T.serial(2):\n            for i, j in T.Parallel(32, 32):\n"
                                        "                S_l[i, j] = C_l"))
    after = api.lower(load_kernel(path).prim_func, "A1a")
    (loop,) = [x for x in walk(after) if isinstance(x, l1.For)]
    assert [type(s) for s in loop.body] == [l1.Parallel]


TAIL = '''
import numpy as np
import nanott.language as T


@T.prim_func
def tail(A: T.Tensor((128, 64), "float32"), O: T.Tensor((64,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        a = T.alloc_fragment((64, 64), "float32")
        m = T.alloc_fragment((64,), "float32")
        T.fill(m, 0.0)
        for k in T.serial(2):
            T.copy(A[k * 64, 0], a)
            T.reduce_sum(a, m, dim=0, clear=False)
        T.copy(m, O[0])
        for i in T.Parallel(64):
            m[i] = T.log2(m[i])


def reference(A):
    return A.astype(np.float64).sum(axis=0).astype(np.float32)
'''


def test_a_value_written_after_its_last_read_goes(tmp_path):
    """An update of a fragment after the kernel's last read of it (MLA's log-sum-exp when no glse is
    written) goes: nothing reads it. It used to push a block nobody popped (F1: 'a compiler bug')."""
    path = tmp_path / "tail.py"
    path.write_text(TAIL)
    loaded = load_kernel(path)
    after = api.lower(loaded.prim_func, "A1a")
    assert not any(isinstance(x, l1.Parallel) for x in walk(after))
    kernel = api.lower(loaded.prim_func, "P0")
    inputs = api.random_inputs(kernel, 3)
    for stop_after in ("A1a", "F1"):
        actual = api.simulate(api.lower(loaded.prim_func, stop_after), pipeline.STAGES[stop_after].dst, inputs)
        results = api.compare(kernel, actual, api.expected_outputs(loaded, kernel, inputs))
        assert all(r.ok for r in results), results
