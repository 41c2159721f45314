"""The corpus of bad inputs: one kernel file (or command line) per diagnostic code of
nanott/diagnostics.py, each asserting the code, the line and the caret (under `caret`, the text the
mistake is at). CASES go through `nanott.lower` to A3 and `nanott.run` at L0 (the checks before
work, stage A's and the L0 interpreter's own); LOWERED through every stage to F1 (the passes'
limits); COMMANDS and CALLS are the loading and usage codes, which name no kernel line, through the
`nanott` command (exit 3, no traceback) or the Python API. tests/test_frontend_diagnostics.py holds
the frontend's older corpus (FRONTEND below), and test_warnings_... the two warnings. NOT_FROM_USER
lists the codes no kernel file or command line of ours reaches, each with the reason;
test_every_code_has_its_case holds the lists to CODES.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, nanott_cli

import nanott
from nanott import api
from nanott.diagnostics import CODES, NanottError, NanottWarning
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
    ("bad_float_index", "NT123", "T.copy(X[start:start + 32, :], X_s)", "T.copy"),
    ("bad_no_output", "NT122", 'def bad(A: T.Tensor((64, 64), "float32")):', "A: T.Tensor"),
    ("bad_block_not_tiles", "NT111", 'A_s = T.alloc_shared((bm, bk), "float32")', "A_s"),
    ("bad_l1_budget", "NT201", 'C_l = T.alloc_fragment((bm, bn), "float32")', "C_l"),
    ("bad_too_many_bytes", "NT205", 'def bad(A: T.Tensor((M, K), "float32"),', 'C: T.Tensor'),
    ("bad_too_many_blocks", "NT206", "with T.Kernel(N // bn, M // bm) as (bx, by):", "with"),
    ("bad_dram_element_index", "NT315", "C[i, 0] = A_s[i, j]", "C[i, 0]"),
    ("bad_launch_layouts", "NT324", 'S = T.alloc_global((32, 32, 32), "float32")', "S = "),
    ("bad_barrier_never_arrived", "NT329", "T.barrier_wait(ready, k % 2)", "T.barrier_wait"),
    ("bad_view_not_a_box", "NT331", "T.copy(A_s, C_flat[bx * 64, 0])", "T.copy"),
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


# (file, code, text of the line the diagnostic is at, text the caret is under), lowered to F1
LOWERED = [
    ("bad_value_buffer", "NT104", "C_l[i, j] = T.exp(A_s)", "C_l"),
    ("bad_param_annotation", "NT107", 'def bad(A: T.Tensor((64, 64), "float32"), C):', "C):"),
    ("bad_outside_kernel", "NT110", 'A_s = T.alloc_shared((64, 64), "float32")', "A_s"),
    ("bad_copy_offset", "NT112", "T.copy(A[16, 0], A_s)", "T.copy"),
    ("bad_many_buffers", "NT202", "b33[i, j] = A_s[i, j] + 33.0", "b33"),
    ("bad_dst_too_wide", "NT203", "C_l[i, j] = (((T.exp(A_s[i, j]) * T.log(B_s", "C_l"),
    ("bad_condition_stored", "NT303", "C_l[i, j] = A_s[i, j] > 0.0", "C_l"),
    ("bad_scalar_buffer", "NT311", 's = T.alloc_fragment((), "float32")', "s = "),
    ("bad_ragged_in_place", "NT312", 'def bad(A: T.Tensor((100, 64), "float32")', "A: T.Tensor"),
    ("bad_3d_buffer", "NT313", 'def bad(A: T.Tensor((2, 64, 64), "float32")', "A: T.Tensor"),
    ("bad_transposed_parallel", "NT317", "C_l[j, i] = A_s[i, j]", "C_l"),
    ("bad_parallel_op", "NT318", "C_l[i, j] = A_s[i, j] % 7", "C_l"),
    ("bad_produced_outside_loop", "NT319", "for k in T.serial(2):", "for"),
    ("bad_vector_both_ways", "NT322", "C_l[i, j] = A_s[i, j] * s[i] + s[j]", "C_l"),
    ("bad_atomic_in_loop", "NT323", "T.atomic_add(C[0, 0], A_s)", "T.atomic_add"),
]


@pytest.mark.parametrize("name, code, line_text, caret_text", LOWERED, ids=[c[0] for c in LOWERED])
def test_bad_input_lowered(name, code, line_text, caret_text):
    path = KERNELS / f"{name}.py"
    with pytest.raises(NanottError) as info:
        nanott.lower(load_kernel(path).prim_func, "F1")
    assert info.value.code == code, info.value.render()
    assert_at(info.value, path, line_text, caret_text)


GEMM = str(ROOT / "examples" / "gemm.py")
# (code, arguments of the nanott command): usage and loading mistakes name no line of a kernel
COMMANDS = [
    ("NT901", ["run", str(KERNELS / "two_kernels.py")]),
    ("NT902", ["run", str(ROOT / "README.md")]),                       # not a Python file
    ("NT903", ["run", str(KERNELS / "factory_only.py"), "--set", "X=1"]),
    ("NT910", ["run", GEMM, "--set", "X"]),
    ("NT916", ["run", str(KERNELS / "bad_reference_count.py"), "--level", "L0"]),
    ("NT917", ["run", str(KERNELS / "bad_reference_shape.py"), "--level", "L0"]),
    ("NT918", ["graph", GEMM, "--after", "G1", "-o", "unused.svg"]),
    ("NT919", ["run", str(KERNELS / "bad_reference_raises.py"), "--level", "L0"]),
    ("NT936", ["explain", GEMM, "--stop-before", "P0"]),
    ("NT937", ["graph", GEMM, "--after", "A3", "--work", "-o", "unused.svg"]),
    ("NT938", ["graph", GEMM, "--after", "C3", "--role", "compute", "-o", "unused.svg"]),
    ("NT940", ["run", GEMM, "--level", "L5", "--stats"]),
    ("NT941", ["run", GEMM, "--skip", "C1", "--level", "L0"]),
    ("NT942", ["explain", GEMM, "--stop-after", "A1", "--fidelity", "HiFi5"]),
    ("NT943", ["run", GEMM, "--level", "L0", "--inputs", GEMM]),          # a .py, not an .npz
]


@pytest.mark.parametrize("code, args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_bad_command_line(code, args):
    assert f"error {code}:" in nanott_cli(*args, code=3).output


def _calls(tmp_path):
    """(code, a call of the Python API that makes the mistake) for the codes only the API reaches."""
    from nanott import cli_opt, notebook
    add = load_kernel(ROOT / "examples" / "elementwise_add.py").prim_func
    a = np.zeros((256, 256), np.float32)
    (tmp_path / "bad.json").write_text("[1, 2]")
    source = "import nanott.language as T\ndef k(A: T.Tensor((32, 32), 'float32')):\n    pass\n"
    scope: dict = {}
    exec(source, scope)                                   # a kernel typed into a REPL: no source file
    return [
        ("NT904", lambda: nanott.lower(nanott.language.prim_func(scope["k"]), "P0")),
        ("NT911", lambda: nanott.lower(add, "P0", target="nope")),
        ("NT912", lambda: nanott.run(add, a, a, a, level="L12")),
        ("NT913", lambda: nanott.lower(add, "Z9")),
        ("NT914", lambda: nanott.run(add, a, level="L0")),
        ("NT915", lambda: nanott.run(add, a[:7], a, a, level="L0")),
        ("NT930", lambda: notebook.dump(object(), tmp_path / "x.json")),
        ("NT931", lambda: notebook.load(tmp_path / "missing.json")),
        ("NT932", lambda: notebook.load(tmp_path / "bad.json")),
        ("NT933", lambda: notebook.run_pass("D3", nanott.lower(add, "C1"))),
        ("NT934", lambda: notebook.compile(add, out_idx=[0])),
        ("NT935", lambda: cli_opt.stage_list(",", "C1")),
    ]


def test_bad_calls(tmp_path):
    for code, call in _calls(tmp_path):
        with pytest.raises(NanottError) as info:
            call()
        assert info.value.code == code, (code, info.value.render())


FRONTEND = ["NT101", "NT102", "NT103", "NT105", "NT106", "NT108", "NT109", "NT301", "NT302", "NT304",
            "NT920"]              # tests/test_frontend_diagnostics.py and test_tilelang_surface.py
WARNINGS = ["NT117", "NT118"]    # test_warnings_for_copies_outside_and_unwritten_outputs
ELSEWHERE = ["NT326",            # tests/test_print.py, test_print_buffers.py (an element, T.exp, a vector, ...)
             "NT921",            # tests/test_tilelang_surface.py (an autotuned factory run with its first configuration)
             "NT922",            # tests/test_tilelang_bindings.py (a tvm.target.Target, ignored)
             "NT207",            # tests/test_fidelity.py (a fidelity below the dtype rule's)
             "NT314",            # tests/test_stage_c.py, test_vectors.py, test_predication.py, test_decay_masks.py
             "NT330",            # tests/test_if_on_data.py (compute's value on a release without read_tile_value)
             "NT332"]            # tests/test_sync_grid.py (a buffer or a scalar of memory used across T.sync_grid)
NO_CASE_YET: dict[str, str] = {}
NOT_FROM_USER = {
    "NT119": "a guard on Python's recursion limit; a chain of 1500 operations parses "
             "(test_boundary.py) and no kernel of ours nests deeper",
    "NT320": "A1a removes a buffer nobody reads and C2b gives a second producer its own CB, so no "
             "kernel of ours reaches C3's guard",
    "NT321": "A1 lays every tensor interleaved; only a hand-edited IR dump holds a sharded one",
    "NT501": "F1 verifies every protocol rule the simulator names, statically (test_mutation.py); "
             "only a hand-edited L9 program reaches the simulator's faults (test_boundary.py)",
    "NT502": "as NT501: a deadlock F1 misses needs a hand-edited L9 program (test_boundary.py)",
}


def test_every_code_has_its_case(tmp_path):
    covered = ([c[1] for c in CASES] + [c[1] for c in LOWERED] + [c[0] for c in COMMANDS]
               + [c[0] for c in _calls(tmp_path)] + FRONTEND + WARNINGS + ELSEWHERE + list(NO_CASE_YET) + list(NOT_FROM_USER))
    assert sorted(covered) == sorted(set(covered)), "a code with two cases"
    assert set(covered) == set(CODES), (sorted(set(CODES) - set(covered)), sorted(set(covered) - set(CODES)))
