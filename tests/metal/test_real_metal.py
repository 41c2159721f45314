"""The real-header tier (`make test-metal`): nanott's C++ against tt-metal as the ttnn wheels ship it.

For every supported release (api.RELEASES) and every example (each launch of one of several): reader.cpp and writer.cpp compile
inside the release's own firmware files, compute.cpp three times (TRISC_UNPACK, TRISC_MATH,
TRISC_PACK), with the release's headers and tt-llk and the generated files tt.plan.json implies
(jit.py); main.cpp links against the release's libtt_metal.so (link.py). A probe kernel that makes every call of the release's API table once compiles too, so
the table cannot hold a call the release lacks. A failure lists the real mismatches; errors that
only the stand-in compiler causes are reported apart and do not fail (jit.py says which are which).

A release whose wheel pip cannot download fails with pip's words (it is blocked, not skipped).
The tier runs only when NANOTT_TEST_METAL=1 (tests/conftest.py), as `make test-metal` sets it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import ROOT, launch_ids

from nanott.backends.metalium import api as metalium
from nanott.backends.metalium import jit, link
from nanott.backends.metalium.plan import Plan
from nanott.backends.metalium.probe import probe_sources
from nanott.backends.metalium.wheels import Layout
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l9
from nanott.passes.g1_emit_metalium import emit_metalium
from nanott.target import WORMHOLE_N150

BUILDS = (("reader", ""), ("writer", ""), ("compute", "UNPACK"), ("compute", "MATH"), ("compute", "PACK"))


@pytest.fixture(scope="module", params=metalium.RELEASES)
def layout(request) -> Layout:
    return Layout.of(request.param)


def declined(lowered, example: str, release: str) -> bool:
    """Whether G1 declines the example for the release, as it must: its compute reads a value the
    reader sends it, and the release has no read_tile_value (0.65.0): NT330, checked here."""
    program = lowered.launch(example, "F1")
    if "read_tile_value" in metalium.VERSIONS[release].calls or not any(
            isinstance(x, l9.FrontElement) for x in walk(program.kernel("compute").body)):
        return False
    with pytest.raises(NanottError, match="has no read_tile_value"):
        emit_metalium(program, dataclasses.replace(WORMHOLE_N150, release=release))
    return True


def emitted(lowered, example: str, release: str, tmp: Path) -> tuple[Path, Plan]:
    """The files of an example, or of one launch of an example of several (`flash_decoding:1`),
    emitted as a program of its own: the kernels are those of the sequence's launch<i>_ files."""
    target = dataclasses.replace(WORMHOLE_N150, release=release)
    files = emit_metalium(lowered.launch_for(example, "F1", release), target)
    for name, text in files.items():
        (tmp / name).write_text(text)
    return tmp, Plan.from_json(files["tt.plan.json"])


@pytest.mark.parametrize("example", launch_ids())
def test_example_compiles_against_the_release(layout, example, tmp_path, lowered):
    if declined(lowered, example, layout.release):
        return
    out, plan = emitted(lowered, example, layout.release, tmp_path)
    outcomes = [jit.check(layout, out, plan, role, thread) for role, thread in BUILDS]
    assert not any(o.real for o in outcomes), "\n".join(o.report() for o in outcomes if o.real)
    # the stand-in covers the SFPI the release's tt-llk uses: the builds compile but for what GCC 12
    # itself rejects (static_assert(false) in a template), so nothing of the kernel goes unchecked
    lacking = [o for o in outcomes if o.of_the_standin]
    assert not lacking, "the SFPI stand-in lacks:\n" + "\n".join(f"{o.what}: {o.of_the_standin[0]}" for o in lacking)


@pytest.mark.parametrize("example", launch_ids())
def test_main_links_against_the_release_library(layout, example, tmp_path, lowered):
    """Every host call of main.cpp resolves in the release's own libtt_metal.so (link.py)."""
    if declined(lowered, example, layout.release):
        return
    out, plan = emitted(lowered, example, layout.release, tmp_path)
    outcome = link.link(layout, out, plan)
    assert not outcome.real, outcome.report()


