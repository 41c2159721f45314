"""Diagnostics for user mistakes: an error code, a message, the kernel's source line with a caret,
and a hint. Never a traceback for a mistake in the user's kernel.

Codes: NT1xx mistakes in the kernel, NT2xx hardware limits (L1, DST, CBs), NT3xx constructs
nanott does not lower yet, NT5xx faults the device simulator names, NT9xx loading files and command-line usage. CODES lists every code
once; a test fails when the compiler raises a code that is not listed here.
"""
from __future__ import annotations

import linecache

from nanott.ir import NOLOC, Loc


class NanottError(Exception):
    """A mistake in the user's kernel (or a limit of the hardware it asks for)."""

    def __init__(self, code: str, message: str, loc: Loc | None = None, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.loc, self.hint = code, message, loc or NOLOC, hint

    def render(self) -> str:
        loc = self.loc
        if loc == NOLOC:
            out = [f"error {self.code}: {self.message}"]
        else:
            out = [f"{loc.file}:{loc.line}:{loc.col + 1}: error {self.code}: {self.message}"]
            text = linecache.getline(loc.file, loc.line).rstrip("\n")
            if text:
                word = len(text[loc.col:]) - len(text[loc.col:].lstrip("abcdefghijklmnopqrstuvwxyz"
                                                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.0123456789"))
                out += [f"    {text}", "    " + " " * loc.col + "^" + "~" * max(0, word - 1)]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


class NanottWarning(UserWarning):
    """A statically visible mistake that does not stop the kernel: printed as `warning NTxxx`."""

    def __init__(self, code: str, message: str, loc: Loc | None = None, hint: str = ""):
        super().__init__(message)
        self.error = NanottError(code, message, loc, hint)

    def render(self) -> str:
        return self.error.render().replace(f"error {self.error.code}", f"warning {self.error.code}", 1)

    def __str__(self) -> str:
        return self.render()


def not_yet(what: str, loc: Loc | None, hint: str) -> NanottError:
    """NT314: a construct the lowering does not handle yet (as opposed to a mistake)."""
    return NanottError("NT314", f"{what} is not supported yet", loc, hint)


def kib(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n % 1024 == 0 or n > 10240 else f"{n:,} B"


CODES = {
    "NT101": "unsupported dtype",
    "NT102": "a size that is not known when the kernel is parsed",
    "NT103": "the two sides of a T.copy have different extents",
    "NT104": "a bad operand or index",
    "NT105": "T.gemm operand shapes do not agree",
    "NT106": "a DRAM tensor where an on-chip buffer is required",
    "NT107": "a kernel parameter that is not a T.Tensor",
    "NT108": "an unknown T.name",
    "NT109": "a Python error raised inside the kernel",
    "NT110": "a tile operation outside T.Kernel",
    "NT111": "an on-chip block that is not a multiple of the 32x32 tile",
    "NT112": "a copy that does not start or end on a tile boundary",
    "NT113": "an argument a T.* operation does not take (a misspelt keyword, one too many)",
    "NT114": "a flag that is not True or False",
    "NT119": "expressions nested too deeply for nanott",
    "NT115": "an on-chip buffer read before anything wrote it (a T.gemm with no T.clear)",
    "NT116": "a tensor dimension that is zero or negative",
    "NT117": "warning: a copy wholly outside its tensor for some grid blocks",
    "NT118": "warning: output elements no grid block writes",
    "NT120": "an element index outside its buffer",
    "NT121": "an index divided by zero",
    "NT122": "a kernel that writes none of its tensors",
    "NT123": "an index, copy start or loop bound that is a float value (truncated, so refused)",
    "NT201": "the circular buffers do not fit in L1",
    "NT202": "more circular buffers than a core has",
    "NT203": "a tile program that needs more DST tiles than the DST holds",
    "NT205": "a run that needs more host memory than nanott allows",
    "NT206": "a grid of more blocks than nanott simulates",
    "NT207": "a math fidelity with fewer phases than the operands' dtypes need for exact products (warning)",
    "NT301": "a T.* operation nanott does not support yet",
    "NT302": "an if on a run-time value",
    "NT303": "a condition used as a number (stored, or in arithmetic)",
    "NT304": "a Python form the frontend does not support yet",
    "NT311": "a 0-D on-chip buffer (a scalar)",
    "NT312": "a ragged (zero-padded) tensor that the kernel both reads and writes",
    "NT313": "a tensor or buffer of unsupported rank",
    "NT314": "a copy or tile operation the lowering does not support yet",
    "NT315": "an operation that reads or writes a DRAM tensor directly",
    "NT317": "an elementwise map without identity indexing",
    "NT318": "an elementwise operation the tile lowering does not support yet",
    "NT319": "a block produced outside a loop and read inside it",
    "NT320": "a circular buffer without exactly one producer and one consumer",
    "NT321": "a sharded tensor",
    "NT322": "a vector used both as one value per row and as one value per column",
    "NT323": "a T.atomic_add the split-K lowering does not support yet",
    "NT324": "a tensor the launches of one program lay out differently in DRAM",
    "NT326": "a T.print nanott cannot print (a DRAM tensor, a vector or partial tiles, a buffer before anything "
             "writes it, an element, a transcendental function or narrow cast of a scalar, inside T.Parallel)",
    "NT332": "an on-chip buffer or scalar used across T.sync_grid (a launch boundary: its value does not survive)",
    "NT331": "a tensor view (T.Tensor(shape, dtype, base.data)) whose block is not a box of its base, or that reshapes to other elements",
    "NT330": "a value read from a DRAM tensor that compute or the writer needs (a loop bound, a branch)",
    "NT329": "a T.barrier_wait program order does not satisfy (its arrive comes later, or never)",
    "NT501": "a simulator fault: a protocol rule broken by the program simulated",
    "NT502": "a simulator fault: a deadlock",
    "NT901": "no kernel, or several, in a kernel file",
    "NT902": "a kernel file that cannot be loaded",
    "NT903": "a factory that cannot be called with the given --set values",
    "NT904": "a kernel whose source cannot be read",
    "NT910": "a --set that is not K=V",
    "NT920": "a TileLang feature nanott loads but does not honour (a CUDA device, profiler, autotuner)",
    "NT921": "warning: an autotuned kernel run with the first configuration of its search space",
    "NT922": "warning: a tvm.target.Target nanott ignores (it compiles for Tenstorrent)",
    "NT911": "an unknown target",
    "NT912": "an unknown level",
    "NT913": "an unknown stage",
    "NT914": "the wrong number of arrays for a kernel",
    "NT915": "an array of the wrong shape or dtype",
    "NT916": "a reference that returns the wrong number of outputs",
    "NT917": "a reference output of the wrong shape",
    "NT918": "a picture asked of a stage that emits C++",
    "NT919": "the file's reference raised an exception",
    "NT930": "an object that is not a program of any level (nanott.dump)",
    "NT931": "no IR dump at the given path",
    "NT932": "a file that is not a valid IR dump",
    "NT933": "a program given to a stage that takes another language",
    "NT934": "an out_idx that does not name the outputs the kernel writes",
    "NT935": "a --passes list that names no IR-to-IR stage",
    "NT936": "a --stop-before that leaves nothing to run",
    "NT937": "a work-split picture asked of a stage before B1",
    "NT938": "a picture of one kernel asked of a stage before D1",
    "NT940": "--stats or --trace asked of a level without engines (only L9 has a cycle model)",
    "NT942": "an unknown math fidelity (--fidelity, fidelity=)",
    "NT943": "an --inputs file that is not an .npz archive, or gives an array no input parameter takes",
    "NT941": "--skip names a stage that is not an optional optimisation (pipeline.OPTIONAL)",
}
