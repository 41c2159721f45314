"""Inputs a user gives (`--inputs FILE.npz`): the tables a kernel's data-dependent indices need.

nanott runs every kernel on seeded random inputs (api.random_inputs), and chooses the values of an
integer tensor the kernel reads as offsets, lengths or indices so that every access stays inside
its buffer (index_roles.py, index_inputs.py). Some tables cannot be chosen one tensor at a time:
fused MoE's routing (`group_idx_for_bx[bx]` picks a group, whose `group_padded_offsets` and
`group_offsets` place the block's rows) and NSA's token table (`TokenIndices[c] = (sequence,
position)` of token c, consistent with `Offsets`) are invariants between tensors that the host
code builds. What a user does then is what they do on the GPU: make the tables and hand them in.
So `explain`, `run` and `compile --execute` take `--inputs FILE.npz`, a NumPy archive of arrays
named after the kernel's parameters; each replaces that parameter's random values, the others
stay random (the same seed draws the same values). Running the file's own host code instead is
not an option: it builds the tables with torch on a CUDA device, and often imports packages of its
own; nanott loads a kernel file without running its `__main__`.

And when random tables do send an index outside its buffer (NT120), or make the file's reference
fail (NT919), the diagnostic says which
integer inputs were random although the kernel reads them as indices (found by analysis: an
integer input loaded inside an element index, a copy's start or a loop's bound, whose values no
role chose), and how to give them.
"""
from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from nanott.diagnostics import NanottError
from nanott.index_roles import collect, index_roles, reads
from nanott.index_inputs import index_ranges
from nanott.languages import l0
from nanott.languages.l0_interp import np_dtype

INPUTS_HINT = ("save the arrays with numpy.savez(FILE, name=array, ...), one per input parameter it "
               "gives, and pass --inputs FILE.npz")


def read_inputs(path: Path | None) -> dict[str, np.ndarray]:
    """The arrays of an .npz archive by name (none: no file); NT943 when it cannot be read."""
    if path is None:
        return {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise NanottError("NT943", f"--inputs {path}: not a NumPy .npz archive ({e})", hint=INPUTS_HINT) from None


def with_given(kernel: l0.Kernel, inputs: dict[str, np.ndarray], given: dict[str, np.ndarray]) -> dict:
    """`inputs` (random, every parameter) with each given array in place of its parameter's. A given
    array must name an input parameter and have its shape; its dtype is converted when every value
    survives the conversion (int64 tables into an int32 parameter), else NT915."""
    from nanott.api import tensor_roles
    ins, _ = tensor_roles(kernel)
    params = {p.name: p for p in kernel.params}
    out = dict(inputs)
    for name, a in given.items():
        if name not in ins:
            what = "an output the kernel only writes" if name in params else "no parameter of the kernel"
            raise NanottError("NT943", f"--inputs gives {name}, {what}; its inputs are {', '.join(ins)}",
                              hint=INPUTS_HINT)
        p, dtype = params[name], np_dtype(params[name].dtype)
        converted = np.asarray(a).astype(dtype)
        if a.shape != p.shape or not np.array_equal(converted.astype(a.dtype), a, equal_nan=True):
            got = f"{a.dtype}{list(a.shape)}"
            why = "shape" if a.shape != p.shape else "values (they change in the conversion)"
            raise NanottError("NT915", f"--inputs {name} must be a {p.dtype}{list(p.shape)} array, got {got}: "
                              f"its {why} do not fit", hint=INPUTS_HINT)
        out[name] = converted
    return out


def random_tables(kernel: l0.Kernel, given: dict[str, np.ndarray]) -> list[str]:
    """The integer inputs the kernel reads as indices (an element index, a copy's start, a loop's
    bound) whose values were random: no role chose them, and the user gave none."""
    from nanott.api import tensor_roles
    ins, _ = tensor_roles(kernel)
    ints = {p.name for p in kernel.params if p.name in ins and np_dtype(p.dtype).kind in "iu"}
    chosen = set(index_roles(kernel, ints)) | set(index_ranges(kernel)) | set(given)
    used = set()
    for a in collect(kernel):
        parts = (*a.indices, *(what for kind, _, what in a.scope if kind in ("loop", "extent")))
        used |= {t for t in ints for x in parts if reads(x, t)}
    return sorted(used - chosen)


@contextlib.contextmanager
def explained(kernel: Any, given: dict[str, np.ndarray]) -> Iterator[None]:
    """An index outside its buffer (NT120), or the file's reference failing (NT919), while random
    index tables were in use: the same error, with a hint naming the tables and --inputs."""
    try:
        yield
    except NanottError as e:
        tables = random_tables(kernel, given) if e.code in ("NT120", "NT919") else []
        if not tables:
            raise
        raise NanottError(e.code, e.message, e.loc, f"{', '.join(tables)} {'is' if len(tables) == 1 else 'are'} "
                          "random here, and the kernel reads them as indices: their values must be the "
                          "tables the kernel expects (its host code builds them); " + INPUTS_HINT) from None
