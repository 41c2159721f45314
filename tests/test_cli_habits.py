"""The CLI habits of LLVM and MLIR users: --version, --time-passes, --print-before, --stop-before,
--print-changed, --quiet, coloured diffs, shell completion, the progress bar on long work, and a
test that every flag of every command appears in some test of this directory."""
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from conftest import ROOT, nanott_cli as nanott
from rich.console import Console

from nanott.cli import app
from nanott.cli_habits import progress
from nanott.pipeline import PIPELINE, STAGES

GEMM = str(ROOT / "examples" / "gemm.py")
BANNER = re.compile(r"^# ----- IR (after|before) (\w+)", re.M)


def banners(text: str) -> list[tuple[str, str]]:
    return BANNER.findall(text)


def test_stop_before_runs_up_to_the_stage_before():
    out = nanott("explain", GEMM, "--stop-before", "B1", "--no-check").stdout
    assert [s for _, s in banners(out)] == [s.id for s in PIPELINE[:STAGES["B1"].position]]   # P0..A3
    assert "error NT936" in nanott("explain", GEMM, "--stop-before", "P0", code=3).stderr


def test_print_before_prints_the_input_of_each_named_stage():
    out = nanott("explain", GEMM, "--print-before", "D3", "--print-before", "C1", "--no-check").stdout
    assert banners(out) == [("before", "C1"), ("before", "D3")]
    assert "(after B2 grid-to-persistent)" in out and "(after D2 bind-tensor-accessors)" in out
    assert "cb_reserve_back" not in out            # D3's input, not its output


def test_print_changed_leaves_out_stages_that_change_nothing():
    out = nanott("explain", GEMM, "--print-changed", "--no-check", "--stop-after", "F1").stdout
    shown = [s for _, s in banners(out)]
    assert "F1" not in shown and "D3" in shown and shown[0] == "P0"     # F1 verifies; it rewrites nothing
    full = nanott("explain", GEMM, "--no-check", "--stop-after", "F1").stdout
    assert [s for _, s in banners(full)] == [s.id for s in PIPELINE[:-1]]


def test_quiet_drops_the_explanations_not_the_ir():
    loud = nanott("explain", GEMM, "--only", "B1", "--no-check").stdout
    quiet = nanott("explain", GEMM, "--only", "B1", "--no-check", "--quiet").stdout
    assert "# Changes:" in loud and "Changes:" not in quiet
    assert quiet.splitlines()[1:] == [line for line in loud.splitlines()[1:] if not line.startswith("# ")
                                      or line.startswith("# unchecked")]


def test_time_passes_prints_a_row_per_stage_that_adds_up():
    err = nanott("explain", GEMM, "--stop-after", "C3", "--time-passes", "--quiet").stderr
    rows = [line.split() for line in err.splitlines() if line[:2] in {s.id for s in PIPELINE}]
    assert [r[0] for r in rows] == [s.id for s in PIPELINE[:STAGES["C3"].position + 1]]
    total = next(line.split() for line in err.splitlines() if line.startswith("total"))
    assert abs(sum(float(r[-3]) for r in rows) - float(total[1])) < 0.1 * len(rows)
    assert float(total[1]) > 0


def test_diffs_are_coloured_only_when_asked_or_on_a_terminal():
    plain = nanott("explain", GEMM, "--only", "D4", "--diff", "--no-check").stdout
    assert "\x1b[" not in plain                     # not a terminal: no colour
    coloured = nanott("explain", GEMM, "--only", "D4", "--diff", "--no-check", "--color", "always").stdout
    assert "\x1b[32m+    compute_kernel_hw_startup" in coloured and "\x1b[1m--- after D3" in coloured
    assert "\x1b[" not in nanott("explain", GEMM, "--only", "D4", "--diff", "--color", "never").stdout


