"""T.print (issue 15): a scalar printed by every level's interpreter, with the level, the grid block
or core, and the kernel that ran it, and by the emitted C++ through DPRINT on nanott's CPU runtime.

The expected lines come from the kernel's formulas evaluated here in plain Python, per grid block
(tests/kernels/print_indices.py: a 9 x 8 grid on 64 cores, so some cores print for two blocks);
each level must print exactly those lines (as a multiset: the order of blocks is the level's
business), each core the lines of the blocks B1 dealt it, the same at L2..L9 and in the C++.
Floats print too (float32 arithmetic, shown to 6 digits as C++'s `<<` shows them), and functions
of scalars: a choice, abs, a negation, a cast to int32, Python's floor // and % of negative values,
a condition (1 or 0). What nanott cannot print yet (an element, inside T.Parallel, a transcendental
function, a cast to a narrow float, a DRAM tensor) is NT326, and a message that cannot become a C++ string literal
NT104, never a traceback.
"""
from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, nanott_cli as nanott
from nanott import api, pipeline
from nanott.backends import json as ir_json
from nanott.backends.metalium.api import VERSIONS
from nanott.backends.metalium.execute import execute, write_files
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel
from nanott.target import WORMHOLE_N150

KERNEL = ROOT / "tests" / "kernels" / "print_indices.py"
EAGER = ROOT / "tests" / "kernels" / "print_eager.py"
LEVELS = pipeline.LANGUAGES
LINE = re.compile(r"^\[(?P<level>L\d|C\+\+)(?: print_indices)? (?P<where>block|core) \((?P<xy>\d+,\d+)\)"
                  r"(?: (?P<kernel>\w+))?\] (?P<text>.+)$")


def block_lines(bx: int, by: int) -> list[str]:
    """What one grid block prints, from the kernel's formulas (9 blocks along x, 32-row blocks);
    the float is a multiple of 1/4 below 10, exact in float32 and shown as C++'s `<<` shows it."""
    f32 = np.float32
    f = bx - 9 if bx > 4 else abs(bx * 0.5 - by)
    h = float(int(-(f32(bx) * f32(0.7)) + f32(by)))          # float32 arithmetic, truncated toward 0
    return ([f"block id = {by * 9 + bx}", f"row = {by * 32}"] + [f"step = {k * 10 + bx}" for k in range(2)]
            + [f"x = {bx * 0.5 + k - by / 4:g}" for k in range(2)]
            + [f"f = {f:g}", f"g = {(bx - 5) // 2 * 10 + (bx - 5) % 3}", f"h = {h:g}", f"c = {int(bx - by * 2 > 0)}"])


def expected() -> Counter:
    return Counter(line for by in range(8) for bx in range(9) for line in block_lines(bx, by))


@pytest.fixture(scope="module")
def programs() -> dict:
    kernel = load_kernel(KERNEL).prim_func
    return {s.id: p for s, p in pipeline.run_stages(kernel, "G1")}


def printed(programs: dict, level: str, capsys) -> list[re.Match]:
    program = programs[api.stage_for_level(level).id]
    arrays = api.random_inputs(programs["P0"], seed=1)
    api.simulate(program, level, arrays)
    lines = capsys.readouterr().out.splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches) if not m][:3]
    return matches


def by_core(matches: list[re.Match]) -> dict[str, Counter]:
    cores: dict[str, Counter] = {}
    for m in matches:
        cores.setdefault(m["xy"], Counter())[m["text"]] += 1
    return cores


