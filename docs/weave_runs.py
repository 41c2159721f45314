"""Weave markers that run the compiler on an example and show what it prints or draws: the IR after a
stage (or one kernel of it, or one emitted file), what a stage changed, the picture of a stage, a
hand-written drawing, any `nanott` command with its output, the lines of an emitted file that
hold a word, and a table of the GEMM's modelled cycles without each of the stages that speed it up.

Every example is lowered once per weave, through the public pipeline (checked after every pass),
and printed by the one printer, so a block here is byte for byte what `nanott explain` shows.
"""
from __future__ import annotations

import contextlib
import difflib
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

os.environ.setdefault("TERMINAL_WIDTH", "3000")            # before typer is imported
os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from nanott.backends.graphviz import to_dot  # noqa: E402
from nanott.cli import app, printed  # noqa: E402
from nanott.loader import load_kernel  # noqa: E402
from nanott.pipeline import PIPELINE, run_stages, stage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@cache
def lowered(example: str) -> dict[str, Any]:
    """Stage id -> the program after it, for examples/<example>.py, P0 through G1."""
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    return {s.id: program for s, program in run_stages(loaded.prim_func, "G1")}


def text_after(example: str, stage_id: str, part: str | None = None) -> str:
    """The printed IR after a stage; `part` picks one kernel (`reader`) or one G1 file."""
    program = lowered(example)[stage(stage_id).id]
    if part is None:
        return printed(stage(stage_id), program)
    if isinstance(program, dict):
        if part not in program:
            raise KeyError(f"G1 emits {', '.join(program)}, not {part}")
        return program[part].rstrip("\n") + "\n"
    lines = printed(stage(stage_id), program).splitlines()
    head = f"  {part}:"
    if head not in lines:
        raise KeyError(f"the IR after {stage_id} has no part {part!r} (a line {head!r})")
    start = lines.index(head)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("   ")), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def fence(text: str, stage_id: str, part: str | None) -> str:
    lang = "text"
    if stage_id == "G1" and part:
        lang = {".cpp": "cpp", ".json": "json"}.get(Path(part).suffix, "cmake")
    return f"```{lang}\n{text.rstrip()}\n```"


def snapshot(course, page, example: str, stage_id: str, part: str | None = None) -> str:
    return fence(text_after(example, stage_id, part), stage_id, part)


def diff(course, page, example: str, stage_id: str, part: str | None = None) -> str:
    """A unified diff of the printed IR before and after the stage, as `explain --diff` prints it."""
    s = stage(stage_id)
    before = PIPELINE[s.position - 1]
    lines = difflib.unified_diff(text_after(example, before.id, part).splitlines(),
                                 text_after(example, s.id, part).splitlines(),
                                 f"after {before.id}", f"after {s.id}", lineterm="")
    return "```diff\n" + ("\n".join(lines) or f"(no change from {before.id})") + "\n```"


def picture(course, page, example: str, stage_id: str) -> str:
    s = stage(stage_id)
    name = f"{example}_{s.id}"
    path = course.picture(page, name, to_dot(lowered(example)[s.id]).source, keep_source=True)
    return (f"![{example} after {s.id} {s.name}]({path})\n\n"
            f"*`nanott graph examples/{example}.py --after {s.id} -o {name}.svg` draws it; "
            f"[its DOT source]({path[:-4]}.dot).*")


def drawing(course, page, name: str, alt: str) -> str:
    """A hand-written DOT file of docs/drawings/, drawn by graphviz like every other picture."""
    source = (course.docs / "drawings" / f"{name}.dot").read_text()
    path = course.picture(page, name, source, keep_source=False)
    up = "../" if page.parent != course.docs else ""
    return f"![{alt}]({path})\n\n*Drawn from [drawings/{name}.dot]({up}drawings/{name}.dot).*"


def nanott(course, page, *args: str) -> str:
    """`$ nanott <args>` and everything it prints (stdout and stderr, as a terminal shows them)."""
    return "```text\n$ " + " ".join(("nanott", *args)) + "\n" + run_cli(*args).rstrip("\n") + "\n```"


def run_cli(*args: str) -> str:
    """What `nanott <args>` prints, run in the repository; the checkout's directory is cut from paths.
    A command that exits 2 (a compiler bug, or a command or option that does not exist) fails."""
    from typer.testing import CliRunner
    with contextlib.chdir(ROOT):
        result = CliRunner().invoke(app, list(args), prog_name="nanott")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise ValueError(f"nanott {' '.join(args)} raised {result.exception!r}")
    if result.exit_code not in (0, 1, 3):   # 1 a mismatch, 3 a diagnostic worth showing; 2 a typo, 4 a bug
        raise ValueError(f"nanott {' '.join(args)} exited {result.exit_code}:\n{result.output}")
    return result.output.replace(f"{ROOT}/", "")


