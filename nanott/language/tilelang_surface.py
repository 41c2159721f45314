"""The `tilelang` package as a kernel file sees it while nanott loads the file.

A TileLang file starts with `import tilelang`, `import tilelang.language as T`, and often
`from tilelang.autotuner import *`, `from tilelang.profiler import do_bench`, `from tvm import
DataType`. While the loader runs such a file (and only then: `surface()` restores `sys.modules`,
`sys.meta_path` and `sys.path` when it ends, so a real TileLang installed beside nanott is never
shadowed outside the load), those names resolve to nanott's own surface:

  tilelang.language                      nanott.language (the T.* surface)
  tilelang.jit, tilelang.autotune        `Jit` and `Autotuned` below: transparent wrappers that the
                                         loader finds by their decorator, with the options recorded
  tilelang.PassConfigKey                 the keys as TileLang spells them ("tl.disable_tma_lower")
  tvm.DataType, tilelang.GemmWarpPolicy  a dtype with `.bits`; nanott's policy enum
  tilelang.layout.make_swizzled_layout   a layout hint T.annotate_layout records (no effect on values)
  anything else under tilelang / tvm     a `Declined` name: it loads, and fails (NT920) only when
                                         called, naming what nanott does not honour
  torch (when it is not installed)       `Declined` names too; `torch.float16` still names a dtype
  torch.cuda's device queries            one stated device, with or without torch (cuda_device.py)

The file's own folder is put first on `sys.path` during the load, so `from heuristic import ...`
finds a sibling module; siblings load under the same surface and leave `sys.modules` afterwards.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from nanott.diagnostics import NanottError, NanottWarning
from nanott.language.builder import caller_loc
from nanott.language.cuda_device import PERSISTENT_BLOCKS, QUERIES, answered

STANDIN = "__nanott_standin__"


class Declined:
    """A TileLang (or torch) name nanott loads but does not honour: calling it is NT920."""

    def __init__(self, path: str):
        self._path = path

    def __getattr__(self, name: str) -> Declined:
        if name.startswith("__"):
            raise AttributeError(name)
        return Declined(f"{self._path}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise declined(self._path)

    def __mro_entries__(self, bases: tuple) -> tuple:
        return (object,)            # `class Fn(torch.autograd.Function)` loads; calling it fails

    def __str__(self) -> str:
        return self._path

    __repr__ = __str__


def declined(path: str) -> NanottError:
    why = ("torch is not installed beside nanott" if path.startswith("torch") else
           "nanott compiles for Tenstorrent and simulates it: it has no CUDA device, profiler or "
           "autotuner")
    return NanottError("NT920", f"{path} is not honoured by nanott ({why})", caller_loc(),
                       hint="nanott loads the file and runs its kernels itself: `nanott explain "
                            "FILE --set ...`; sizes and block sizes come from --set")


class Jit:
    """What `@tilelang.jit` (with or without options) makes of a function: the function itself, for
    the loader to call as a factory (it returns a @T.prim_func) or to specialise as an eager kernel."""

    def __init__(self, func: Callable, options: dict[str, Any]):
        self.func, self.options = func, options
        self.__name__, self.__doc__, self.__wrapped__ = func.__name__, func.__doc__, func

    def __repr__(self) -> str:
        return f"<tilelang.jit {self.__name__} (nanott)>"

    @property
    def __code__(self) -> Any:
        return self.func.__code__

    def specialize(self, **values: Any) -> Any:
        """The kernel for these values: a factory's @T.prim_func, or the eager kernel."""
        from nanott.language import eager
        if eager.is_eager(self.func):
            return eager.specialize(self.func, values)
        return self.func(**values)

    compile = get_tir = specialize

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from nanott.language import eager
        if eager.is_eager(self.func):
            raise declined(f"running the eager kernel {self.__name__} on the file's own tensors")
        return self.func(*args, **kwargs)


class Autotuned(Jit):
    """`@autotune(configs=...)` over a kernel: the configurations are recorded, not searched."""

    def __init__(self, inner: Any, configs: Any, options: dict[str, Any]):
        func = inner.func if isinstance(inner, Jit) else inner
        super().__init__(func, {**(inner.options if isinstance(inner, Jit) else {}), **options})
        self.configs = configs

    def first_config(self) -> dict[str, Any] | None:
        """The first configuration as TileLang would try it, when it can be computed without a GPU."""
        try:
            configs = self.configs() if callable(self.configs) else self.configs
            first = next(iter(configs), None)
        except Exception:                        # noqa: BLE001 -- a config generator that needs CUDA
            return None
        return dict(first) if isinstance(first, dict) else None


