"""How a kernel file's CUDA device queries are answered while nanott loads the file.

TileLang files choose their configuration from the GPU they run on: `sm_major, sm_minor =
torch.cuda.get_device_capability()` inside a factory, then 128 x 32 blocks on sm_90 and 64 x 32 on
sm_80, or a ValueError on any other. nanott has no CUDA device: it compiles for Tenstorrent and runs
the kernels in its own simulators. So while it loads a file (and only then; `answered()` puts
torch's own functions back when the load ends), the queries that choose a configuration answer as
one stated device, and the question whether CUDA work can run answers no:

  torch.cuda.get_device_capability(d)   (9, 0): sm_90, the Hopper H100 the TileLang examples'
                                        first-choice configurations are written for
  torch.cuda.get_device_properties(d)   .name, .major 9, .minor 0, .multi_processor_count 132
  torch.cuda.get_device_name(d)         "NVIDIA H100 (answered by nanott, which has no CUDA device)"
  torch.cuda.current_device()           0
  torch.cuda.is_available()             False: no CUDA work runs here, nanott runs the kernels
  tilelang.carver.arch.driver           get_num_sms() 64: not the GPU's, the Tensix cores of the
                                        default target (Wormhole n150, 8x8). A persistent kernel's
                                        grid means one block per compute unit of the machine it runs
                                        on, each walking tiles wave by wave; with one block per core,
                                        B1 deals each core one block, as the GPU runs one per SM. The
                                        file is loaded before a target is chosen, so it is the
                                        default's (on Blackhole p150's 13x10 the 64 blocks run on 64
                                        of its cores: correct, half the chip idle)

The answers are the same whether torch is installed (its `torch.cuda` functions are replaced for the
load) or not (nanott's stand-in `torch.cuda` has these names, tilelang_surface.py). Any other CUDA
call (a tensor made on "cuda", a synchronize, a launch) is torch's own, or NT920 without torch, and
a statement at module level that makes one is skipped by the loader like any statement that raises.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from nanott.target import DEFAULT_TARGET

CAPABILITY = (9, 0)                 # sm_90 (assumption stated above: the H100 of TileLang's configs)
NAME = "NVIDIA H100 (answered by nanott, which has no CUDA device)"
SMS = 132                           # H100 SXM5: 132 streaming multiprocessors (NVIDIA's datasheet)
PERSISTENT_BLOCKS = DEFAULT_TARGET.num_cores    # get_num_sms(): one block per core of the default target


@dataclass(frozen=True)
class DeviceProperties:
    """What `torch.cuda.get_device_properties(d)` answers: the fields TileLang's files read."""
    name: str = NAME
    major: int = CAPABILITY[0]
    minor: int = CAPABILITY[1]
    multi_processor_count: int = SMS


def get_device_capability(device: Any = None) -> tuple[int, int]:
    return CAPABILITY


def get_device_properties(device: Any = None) -> DeviceProperties:
    return DeviceProperties()


def get_device_name(device: Any = None) -> str:
    return NAME


def current_device() -> int:
    return 0


def is_available() -> bool:
    return False


QUERIES = {f.__name__: f for f in (get_device_capability, get_device_properties, get_device_name,
                                   current_device, is_available)}


@contextmanager
def answered() -> Iterator[None]:
    """While the block runs, torch's `torch.cuda` (if torch is imported) answers with QUERIES; its
    own functions are back afterwards. Call `patch_torch` for a torch imported inside the block."""
    saved: dict[str, Any] = {}
    try:
        yield lambda: patch_torch(saved)
    finally:
        cuda = sys.modules.get("torch.cuda")
        for name, f in saved.items():
            setattr(cuda, name, f)


def patch_torch(saved: dict[str, Any]) -> None:
    """Replace the device queries of an imported torch.cuda (once), remembering torch's own."""
    cuda = sys.modules.get("torch.cuda")
    if cuda is None or saved or getattr(cuda, "__nanott_standin__", False):
        return
    for name, f in QUERIES.items():
        saved[name] = getattr(cuda, name)
        setattr(cuda, name, f)
