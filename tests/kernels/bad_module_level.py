"""A bad kernel file: an unsupported T.* call at module level (NT301 at its line)."""
import nanott.language as T

LOG2E = 1.4426950408889634
SCALE = T.erf(LOG2E)
