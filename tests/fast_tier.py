"""What `make test-fast` sweeps: a few examples that between them use every production of every language.

A test parametrised over every example (a sweep: numerics at each stage, JSON round trips, compiled
against reference executors, lockstep, stats...) costs more with each example added; the edit-run
loop cannot afford all of them. It sweeps `FAST_EXAMPLES` instead: examples chosen (greedily, cheap
ones first) so that every node class, and every `op`, `dtype`, `kind` and `mode` word, that any
example's IR holds after any stage also appears in one of them. `tests/test_fast_tier.py` (in
`make test`) keeps that true, naming what a new example added; `make test` sweeps every example.
Tests parametrised over a chosen few examples are not sweeps and always run.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

import pytest

FAST_EXAMPLES = ("elementwise_math", "gemm_dequant_int8", "masked_int8", "softmax", "gemm_f16_eager",
                 "gemm_fp8", "gqa_causal", "gemm_splitk", "rms_norm_rows", "flash_decoding",
                 "attention_sink", "blocksparse_mask", "retention", "linear_attention", "flash_attention_bwd",
                 "convolution", "topk", "gemm_dequant_int4", "nsa_selected", "chunk_state")
WORDS = ("op", "dtype", "kind", "mode")


def features(language: str, program: Any) -> set[tuple]:
    """What of its language a program uses: its node classes and their vocabulary words."""
    from nanott.ir import walk
    out = set()
    for node in walk(program):
        name = type(node).__name__
        out.add((language, name))
        out.update((language, name, w, v) for w in WORDS if isinstance(v := getattr(node, w, None), str))
    return out


def _example_of(item: Any, examples: set[str]) -> str | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    for value in params.values():
        if isinstance(value, str) and value.partition(":")[0] in examples:
            return value.partition(":")[0]
    return None


def mark_sweeps(items: Iterable[Any], examples: Iterable[str]) -> None:
    """Mark `slow` the items of each sweep whose example is not one of FAST_EXAMPLES."""
    every = set(examples)
    by_test: dict[tuple, list] = defaultdict(list)
    for item in items:
        if (ex := _example_of(item, every)) is not None:
            by_test[(item.module.__name__, item.originalname)].append((item, ex))
    for members in by_test.values():
        if {ex for _, ex in members} >= every:
            for item, ex in members:
                if ex not in FAST_EXAMPLES:
                    item.add_marker(pytest.mark.slow)
