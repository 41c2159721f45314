"""The weave marker `families`: the progression chapter's table of TileLang's example families.

    <!-- weave: families -->

One row per family of issue 13 (and varlen attention, which the chapter also covers): the folder
of TileLang's examples/ it comes from, nanott's own kernels of it in examples/, the max errors
`nanott run` reports for each at L9 (seed 0, against the file's NumPy reference, computed now),
the TileLang files of the folder that run unchanged through every stage and `compile --execute`,
and the chapter's sections that show each kernel (a `## ` section of the page that links
`../examples/<kernel>.py` or weaves its docstring, found in the page itself). The families, their kernels and the TileLang
files are the table below: which kernel belongs to which family is a reader's grouping, not
something the compiler decides. The TileLang files are the measurement of
`python tools/tilelang_examples.py CHECKOUT --family FOLDER --execute` (a file that is not listed
stops there, with the diagnostic the chapter names); tests/test_docs.py checks that every kernel
exists and is shown by a section, and that every TileLang file is one the survey gives sizes to.
"""
from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

from nanott import api
from nanott.loader import load_kernel

ROOT = Path(__file__).resolve().parent.parent

# family, TileLang folders, nanott's kernels, TileLang files (under examples/; `file kernel` where the
# survey runs several kernels of the file) that run unchanged
FAMILIES = (
    ("convolution", ("convolution",), ("convolution",),
     ("convolution/example_convolution.py", "convolution/example_convolution_autotune.py")),
    ("flash attention backward", ("flash_attention", "attention_sink"), ("flash_attention_bwd",),
     ("flash_attention/example_mha_bwd_bshd.py", "flash_attention/example_gqa_bwd.py",
      "flash_attention/example_gqa_bwd_tma_reduce.py", "attention_sink/example_mha_sink_bwd_bhsd.py",
      "attention_sink/example_gqa_sink_bwd_bhsd.py")),
    ("GQA, flash decoding, attention sink", ("flash_attention", "flash_decoding", "attention_sink"),
     ("gqa_causal", "flash_decoding", "attention_sink"),
     ("flash_attention/example_gqa_fwd_bshd.py", "flash_decoding/example_mha_inference.py",
      "attention_sink/example_mha_sink_fwd_bhsd.py")),
    ("linear attention, retention", ("linear_attention",), ("linear_attention", "retention", "chunk_state"),
     ("linear_attention/example_linear_attn_fwd.py", "linear_attention/example_retention_fwd.py",
      "linear_attention/example_mamba_chunk_scan.py", "linear_attention/example_mamba_chunk_state.py")),
    ("block-sparse attention", ("blocksparse_attention",), ("blocksparse_attention", "blocksparse_mask"),
     ("blocksparse_attention/example_tilelang_block_sparse_attn.py",)),
    ("FP8 GEMM", ("gemm_fp8",), ("gemm_fp8",),
     ("gemm_fp8/example_tilelang_gemm_fp8.py", "gemm_fp8/example_tilelang_gemm_fp8_2xAcc.py",
      "gemm_fp8/example_tilelang_gemm_amd.py")),
    ("fused MoE", ("fusedmoe",), ("fused_moe",), ("fusedmoe/example_fusedmoe_tilelang.py moe_forward_tilelang_shared",
                                          "fusedmoe/example_fusedmoe_tilelang.py moe_forward_tilelang_routed")),
    ("top-k", ("topk",), ("topk",), ("topk/example_topk.py",)),
    ("DeepSeek NSA", ("deepseek_nsa",), ("nsa_selected",),
     ("deepseek_nsa/example_tilelang_nsa_fwd.py", "deepseek_nsa/example_tilelang_nsa_decode.py",
      "deepseek_nsa/example_tilelang_nsa_bwd.py", "deepseek_nsa/example_tilelang_nsa_fwd_varlen.py")),
    ("DeepSeek MLA", ("deepseek_mla",), ("mla_decode",),
     ("deepseek_mla/example_mla_decode.py", "deepseek_mla/example_mla_decode_paged.py",
      "deepseek_mla/example_mla_decode_ws.py")),
    ("warp specialization", ("warp_specialize",), ("gemm_warp_specialize", "gemm_thread_roles"),
     ("warp_specialize/example_warp_specialize_gemm_copy_0_gemm_1.py",
      "warp_specialize/example_warp_specialize_gemm_copy_1_gemm_0.py",
      "warp_specialize/example_warp_specialize_gemm_copy_gemm_0_1.py",
      "warp_specialize/example_warp_specialize_gemm_barrierpipe_stage2.py",
      "warp_specialize/example_warp_specialize_gemm_softpipe_stage2.py",
      "warp_specialize/example_warp_specialize_flashmla.py")),
    ("dequantized GEMM", ("dequantize_gemm",), ("gemm_dequant_int8", "gemm_dequant_int4"),
     ("dequantize_gemm/example_dequant_gemm_w4a8.py", "dequantize_gemm/example_dequant_gemm_fp4_hopper.py")),
    ("varlen attention (beyond issue 13)", ("flash_attention", "attention_sink"), ("varlen_rows",),
     ("flash_attention/example_mha_fwd_varlen.py", "flash_attention/example_gqa_fwd_varlen.py",
      "attention_sink/example_gqa_sink_fwd_varlen.py")),
)


