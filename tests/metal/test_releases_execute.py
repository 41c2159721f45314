"""Every example built against an older release's API and run (`nanott compile FILE --release R
--execute`), in the real-header tier beside the builds against that release's own headers.

`make test` already runs every example on the default release (tests/test_metalium_execute.py:
test_execute_matches_numpy_and_the_l9_interpreter) and four examples on every release (its
BY_RELEASE: the calls whose spelling a release changes, on each release). Here every other example
meets one of the older releases: the examples in name order take 0.65.0 and 0.66.0 in turn, so
each example's spelling is built against an older release's declarations of the CPU runtime and
each older release runs half of them. Why not all of them on both: each run is four compiles and a
link (2-4 s on two cores); every example on every release would add about three minutes to a tier
that takes about six, and CI aims at 15 minutes in all; the two older releases differ from each
other only in calls BY_RELEASE covers on both.
"""
from __future__ import annotations

import shutil

import pytest
from conftest import EXAMPLES
from test_metalium_execute import BY_RELEASE, builds_and_runs_on

from nanott.backends.metalium.api import DEFAULT, RELEASES, VERSIONS
from nanott.ir import launches_of, walk
from nanott.languages import l9

pytestmark = [pytest.mark.G1, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")]
OLDER = [r for r in RELEASES if r != DEFAULT.version]
SPREAD = [(example, OLDER[i % len(OLDER)]) for i, example in enumerate(e for e in EXAMPLES if e not in BY_RELEASE)]


def test_the_spread_gives_every_example_an_older_release():
    assert len(OLDER) == len(RELEASES) - 1 >= 1
    assert {e for e, _ in SPREAD} | set(BY_RELEASE) == set(EXAMPLES)
    assert {r for _, r in SPREAD} == set(OLDER)


@pytest.mark.parametrize(("example", "release"), SPREAD, ids=[f"{e}-{r}" for e, r in SPREAD])
def test_example_builds_and_runs_on_an_older_release(example, release, lowered, runtime_cache, tmp_path):
    """An example whose compute reads a value the reader sends it (read_tile_value, 0.66.0 and later)
    takes an older release that has the call (on 0.65.0 it is NT330: test_real_metal.py)."""
    if sends_values(lowered.program(example, "F1")) and "read_tile_value" not in VERSIONS[release].calls:
        release = next(r for r in OLDER if "read_tile_value" in VERSIONS[r].calls)
    builds_and_runs_on(release, example, lowered, runtime_cache, tmp_path)


def sends_values(program) -> bool:
    """Whether a compute kernel of the program reads an element of a page the reader sent it."""
    return any(isinstance(x, l9.FrontElement) for k in launches_of(program) for x in walk(k.kernel("compute").body))