# Typer otherwise takes the shell from the process tree, whatever the command names: under `make`
# that is make's /bin/sh. Typer's own switch makes `--show/--install-completion bash` mean bash.
NAMED_SHELL = dict(os.environ, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")


def test_shell_completion_completes_commands_and_stage_ids():
    nanott_bin = Path(sys.prefix) / "bin" / "nanott"
    script = subprocess.run([str(nanott_bin), "--show-completion", "bash"], capture_output=True, text=True,
                            env=NAMED_SHELL, timeout=60).stdout
    assert "_NANOTT_COMPLETE=complete_bash" in script and "complete -o default -F _nanott_completion nanott" in script
    env = dict(os.environ, _NANOTT_COMPLETE="complete_bash", COMP_WORDS="nanott ex", COMP_CWORD="1")
    r = subprocess.run([str(nanott_bin)], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["explain"]
    env.update(COMP_WORDS=f"nanott explain {GEMM} --stop-after D", COMP_CWORD="4")
    r = subprocess.run([str(nanott_bin)], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["D1", "D2", "D3", "D3a", "D3b", "D3c", "D3d", "D4", "D5", "D5a", "D5b", "D5c", "D5d"]


def test_progress_shows_only_on_work_over_a_second():
    def run(seconds: float, terminal: bool) -> str:
        out = io.StringIO()
        with progress("simulating", after=0.3, console=Console(file=out, force_terminal=terminal, width=80)):
            time.sleep(seconds)
        return out.getvalue()
    assert run(0.05, True) == ""                           # quick work: no bar at all
    slow = run(0.8, True)
    assert "simulating" in slow and re.search(r"simulating: 0\.\d s", re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", slow))
    assert run(0.8, False) == ""                           # not a terminal: nothing drawn


def test_every_flag_of_every_command_is_tested():
    """Each option in `nanott ... --help` appears, spelled out, in some test file."""
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    group = typer.main.get_command(app)
    untested = []
    for name, command in [("nanott", group), *group.commands.items()]:
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                if not any(f'"{flag}"' in tests for flag in param.opts) and param.name != "help":
                    untested.append(f"{name} {'/'.join(param.opts)}")
    assert not untested, untested


def test_target_reaches_every_command(tmp_path):
    """--target blackhole_p150: a 13x10 grid (130 cores) instead of the n150's 8x8."""
    assert "of 13x10 cores" in nanott("explain", GEMM, "--only", "B1", "--no-check", "--target", "blackhole_p150").stdout
    assert nanott("run", GEMM, "--level", "L2", "--target", "blackhole_p150").stdout.rstrip().endswith("PASS")
    nanott("graph", GEMM, "--after", "B1", "--work", "-o", str(tmp_path / "b1.dot"), "--target", "blackhole_p150")
    assert "16 blocks over 16 of 13x10 cores" in (tmp_path / "b1.dot").read_text()
    assert "error NT937" in nanott("graph", GEMM, "--after", "A3", "--work", "-o", str(tmp_path / "x.svg"), code=3).stderr
    nanott("compile", GEMM, "-o", str(tmp_path / "out"), "--target", "blackhole_p150")
    assert '"blackhole_p150"' in (tmp_path / "out" / "tt.plan.json").read_text()
    nanott("explain", GEMM, "--stop-after", "A3", "--no-check", "--dump-dir", str(tmp_path / "ir"))
    b1 = nanott("opt", str(tmp_path / "ir" / f"{STAGES['A3'].position:02d}_A3_attach-tensor-accessors.json"), "--passes", "B1",
                "--target", "blackhole_p150").stdout
    assert "of 13x10 cores" in b1
    nanott("report", GEMM, "--no-check", "-o", str(tmp_path / "r.html"), "--target", "blackhole_p150")
    assert "of 13x10 cores" in (tmp_path / "r.html").read_text()


@pytest.mark.slow
def test_compile_timeout_stops_a_run_that_takes_too_long(tmp_path, runtime_cache):
    result = nanott("compile", GEMM, "-o", str(tmp_path), "--execute", "--timeout", "0.001",
                    "--runtime-cache", str(runtime_cache), code=1)
    assert "FAIL (the run failed)" in result.stdout


def test_install_completion_writes_the_shell_startup_file(tmp_path):
    env = dict(NAMED_SHELL, HOME=str(tmp_path), SHELL="/bin/bash")
    r = subprocess.run([str(Path(sys.prefix) / "bin" / "nanott"), "--install-completion", "bash"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "nanott" in (tmp_path / ".bashrc").read_text()


def test_run_fidelity_changes_the_modelled_math():
    """--fidelity (issue 12's cycle model): HiFi4 charges 4 times LoFi's cycles per matmul tile."""
    def ideal(fidelity):
        out = nanott("run", GEMM, "--stats", "--fidelity", fidelity).stdout
        assert f"math fidelity {fidelity}" in out
        return int(re.search(r"ideal cycles\s+([\d,]+)", out).group(1).replace(",", ""))
    assert ideal("HiFi4") == 4 * ideal("LoFi")
