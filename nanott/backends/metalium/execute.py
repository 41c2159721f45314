"""Running an emitted program on nanott's CPU device, and checking its numbers against NumPy.

`run_program` writes the input tensors where main.cpp reads them (`out/run/in/<tensor>.bin`: raw
little-endian row-major values of the tensor's own shape in its host type, as tt.plan.json says;
main.cpp pads a ragged one itself), runs the executable under a time limit with NANOTT_CPU_DEVICE
describing the target, and reads the outputs back from `out/run/out/`. A run
that fails (a broken rule, a deadlock, the time limit) raises RunFailed with the runtime's report,
followed by the names of the CBs it mentions and the lines of the emitted kernels that make the
calls it names, each with the kernel source line its comment gives.

`execute` is what `nanott compile --execute` does after writing the files: build (build.py), run on
`api.random_inputs`, and compare with `api.expected_outputs` (the kernel file's NumPy reference).
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nanott import api
from nanott.backends.metalium.build import Progress, build
from nanott.backends.metalium.plan import Plan, SequencePlan, load_plan
from nanott.given_inputs import with_given
from nanott.languages.l0_interp import np_dtype
from nanott.target import Target

DEADLOCK_MS = 500            # the runtime's watchdog: all kernels blocked and no progress this long
EXIT_CODES = {3: "deadlock", 4: "a broken rule"}


class RunFailed(Exception):
    """The program did not run to its end: the runtime's report, explained (or the time limit)."""

    def __init__(self, report: str, timed_out: bool = False):
        super().__init__(report)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Execution:
    results: list[api.Comparison]       # per output, against the NumPy reference
    outputs: dict[str, np.ndarray]      # what the program wrote, by tensor name
    build_seconds: float
    run_seconds: float
    printed: list[str]                  # the kernels' DPRINT lines (T.print), in the order printed


def write_files(out: Path, files: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)


def execute(out: Path, loaded: Any, kernel: Any, target: Target, seed: int = 0,
            runtime_cache: Path | None = None, progress: Progress = lambda _: None,
            timeout: float = 120.0, given: dict | None = None) -> Execution:
    """Build the program written in `out`, run it on seeded random inputs (with the `given` arrays
    in place of theirs: --inputs), compare with NumPy."""
    plan = load_plan((out / "tt.plan.json").read_text())
    start = time.perf_counter()
    exe = build(out, plan, runtime_cache, progress)
    built = time.perf_counter()
    inputs = with_given(kernel, api.random_inputs(kernel, seed), given or {})
    expected = api.expected_outputs(loaded, kernel, inputs)
    progress(f"running {exe.name} on {target.name} (seed {seed})")
    outputs = run_program(out, exe, plan, inputs, target, timeout)
    ran = time.perf_counter()
    printed = (out / "run" / "dprint.txt").read_text().splitlines()
    return Execution(api.compare(kernel, inputs | outputs, expected), outputs, built - start, ran - built,
                     printed)


def device_spec(target: Target) -> str:
    """The target as NANOTT_CPU_DEVICE (runtime/src/state.hpp, Arch)."""
    return (f"name={target.name},grid={target.grid[0]}x{target.grid[1]},l1={target.l1_bytes},"
            f"l1_free={target.l1_usable_bytes},cbs={target.num_cbs},dram_banks={target.dram_banks},"
            f"dram_alignment={target.dram_alignment},dst16={target.dst_tiles_16bit},"
            f"dst32={target.dst_tiles_32bit}")


def run_program(out: Path, exe: Path, plan: Plan | SequencePlan, inputs: dict[str, np.ndarray], target: Target,
                timeout: float = 120.0) -> dict[str, np.ndarray]:
    """Run the built program on `inputs` (by tensor name); its outputs, by tensor name."""
    in_dir, out_dir = out / "run" / "in", out / "run" / "out"
    for d in (in_dir, out_dir):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.bin"):
            old.unlink()
    for t in plan.tensors:
        if t.input:
            np.ascontiguousarray(inputs[t.name], np_dtype(t.dtype)).reshape(t.shape).tofile(in_dir / t.file)
    env = dict(os.environ, NANOTT_CPU_DEVICE=device_spec(target), NANOTT_CPU_DEADLOCK_MS=str(DEADLOCK_MS))
    try:
        r = subprocess.run([str(exe), str(in_dir), str(out_dir)], capture_output=True, text=True, env=env,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RunFailed(f"{exe.name} did not finish within {timeout:g} s (killed)", timed_out=True) from None
    if r.returncode != 0:
        what = EXIT_CODES.get(r.returncode, f"exit code {r.returncode}")
        report = f"{exe.name} failed ({what}):\n{r.stdout}{r.stderr.rstrip()}\n"
        raise RunFailed(report + explain(r.stderr, out, plan))
    (out / "run" / "dprint.txt").write_text(r.stdout)       # what the kernels printed (DPRINT)
    outputs = {}
    for t in (t for t in plan.tensors if t.output):
        outputs[t.name] = np.fromfile(out_dir / t.file, np_dtype(t.dtype)).reshape(t.shape)
    return outputs


CALL = re.compile(r"(\w+)\(cb (\d+), (\d+)\)")
ROLE = re.compile(r"\b(reader|compute|writer)\b")


def explain(report: str, out: Path, plan: Plan | SequencePlan) -> str:
    """The CBs a runtime report names, and the kernel lines making the calls it names (of a
    program's only launch; a report from several launches names their CBs by index only)."""
    cbs = {cb.index: cb for cb in plan.cbs} if isinstance(plan, Plan) else {}
    named = sorted({int(i) for i in re.findall(r"\bcb (\d+)", report) if int(i) in cbs})
    lines = [f"  cb {i} is cb_{cbs[i].name} ({cbs[i].producer} -> {cbs[i].consumer}, {cbs[i].pages} pages)"
             for i in named]
    seen = set()
    for line in report.splitlines():
        role = ROLE.search(line)
        for call, cb, pages in CALL.findall(line):
            key = (role.group(1) if role else "", call, int(cb), pages)
            if role is None or int(cb) not in cbs or key in seen:
                continue
            seen.add(key)
            text = f"{call}(cb_{cbs[int(cb)].name}, {pages})"
            source = out / f"{key[0]}.cpp"
            code = source.read_text().splitlines() if source.exists() else []
            hits = [f"  {source.name}:{n}: {s.strip()}" for n, s in enumerate(code, 1) if text in s]
            lines += hits or [f"  ({text} is not in {source.name})"]
    return "\n".join(["where:", *lines]) + "\n" if lines else ""
