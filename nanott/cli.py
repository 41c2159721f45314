"""The `nanott` command: explain, run, compile, graph, passes, grammar.

Every command walks `nanott.pipeline.PIPELINE` inside one error boundary (nanott/boundary.py), and
its exit code says what happened: 0 ok, 1 numerics mismatch, 2 usage error, 3 a diagnostic about
the kernel or its input (code, line, caret, hint), 4 internal error (a compiler bug, with a request
to report it; the only case that may show a traceback).
"""
from __future__ import annotations

import dataclasses

import difflib
import json
import time
from dataclasses import replace
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Iterator

import typer

from nanott import api, boundary, pipeline
from nanott.cli_coerce import Command, Group
from nanott.cli_habits import Color, PassTimes, colour_diff, progress, use_colour
from nanott.diagnostics import NanottError
from nanott.given_inputs import explained, read_inputs, with_given
from nanott.pipeline import PIPELINE, Stage
from nanott.printing import num, render
from nanott.backends.metalium.api import RELEASES
from nanott.target import TARGETS

app = typer.Typer(cls=Group, no_args_is_help=True, pretty_exceptions_enable=False)     # --install-completion too
StageId = Enum("StageId", {s.id: s.id for s in PIPELINE}, type=str)       # help shows <P0|A1|...|G1>
Level = Enum("Level", {name: name for name in pipeline.LANGUAGES}, type=str)
TargetName = Enum("TargetName", {name: name for name in TARGETS}, type=str)
Release = Enum("Release", {name: name for name in RELEASES}, type=str)
Format = Enum("Format", {"text": "text", "json": "json"}, type=str)
Role = Enum("Role", {r: r for r in ("reader", "compute", "writer")}, type=str)

KernelFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A kernel file.")]
KernelOpt = Annotated[str | None, typer.Option("--kernel", help="The factory or prim_func to use.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="K=V: a factory argument (repeat).")]
TargetOpt = Annotated[TargetName, typer.Option(help="The machine to lower for.")]
FidelityOpt = Annotated[str | None, typer.Option(help="Math fidelity (LoFi, HiFi2, HiFi3, HiFi4) over the one "
                                                 "D5 chooses from the dtypes (the IR's math-fidelity note).")]
InputsOpt = Annotated[Path | None, typer.Option(
    "--inputs", exists=True, dir_okay=False, help="A NumPy .npz of input arrays by parameter name, in place of "
    "their random values (the tables a kernel's indices need: nanott/given_inputs.py).")]


def show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version
        typer.echo(f"nanott {version('nanott')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=show_version, is_eager=True,
                                          help="Print nanott's version and exit.")] = False,
) -> None:
    """Lower TileLang-style tile kernels to TT-Metalium, one checked pass at a time.

    Exit codes: 0 ok, 1 numerics mismatch, 2 usage error, 3 a diagnostic about your kernel or
    input, 4 internal error (a compiler bug; please report it)."""


@contextmanager
def reported() -> Iterator[None]:
    """The error boundary (nanott/boundary.py): a diagnostic exits 3, a compiler bug 4."""
    with boundary.reported(lambda text: typer.echo(text, err=True), typer.Exit):
        yield


def load(path: Path, kernel: str | None, sets: list[str] | None) -> Any:
    from nanott.loader import load_kernel
    loaded = load_kernel(path, kernel=kernel, sets=parse_sets(sets or []))
    for line, why in loaded.skipped:
        typer.echo(f"{path}:{line}: note: skipped while loading (the kernel does not need it): {why}",
                   err=True)
    return loaded


def parse_sets(items: list[str]) -> dict[str, str]:
    """`--set M=512 --set dtype=bfloat16` -> {"M": "512", "dtype": "bfloat16"} (the loader parses values)."""
    out: dict[str, str] = {}
    for item in items:
        key, eq, text = item.partition("=")
        if not eq or not key.isidentifier():
            raise NanottError("NT910", f"--set {item!r} is not K=V", hint="for example --set M=512")
        out[key] = text
    return out


def printed(stage: Stage, program: Any) -> str:
    """The printed form of a stage's output; G1's files each under a `// ----- name -----` banner."""
    if isinstance(program, dict):
        return "".join(f"// ----- {name} -----\n{text.rstrip()}\n" for name, text in program.items())
    return render(program)


