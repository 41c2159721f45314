"""A sibling module of the TileLang-style test kernels: imported by its plain name, as TileLang's
examples import `heuristic` or `varlen_utils` from their own folder."""
import tilelang.language as T

BLOCK = 32
DTYPE = T.float32
