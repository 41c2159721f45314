"""A bad kernel file: it raises KeyError while loading (NT902 from the loader)."""
import nanott.language as T

SIZES = {"M": 64}
N = SIZES["N"]