class Numerics:
    """Runs each level's interpreter on one set of seeded random inputs and says how it compares."""

    def __init__(self, loaded: Any, kernel: Any, seed: int = 0, given: dict | None = None):
        self.kernel = kernel
        self.inputs = with_given(kernel, api.random_inputs(kernel, seed), given or {})
        self.expected = api.expected_outputs(loaded, kernel, self.inputs)
        self.previous: tuple[Stage, dict, Any] | None = None     # stage, its outputs, its program
        self.failures: list[str] = []

    def check(self, stage: Stage, program: Any) -> str:
        same = False              # bit-identical to the stage before (its comparison then holds as it is)
        if self.previous is not None and self.previous[0].dst == stage.dst and self.previous[2] == program:
            actual, same = self.previous[1], True    # the same program at the same level: the same numbers
        else:
            actual = api.simulate(program, stage.dst, self.inputs)
            same = self.previous is not None and api.identical(actual, self.previous[1], tuple(self.expected))
        if same:                  # the comparison is a function of the outputs alone: the same outputs, the same words
            results = self.results
        else:
            results = self.results = api.compare(self.kernel, actual, self.expected)
        err = max(r.max_abs for r in results)
        tol = "; ".join(sorted({f"{num(r.rtol)} of |ref| and of max|ref|: {r.reason}" for r in results}))
        ok = all(r.ok for r in results)
        words = f"max |err| {num(err)} vs reference ({'tol' if ok else 'EXCEEDS tol'} {tol})"
        holes = [r.reference_nan for r in results if r.reference_nan]
        if holes:
            words += f"; {holes[0]}"
        if not ok:
            self.failures.append(f"{stage.id}: {holes[0]}" if holes
                                 else f"{stage.id} differs from the reference by {num(err)}")
        if self.previous is not None:
            words += ", " + self.against_previous(stage, actual, same)
        self.previous = (stage, actual, program)
        return words

    def against_previous(self, stage: Stage, actual: dict, same: bool) -> str:
        prev, before, _ = self.previous
        if same:
            return f"bit-identical to {prev.dst}"
        by = max(api.max_abs_error(actual[n], before[n]) for n in self.expected)
        if stage.changes_rounding:
            return f"differs from {prev.dst} by {num(by)} (the pass declares a Numerics change)"
        self.failures.append(f"{stage.id} changed the numbers but declares no Numerics: change")
        return f"differs from {prev.dst} by {num(by)}, and {stage.id} declares no Numerics change"


