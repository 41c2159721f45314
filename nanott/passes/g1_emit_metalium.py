"""G1 emit-metalium: L9 -> C++

Changes:   the verified L9 program becomes the files of a TT-Metalium program: reader.cpp,
           compute.cpp and writer.cpp (each statement of a kernel's body printed as the Metalium
           call it names, with the source line it came from), main.cpp (the Mesh host program:
           DRAM buffers, CBs from their plans, kernels with their compile-time arguments, every
           core's runtime arguments from E1's table, inputs in, run, outputs out), tt.plan.json
           (the host-side facts as versioned records) and CMakeLists.txt (builds main.cpp; the
           runtime JIT-compiles the kernels). A program of several launches: each launch's
           kernels as launch<i>_<role>.cpp and one main.cpp that runs the launches in order. Calls are spelled by the API table of one tt-metal
           release (nanott/backends/metalium/api.py; Feb 2026 unless `api` says otherwise).
Preserves: every statement, its order and its source line; CB indices, argument slots and cta
           offsets exactly as the IR has them. Nothing is decided here: a node the printer does
           not know, a slot E1 did not assign, or a call the API table lacks is a compiler bug
           (CheckError), never a guess.
Why:       the IR is only worth its checks if the code that runs is the IR. A printer that
           invents nothing cannot drift from the simulated program, and a table of calls per
           release makes the next API break a one-line change.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nanott.ir import Launches
from nanott.languages import l9
from nanott.target import Target

if TYPE_CHECKING:
    from nanott.backends.metalium.api import Api


def emit_metalium(program: l9.Program | Launches, target: Target, api: Api | None = None) -> dict[str, str]:
    """The emitted files, by name, in a fixed order: the three kernels, main.cpp, the plan, CMake;
    for the target's release unless `api` names another table. A program of several launches:
    launch<i>_<role>.cpp for each launch, one main.cpp that runs them in order."""
    # the backend (and its JSON library) loads when G1 first runs, not when nanott starts
    from nanott.backends.metalium.api import VERSIONS
    from nanott.backends.metalium.host import cmake_source, host_source
    from nanott.backends.metalium.host_sequence import sequence_host_source
    from nanott.backends.metalium.kernels import kernel_source
    from nanott.backends.metalium.plan import ROLES, plan_json, plan_of, sequence_plan_of
    api = api or VERSIONS[target.release]
    if isinstance(program, Launches):
        plan = sequence_plan_of(program, target, api)
        files = {f"launch{i}_{role}.cpp": kernel_source(k, role, api)
                 for i, k in enumerate(program.launches) for role in ROLES}
        files["main.cpp"] = sequence_host_source(plan, api)
        files["tt.plan.json"] = plan_json(plan)
        files["CMakeLists.txt"] = cmake_source(plan, api)
        return files
    plan = plan_of(program, target, api)
    files = {f"{role}.cpp": kernel_source(program, role, api) for role in ROLES}
    files["main.cpp"] = host_source(plan, api)
    files["tt.plan.json"] = plan_json(plan)
    files["CMakeLists.txt"] = cmake_source(plan, api)
    return files
