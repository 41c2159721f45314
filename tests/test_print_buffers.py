"""T.print of a buffer (issue 15): every level prints the sampled tiles of the shared and fragment
buffers of a GEMM (tests/kernels/print_buffers.py), with its level, block or core and kernel, and
the C++ prints them through DPRINT_UNPACK and TSLICE on nanott's CPU runtime.

The expected values come from NumPy on the same random inputs, not from nanott: the shared blocks
are slices of A and B (bfloat16 values copied, so exact), the accumulator is A @ B in float32 over
the block's rows and columns; its printed six digits are compared with a tolerance of 1e-5 of the
block's largest |value|, since the levels sum the K products tile by tile and NumPy in its own
order (float32 rounding, ~1e-7 per add, K = 64 products). The simulator's lines and the C++'s must be
identical strings, per core (the same operations, the same rounding, the same formatting).
"""
from __future__ import annotations

import dataclasses
import re
from collections import defaultdict

import numpy as np
import pytest

from conftest import ROOT
from nanott import api, pipeline
from nanott.backends.metalium.api import VERSIONS
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l0, l4
from nanott.loader import load_kernel
from nanott.target import WORMHOLE_N150

KERNEL = ROOT / "tests" / "kernels" / "print_buffers.py"
LINE = re.compile(r"^\[(?P<level>L\d|C\+\+)(?: print_gemm)? (?P<where>block|core) \((?P<xy>\d+),(?P<y>\d+)\)"
                  r"(?: (?P<kernel>\w+))?\] (?P<text>.+)$")
TILE_LINE = re.compile(r"^(?P<name>.+)\[(?P<r0>\d+):(?P<r1>\d+):8, (?P<c0>\d+):(?P<c1>\d+):8\] = (?P<values>.+)$")


@pytest.fixture(scope="module")
def programs() -> dict:
    return {s.id: p for s, p in pipeline.run_stages(load_kernel(KERNEL).prim_func, "F1")}


@pytest.fixture(scope="module")
def inputs(programs) -> dict:
    return api.random_inputs(programs["P0"], seed=0)


def expected_blocks(inputs: dict, by: int) -> list[tuple[str, np.ndarray]]:
    """What grid block (0, by) prints, in order, from NumPy: A_s and B_s per K step, then acc."""
    a, b = (inputs[n].astype(np.float32) for n in "AB")
    rows = a[by * 32:(by + 1) * 32]
    out = []
    for k in range(2):
        out += [("A_s", rows[:, k * 32:(k + 1) * 32]), ("b tile", b[k * 32:(k + 1) * 32])]
    return out + [("acc", rows @ b)]