@app.command(cls=Command)
def explain(
    file: KernelFile,
    stop_after: Annotated[StageId | None, typer.Option(help="Last stage to run.")] = None,
    stop_before: Annotated[StageId | None, typer.Option(help="Run up to the stage before this one.")] = None,
    only: Annotated[StageId | None, typer.Option(help="Print only this stage.")] = None,
    print_before: Annotated[list[StageId] | None, typer.Option(
        help="Print the IR that this stage takes (repeat); only those, unless --only says more.")] = None,
    print_changed: Annotated[bool, typer.Option("--print-changed",
                                                help="Print only the stages that changed the IR.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff against the stage before.")] = False,
    color: Annotated[Color, typer.Option(help="Colour diffs: auto (on a terminal), always, never.")] = Color.auto,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Drop the passes' explanations.")] = False,
    time_passes: Annotated[bool, typer.Option("--time-passes", help="Print each stage's time to stderr.")] = False,
    format: Annotated[Format, typer.Option(help="text, or the JSON dump of the IR.")] = Format.text,
    no_check: Annotated[bool, typer.Option("--no-check", help="Skip the checkers and numerics.")] = False,
    dump_dir: Annotated[Path | None, typer.Option(help="Write {stem}.txt, .json, .dot per stage.")] = None,
    target: TargetOpt = TargetName.wormhole_n150,
    fidelity: FidelityOpt = None,
    inputs: InputsOpt = None,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """Print the IR after each stage, checked and run on random inputs."""
    with reported():
        loaded, given = load(file, kernel, set), read_inputs(inputs)
        ids = [s.id for s in PIPELINE]
        if stop_before is not None and stop_before.value == "P0":
            raise NanottError("NT936", "--stop-before P0 leaves nothing to run", hint="use --stop-after P0")
        last = (only.value if only else stop_after.value if stop_after else
                ids[ids.index(stop_before.value) - 1] if stop_before else "G1")
        before_of = {ids[ids.index(x.value) - 1]: x.value for x in print_before or [] if x.value != "P0"}
        shown = {i for i in ids if (only is None and not before_of) or (only and i == only.value) or i in before_of}
        wanted = shown | {a.id for a, b in zip(PIPELINE, PIPELINE[1:]) if b.id in shown}  # + the one before
        numerics, before, times = None, None, PassTimes()
        clock, stages = time.perf_counter(), []
        for s, program in pipeline.run_stages(loaded.prim_func, last, api.resolve_target(target.value, fidelity),
                                              check=not no_check):    # every check before any interpreter runs
            stages.append((s, program, time.perf_counter() - clock))
            clock = time.perf_counter()
        for s, program, pass_seconds in stages:
            with explained(stages[0][1], given):
                numerics = numerics or (None if no_check else Numerics(loaded, program, 0, given))
            text = printed(s, program)
            trailer = None
            if numerics and s.dst and s.id in wanted:
                with explained(stages[0][1], given):
                    trailer = f"checked: {s.dst} ok; numerics: {numerics.check(s, program)}"
            elif s.dst:
                trailer = "unchecked (--no-check)" if no_check else None
            changed = before is None or before[1] != text
            if s.id in shown and (changed or not print_changed):
                block = stage_block(s, text, before if diff and s.dst else None, trailer, quiet, before_of.get(s.id))
                if format is Format.json:
                    typer.echo(as_json(s, program), nl=False)
                else:
                    coloured = diff and use_colour(color)
                    typer.echo(colour_diff(block) if coloured else block, nl=False, color=coloured or None)
                if dump_dir is not None:
                    dump(dump_dir, s, program, block)
            before = (s, text)
            times.add(s, pass_seconds, time.perf_counter() - clock)
            clock = time.perf_counter()
        if time_passes:
            typer.echo(times.table(), err=True)
        if numerics and numerics.failures:
            typer.echo("nanott: numerics check failed: " + "; ".join(numerics.failures), err=True)
            raise typer.Exit(boundary.MISMATCH)


def stage_block(s: Stage, text: str, before: tuple[Stage, str] | None, trailer: str | None,
                quiet: bool = False, next_id: str | None = None) -> str:
    """Banner, explanation (unless quiet) and IR (or its diff), and the trailer, in the IR's comment
    syntax; `next_id` names the stage this IR is the input of (--print-before)."""
    c = "//" if s.dst is None else "#"
    if next_id:
        out = [f"{c} ----- IR before {next_id} {pipeline.stage(next_id).name} (after {s.id} {s.name}) -----"]
    else:
        out = [f"{c} ----- IR after {s.id} {s.name} ({s.transition}) -----"]
    out += [] if quiet else [f"{c} {line}" for line in s.explanation.splitlines()]
    if before is None:
        out.append(text.rstrip("\n"))
    else:
        prev, old = before
        lines = difflib.unified_diff(old.splitlines(), text.splitlines(), f"after {prev.id}",
                                     f"after {s.id}", lineterm="")
        out += list(lines) or [f"{c} (no change from {prev.id})"]
    if trailer:
        out.append(f"{c} {trailer}")
    return "\n".join(out) + "\n"


def as_json(s: Stage, program: Any) -> str:
    if s.dst is None:
        return json.dumps({"after": s.id, "files": program}, indent=1) + "\n"
    from nanott.backends import json as ir_json
    return ir_json.dump(program, s.dst, s.id).rstrip("\n") + "\n"


def dump(directory: Path, s: Stage, program: Any, block: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{s.position:02d}_{s.stem}.txt").write_text(block)
    if s.dst is not None:
        from nanott.backends import graphviz as ir_graphviz
        (directory / f"{s.position:02d}_{s.stem}.json").write_text(as_json(s, program))
        (directory / f"{s.position:02d}_{s.stem}.dot").write_text(ir_graphviz.to_dot(program).source)


@app.command(cls=Command)
def run(
    file: KernelFile,
    level: Annotated[Level, typer.Option(help="The language whose interpreter runs the kernel.")] = Level.L9,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random inputs.")] = 0,
    stats: Annotated[bool, typer.Option("--stats", help="Print the cycle model's figures (L9).")] = False,
    trace: Annotated[Path | None, typer.Option(help="Write a Chrome/Perfetto trace (L9).")] = None,
    fidelity: FidelityOpt = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="An optional optimisation stage to "
                                                   "leave out, e.g. D5a (repeat).")] = None,
    target: TargetOpt = TargetName.wormhole_n150,
    inputs: InputsOpt = None,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """Simulate the kernel at one level on random inputs and compare with its NumPy reference;
    with --stats or --trace, time it on the target's engines too."""
    with reported():
        timed = stats or trace is not None
        if timed and level is not Level.L9:
            raise NanottError("NT940", f"--stats and --trace need the engines of L9, not {level.value}",
                              hint="drop --level, or pass --level L9")
        for sid in skip or ():
            if sid not in pipeline.OPTIONAL:
                raise NanottError("NT941", f"--skip {sid}: only an optional optimisation stage can be left out",
                                  hint=f"optional stages: {', '.join(pipeline.OPTIONAL)}")
        loaded = load(file, kernel, set)
        last = api.stage_for_level(level.value)
        l0_kernel, program = None, None
        machine = api.resolve_target(target.value, fidelity)
        for s, program in pipeline.run_stages(loaded.prim_func, last.id, machine, skip=tuple(skip or ())):
            l0_kernel = l0_kernel or program
        given = read_inputs(inputs)
        arrays = with_given(l0_kernel, api.random_inputs(l0_kernel, seed), given)
        from nanott.sim import cycles, lockstep, report
        total = lockstep.pages_written(program) if level is Level.L9 else 0
        with explained(l0_kernel, given), progress(f"simulating {loaded.name} at {level.value}",
                                                   total=total) as advance:
            expected = api.expected_outputs(loaded, l0_kernel, arrays)
            if timed:
                actual, model = cycles.simulate_timed(program, arrays, machine, None, trace is not None, advance)
            else:
                actual = api.simulate(program, level.value, arrays, advance if total else None)
        results = api.compare(l0_kernel, actual, expected)
        for r in results:
            typer.echo(r.line())
        ok = all(r.ok for r in results)
        typer.echo(f"{loaded.name} at {level.value} (after {last.id}), seed {seed}: {'PASS' if ok else 'FAIL'}")
        if stats:
            typer.echo(report.stats_text(model), nl=False)
        if trace is not None:
            n = report.write_trace(model, trace)
            typer.echo(f"wrote {trace} ({n:,} trace events; open it in ui.perfetto.dev or chrome://tracing)")
        if not ok:
            raise typer.Exit(boundary.MISMATCH)


@app.command(cls=Command)
def passes(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also each stage's named sub-steps.")] = False,
) -> None:
    """The pipeline: position, id, name, languages, file (and with --verbose, each sub-step)."""
    rows = [(f"{s.position:02d}", s.id, s.name, s.transition, s.path) for s in PIPELINE]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for s, r in zip(PIPELINE, rows):
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[4])
        for line in s.step_lines() if verbose else ():
            typer.echo(f"{'':{widths[0]}}  then  {line}")