def dealt(programs: dict) -> dict[str, Counter]:
    """Per core, the lines of the blocks B1's work split gives it (block id i: bx = i % 9, by = i // 9)."""
    return {f"{w.core[0]},{w.core[1]}": Counter(line for i in range(w.start, w.start + w.count)
                                                for line in block_lines(i % 9, i // 9))
            for w in programs["B1"].work.cores}


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_prints_each_block_with_its_place(programs, level, capsys):
    matches = printed(programs, level, capsys)
    assert Counter(m["text"] for m in matches) == expected()
    assert {m["level"] for m in matches} == {level}
    n = int(level[1])
    assert {m["where"] for m in matches} == {"block" if n < 2 else "core"}
    assert {m["kernel"] for m in matches} == ({"compute"} if n >= 7 else {None})   # one kernel prints
    if n < 2:                        # L0, L1: the grid block is named, and prints its own lines
        for m in matches:
            bx, by = map(int, m["xy"].split(","))
            assert m["text"] in block_lines(bx, by)
    else:
        assert by_core(matches) == dealt(programs)


def test_the_ir_carries_the_print_and_dumps_it(programs, tmp_path):
    """Every level shows the statement; the JSON dump of L9 loads back equal (kinds are tagged)."""
    for level in LEVELS:
        text = str(programs[api.stage_for_level(level).id])
        assert 'print "block id", ((by * 9) + bx)' in text and "print row" in text, level
    f1 = programs["F1"]
    assert ir_json.load(ir_json.dump(f1, "L9", "F1"))[0] == f1


@pytest.mark.parametrize("release", list(VERSIONS))
def test_g1_emits_the_release_dprint(programs, release):
    """DPRINT_MATH in compute.cpp only, in the release's spelling, with its header."""
    import dataclasses
    from nanott.passes.g1_emit_metalium import emit_metalium
    files = emit_metalium(programs["F1"], dataclasses.replace(WORMHOLE_N150, release=release))
    compute = files["compute.cpp"]
    assert f'#include "{VERSIONS[release]["dprint"].header}"' in compute
    form = ('DPRINT_MATH("step = {}\\n", static_cast<int32_t>((k * 10) + bx));' if release == "0.81.1"
            else 'DPRINT_MATH(DPRINT << "step = " << static_cast<int32_t>((k * 10) + bx) << ENDL());')
    assert form in compute
    assert compute.count("DPRINT_MATH(") == 8
    assert '"x = ' in compute and "(static_cast<float>(by) / static_cast<float>(4))" in compute   # float32
    assert "((static_cast<int32_t>(bx) - 5) / 2 - (" in compute       # Python's floor, as bx - 5 < 0 may be
    assert "DPRINT" not in files["reader.cpp"] + files["writer.cpp"]


@pytest.mark.slow
@pytest.mark.parametrize("release", ["0.65.0", "0.66.0", "0.81.1"])   # stream (debug/, api/debug/), format form
def test_the_cpp_prints_what_l9_prints(programs, release, runtime_cache, tmp_path, capsys):
    """compile --execute's program prints, per core, the lines the L9 interpreter prints there."""
    import dataclasses
    from nanott.passes.g1_emit_metalium import emit_metalium
    l9 = by_core(printed(programs, "L9", capsys))
    write_files(tmp_path, emit_metalium(programs["F1"], dataclasses.replace(WORMHOLE_N150, release=release)))
    run = execute(tmp_path, load_kernel(KERNEL), programs["P0"], WORMHOLE_N150, 0, runtime_cache)
    assert all(r.ok for r in run.results), run.results
    matches = [LINE.match(line) for line in run.printed]
    assert all(matches) and {m["level"] for m in matches} == {"C++"}, run.printed[:3]
    assert {m["kernel"] for m in matches} == {"compute"}
    assert by_core(matches) == l9


@pytest.mark.slow
def test_compile_execute_shows_the_prints(tmp_path):
    """The command a learner types prints the device's lines before its verdict."""
    r = nanott("compile", str(EAGER), "-o", str(tmp_path / "out"), "--execute")
    lines = r.output.splitlines()
    prints = [line for line in lines if line.startswith("[C++ core ")]
    assert Counter(p.split("] ")[1] for p in prints) == Counter(
        [f"bx = {x}" for x in range(3) for _ in range(2)] + [f"by = {y}" for y in range(2) for _ in range(3)])
    assert lines.index(prints[-1]) < next(i for i, x in enumerate(lines) if x.startswith("C: "))


def test_eager_style_prints_at_l0_and_l9():
    """A @tilelang.jit kernel's T.print, run through nanott.run like TileLang's compiled kernel."""
    lines: list[str] = []
    from nanott.languages.l0_interp import InterpL0
    old, InterpL0.out = InterpL0.out, staticmethod(lines.append)
    try:
        loaded = load_kernel(EAGER)
        a = np.random.default_rng(0).standard_normal((64, 96)).astype(np.float32)
        for level in ("L0", "L9"):
            c = np.zeros_like(a)
            api.run(loaded.prim_func, a, c, level=level)
            np.testing.assert_array_equal(c, a * np.float32(2.0))   # exact: one float32 multiply
    finally:
        InterpL0.out = old
    l0 = [x for x in lines if x.startswith("[L0 ")]
    assert "[L0 scale block (2,1)] bx = 2" in l0 and "[L0 scale block (2,1)] by = 1" in l0 and len(l0) == 12
    assert len([x for x in lines if x.startswith("[L9 ") and "compute] " in x]) == 12


BAD = {
    "T.print(A)": "NT326",                           # a DRAM tensor (buffers: tests/test_print_buffers.py)
    "T.print(A_s[0, 0])": "NT326",                   # an element
    "T.print(T.exp(bx * 0.5))": "NT326",             # a transcendental function: no libm on the cores
    "T.print(T.sqrt(bx * 1.0) + 1)": "NT326",
    'T.print(T.cast(bx * 0.5, "bfloat16"))': "NT326",   # a narrow float's rounding
    "T.print(bx * 0.5 // 2)": "NT326",               # a float floor division (C++ has no such operator)
    'T.print(bx, "a {b}")': "NT104",                 # braces: a DPRINT format would read them
    "T.print(bx, 3)": "NT104",
}


@pytest.mark.parametrize("call", list(BAD))
def test_what_cannot_be_printed_is_a_diagnostic(call, tmp_path):
    source = KERNEL.read_text().replace('T.print(row)', call)
    assert call in source
    f = tmp_path / "bad_print.py"
    f.write_text(source)
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(f).prim_func, stop_after="P0")
    assert e.value.code == BAD[call]
    assert e.value.loc.line == source.splitlines().index(next(
        line for line in source.splitlines() if call in line)) + 1


def test_print_inside_parallel_is_a_diagnostic(tmp_path):
    source = KERNEL.read_text().replace("C_l[i, j] = A_s[i, j] + 1.0", "T.print(i)\n            C_l[i, j] = A_s[i, j] + 1.0")
    f = tmp_path / "bad_print.py"
    f.write_text(source)
    r = nanott("explain", str(f), "--stop-after", "P0", code=3)
    assert "NT326" in r.output and "inside T.Parallel" in r.output, r.output


def test_lockstep_the_reference_and_the_cycle_model_print_alike(programs, capsys):
    """The fast L9 (cores in lockstep groups), InterpL9 itself and the timed run (`run --stats`)
    print the same lines per core."""
    from nanott.languages.l9_interp import InterpL9
    from nanott.sim.cycles import simulate_timed
    lockstep = by_core(printed(programs, "L9", capsys))
    arrays = api.random_inputs(programs["P0"], seed=1)
    InterpL9().run(programs["F1"], dict(arrays))
    reference = by_core([LINE.match(line) for line in capsys.readouterr().out.splitlines()])
    simulate_timed(programs["F1"], dict(arrays), WORMHOLE_N150)
    timed = by_core([LINE.match(line) for line in capsys.readouterr().out.splitlines()])
    assert lockstep == reference == timed == dealt(programs)


def test_pictures_draw_the_print_in_its_own_colour(programs):
    """A Print is a node of the picture at every level, coloured and named in the legend."""
    from nanott.backends import graphviz as gv
    for level in ("L0", "L5", "L9"):
        source = gv.to_dot(programs[api.stage_for_level(level).id], gv.READABLE).source
        assert source.count(f'fillcolor="{gv.COLOURS["debug"]}"') == 8, level
        assert gv.KINDS["debug"] in source, level
