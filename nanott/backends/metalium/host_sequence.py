"""main.cpp of a program of several launches (a SequencePlan): one device, one DRAM buffer per
tensor (scratch tensors too: they carry data from one launch to the next), the inputs written
once, then each launch in its own C++ block, in order: its Program, CBs, kernels and runtime
arguments, enqueued and finished before the next begins (a launch reads what the one before it
wrote), and at the end the outputs read back. Each block is printed by host.py's HostPrinter
for that launch's Plan, so a launch is emitted exactly as a program of one launch would be.
"""
from __future__ import annotations

from nanott.backends.metalium.api import Api
from nanott.backends.metalium.host import I1, HostPrinter
from nanott.backends.metalium.plan import SequencePlan


def sequence_host_source(plan: SequencePlan, api: Api) -> str:
    whole = HostPrinter(plan, api)                  # the tensors: buffers, inputs, outputs
    body = whole.device() + whole.buffers() + whole.inputs()
    for i, launch in enumerate(plan.launches):
        one = HostPrinter(launch, api)
        block = (one.program() + one.circular_buffers() + one.kernels() + one.runtime_args()
                 + one.run())
        then = "the next launch starts" if i + 1 < len(plan.launches) else "the outputs are read"
        body += ["", I1 + f"// launch {i} of {len(plan.launches)}: {launch.kernel}, on {len(launch.cores)} "
                          f"cores; finished before {then}", I1 + "{"]
        body += [I1 + line if line else line for line in block] + [I1 + "}"]
        whole.headers |= one.headers
    return whole.assemble(body + whole.outputs())