def parse(lines: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Per block or core, its printed (kind, text) in order: kind is `header` or `tile`."""
    out: dict[str, list] = defaultdict(list)
    for line in lines:
        m = LINE.match(line)
        assert m, line
        out[f"{m['xy']},{m['y']}"].append(m["text"])
    return out


def check_block(texts: list[str], blocks: list[tuple[str, np.ndarray]]) -> None:
    """A block's printed lines: a header and then one line per tile of each print, values checked."""
    at = 0
    for name, values in blocks:
        rows, cols = values.shape
        dtype = "float32" if name == "acc" else "bfloat16"
        assert texts[at] == f"{name}: {dtype}[{rows}, {cols}], every 8th row and column of each 32x32 tile"
        at += 1
        for ti in range(rows // 32):
            for tj in range(cols // 32):
                m = TILE_LINE.match(texts[at])
                assert m and m["name"] == name, texts[at]
                assert (int(m["r0"]), int(m["c0"])) == (ti * 32, tj * 32), texts[at]
                shown = [row.split() for row in m["values"].split(" | ")]
                want = values[ti * 32:(ti + 1) * 32:8, tj * 32:(tj + 1) * 32:8]
                if name != "acc":                      # copied values: C++'s `<<` text of each
                    assert shown == [[format(float(v), "g") for v in row] for row in want], texts[at]
                else:                                  # six digits (5e-6) and the summation order
                    got = np.array(shown, dtype=np.float64)
                    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(values).max())
                at += 1
    assert at == len(texts), texts[at:]


def simulated(programs: dict, level: str, inputs: dict, capsys) -> list[str]:
    api.simulate(programs[api.stage_for_level(level).id], level, {k: v.copy() for k, v in inputs.items()})
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("level", pipeline.LANGUAGES)
def test_every_level_prints_the_tiles_numpy_expects(programs, inputs, level, capsys):
    lines = simulated(programs, level, inputs, capsys)
    assert {LINE.match(x)["level"] for x in lines} == {level}
    if int(level[1]) >= 7:
        assert {LINE.match(x)["kernel"] for x in lines} == {"compute"}
    per_place = parse(lines)
    assert len(per_place) == 2                     # 2 grid blocks on 2 cores: core (0, y) runs block y
    for place, texts in per_place.items():
        check_block(texts, expected_blocks(inputs, int(place.split(",")[1])))


@pytest.mark.parametrize("release", list(VERSIONS))
def test_g1_prints_tiles_from_the_unpack_thread(programs, release):
    """Each tile of each printed CB: TSLICE(cb, tile, SliceRange::hw0_32_8()) in DPRINT_UNPACK,
    after the cb_wait_front D3 puts before it; scalars stay DPRINT_MATH; no DPRINT elsewhere.
    The K loop's prints stand twice in the code: D5a peels the loop's first trip (the spilled
    accumulator starts from zeros in DST there), and the peeled trip prints what the first trip did."""
    from nanott.passes.g1_emit_metalium import emit_metalium
    files = emit_metalium(programs["F1"], dataclasses.replace(WORMHOLE_N150, release=release))
    compute = files["compute.cpp"]
    tiles = re.findall(r"TSLICE\((cb_\w+), (\d+), SliceRange::hw0_32_8\(\)\)", compute)
    trip = [("cb_A_s", "0"), ("cb_B_s", "0"), ("cb_B_s", "1")]
    assert tiles == trip + trip + [("cb_C_l", "0"), ("cb_C_l", "1")]
    assert compute.count("DPRINT_UNPACK(") == len(tiles) + 5                     # + one header per print
    lines = compute.splitlines()
    first = next(i for i, x in enumerate(lines) if "TSLICE(cb_A_s" in x)
    assert "cb_wait_front(cb_A_s, 1)" in "".join(lines[first - 2:first])
    assert "DPRINT" not in files["reader.cpp"] + files["writer.cpp"]


@pytest.mark.slow
@pytest.mark.parametrize("release", list(VERSIONS))
def test_the_cpu_runtime_prints_what_l9_prints(programs, inputs, release, runtime_cache, tmp_path, capsys):
    """compile --execute's program prints, per core, exactly the lines the L9 simulator prints."""
    from nanott.backends.metalium.execute import execute, write_files
    from nanott.passes.g1_emit_metalium import emit_metalium
    l9 = parse([x.replace("[L9 print_gemm ", "[C++ ") for x in simulated(programs, "L9", inputs, capsys)])
    write_files(tmp_path, emit_metalium(programs["F1"], dataclasses.replace(WORMHOLE_N150, release=release)))
    run = execute(tmp_path, load_kernel(KERNEL), programs["P0"], WORMHOLE_N150, 0, runtime_cache)
    assert all(r.ok for r in run.results), run.results
    assert parse(run.printed) == l9


VARIANTS = {                                             # where else a print may stand: L9 prints what L0 does
    "the accumulator inside the K loop": ('            T.print(B_s, "b tile")', '            T.print(C_l, "acc")'),
    "a block a group read before": ('            T.print(B_s, "b tile")', '            T.print(A_s, "a")'),
    "the same block twice": ("            T.print(A_s)", '            T.print(A_s)\n            T.print(A_s, "again")'),
    "after the writer's copy": ("        T.copy(C_l, C[by * BM, bx * BN])",
                                '        T.copy(C_l, C[by * BM, bx * BN])\n        T.print(C_l, "after")'),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_print_anywhere_after_a_write_prints_at_l9_what_l0_prints(variant, tmp_path, capsys):
    """C3 makes the print a reader of its CB (the last one frees the block), D3 waits for it: the
    protocol holds and the lines are L0's, per core, wherever the print stands."""
    old, new = VARIANTS[variant]
    source = KERNEL.read_text().replace(old, new)
    f = tmp_path / "print_where.py"
    f.write_text(source)
    stages = {s.id: p for s, p in pipeline.run_stages(load_kernel(f).prim_func, "F1")}
    arrays = api.random_inputs(stages["P0"], seed=2)
    lines = {level: parse(simulated(stages, level, arrays, capsys)) for level in ("L0", "L9")}
    assert lines["L0"] == lines["L9"] and sum(map(len, lines["L0"].values())) > 20


def test_the_ir_draws_and_dumps_the_prints(programs):
    """Every level shows the print statement, the pictures draw each print in T.print's colour (3 in
    the source; from D5a on 5, as the K loop's first trip is peeled), and the JSON dump loads back
    equal."""
    from nanott.backends import graphviz as gv
    from nanott.backends import json as ir_json
    for level in pipeline.LANGUAGES:
        stage = api.stage_for_level(level).id
        text = str(programs[stage])
        assert ('print "acc", C_l' if level < "L4" else 'print "acc", cb') in text, level
        prints = sum(isinstance(x, (l0.PrintBuffer, l4.PrintCb)) for x in walk(programs[stage]))
        assert prints == (5 if level == "L9" else 3), (level, prints)       # D5a is an L9 pass
        assert gv.to_dot(programs[stage], gv.READABLE).source.count(f'fillcolor="{gv.COLOURS["debug"]}"') == prints
        assert ir_json.load(ir_json.dump(programs[stage], level, stage))[0] == programs[stage]


def test_a_print_before_anything_writes_the_buffer_is_nt326(tmp_path):
    source = KERNEL.read_text().replace("        T.clear(C_l)\n", '        T.print(C_l, "unwritten")\n        T.clear(C_l)\n')
    f = tmp_path / "print_early.py"
    f.write_text(source)
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(f).prim_func, stop_after="C3")
    assert e.value.code == "NT326" and "before anything writes it" in e.value.message
    assert source.splitlines()[e.value.loc.line - 1].strip() == 'T.print(C_l, "unwritten")'


BAD = {
    "T.print(A)": "of the DRAM tensor A",                # DRAM: print the buffer it is copied into
    "T.print(V_s)": "only 2-D buffers of whole",         # a vector
    "T.print(H_s)": "only 2-D buffers of whole",         # 16 x 32: not whole tiles
}


@pytest.mark.parametrize("call", list(BAD))
def test_what_cannot_be_printed_is_nt326(call, tmp_path):
    source = KERNEL.read_text().replace("T.print(A_s)", call).replace("        T.clear(C_l)\n", (
        "        T.clear(C_l)\n        V_s = T.alloc_shared((32,), 'float32')\n"
        "        H_s = T.alloc_shared((16, 32), 'float32')\n"))
    f = tmp_path / "bad_print.py"
    f.write_text(source)
    with pytest.raises(NanottError) as e:
        api.lower(load_kernel(f).prim_func, stop_after="P0")
    assert e.value.code == "NT326" and BAD[call] in e.value.message, e.value.render()
    assert source.splitlines()[e.value.loc.line - 1].strip() == call
