"""`PrimFunc`, what `@T.prim_func` returns, and the parse that turns it into an L0 kernel.

The parse rewrites the function (rewrite.py), binds each parameter to a DRAM tensor proxy built
from its `T.Tensor` annotation, and runs the rewritten body once against the function's real globals
and closure values with a Builder listening. Any mistake surfaces as a NanottError located at the
statement being run: a Python exception in the user's kernel becomes NT109, never a traceback.
"""
from __future__ import annotations

import ast
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from nanott.diagnostics import NanottError
from nanott.ir import NOLOC
from nanott.language.builder import Builder
from nanott.language.cells import scalar_cells
from nanott.language.rewrite import rewrite
from nanott.language.sizes import given, size
from nanott.language.parts import partition
from nanott.language.stages import unstage
from nanott.language.values import Buffer, TensorType, dtype, fold_int, normalize_dtype
from nanott.languages import l0


class PrimFunc:
    """A TileLang-style kernel function, parsed to L0 on first use (`parse()`, cached)."""

    def __init__(self, func: Callable, scope: dict[str, Any]):
        self.func = func
        self.scope = scope                       # the decorating frame's locals, for annotations
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__
        self._kernel: l0.Kernel | None = None
        self.sizes: dict[str, Any] = {}          # sizes given for T.dynamic and scalar parameters (sizes.py)

    def __repr__(self) -> str:
        code = self.func.__code__
        return f"<PrimFunc {self.__name__} at {code.co_filename}:{code.co_firstlineno}>"

    def parse(self) -> l0.Kernel:
        if self._kernel is None:
            self._kernel = parse_prim_func(self)
        return self._kernel


def closure(func: Callable) -> dict[str, Any]:
    values = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            values[name] = cell.cell_contents
        except ValueError:                       # a name the factory has not bound yet
            values[name] = None
    return values


def parse_prim_func(pf: PrimFunc) -> l0.Kernel:
    func = pf.func
    maker, args, shift, file = rewrite(func)
    free = closure(func)
    with Builder(file) as b, traced(b), given(pf.sizes):
        params, buffers = parameters(b, pf, args, shift, free)
        maker(b, *free.values())(*buffers)
        return scalar_cells(unstage(partition(b.finish(func.__name__, params), getattr(b, "parts", None))))


@contextmanager
def traced(b: Builder) -> Iterator[None]:
    """Errors while the kernel's Python runs: located at the statement being run, NT109 for a
    Python exception."""
    try:
        yield
    except NanottError as e:
        if e.loc == NOLOC:
            e.loc = b.loc
        raise
    except Exception as e:
        raise NanottError("NT109", f"the kernel's Python raised {type(e).__name__}: {e}", b.loc,
                          hint="nanott runs the kernel body as Python while it parses it; the "
                               "error is in the statement shown") from e


def parameters(b: Builder, pf: PrimFunc, args: ast.arguments, shift: int,
               free: dict[str, Any]) -> tuple[tuple[l0.Tensor, ...], list[Buffer]]:
    """One DRAM tensor per parameter, from its `T.Tensor(shape, dtype)` annotation."""
    func = pf.func
    if args.vararg or args.kwarg or args.kwonlyargs:
        b.at(args.args[-1].lineno if args.args else func.__code__.co_firstlineno, 0)
        raise NanottError("NT304", f"prim_func {func.__name__}: *args, **kwargs and keyword-only "
                                   "parameters are not supported by nanott yet")
    tensors, buffers = [], []
    for arg in (*args.posonlyargs, *args.args):
        b.at(arg.lineno, arg.col_offset + shift)
        ann = func.__annotations__.get(arg.arg)
        if isinstance(ann, str) and not isinstance(ann, dtype):       # T.int32 is a str too
            ann = eval(ann, func.__globals__, {**pf.scope, **free})
        if isinstance(ann, dtype):               # a size TileLang takes at run time (sizes.py)
            buffers.append(size(arg.arg, f"the scalar parameter {arg.arg}: {ann}"))
            continue
        if not isinstance(ann, TensorType):
            raise NanottError("NT107", f"parameter {arg.arg} needs a T.Tensor annotation",
                              hint=f"{arg.arg}: T.Tensor((M, K), \"bfloat16\")")
        dims = ann.shape if isinstance(ann.shape, (tuple, list)) else (ann.shape,)
        shape = tuple(fold_int(d, f"dim {i} of {arg.arg}") for i, d in enumerate(dims))
        t = l0.Tensor(arg.arg, shape, normalize_dtype(ann.dtype), loc=b.loc)
        b.taken.add(arg.arg)
        tensors.append(t)
        buffers.append(Buffer(t.name, t.shape, t.dtype, "dram", loc=b.loc))
    return tuple(tensors), buffers
