"""The corpus of bad inputs: one kernel file per diagnostic code of issue 11 (and stage A's limits),
each asserting the code, the line and the caret (under `caret`, the text the mistake is at),
through `nanott.lower` to A3 and `nanott.run` at L0, so that the checks before work, stage A's and
the L0 interpreter's own checks are all exercised.

The older corpus of tests/test_frontend_diagnostics.py covers the frontend's NT1xx/NT3xx codes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import nanott
from nanott import api
from nanott.diagnostics import NanottError, NanottWarning
from nanott.loader import load_kernel

KERNELS = Path(__file__).resolve().parent / "kernels"

# (file, code, text of the line the diagnostic is at, text the caret is under)
CASES = [
    ("bad_misspelt_keyword", "NT113", "T.gemm(A_s, B_s, C_l, transpose_b=False)", "transpose_b="),
    ("bad_string_flag", "NT114", 'T.gemm(A_s, B_s, C_l, transpose_B="False")', "transpose_B="),
    ("bad_no_clear", "NT115", "T.gemm(A_s, B_s, C_l)", "T.gemm"),
    ("bad_zero_dim", "NT116", 'def bad(A: T.Tensor((M, K), "bfloat16"),', 'C: T.Tensor((M, 0)'),
    ("bad_index_outside", "NT120", "C_l[i, j] = A_s[i + 1, j]", "C_l[i, j]"),
    ("bad_index_div_zero", "NT121", "C_l[i, j] = A_s[i // (bx - bx), j]", "C_l[i, j]"),
    ("bad_no_output", "NT122", 'def bad(A: T.Tensor((64, 64), "float32")):', "A: T.Tensor"),
    ("bad_block_not_tiles", "NT111", 'A_s = T.alloc_shared((bm, bk), "float32")', "A_s"),
    ("bad_l1_budget", "NT201", 'C_l = T.alloc_fragment((bm, bn), "float32")', "C_l"),
    ("bad_too_many_bytes", "NT205", 'def bad(A: T.Tensor((M, K), "float32"),', 'C: T.Tensor'),
    ("bad_too_many_blocks", "NT206", "with T.Kernel(N // bn, M // bm) as (bx, by):", "with"),
]


def assert_at(err: NanottError, path: Path, line_text: str, caret_text: str) -> None:
    lines = path.read_text().splitlines()
    number = next(i for i, s in enumerate(lines, 1) if s.strip().startswith(line_text))
    text = lines[number - 1]
    col = text.index(caret_text)
    rendered = err.render().splitlines()
    assert rendered[0].startswith(f"{path}:{number}:{col + 1}: error {err.code}: "), rendered[0]
    assert rendered[1] == "    " + text
    assert rendered[2].index("^") == 4 + col
    assert any(r.startswith("hint: ") for r in rendered[3:])


@pytest.mark.parametrize("name, code, line_text, caret_text", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, code, line_text, caret_text):
    path = KERNELS / f"{name}.py"
    loaded = load_kernel(path)
    with pytest.raises(NanottError) as info:
        kernel = nanott.lower(loaded.prim_func, "P0")
        nanott.lower(loaded.prim_func, "A3")            # the checks of stage A (tiles, L1)
        nanott.run(loaded.prim_func, *api.random_inputs(kernel, 0).values(), level="L0")
    assert info.value.code == code, info.value.render()
    assert_at(info.value, path, line_text, caret_text)


def test_warnings_for_copies_outside_and_unwritten_outputs(tmp_path):
    """A grid one block too wide copies wholly outside its tensors (NT117); a grid too narrow
    leaves output columns unwritten (NT118). Both kernels still lower."""
    src = (KERNELS / "bad_no_clear.py").read_text().replace("        for k in", "        T.clear(C_l)\n        for k in")
    wide = tmp_path / "wide.py"
    wide.write_text(src.replace("T.Kernel(1, 1)", "T.Kernel(2, 1)").replace("C[0, 0]", "C[0, bx * 64]"))
    narrow = tmp_path / "narrow.py"
    narrow.write_text(src.replace('C: T.Tensor((M, N), "float32")', 'C: T.Tensor((M, 2 * N), "float32")'))
    for path, code, words in ((wide, "NT117", "wholly outside C for some grid blocks"),
                              (narrow, "NT118", "4,096 of the 8,192 elements of output C are written by no")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nanott.lower(load_kernel(path).prim_func, "A1")
        found = [w.message for w in caught if isinstance(w.message, NanottWarning)]
        assert [w.error.code for w in found] == [code] and words in found[0].render()