def jit(func: Callable | None = None, **options: Any) -> Any:
    """`@tilelang.jit`, `@tilelang.jit(out_idx=[-1], pass_configs={...})`."""
    return Jit(func, options) if func is not None else lambda f: Jit(f, options)


def autotune(func: Callable | None = None, *, configs: Any = None, **options: Any) -> Any:
    """`@autotune(configs=...)` / `@tilelang.autotune(...)` stacked over `@tilelang.jit`."""
    if func is not None:
        return Autotuned(func, configs, options)
    return lambda f: Autotuned(f, configs, options)


class _PassConfigKey:
    """`PassConfigKey.TL_DISABLE_TMA_LOWER` -> "tl.disable_tma_lower": recorded as given."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return name.lower().replace("tl_", "tl.", 1)


class DataType(str):
    """`tvm.DataType("float16")`: a dtype name with its width in bits."""

    @property
    def bits(self) -> int:
        from nanott.dtypes import bits_of
        return bits_of(self)

    lanes = 1


def next_power_of_2(n: int) -> int:
    """The least power of 2 >= n (tilelang.math.next_power_of_2), on Python ints."""
    return 1 << max(0, int(n) - 1).bit_length()


def tir_const(value: Any, dtype: Any = None) -> Any:
    """`tirx.const(v, dtype)`: a typed constant; a Python number folds like any other constant."""
    return int(value) if dtype is not None and not str(dtype).startswith(("float", "bfloat")) else value


class Target(str):
    """`tvm.target.Target("hip -mcpu=gfx950")`: the GPU a file compiles for. nanott compiles for
    Tenstorrent whatever it names, and a kernel's T.* operations mean the same on every target, so
    the target is ignored with warning NT922; code that asks a question of it (is it gfx950?) is
    a GPU query, declined (NT920) like any other."""

    def __new__(cls, spec: Any = "", host: Any = None) -> Target:
        warnings.warn(NanottWarning("NT922", f"tvm.target.Target({str(spec)!r}) is ignored: nanott compiles for "
                                             "Tenstorrent (the kernel's T.* operations mean the same on any "
                                             "target)", caller_loc(),
                                    hint="choose nanott's target with --target (wormhole_n150, blackhole_p150)"))
        return super().__new__(cls, str(spec))


def determine_fp8_type(fp8_format: str = "e4m3") -> str:
    """`tilelang.language.fp8.determine_fp8_type()`: the platform's FP8 dtype. TileLang picks AMD's
    FNUZ formats only on a ROCm build of torch, and the OCP formats everywhere else; nanott is no
    ROCm platform, so it answers as TileLang does off ROCm: float8_e4m3fn (or float8_e5m2)."""
    if fp8_format not in ("e4m3", "e5m2"):
        raise NanottError("NT101", f"determine_fp8_type({fp8_format!r}): the FP8 formats are e4m3 and e5m2",
                          caller_loc())
    return "float8_e4m3fn" if fp8_format == "e4m3" else "float8_e5m2"


def _names() -> dict[str, dict[str, Any]]:
    import nanott.language as T
    from nanott.language.mma_emitter import TensorCoreIntrinEmitter
    return {
        "tilelang": {"language": T, "jit": jit, "lazy_jit": jit, "autotune": autotune,
                     "PassConfigKey": _PassConfigKey(), "DataType": DataType,
                     "GemmWarpPolicy": T.GemmWarpPolicy, "disable_cache": lambda: None,
                     "enable_cache": lambda: None, "set_log_level": lambda *a, **k: None,
                     "cdiv": T.ceildiv},
        "tilelang.math": {"cdiv": T.ceildiv, "next_power_of_2": next_power_of_2},
        "tilelang.autotuner": {"autotune": autotune},
        "tilelang.transform": {"PassConfigKey": _PassConfigKey()},
        "tilelang.tileop.base": {"GemmWarpPolicy": T.GemmWarpPolicy},
        "tilelang.layout": {"make_swizzled_layout": T.SwizzledLayout, "Layout": T.Layout},
        "tvm": {"DataType": DataType},
        "tvm.target": {"Target": Target},
        "tvm.tirx": {"const": tir_const, "reinterpret": T.reinterpret},
        "tilelang.carver.arch.driver": {"get_num_sms": lambda device_id=0: PERSISTENT_BLOCKS},
        "tilelang.cuda.intrinsics.macro.mma_macro_generator": {"TensorCoreIntrinEmitter": TensorCoreIntrinEmitter},
        "tilelang.cuda.intrinsics": {"make_mma_swizzle_layout": T.SwizzledLayout},
        "tilelang.language.fp8": {"determine_fp8_type": determine_fp8_type},
        "torch.cuda": dict(QUERIES),            # used only when torch is not installed (a root)
    }


def standin(name: str, known: dict[str, Any]) -> types.ModuleType:
    """A module whose listed names are nanott's and whose other names are Declined."""
    module = types.ModuleType(name, f"nanott's stand-in for {name} (see nanott.language.tilelang_surface)")
    module.__dict__.update(known)
    module.__dict__.update({STANDIN: True, "__path__": [], "__all__": sorted(known)})
    module.__getattr__ = lambda attr: _missing(name, attr)          # type: ignore[attr-defined]
    return module


