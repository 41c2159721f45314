"""NumPy arrays and torch tensors, seen alike by the API: torch is imported only when the caller
passes a tensor, and is never a dependency of nanott.

A tensor is read through a NumPy view (bfloat16 through its 16-bit pattern, since NumPy has no
bfloat16 of its own; ml_dtypes gives the view its meaning) and an output is copied back into it.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def is_torch(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def as_numpy(x: Any) -> np.ndarray:
    """A NumPy view of a NumPy array or a torch tensor (bfloat16 through its 16-bit pattern)."""
    if isinstance(x, np.ndarray):
        return x
    if is_torch(x):
        import ml_dtypes
        import torch
        t = x.detach().cpu()
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        return t.numpy()
    return x                                 # api.run names the problem (NT915)


def write_back(x: Any, a: np.ndarray) -> None:
    """Copy a NumPy result into the torch tensor `x` it was read from (a no-op for NumPy)."""
    if isinstance(x, np.ndarray) or a is x:
        return
    import torch
    if x.dtype == torch.bfloat16:
        x.copy_(torch.from_numpy(np.ascontiguousarray(a).view(np.int16)).view(torch.bfloat16))
    else:
        x.copy_(torch.from_numpy(np.ascontiguousarray(a)))


def new_like(inputs: list, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """A zeroed output: a torch tensor when any input is one, else a NumPy array."""
    if any(is_torch(x) for x in inputs):
        import torch
        return torch.zeros(shape, dtype=getattr(torch, np.dtype(dtype).name))
    return np.zeros(shape, dtype)