@cache
def survey_args() -> dict:
    """tools/tilelang_examples.py's ARGS: the `nanott explain` arguments of each TileLang file."""
    spec = importlib.util.spec_from_file_location("tilelang_examples", ROOT / "tools" / "tilelang_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ARGS


def shown_file(entry: str) -> str:
    """`file` and, when the survey runs one kernel of several, `(--kernel K)`: `file K` in FAMILIES
    names one of a file's argument strings; a file of one string takes its --kernel from ARGS."""
    path, _, kernel = entry.partition(" ")
    given = survey_args()[path]
    kernel = kernel or (given.split("--kernel ")[1].split()[0] if isinstance(given, str) and "--kernel " in given
                        else "")
    return f"`{Path(path).name}`" + (f" (`{kernel}`)" if kernel else "")


@cache
def l9_errors(example: str) -> str:
    """`max abs err` and `max rel err` of each output at L9, seed 0, as `nanott run` prints them."""
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, 0)
    expected = api.expected_outputs(loaded, kernel, inputs)
    actual = api.simulate(api.lower(loaded.prim_func, stop_after="F1"), "L9", inputs)
    results = api.compare(kernel, actual, expected)
    if not all(r.ok for r in results):
        raise ValueError(f"examples/{example}.py does not match its reference at L9")
    return "<br>".join(f"{r.name}: {r.max_abs:.3g} abs, {r.max_rel:.3g} rel (tol {r.rtol:.3g})" for r in results)


def sections(page_text: str) -> dict[str, list[str]]:
    """Kernel -> the titles of the page's `## ` sections that link examples/<kernel>.py or quote its
    docstring."""
    out: dict[str, list[str]] = {}
    for part in re.split(r"^## ", page_text, flags=re.M)[1:]:
        title = part.splitlines()[0].split(":")[0]
        for name in dict.fromkeys(re.findall(r"(?:\(\.\./|weave: docstring )examples/(\w+)\.py", part)):
            out.setdefault(name, []).append(title)
    return out


def families(course, page: Path) -> str:
    shown = sections(page.read_text())
    rows = ["| family | TileLang folder | nanott's kernel | max error at L9 | TileLang files that run "
            "unchanged, `compile --execute` too | section |", "|---|---|---|---|---|---|"]
    for family, folders, kernels, files in FAMILIES:
        for i, k in enumerate(kernels):
            cells = (family, ", ".join(f"`{f}`" for f in folders)) if i == 0 else ("", "")
            ran = "<br>".join(map(shown_file, files)) if i == 0 else ""
            covered = "; ".join(shown.get(k, [])) or "**none**"
            rows.append(f"| {cells[0]} | {cells[1]} | [{k}.py](../examples/{k}.py) | {l9_errors(k)} | {ran} "
                        f"| {covered} |")
    return "\n".join(rows)


MAKERS = {"families": families}
