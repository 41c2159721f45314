"""The `nanott` command's process (nanott/command.py, nanott/pipeline.py's `later`): what makes a
cold `nanott explain` start fast changes nothing it prints, and does what it says."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GEMM = str(ROOT / "examples" / "gemm.py")

# runs the command in this interpreter, then reports the collector's settings and the passes loaded
PROBE = """
import atexit, gc, json, sys
from nanott.command import main
atexit.register(lambda: print(json.dumps({"young": gc.get_threshold()[0], "frozen": gc.get_freeze_count(),
    "pydantic": "pydantic" in sys.modules,
    "passes": sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("nanott.passes.")
                     and not m.rsplit(".", 1)[1].startswith("_"))}), file=sys.stderr))
sys.argv = ["nanott", *sys.argv[1:]]
main()
"""


def probe(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
    r = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
    return r, json.loads(r.stderr.strip().splitlines()[-1])


def test_the_command_tunes_the_collector_and_loads_only_the_passes_it_runs_without_pydantic():
    from nanott.command import YOUNG
    r, seen = probe("explain", GEMM, "--stop-after", "A1", "--no-check")
    assert r.returncode == 0 and "A1 infer-layout" in r.stdout
    assert seen["young"] == YOUNG and seen["frozen"] > 1000            # the compiler's objects, frozen
    assert not seen["pydantic"]                     # nanott/cli_coerce.py: Typer's checks without its adapters
    assert seen["passes"] == ["a1_infer_layout", "p0_parse", "p0a_merge_row_blocks", "p0b_stage_dram_elements",
                                "p0c_split_k_across_cores"]


@pytest.mark.slow
def test_the_command_prints_what_the_app_prints():
    """The same output and exit code through nanott.command as through the Typer app itself."""
    from typer.testing import CliRunner

    from nanott.cli import app
    args = ["explain", GEMM, "--stop-after", "B1", "--quiet"]
    through_app = CliRunner().invoke(app, args)
    r, _ = probe(*args)
    assert (r.returncode, r.stdout) == (through_app.exit_code, through_app.stdout)
    r, _ = probe("explain", GEMM, "--stop-after", "Z9")
    assert r.returncode == 2 and "Z9" in r.stderr                      # a usage error is still exit 2


BLAS_PROBE = """
import os, sys
from nanott.command import main
sys.argv = ["nanott", *sys.argv[1:]]
try:
    main()
finally:
    import numpy
    print("blas", os.environ.get("OPENBLAS_NUM_THREADS"), file=sys.stderr)
"""


@pytest.mark.parametrize("command,user,expected", [
    (["explain", GEMM, "--stop-after", "P0", "--no-check"], None, "1"),
    (["explain", GEMM, "--stop-after", "P0", "--no-check"], "2", "2"),
    (["passes"], None, None)])
def test_explain_runs_blas_on_one_thread_unless_the_user_chose(command, user, expected):
    import os
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if user is not None:
        env["OPENBLAS_NUM_THREADS"] = user
    r = subprocess.run([sys.executable, "-c", BLAS_PROBE, *command], capture_output=True, text=True,
                       timeout=120, cwd=ROOT, env=env)
    assert r.stderr.strip().splitlines()[-1] == f"blas {expected}", r.stderr