def emitted(course, page, kernel: str, file: str, word: str) -> str:
    """The lines of one file G1 emits for a kernel file (the default release) that hold `word`,
    each with its line number: `compute.cpp:27: DPRINT_MATH(...)`."""
    files = dict(run_stages(load_kernel(ROOT / kernel).prim_func, "G1"))[stage("G1")]
    lines = [f"{file}:{n}: {line.strip()}" for n, line in enumerate(files[file].splitlines(), 1) if word in line]
    if not lines:
        raise ValueError(f"{kernel}: G1's {file} has no line with {word!r}")
    return "```text\n" + "\n".join(lines) + "\n```"


def cbs(course, page, kernel: str, stage_id: str) -> str:
    """The circular buffers of a kernel file's IR after a stage (its lines `cbN name: ...`), as
    `nanott explain <kernel> --only <stage>` prints them: who shares a CB shows in their plans."""
    program = dict(run_stages(load_kernel(ROOT / kernel).prim_func, stage_id))[stage(stage_id)]
    lines = [line for line in printed(stage(stage_id), program).splitlines() if CB_LINE.match(line)]
    return "```text\n" + "\n".join(lines) + "\n```"


CB_LINE = re.compile(r"^\s*cb\d+ \w+: ")


def gemm_cycles(course, page, size: str, blocks: str, fidelity: str, *skips: str) -> str:
    """A table: examples/gemm.py's `matmul` at size^3 in `blocks` (bf16 A, B and C, an fp32
    accumulator) at L9 with the cycle model, through the whole pipeline (`-`) and without each set
    of optional stages in `skips` (ids joined by `+`): the modelled cycles, the utilisation of the
    ideal-cycles bound, the highest of the three floors, and whether C is bit for bit the whole pipeline's."""
    import warnings

    import numpy as np

    from nanott import api, pipeline
    from nanott.sim import cycles, report
    from nanott.target import WORMHOLE_N150
    bm, bn, bk = blocks.split("x")
    sets = dict(M=size, N=size, K=size, block_M=bm, block_N=bn, block_K=bk, out_dtype='"bfloat16"')
    prim_func = load_kernel(ROOT / "examples" / "gemm.py", kernel="matmul", sets=sets).prim_func
    machine = api.resolve_target(WORMHOLE_N150, fidelity)
    inputs = api.random_inputs(api.lower(prim_func, "P0"), 0)
    rows, first = [], None
    for skip in skips:
        left_out = () if skip == "-" else tuple(skip.split("+"))
        if not set(left_out) <= set(pipeline.OPTIONAL):
            raise ValueError(f"only the optional stages can be left out ({', '.join(pipeline.OPTIONAL)})")
        with warnings.catch_warnings():             # NT207: the fidelity is the table's own choice
            warnings.simplefilter("ignore")
            program = pipeline.lower(prim_func, "F1", machine, skip=left_out)
        out, model = cycles.simulate_timed(program, {k: v.copy() for k, v in inputs.items()}, machine)
        f = report.figures(model)
        first = out["C"] if first is None else first
        same = "yes" if np.array_equal(out["C"], first) else "no"
        names = ", ".join(f"{i} {stage(i).name}" for i in left_out) or "(none: the whole pipeline)"
        rows.append(f"| {names} | {f.duration:,.0f} | {100 * f.utilisation:.1f}% | {f.bound} | {same} |")
    head = (f"| {size}^3 in {blocks} blocks, {fidelity}: stages left out | cycles | utilisation | highest floor "
            f"| C bit for bit as the first row's |\n|---|---|---|---|---|\n")
    return head + "\n".join(rows)


def bench_gemm(course, page, *args: str) -> str:
    """`$ python benchmarks/bench_gemm_cycles.py <args>` and what it prints (without the simulation's
    CPU time, which differs from run to run)."""
    script = "benchmarks/bench_gemm_cycles.py"
    out = subprocess.run([sys.executable, script, *args, "--no-cpu-time"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return "```text\n$ " + " ".join(("python", script, *args)) + "\n" + out.rstrip("\n") + "\n```"


MAKERS = {"snapshot": snapshot, "diff": diff, "picture": picture, "drawing": drawing, "nanott": nanott,
          "emitted": emitted, "gemm-cycles": gemm_cycles, "bench-gemm": bench_gemm, "cbs": cbs}