def _missing(module: str, attr: str) -> Any:
    """`tilelang.math.x` without `import tilelang.math`: a stand-in submodule with nanott's names is
    made on first use (also after the load, when a kernel body runs); any other name is Declined."""
    if attr.startswith("__"):
        raise AttributeError(attr)
    names = _names()
    full = f"{module}.{attr}"
    return standin(full, names[full]) if full in names else Declined(full)


class _Finder:
    """Answers imports of the stand-in packages (and their submodules) during a load; an installed
    torch imported during the load gets its CUDA device queries answered (cuda_device.py). A meta
    path finder and loader by the methods the import system calls (PEP 451), without the ABCs of
    importlib.abc, whose import (importlib.resources, tempfile, random, ...) took 5 ms of a cold
    `nanott explain`."""

    def __init__(self, roots: tuple[str, ...], patch_torch: Callable[[], None]):
        self.roots, self.names, self.patch_torch = roots, _names(), patch_torch

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if fullname == "torch":
            return _after_import(fullname, path, target, self)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        module = standin(spec.name, self.names.get(spec.name, {}))
        parent, _, child = spec.name.rpartition(".")
        if parent in sys.modules:
            setattr(sys.modules[parent], child, module)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ == "tilelang":
            module.__dict__["tvm"] = importlib.import_module("tvm")


def _after_import(fullname: str, path: Any, target: Any, finder: _Finder) -> Any:
    """The real spec of `fullname` from the finders after ours, its loader wrapped so that the
    module, once executed, has its CUDA device queries answered."""
    later = sys.meta_path[sys.meta_path.index(finder) + 1:]
    spec = next((s for f in later if hasattr(f, "find_spec") and (s := f.find_spec(fullname, path, target))), None)
    if spec is None or spec.loader is None:
        return spec
    real = spec.loader

    class Answering:
        def __getattr__(self, name: str) -> Any:            # get_source, get_resource_reader, ...
            return getattr(real, name)

        def create_module(self, spec: Any) -> Any:
            return real.create_module(spec)

        def exec_module(self, module: types.ModuleType) -> None:
            real.exec_module(module)
            finder.patch_torch()

    spec.loader = Answering()
    return spec


@contextmanager
def surface(folder: Path) -> Iterator[None]:
    """While a kernel file in `folder` loads: `tilelang` and `tvm` (and `torch`, when it is not
    installed) are nanott's stand-ins, CUDA device queries are answered (cuda_device.py), and the
    folder's sibling modules are importable."""
    roots = ("tilelang", "tvm") + (() if importlib.util.find_spec("torch") else ("torch",))
    saved_modules, saved_path = dict(sys.modules), list(sys.path)
    for name in [n for n in sys.modules if n.split(".")[0] in roots]:
        del sys.modules[name]                   # a real TileLang imported earlier stays hidden
    with answered() as patch_torch:
        patch_torch()                           # a torch imported before the load
        finder = _Finder(roots, patch_torch)
        sys.meta_path.insert(0, finder)
        sys.path.insert(0, str(folder))
        with _restored(finder, saved_modules, saved_path, roots, folder):
            importlib.import_module("tilelang")
            sys.modules["tilelang.language"] = sys.modules["tilelang"].language
            yield


@contextmanager
def _restored(finder: _Finder, saved_modules: dict, saved_path: list, roots: tuple[str, ...],
              folder: Path) -> Iterator[None]:
    """sys.meta_path, sys.path and sys.modules as they were before the load, when it ends."""
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if n not in saved_modules]:
            if name.split(".")[0] in roots or _inside(sys.modules[name], folder):
                del sys.modules[name]
        sys.modules.update(saved_modules)


def _inside(module: Any, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    return bool(file) and Path(file).resolve().parent == folder.resolve()