@app.command(cls=Command)
def grammar(level: Annotated[Level, typer.Argument(help="A language, L0..L9.")]) -> None:
    """The grammar of a language, with its delta from the one before."""
    with reported():
        from nanott.grammar import describe
        typer.echo(describe(level.value).rstrip("\n"))


@app.command(cls=Command)
def graph(
    file: KernelFile,
    after: Annotated[StageId, typer.Option(help="The stage whose output to draw.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="out.svg, out.png or out.dot")],
    work: Annotated[bool, typer.Option("--work", help="Draw the work split over the core grid "
                                       "(B1 and later) instead of the IR.")] = False,
    role: Annotated[Role | None, typer.Option(help="Draw one kernel alone (D1 and later).")] = None,
    collapse_loops: Annotated[int | None, typer.Option("--collapse-loops", min=1, help="Fold each loop "
                              "nested this deep (1: every loop) to one node with its trip count.")] = None,
    target: TargetOpt = TargetName.wormhole_n150,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """A graphviz picture of the IR after one stage, or of its work split over the cores."""
    with reported():
        if pipeline.stage(after.value).dst is None:
            raise NanottError("NT918", f"{after.value} emits C++ files, not IR", hint="draw a stage up to F1")
        loaded = load(file, kernel, set)
        program = api.lower(loaded.prim_func, after.value, target.value)
        from nanott.backends import graphviz as ir_graphviz
        if work and not hasattr(program, "work"):
            raise NanottError("NT937", f"the program after {after.value} has no work split yet",
                              hint="B1 partition-work deals blocks to cores: draw --after B1 or later")
        if role is not None and not hasattr(program, "kernels"):
            raise NanottError("NT938", f"the program after {after.value} is not split into kernels yet",
                              hint="D1 split-device-kernel makes reader, compute and writer: draw --after D1 or later")
        from nanott.backends.work_picture import work_dot
        view = replace(ir_graphviz.READABLE, role=role.value if role else None, collapse=collapse_loops)
        picture = work_dot(program) if work else ir_graphviz.to_dot(program, view)
        written = ir_graphviz.write_picture(picture, output)
        typer.echo(f"wrote {written}" if written == output else f"no 'dot' found; wrote {written}")


@app.command("compile", cls=Command)
def compile_command(
    file: KernelFile,
    output: Annotated[Path, typer.Option("-o", "--output", help="The directory to write the files into.")],
    execute: Annotated[bool, typer.Option("--execute", help="Also build them with g++ against nanott's CPU "
                                          "runtime, run them on random inputs and compare with NumPy.")] = False,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random inputs (--execute).")] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds the run may take (--execute).")] = 120.0,
    runtime_cache: Annotated[Path | None, typer.Option(
        help="Where the compiled CPU runtime is kept (default: ~/.cache/nanott, or $NANOTT_CACHE).")] = None,
    target: TargetOpt = TargetName.wormhole_n150,
    release: Annotated[Release, typer.Option(help="The ttnn/tt-metal release to emit C++ for.")] = Release(RELEASES[-1]),
    fidelity: FidelityOpt = None,
    inputs: InputsOpt = None,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """Write the TT-Metalium files of a kernel (G1): reader, compute and writer kernels, main.cpp,
    tt.plan.json, CMakeLists.txt. With --execute, also build and run them on nanott's CPU runtime."""
    with reported():
        loaded = load(file, kernel, set)
        machine = dataclasses.replace(api.resolve_target(target.value, fidelity), release=release.value)
        l0_kernel, files = None, None
        for s, files in pipeline.run_stages(loaded.prim_func, "G1", machine):
            l0_kernel = l0_kernel or files
        from nanott.backends.metalium import execute as cpu
        cpu.write_files(output, files)
        typer.echo(f"wrote {', '.join(files)} to {output}")
        if execute:
            given = read_inputs(inputs)
            with explained(l0_kernel, given):
                run_on_cpu(cpu, output, loaded, l0_kernel, machine, seed, timeout, runtime_cache, given)


def run_on_cpu(cpu: Any, output: Path, loaded: Any, kernel: Any, machine: Any, seed: int, timeout: float,
               runtime_cache: Path | None, given: dict | None = None) -> None:
    """`compile --execute`: build, run, and print a line per output and, last, the verdict."""
    from nanott.backends.metalium.build import BuildError
    try:
        with progress(f"building and running {loaded.name} on the CPU runtime"):
            run = cpu.execute(output, loaded, kernel, machine, seed, runtime_cache, timeout=timeout,
                              progress=lambda m: typer.echo(f"nanott: {m}", err=True), given=given)
    except BuildError as e:
        typer.echo(str(e), err=True)
        typer.echo("nanott compile --execute: FAIL (the build failed)")
        typer.echo(boundary.REPORT, err=True)
        raise typer.Exit(boundary.INTERNAL)
    except cpu.RunFailed as e:
        typer.echo(str(e), err=True)
        typer.echo("nanott compile --execute: FAIL (the run failed)")
        if e.timed_out:                          # the --timeout asked: no numbers, not a bug
            raise typer.Exit(boundary.MISMATCH)
        typer.echo(boundary.REPORT, err=True)    # a deadlock or broken rule of the emitted C++
        raise typer.Exit(boundary.INTERNAL)
    for line in run.printed:                 # T.print, as the kernels' DPRINT printed it
        typer.echo(line)
    for r in run.results:
        typer.echo(r.line())
    ok = all(r.ok for r in run.results)
    typer.echo(f"built in {run.build_seconds:.1f} s, ran in {run.run_seconds:.2f} s on {machine.name} (CPU)")
    worst = max(r.max_rel for r in run.results)
    typer.echo(f"nanott compile --execute: max rel err {num(worst)} against NumPy, "
               f"{'within tolerance: PASS' if ok else 'NOT within tolerance: FAIL'}")
    if not ok:
        raise typer.Exit(boundary.MISMATCH)


from nanott import cli_opt, cli_report  # noqa: E402,F401  (register `nanott opt` and `report`)
