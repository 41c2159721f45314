"""The notebook-grade API: dump and load IR, run one pass, and call a kernel like a function.

    program = nanott.lower(kernel, stop_after="C2")     # prints as its IR; Jupyter draws its SVG
    nanott.dump(program, "c2.json")                     # hand-edit it, then
    program = nanott.load("c2.json")                     # checked against the language it names
    nanott.run_pass("C3", program)                       # one stage, its output checked
    matmul = nanott.compile(kernel)                      # like tilelang.compile(...)
    C = matmul(A, B)                                     # NumPy arrays or torch tensors in, outputs out

Arrays may be NumPy arrays or torch tensors (torch is never imported unless the caller passes a
tensor, and is not a dependency). A torch tensor is read through NumPy and, when it is an output,
written back in place, so `nanott.run(kernel, a, b, c)` fills a torch `c` as it fills a NumPy one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.arrays import as_numpy, new_like, write_back
from nanott.ir import CheckError
from nanott.languages.l0_interp import np_dtype


def language_of(program: Any) -> str:
    """The first language that accepts `program` (its root class, then its checker): the language a
    pass produced it in, since each language adds productions its predecessor rejects."""
    for name in pipeline.LANGUAGES:
        lang = pipeline.language(name)
        if type(program) is lang.root:
            try:
                lang.check(program)
                return name
            except CheckError:
                continue
    raise NanottError("NT930", f"a {type(program).__name__} is not a program of any level L0..L9",
                      hint="dump the result of nanott.lower(...) or nanott.run_pass(...)")


def dump(program: Any, path: str | Path, after: str | None = None) -> Path:
    """Write `program` as a JSON dump (the format of `--dump-dir` and `nanott opt`). `after`, the
    stage that produced it, defaults to the first stage whose output is the program's language."""
    from nanott.backends import json as ir_json
    name = language_of(program)
    stage = api.check_stage_id(after) if after else next(s.id for s in pipeline.PIPELINE if s.dst == name)
    path = Path(path)
    path.write_text(ir_json.dump(program, name, stage))
    return path


def load(path: str | Path) -> Any:
    """The program in a JSON dump, checked against the language the dump names."""
    program, _, _ = load_dump(path)
    return program


def load_dump(path: str | Path) -> tuple[Any, str, str]:
    """(program, language, after) of a dump; a file that is not a good dump is a diagnostic."""
    from nanott.backends import json as ir_json
    path = Path(path)
    if not path.is_file():
        raise NanottError("NT931", f"no IR dump {path}", hint="write one with nanott.dump or --dump-dir")
    try:
        return ir_json.load(path.read_text())
    except (NanottError, ValueError, KeyError, TypeError, AttributeError, CheckError) as e:
        why = e.message if isinstance(e, NanottError) else e     # the loader's one line, with its path
        raise NanottError("NT932", f"{path} is not a valid nanott IR dump: {why}",
                          hint="a dump names its language and stage; nodes are objects with a kind") from None


def run_pass(stage_id: str, program: Any, target: str = "wormhole_n150", check: bool = True) -> Any:
    """Run one stage on `program` (a PrimFunc for P0, IR of the stage's input language otherwise);
    the input is checked first, so a hand-edited program outside the language is a diagnostic."""
    s = pipeline.stage(api.check_stage_id(stage_id))
    if s.src is not None:
        try:
            pipeline.language(s.src).check(program)
        except CheckError as e:
            raise NanottError("NT933", f"{s.id} {s.name} takes an {s.src} program; this one is not:\n{e}",
                              hint=f"run the stages before {s.id} first (nanott passes lists them)") from None
    out = s.run(program, api.resolve_target(target))
    if check and s.dst is not None:
        pipeline.language(s.dst).check(out, after=f"{s.id} {s.name}")
    return out


class CompiledKernel:
    """A kernel lowered once and callable like a TileLang compiled kernel: `kernel(a, b)` returns the
    outputs (one, or a tuple), allocated like the inputs; `kernel(a, b, c)` writes into `c` too."""

    def __init__(self, prim_func: Any, level: str = "L9", target: str = "wormhole_n150",
                 out_idx: list[int] | int | None = None):
        self.level, self.target = level, api.resolve_target(target)
        self.kernel = prim_func.parse() if hasattr(prim_func, "parse") else prim_func
        self.program = api.lower(prim_func, api.stage_for_level(level).id, self.target)
        _, outs = api.tensor_roles(self.kernel)
        names = [p.name for p in self.kernel.params]
        self.out_idx = [names.index(n) for n in outs]
        if out_idx is not None:
            wanted = sorted(i % len(names) for i in ([out_idx] if isinstance(out_idx, int) else out_idx))
            if wanted != self.out_idx:
                raise NanottError("NT934", f"out_idx {out_idx} names {[names[i] for i in wanted]}, but "
                                  f"{self.kernel.name} writes {list(outs)}", hint="leave out_idx out")

    def __repr__(self) -> str:
        return f"<nanott kernel {self.kernel.name} at {self.level} on {self.target.name}>"

    def __call__(self, *args: Any) -> Any:
        params = self.kernel.params
        if len(args) == len(params) - len(self.out_idx):
            given, args = iter(args), list(args)
            args = [new_like(args, p.shape, np_dtype(p.dtype)) if i in self.out_idx else next(given)
                    for i, p in enumerate(params)]
        arrays = [as_numpy(a) for a in args]
        api.check_arrays(self.kernel, tuple(arrays))
        pipeline.interpreter(self.level)().run(self.program, {p.name: a for p, a in zip(params, arrays)})
        for x, a in zip(args, arrays):
            write_back(x, a)
        outs = tuple(args[i] for i in self.out_idx)
        return outs[0] if len(outs) == 1 else outs



def compile(prim_func: Any, out_idx: list[int] | int | None = None, level: str = "L9",
            target: str = "wormhole_n150") -> CompiledKernel:
    """`tilelang.compile(func, out_idx=[-1])`'s counterpart: a callable kernel simulated at `level`."""
    return CompiledKernel(prim_func, level, target, out_idx)
