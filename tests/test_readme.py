"""The README's promise, kept: every command in its ```sh blocks and its ```python block runs as
written, from a fresh directory holding the examples, with the installed `nanott` command.

Four lines are not run, each for a stated reason: `sudo apt-get install ...` installs system
packages (the test checks instead that each prerequisite it names is present), `make test` is this
test suite, `make fuzz` is its heavy tier (`pytest -m heavy`, minutes of CPU: the Makefile target
is checked to exist instead), and `source .venv/bin/activate` only puts nanott on PATH (the test
checks the script exists and puts the same bin directory on PATH).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text()
BIN = Path(sys.prefix) / "bin"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def commands() -> list[str]:
    """Each command of the sh blocks, its trailing comment dropped; comment-only lines skipped."""
    out = []
    for block in blocks("sh"):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                out.append(command)
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    (d / "examples").symlink_to(ROOT / "examples")
    return d


@pytest.fixture(scope="module")
def env(runtime_cache):
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", NANOTT_CACHE=str(runtime_cache))


def test_the_readme_has_the_commands_this_test_runs():
    assert "make demo" in commands() and any(c.startswith("nanott opt") for c in commands())
    assert len(blocks("python")) == 1


def test_the_prerequisites_it_names_are_here():
    (apt,) = [c for c in commands() if c.startswith("sudo apt-get install")]
    tools = {"python3-venv": "python3", "make": "make", "g++": "g++", "graphviz": "dot"}
    for package in apt.split()[4:]:
        assert shutil.which(tools[package]), f"the README lists {package}; {tools[package]} is missing"


def test_the_make_targets_it_does_not_run_exist():
    makefile = (ROOT / "Makefile").read_text()
    for command in commands():
        if command.startswith(("make test", "make fuzz")):
            assert re.search(rf"^{command.split()[1]}:", makefile, re.M), command


@pytest.mark.slow       # each command is a fresh process (a second to import and run), some build C++
@pytest.mark.parametrize("command", [c for c in commands()
                                     if not c.startswith(("sudo ", "make test", "make fuzz"))])
def test_readme_command_runs_as_written(command, workdir, env):
    if command == "source .venv/bin/activate":
        assert (BIN / "activate").is_file() and (BIN / "nanott").is_file()
        return
    cwd = ROOT if command.startswith("make ") else workdir
    if command.startswith("make ") and sys.prefix != sys.base_prefix:
        env = dict(env, VIRTUAL_ENV=sys.prefix)        # the Makefile uses the active virtualenv
    r = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_readme_python_runs_as_written(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    exec(compile(blocks("python")[0], "README.md", "exec"), {})
    assert (workdir / "c2.json").is_file()
