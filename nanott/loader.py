"""Loading a kernel file, for the CLI and the tests.

A kernel file is ordinary Python: it defines a module-level `@T.prim_func` (or a factory function
that returns one) and, optionally, `reference(*inputs)`, a plain NumPy function giving the expected
output (or a tuple of outputs). Inputs are the kernel's tensor parameters it only reads, in order;
outputs are the ones it writes, in order (`split_params` decides from the L0, never from names).

Mistakes (a syntax error, an exception at import, no kernel or several, a bad `--set`) are
NanottErrors NT9xx with the file's line, never a traceback.
"""
from __future__ import annotations

import ast
import importlib.util
import inspect
import itertools
import linecache
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from nanott.diagnostics import NanottError
from nanott.ir import NOLOC, Loc, walk
from nanott.language.prim_func import PrimFunc
from nanott.languages import l0

_COUNTER = itertools.count()


@dataclass(frozen=True)
class LoadedKernel:
    """A kernel chosen from a file: the PrimFunc, the name it was chosen by (module attribute or
    factory), the file's `reference` function (or None), and the file."""
    prim_func: PrimFunc
    name: str
    reference: Callable | None
    path: Path


def load_kernel(path: Path, kernel: str | None = None, sets: dict[str, str] | None = None) -> LoadedKernel:
    """Run the file as a fresh module and pick its kernel: the lone module-level PrimFunc, the one
    named `kernel`, or the PrimFunc returned by the factory named `kernel` called with `sets`."""
    path = Path(path).resolve()
    module = run_module(path)
    found = {k: v for k, v in vars(module).items() if isinstance(v, PrimFunc)}
    functions = {k: v for k, v in vars(module).items() if inspect.isfunction(v)
                 and v.__module__ == module.__name__ and k != "reference"}
    factories = {k: f for k, f in functions.items() if "prim_func" in f.__code__.co_names}
    reference = getattr(module, "reference", None)
    reference = reference if callable(reference) else None
    where = NOLOC                                  # a choice of kernel has no line
    if kernel is None and sets:
        raise NanottError("NT903", "--set needs --kernel naming a factory function", where,
                          hint=choices(found, factories))
    if kernel is None:
        if len(found) == 1:
            name, pf = next(iter(found.items()))
            return LoadedKernel(pf, name, reference, path)
        raise NanottError("NT901", f"{path} defines {describe(found)}; choose one with --kernel",
                          where, hint=choices(found, factories))
    if kernel in found:
        if sets:
            raise NanottError("NT903", f"--set only applies to factory functions, and {kernel} is "
                                       "already a kernel", where, hint=choices(found, factories))
        return LoadedKernel(found[kernel], kernel, reference, path)
    if kernel in functions:
        return LoadedKernel(call_factory(functions[kernel], sets or {}, path), kernel, reference, path)
    raise NanottError("NT901", f"{path} has no kernel or factory named {kernel}", where,
                      hint=choices(found, factories))


def run_module(path: Path) -> Any:
    """Execute the file under a unique module name; its errors become NT902 at their line."""
    if not path.is_file():
        raise NanottError("NT902", f"no kernel file {path}")
    if path.suffix != ".py":
        raise NanottError("NT902", f"{path} is not a Python file; a kernel file is a .py file",
                          hint="point nanott at the .py file that defines the kernel")
    name = f"nanott_kernel_{path.stem}_{next(_COUNTER)}"
    linecache.checkcache(str(path))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except NanottError:
        raise
    except SyntaxError as e:
        raise NanottError("NT902", f"syntax error in {path.name}: {e.msg}",
                          Loc(str(path), e.lineno or 1, max(0, (e.offset or 1) - 1))) from None
    except Exception as e:
        raise NanottError("NT902", f"{path.name} raised {type(e).__name__} while loading: {e}",
                          frame_loc(e, path)) from e
    return module


def frame_loc(e: BaseException, path: Path) -> Loc:
    """The last line of `path` in the exception's traceback."""
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if Path(f.filename) == path]
    return Loc(str(path), lines[-1], 0) if lines else NOLOC


def call_factory(factory: Callable, sets: dict[str, str], path: Path) -> PrimFunc:
    """Call a kernel factory with `--set` values (parsed as Python literals where they are)."""
    params = inspect.signature(factory).parameters
    where = Loc(str(path), factory.__code__.co_firstlineno, 0)
    unknown = [k for k in sets if k not in params]
    missing = [k for k, p in params.items() if p.default is p.empty and k not in sets
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if unknown or missing:
        problem = (f"{factory.__name__} has no parameter {', '.join(unknown)}" if unknown else
                   f"{factory.__name__} needs {', '.join(missing)}")
        raise NanottError("NT903", problem, where, hint=f"parameters: {signature(factory)}")
    try:
        result = factory(**{k: literal(v) for k, v in sets.items()})
    except NanottError:
        raise
    except Exception as e:
        loc = frame_loc(e, path)
        raise NanottError("NT902", f"{factory.__name__}(...) raised {type(e).__name__}: {e}",
                          where if loc == NOLOC else loc) from e
    if not isinstance(result, PrimFunc):
        raise NanottError("NT903", f"{factory.__name__}(...) returned a {type(result).__name__}, "
                                   "not a @T.prim_func kernel", where,
                          hint="a factory ends with `return main`, where main is a @T.prim_func")
    return result


def literal(text: str) -> Any:
    """`--set` values: 512 -> int, 0.5 -> float, "float32" or float32 -> str."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, (int, float, str, bool)) else text


def signature(f: Callable) -> str:
    return f"{f.__name__}{inspect.signature(f)}"


def describe(found: dict) -> str:
    return "no module-level @T.prim_func" if not found else \
        f"{len(found)} kernels ({', '.join(sorted(found))})"


def choices(found: dict, factories: dict) -> str:
    out = [f"kernels: {', '.join(sorted(found))}"] if found else []
    if factories:
        out.append("factories: " + "; ".join(signature(f) for _, f in sorted(factories.items())))
        first, f = sorted(factories.items())[0]
        example = " ".join(f"--set {k}=512" for k in list(inspect.signature(f).parameters)[:1])
        out.append(f"e.g. --kernel {first} {example} ...")
    return "; ".join(out) if out else "define a @T.prim_func at module level"


def split_params(kernel: l0.Kernel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(inputs, outputs): the tensor parameters the kernel only reads, and those it writes, in
    parameter order. Written means: the destination of a copy, or the buffer of a store."""
    written = {x.dst.buffer for x in walk(kernel.body) if isinstance(x, l0.Copy)}
    written |= {x.buffer for x in walk(kernel.body) if isinstance(x, (l0.Store, l0.Fill))}
    names = [p.name for p in kernel.params]
    return tuple(n for n in names if n not in written), tuple(n for n in names if n in written)