def test_a_host_overload_the_release_lacks_is_a_real_mismatch(tmp_path, lowered):
    """The link can fail: main.cpp built with 0.66's CreateKernel (one variant of three configs)
    does not resolve in 0.81.1's library, which split it into overloads; it does in 0.66.0's."""
    out, plan = emitted(lowered, "gemm", "0.66.0", tmp_path)
    for release, real in (("0.66.0", False), ("0.81.1", True)):
        outcome = link.link(Layout.of(release), out, plan)
        assert bool(outcome.real) == real, outcome.report()
        assert all("CreateKernel" in e.message for e in outcome.real), outcome.report()


def test_probe_of_the_whole_api_table(layout, tmp_path, lowered):
    """Every entry of the release's table, called once, compiles against that release."""
    _, plan = emitted(lowered, "softmax", layout.release, tmp_path)      # a plan with reduce's defines
    api = metalium.VERSIONS[layout.release]
    sources = probe_sources(api)
    outcomes = [jit.check_source(layout, sources["reader"], "reader", "", plan, "probe reader")]
    outcomes += [jit.check_source(layout, sources["compute"], "compute", t, plan, f"probe (TRISC_{t})")
                 for t in jit.THREADS]
    assert not any(o.real for o in outcomes), "\n".join(o.report() for o in outcomes if o.real)


def test_a_call_the_release_lacks_is_a_real_mismatch(tmp_path, lowered):
    """The check can fail: 0.66.0 has no sub_tiles_bcast_rows (docs/reference.md §4.4), 0.81.1 has it."""
    for release, real in (("0.66.0", True), ("0.81.1", False)):
        layout = Layout.of(release)
        _, plan = emitted(lowered, "softmax", release, tmp_path)
        api = metalium.VERSIONS[release]
        bcast = api["sub_tiles_bcast_cols"].header
        text = (f'#include <cstdint>\n#include "{bcast}"\n'
                + api["compute_kernel"](body="    sub_tiles_bcast_rows(0, 1, 0, 0, 0);\n"))
        outcome = jit.check_source(layout, text, "compute", "MATH", plan, "row-broadcast subtract")
        assert bool(outcome.real) == real, outcome.report()


def broken_dprint(text: str, release: str) -> str:
    """A scalar DPRINT misspelled: a format spec 0.81 has no such argument for, a stream's ENDL(0)."""
    return text.replace("{}", "{x}") if release == "0.81.1" else text.replace("ENDL()", "ENDL(0)")


def broken_tslice(text: str, release: str) -> str:
    """A TSLICE with a SliceRange helper no release has."""
    return text.replace("SliceRange::hw0_32_8()", "SliceRange::hw0_32_7()")


@pytest.mark.parametrize("kernel, broken", [("print_indices.py", broken_dprint), ("print_buffers.py", broken_tslice)])
def test_a_kernel_that_prints_compiles_with_dprint_off_and_on(layout, tmp_path, kernel, broken):
    """T.print in the release's spelling compiles in every TRISC build, with DPRINT compiled out
    (the default) and in (-DDEBUG_PRINT_ENABLED, as a run with DPRINT on builds it): scalars'
    DPRINT_MATH (tests/kernels/print_indices.py) and buffers' DPRINT_UNPACK of TSLICE(cb, tile,
    SliceRange::hw0_32_8()) (tests/kernels/print_buffers.py); a broken spelling is a real mismatch,
    so the check can fail."""
    from nanott.loader import load_kernel
    from nanott.pipeline import lower
    program = lower(load_kernel(ROOT / "tests" / "kernels" / kernel).prim_func, "F1")
    files = emit_metalium(program, dataclasses.replace(WORMHOLE_N150, release=layout.release))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    plan = Plan.from_json(files["tt.plan.json"])
    outcomes = [jit.check(layout, tmp_path, plan, "compute", t, on) for t in jit.THREADS
                for on in ((), ("-DDEBUG_PRINT_ENABLED",))]
    assert not any(o.real for o in outcomes), "\n".join(o.report() for o in outcomes if o.real)
    thread = "UNPACK" if kernel == "print_buffers.py" else "MATH"
    outcome = jit.check_source(layout, broken(files["compute.cpp"], layout.release), "compute", thread, plan,
                               "a broken DPRINT", ("-DDEBUG_PRINT_ENABLED",))
    assert outcome.real, outcome.report()
