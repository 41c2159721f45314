"""Issue 9, item 4: a scalar a kernel loop carries from one iteration to the next (NT301 before).

TileLang's grouped cast sums the sizes of the groups before its own (`row_offset = 0`, then
`for i in T.serial(bg): row_offset += batch_sizes[i]`) and starts its copy there. P0 makes the
T.alloc_var a let before the loop and its new value, at the end of the body, a let update (`set`);
the interpreters run the update in place, D1 gives the loop to every kernel that needs the scalar,
and the C++ declares it without `const` and assigns it. Numerics at every level against NumPy on
random inputs (factory and eager style), the IR, the C++, and what stays refused.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l7
from nanott.loader import load_kernel

# factory style: block b copies the 32-row block that starts after the blocks of b earlier groups
FACTORY = '''
import nanott.language as T

B, D = 4, 64


@T.prim_func
def gather_blocks(X: T.Tensor((8 * 32, D), "float32"), counts: T.Tensor((B,), "int32"),
                  Y: T.Tensor((B * 32, D), "float32")):
    with T.Kernel(B, threads=128) as bx:
        x = T.alloc_fragment((32, D), "float32")
        y = T.alloc_fragment((32, D), "float32")
        start = T.alloc_var("int32")
        start = 0
        for i in T.serial(bx):
            start = start + counts[i]
        T.copy(X[start * 32, 0], x)
        for i, j in T.Parallel(32, D):
            y[i, j] = x[i, j] * 2.0
        T.copy(y, Y[bx * 32, 0])
'''

# eager style, as the cast example writes it: T.alloc_var, `+=`, the loop bound a block index
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def gather_rows(X, sizes, blk):
    M, N, G = T.const("M, N, G")
    X: T.Tensor((M, N), T.float32)
    sizes: T.Tensor((G,), T.int32)
    Y = T.empty((G * blk, N), T.float32)
    with T.Kernel(G, threads=128) as bz:
        x = T.alloc_fragment((blk, N), T.float32)
        row_offset = T.alloc_var(dtype=T.int32)
        row_offset = 0
        for i in T.serial(bz):
            row_offset += sizes[i]
        T.copy(X[row_offset * blk:(row_offset + 1) * blk, 0:N], x)
        T.copy(x, Y[bz * blk:(bz + 1) * blk, 0:N])
    return Y
'''


def load(tmp_path: Path, text: str, name: str, sets=None):
    path = tmp_path / name
    path.write_text(text)
    return load_kernel(path, None, sets) if sets else load_kernel(path)


def gathered(x: np.ndarray, counts: np.ndarray, rows: int) -> np.ndarray:
    """Block b of the result: the `rows` rows of x at rows * (counts[0] + ... + counts[b - 1])."""
    starts = np.concatenate([[0], np.cumsum(counts[:-1])]) * rows
    return np.concatenate([x[s:s + rows] for s in starts])


def test_a_carried_offset_matches_numpy_at_every_level(tmp_path):
    """x * 2 and a copy are exact in float32: every level must equal NumPy (api.within's float32
    tolerance, relative to the output's own scale, is far above 0)."""
    check_levels(load(tmp_path, FACTORY, "gather.py"),
                 lambda a: {"Y": gathered(a["X"], a["counts"], 32) * np.float32(2.0)})


def test_an_eager_alloc_var_summed_in_a_loop_matches_numpy_at_every_level(tmp_path):
    """A copy is exact: every level must return X's rows unchanged."""
    loaded = load(tmp_path, EAGER, "gather_rows.py", {"M": "256", "N": "64", "G": "3", "blk": "32"})
    check_levels(loaded, lambda a: {"Y": gathered(a["X"], a["sizes"], 32)})


def test_the_random_sizes_keep_every_offset_inside_the_tensor(tmp_path):
    """index_inputs bounds a carried sum by its most iterations: 3 blocks of offsets within 8."""
    kernel = api.lower(load(tmp_path, FACTORY, "gather.py").prim_func, stop_after="P0")
    from nanott.index_inputs import index_ranges
    assert index_ranges(kernel) == {"counts": (0, 3)}          # 3 * 2 + 1 <= 8 - 1 blocks


def test_the_ir_declares_the_scalar_and_updates_it_in_the_loop(tmp_path):
    k = api.lower(load(tmp_path, FACTORY, "gather.py").prim_func, stop_after="P0")
    text = "\n".join(k.lines())
    assert "let start = 0" in text and "  for i in 0..bx:\n    let start_1 = (start + counts[i])" in text
    assert "    set start = start_1\n  copy X[(start * 32), 0 +32x64]" in text
    program = api.lower(load(tmp_path, FACTORY, "gather.py").prim_func, stop_after="D1")
    updates = {role: [x for x in walk(program.kernel(role).body) if isinstance(x, l7.Let) and x.update]
               for role in ("reader", "compute", "writer")}
    assert [x.var for x in updates["reader"]] == ["start"]     # the reader starts its copy there
    assert updates["compute"] == updates["writer"] == []       # the others never read it


def test_the_reader_declares_it_mutable_and_assigns_it(tmp_path):
    from nanott.backends.metalium.api import DEFAULT
    from nanott.backends.metalium.kernels import kernel_source
    program = api.lower(load(tmp_path, FACTORY, "gather.py").prim_func, stop_after="F1")
    reader = kernel_source(program, "reader", DEFAULT)
    assert "uint32_t start = 0;" in reader and "const uint32_t start = 0" not in reader
    assert "start = start_1;" in reader


@pytest.mark.parametrize("edit, code, words", [
    (lambda s: s.replace("for i in T.serial(bx):\n            start = start + counts[i]",
                         "for i in T.Parallel(4):\n            start = start + counts[i]"),
     "NT301", "its iterations run at once"),
    (lambda s: s.replace("        start = 0\n", ""), "NT304", "read before anything is assigned"),
])
def test_what_cannot_be_carried_is_diagnosed(tmp_path, edit, code, words):
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, edit(FACTORY), "gather.py").prim_func, stop_after="P0")
    assert e.value.code == code and words in str(e.value)
