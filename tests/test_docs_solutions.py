"""The course's exercises have solutions, and the solutions are checked against the compiler.

Every `<!-- check: COMMAND -->` block of docs/solutions/*.md states what COMMAND prints: each line of
the block must appear in COMMAND's output, in order (stripped; a line ending in ` ...` only has to
start the same way). COMMAND is a `nanott` command or `python docs/solutions/<file>.py`. And every
solution pass is imported and run on the GEMM: its output must pass its language's checker and,
where the program is meant to work, match NumPy in the interpreter; where it is meant to break,
the simulator or F1 must say so, naming the rule.
"""
from __future__ import annotations

import importlib
import re
import shlex
import subprocess
import sys

import pytest
from conftest import ROOT

from nanott import api
from nanott.ir import CheckError, walk
from nanott.languages import l1, l2, l8, l9
from nanott.loader import load_kernel
from nanott.pipeline import language
from nanott.sim.errors import DeadlockError, ProtocolError

DOCS = ROOT / "docs"
sys.path[:0] = [str(DOCS), str(DOCS / "solutions")]
weave_runs = importlib.import_module("weave_runs")
lowering = importlib.import_module("lowering")

CHECK = re.compile(r"<!-- check: (.*?) -->\n```\w*\n(.*?)```", re.S)


def check_blocks() -> list:
    out = []
    for page in sorted((DOCS / "solutions").glob("*.md")):
        for i, m in enumerate(CHECK.finditer(page.read_text())):
            out.append(pytest.param(m.group(1), m.group(2), id=f"{page.stem}-{i + 1}"))
    return out


def output_of(command: str) -> str:
    words = shlex.split(command)
    if words[0] == "nanott":
        return weave_runs.run_cli(*words[1:])
    if words[0] == "python" and len(words) == 2 and words[1].startswith("docs/solutions/"):
        done = subprocess.run([sys.executable, words[1]], cwd=ROOT, capture_output=True, text=True)
        return (done.stdout + done.stderr).replace(f"{ROOT}/", "")
    raise ValueError(f"a check runs `nanott ...` or `python docs/solutions/<file>.py`, not {command!r}")


def first_missing(expected: list[str], output: str) -> str | None:
    """The first expected line not found, in order, among the output's lines (None: all found)."""
    lines, at = [line.strip() for line in output.splitlines()], 0
    for want in expected:
        prefix = want.endswith(" ...")
        text = want[:-4] if prefix else want
        while at < len(lines) and not (lines[at].startswith(text) if prefix else lines[at] == text):
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None


def test_every_solution_page_checks_something():
    pages = {p.stem for p in (DOCS / "solutions").glob("*.md")}
    checked = {p.id.rsplit("-", 1)[0] for p in check_blocks()}
    assert pages == checked, f"solution pages without a checked answer: {sorted(pages - checked)}"


@pytest.mark.slow       # each block runs a solution's command in a fresh process
@pytest.mark.parametrize("command, block", check_blocks())
def test_solution_states_what_the_compiler_prints(command, block):
    expected = [line.strip() for line in block.splitlines() if line.strip()]
    assert expected, "an empty check block checks nothing"
    output = output_of(command)
    missing = first_missing(expected, output)
    assert missing is None, f"the solution says `{command}` prints\n  {missing}\nbut it printed:\n{output}"


def test_first_missing_wants_every_line_in_order():
    assert first_missing(["b", "d ..."], "a\n  b\nc\nd and more\n") is None
    assert first_missing(["d", "b"], "b\nd\n") == "b"
    assert first_missing(["b x"], "b\n") == "b x"


def solution(name: str):
    return importlib.import_module(name)


def test_one_core_split_runs_every_block_on_core_0():
    one_core = {"B1": solution("one_core").partition_work_one_core}
    program = lowering.lower_with("gemm", "B1", replace=one_core)
    language("L2").check(program)
    assert program.work.cores == (l2.CoreWork((0, 0), 0, 16),)
    assert lowering.simulate("gemm", program, "L2") == "PASS"
    final = lowering.lower_with("gemm", "F1", replace=one_core)
    assert [(r.core, r.values[-2:]) for r in final.args.cores if r.role == "reader"] == [((0, 0), (0, 16))]
    assert lowering.simulate("gemm", final, "L9") == "PASS"


def test_single_buffering_the_accumulator_deadlocks_at_l8():
    single_buffer = {"A2": solution("single_buffer").single_buffer}
    a2 = lowering.lower_with("gemm", "A2", after=single_buffer)
    language("L1").check(a2)
    assert {x.cb.depth for x in walk(a2.body) if isinstance(x, l1.Alloc)} == {1}
    assert lowering.simulate("gemm", a2, "L1") == "PASS"
    with pytest.raises(DeadlockError, match=r"compute waits at cb_reserve_back cb2, 4") as e:
        lowering.simulate("gemm", lowering.lower_with("gemm", "D3", after=single_buffer), "L8")
    assert "wait-for cycle on 16 core(s) from (0, 0): compute (on cb2) -> compute" in str(e.value)


def test_dropping_read_barriers_breaks_rule_7_at_l8():
    drop = {"D3": solution("drop_read_barriers").drop_read_barriers}
    program = lowering.lower_with("gemm", "D3", after=drop)
    language("L8").check(program)
    assert not [x for x in walk(program) if isinstance(x, l8.NocReadBarrier)]
    with pytest.raises(ProtocolError, match=r"rule 7: noc_async_read_barrier before cb_push_back") as e:
        lowering.simulate("gemm", program, "L8")
    assert e.value.rule == 7 and e.value.role == "reader"


def test_a_smaller_dst_batches_the_tiles_and_keeps_the_numbers():
    small = solution("small_dst").SMALL_DST
    program = lowering.lower_with("gemm", "F1", target=small)
    language("L9").check(program)
    assert program.compute.dst_tiles == 2
    batches = [x for x in walk(program.kernel("compute").body) if isinstance(x, l9.For) and x.var.startswith("sb")]
    assert [b.extent.value for b in batches] == [2, 2, 2]
    assert lowering.simulate("gemm", program, "L9") == "PASS"


def test_forgetting_a_release_is_caught_by_f1():
    forget = {"E1": solution("break_handshake").forget_a_release}
    e1 = lowering.lower_with("gemm", "E1", after=forget)
    language("L9").check(e1)
    assert sum(isinstance(x, l9.RegsRelease) for x in walk(e1)) == 0       # D5a left one, it is gone
    with pytest.raises(CheckError, match=r"DST handshake: compute kernel: a loop body leaves the DST in another state"):
        lowering.lower_with("gemm", "F1", after=forget)


def test_two_writers_are_repaired_by_c2b_and_both_lower():
    path = DOCS / "solutions" / "two_writers.py"
    for name in ("double", "double_fixed"):
        loaded = load_kernel(path, kernel=name)
        kernel = api.lower(loaded.prim_func, "P0")
        inputs = api.random_inputs(kernel, 0)
        results = api.compare(kernel, api.simulate(api.lower(loaded.prim_func, "F1"), "L9", inputs),
                              api.expected_outputs(loaded, kernel, inputs))
        assert all(r.ok for r in results), name
    staged = api.lower(load_kernel(path, kernel="double").prim_func, "C2b")
    assert [cb.name for cb in staged.cbs if cb.name.endswith("_in")] == ["A_s_in"]
