"""How far TileLang's own example files get through nanott, unchanged.

    python tools/tilelang_examples.py /path/to/tilelang-checkout [--stop-after G1] [--family gemm]

For each kernel file (a file that opens a `T.Kernel`) of the families named in issue 9, this runs
`nanott explain FILE --kernel K --set ...` in a fresh process and prints one line:

    runs      every stage ran, every level's numerics matched (the L0 interpreter is the reference:
              TileLang files carry no NumPy `reference`)
    stops     a diagnostic stopped it: its code and message name the construct nanott lacks
    unset     it loaded, but the table below gives no sizes for it (NT901 several kernels, NT903)
    no-load   the file did not load (NT902)
    crash     a traceback: a nanott bug

and the counts at the end. With `--execute`, a kernel that runs is also compiled to C++
(`nanott compile FILE ... -o DIR --execute`: built with g++ against nanott's CPU runtime, run on
the same random inputs, compared with the L0 reference), and its line ends in `executes` or
`execute FAILS` with the reason; the count of each is printed last. The sizes below are small versions of each file's own `main()` (block
sizes from its defaults or its first autotuning config); nothing of TileLang's is copied here.
A file whose kernel reads index tables that must agree with each other (NSA varlen's token and
block tables, fused MoE's routing) is run with tables INPUTS makes, as its host code would
(`--inputs`, an .npz).
The checkout is read, never written; it stays outside nanott's repository.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FAMILIES = ("elementwise", "quickstart.py", "gemm", "gemm_splitk", "gemv", "norm", "online_softmax",
            "cast", "convolution", "flash_attention", "flash_decoding", "attention_sink",
            "linear_attention", "blocksparse_attention", "gemm_fp8", "fusedmoe", "topk", "deepseek_nsa",
            "deepseek_mla", "warp_specialize", "dequantize_gemm")

GEMM = "--set M=128 --set N=128 --set K=128 --set block_M=64 --set block_N=64 --set block_K=32"
ATTN = "--set batch=1 --set heads=2 --set dim=64"
GQA_BWD = ("--set batch=1 --set heads=4 --set seq_len=128 --set dim_qk=64 --set dim_v=64 --set is_causal=False "
           "--set block_M=64 --set block_N=64 --set groups=2")
MAMBA = ("--set batch=1 --set seqlen=256 --set chunk_size=64 --set ngroups=1 --set nheads=2 --set headdim=64 "
         "--set dstate=64")
SPARSE_DECODE = ("--set batch=1 --set heads=8 --set heads_kv=2 --set dim=64 --set dim_v=64 --set block_N=32 "
                 "--set block_H=32 --set num_stages=1 --set threads=128")
MXFP4 = ("--set M=256 --set N=256 --set K=256 --set in_dtype=bfloat16 --set out_dtype=bfloat16 "
         "--set accum_dtype=float32")
# file (under examples/) -> the arguments of `nanott explain`; a file not listed runs without any
ARGS = {
    "elementwise/example_elementwise_add.py": "--set M=64 --set N=64 --set block_M=32 --set block_N=32 "
                                              "--set in_dtype=float32 --set out_dtype=float32 --set threads=128",
    "quickstart.py": "--kernel matmul " + GEMM,
    "gemm/example_gemm.py": GEMM,
    "gemm/example_gemm_autotune.py": "--kernel matmul " + GEMM + " --set num_stages=2 --set thread_num=128 "
                                     "--set enable_rasteration=False",
    "gemm/example_gemm_advanced_autotune.py": "--kernel matmul " + GEMM + " --set num_stages=2 "
                                              "--set thread_num=128 --set enable_rasteration=False",
    "gemm/example_gemm_autotune_early_stop.py": "--kernel matmul_early_stop " + GEMM,
    "gemm/example_gemm_autotune_pass_configs.py": "--kernel matmul_decorator " + GEMM,
    "gemm/example_gemm_persistent.py": "--kernel matmul_non_persistent " + GEMM + " --set threads=128 "
                                       "--set num_stages=2",
    "gemm/example_gemm_intrinsics.py": "--set M=128 --set N=128 --set K=128 --set in_dtype=float16 "
                                       "--set out_dtype=float16 --set accum_dtype=float32",
    "gemm_splitk/example_tilelang_gemm_splitk.py": GEMM.replace("K=128", "K=256") + " --set split_k=2",
    "gemm_splitk/example_tilelang_gemm_splitk_vectorize_atomicadd.py": GEMM.replace("K=128", "K=256") +
                                                                       " --set split_k=2",
    # the tile GEMV of the file's main() (its SIMT variants stop at T.get_thread_binding, NT301)
    "gemv/example_gemv.py": "--kernel gemv_alloc_reducer --set M=256 --set N=256",
    "norm/rms_norm.py": "--kernel rms_norm --set M=64 --set N=128 --set blk_m=1",
    "norm/layernorm.py": "--kernel _layernorm_fwd --set N=64 --set D=128",
    "online_softmax/online_softmax.py": "--set M=64 --set N=256 --set BLOCK_M=1 --set BLOCK_N=128",
    "cast/example_per_token_cast_to_fp8.py": "--set M=64 --set N=256 --set blk_m=8",
    "cast/example_group_per_split_token_cast_to_fp8.py": "--set M=64 --set N=256 --set BG=2 --set M_max=64 "
                                                         "--set blk_m=8",
    "convolution/example_convolution.py": "--set N=1 --set C=32 --set H=4 --set W=64 --set F=32 --set K=3 "
                                          "--set S=1 --set D=1 --set P=1 --set block_M=64 --set block_N=32 "
                                          "--set block_K=32 --set num_stages=1 --set threads=128",
    "flash_attention/example_mha_fwd_bhsd.py": ATTN + " --set seq_q=128 --set seq_kv=128 --set is_causal=False",
    "flash_attention/example_mha_fwd_bshd.py": ATTN + " --set seq_len=128 --set is_causal=False",
    "flash_attention/example_gqa_fwd_bshd.py": ATTN.replace("heads=2", "heads=4") +
                                               " --set seq_len=128 --set is_causal=False --set groups=2",
    "flash_attention/example_mha_bwd_bhsd.py": "--kernel flashattn_fwd " + ATTN + " --set seq_len=128 "
                                               "--set is_causal=False --set block_M=64 --set block_N=64",
    "attention_sink/example_mha_sink_fwd_bhsd.py": ATTN + " --set seq_q=128 --set seq_kv=128",
    "attention_sink/example_gqa_sink_fwd_bhsd_wgmma_pipelined.py": ATTN + " --set seq_q=128 --set seq_kv=128 "
                                                                          "--set groups=1",
    "deepseek_mla/example_mla_decode.py": "--set batch=1 --set heads=64 --set kv_head_num=1 --set seqlen_kv=256 "
                                          "--set dim=128 --set pe_dim=32 --set block_N=64 --set block_H=64 "
                                          "--set num_split=1 --set softmax_scale=0.08",
    "flash_decoding/example_mha_inference.py": ATTN + " --set seqlen_q=128 --set seqlen_kv=256 "
                                                      "--set is_causal=False --set block_M=64 --set block_N=64",
    "topk/example_topk.py": "--set M=64 --set N=64 --set topk=4 --set blk_m=32",
    "linear_attention/example_linear_attn_fwd.py": "--set B=1 --set S=128 --set H=1 --set DK=64 --set DV=64",
    "linear_attention/example_retention_fwd.py": "--set B=1 --set S=128 --set H=1 --set DK=64 --set DV=64",
    "gemm_fp8/example_tilelang_gemm_fp8.py": GEMM + " --set dtype=float8_e4m3fn",
    "gemm_fp8/example_tilelang_gemm_fp8_2xAcc.py": GEMM.replace("K=128", "K=256") + " --set dtype=float8_e4m3fn",
    "warp_specialize/example_warp_specialize_gemm_copy_0_gemm_1.py": GEMM,
    "warp_specialize/example_warp_specialize_gemm_copy_1_gemm_0.py": GEMM,
    "warp_specialize/example_warp_specialize_gemm_copy_gemm_0_1.py": GEMM,
    "warp_specialize/example_warp_specialize_gemm_barrierpipe_stage2.py": GEMM,
    "warp_specialize/example_warp_specialize_gemm_softpipe_stage2.py": GEMM,
    "flash_attention/example_gqa_fwd_varlen.py": "--set batch_size=2 --set groups=2 --set UQ=256 --set UKV=256 "
                                                 "--set heads=4 --set dim=64 --set is_causal=False --set max_seqlen_q=128",
    "flash_attention/example_mha_fwd_varlen.py": "--set batch_size=2 --set UQ=256 --set UKV=256 --set heads=2 "
                                                 "--set dim=64 --set is_causal=False --set max_seqlen_q=128",
    "flash_decoding/example_gqa_decode.py": "--set batch=1 --set heads=8 --set groups=2 --set seqlen_kv=256 "
                                            "--set dim=64 --set block_N=64 --set block_H=32 --set num_split=2 "
                                            "--set num_stages=2 --set threads=128",
    "linear_attention/example_linear_attn_bwd.py": "--set B=1 --set S=128 --set H=1 --set DK=64 --set DV=64",
    "blocksparse_attention/example_tilelang_block_sparse_attn.py": ATTN + " --set seq_len=128 "
                                                                   "--set downsample_len=2 --set is_causal=False",
    # NSA: 32 query heads per KV head (a 16-row group is NT111); one key block, so that every query
    # position has a block its guard `i_s <= i_t` keeps (random indices would leave rows empty: NaN)
    "deepseek_nsa/example_tilelang_nsa_decode.py": "--set batch=2 --set heads=32 --set seq_len=32 --set dim=32 "
                                                   "--set block_size=32 --set groups=32 --set selected_blocks=2",
    "deepseek_mla/example_mla_decode_persistent.py": "--set batch=1 --set heads=64 --set kv_head_num=1 "
                                                     "--set seqlen_kv=256 --set dim=128 --set pe_dim=32 "
                                                     "--set block_N=64 --set block_H=64 --set num_split=2",
    "deepseek_mla/example_mla_decode_ws.py": "--set batch=1 --set heads=64 --set kv_head_num=1 --set seqlen_kv=256 "
                                             "--set dim=128 --set pe_dim=64 --set block_N=64 --set block_H=64 "
                                             "--set num_split=1 --set softmax_scale=0.08",
    "warp_specialize/example_warp_specialize_flashmla.py": "--set batch=1 --set heads=64 --set kv_head_num=1 "
                                                           "--set seqlen_kv=256 --set dim=128 --set pe_dim=64 "
                                                           "--set block_N=64 --set block_H=64 --set num_split=1",
    "dequantize_gemm/example_dequant_gemm_w4a8.py": "--kernel matmul_int8xint4 --set M=128 --set N=128 "
                                                    "--set K=256 --set in_dtype=int8 --set out_dtype=int32 "
                                                    "--set accum_dtype=int32",
    "dequantize_gemm/example_dequant_gemm_fine_grained.py": GEMM + " --set in_dtype=float16 "
                                                            "--set out_dtype=float16 --set accum_dtype=float32 "
                                                            "--set num_stages=2 --set threads=128",
    "dequantize_gemm/example_dequant_gemm_fp4_hopper.py": "--kernel matmul --set M=128 --set N=128 --set K=256 "
                                                          "--set in_dtype=float16 --set out_dtype=float16 "
                                                          "--set accum_dtype=float32 --set block_M=64 "
                                                          "--set block_N=64 --set block_K=64",
    **{f"dequantize_gemm/example_dequant_gemm_bf16_{name}.py": MXFP4 for name in ("fp4_hopper", "mxfp4_hopper",
                                                                                 "mxfp4_cdna4")},
    "dequantize_gemm/example_dequant_gemv_fp16xint4.py": "--set M=1 --set N=128 --set K=256 --set in_dtype=float16 "
                                                         "--set out_dtype=float16 --set accum_dtype=float32",
    "convolution/example_convolution_autotune.py": "--set N=1 --set C=32 --set H=4 --set W=64 --set F=32 "
                                                   "--set K=3 --set S=1 --set D=1 --set P=1 --set block_M=64 "
                                                   "--set block_N=32 --set block_K=32 --set num_stages=1 "
                                                   "--set thread_num=128 --set enable_rasteration=False",
    "deepseek_nsa/example_tilelang_nsa_fwd.py": "--set batch=1 --set heads=32 --set seq_len=32 --set dim=32 "
                                                "--set is_causal=True --set block_size=32 --set groups=32 "
                                                "--set selected_blocks=2",
    "flash_attention/example_gqa_bwd.py": "--kernel flashattn_bwd_atomic_add " + GQA_BWD,
    "flash_attention/example_gqa_bwd_tma_reduce.py": "--kernel flashattn_bwd_atomic_add " + GQA_BWD,
    # varlen backward: 256 packed tokens, so that index_roles' random sequence (from row 0, at most
    # the tensor less a block) is not empty, and the adds add something
    "flash_attention/example_gqa_bwd_tma_reduce_varlen.py": "--kernel flashattn_bwd_atomic_add " + GQA_BWD.replace(
        "seq_len=128", "total_q=256 --set total_kv=256 --set N_CTX=256 --set max_seq_len=128"),
    "flash_attention/example_mha_bwd_bshd.py": "--kernel flashattn_bwd " + ATTN + " --set seq_len=128 "
                                               "--set is_causal=False --set block_M=64 --set block_N=64",
    "attention_sink/example_mha_sink_bwd_bhsd.py": "--kernel flashattn_bwd " + ATTN + " --set seq_len=128",
    "attention_sink/example_gqa_sink_bwd_bhsd.py": "--kernel flashattn_bwd " + ATTN.replace("heads=2", "heads=4") +
                                                   " --set seq_len=128 --set groups=2",
    "attention_sink/example_gqa_sink_bwd_varlen.py": "--kernel flashattn_bwd --set batch_size=1 --set groups=2 "
                                                     "--set UQ=256 --set UKV=256 --set N_CTX=256 --set heads=4 "
                                                     "--set max_seq_len=128 --set dim=64 --set is_causal=False",
    "attention_sink/example_gqa_sink_fwd_varlen.py": "--set batch_size=2 --set groups=2 --set UQ=256 --set UKV=256 "
                                                     "--set heads=4 --set dim=64 --set is_causal=False --set max_seqlen_q=128",
    "flash_decoding/example_gqa_decode_varlen_logits.py": "--set batch=1 --set heads=8 --set k_heads=2 "
                                                          "--set max_seqlen_kv=256 --set total_seqlen_k=256 "
                                                          "--set dim=64 --set has_sink=False --set block_N=64 "
                                                          "--set block_H=32",
    "linear_attention/example_mamba_chunk_scan.py": MAMBA + " --set block_Dstate=64",
    "linear_attention/example_mamba_chunk_state.py": MAMBA,
    # T.dynamic sizes: one value each (--set), as for any size
    "blocksparse_attention/example_tilelang_sparse_gqa_decode_paged.py": SPARSE_DECODE + " --set page_block_size=64 "
                                                                         "--set num_pages=8 --set num_split=2 "
                                                                         "--set max_num_blocks_per_seq=4 "
                                                                         "--set max_selected_blocks=2",
    "blocksparse_attention/example_tilelang_sparse_gqa_decode_varlen_indice.py": SPARSE_DECODE + " --set num_split=2 "
                                                                                 "--set max_cache_seqlen=256 "
                                                                                 "--set max_selected_blocks=2",
    "blocksparse_attention/example_tilelang_sparse_gqa_decode_varlen_mask.py": SPARSE_DECODE + " --set num_split=2 "
                                                                               "--set max_cache_seqlen=256 "
                                                                               "--set num_blocks=8",
    # autotuned without defaults: nanott runs the first configuration of each search space (NT921)
    "gemm_fp8/example_tilelang_gemm_amd.py": "--set M=128 --set N=128 --set K=128",
    "gemm_fp8/example_tilelang_gemm_amd_fp8_preshuffle.py": "--set M=128 --set N=128 --set K=128",
    "gemm_fp8/example_tilelang_gemm_fp8_sm100.py": GEMM + " --set trans_A=False --set trans_B=True "
                                                   "--set in_dtype=float8_e4m3fn --set out_dtype=bfloat16 "
                                                   "--set accum_dtype=float32 --set num_stages=2 --set threads=128",
    "deepseek_nsa/example_tilelang_nsa_bwd.py": "--kernel tilelang_kernel_fwd --set batch=1 --set seq_len=32 "
                                                "--set heads=32 --set dim=32 --set is_causal=True --set block_size=32 "
                                                "--set groups=32 --set selected_blocks=2",
    # varlen NSA: two sequences of 21 and 43 tokens packed in 64, with the token and block tables
    # of INPUTS (random tables break their invariants: NT120)
    "deepseek_nsa/example_tilelang_nsa_fwd_varlen.py": "--set batch=2 --set c_seq_len=64 --set heads=32 --set dim=32 "
                                                       "--set is_causal=True --set block_size=32 --set groups=32 "
                                                       "--set selected_blocks=2",
    "deepseek_mla/example_mla_decode_paged.py": "--set batch=1 --set h_q=64 --set h_kv=1 --set max_seqlen_pad=256 "
                                                "--set dv=128 --set dpe=32 --set block_N=64 --set block_H=64 "
                                                "--set num_split=1 --set block_size=64",
    # a file of several kernels lists one argument string per kernel: one line each
    "fusedmoe/example_fusedmoe_tilelang.py": ("--kernel moe_forward_tilelang_shared --set dhidden=128 "
                                              "--set dexpert=128 --set num_tokens=128 --set dtype=float16",
                                              "--kernel moe_forward_tilelang_routed --set dhidden=128 "
                                              "--set dexpert=128 --set n_routed_experts=4 --set dtype=float16 "
                                              "--set group_sum=256 --set group_count=4 --set block_token=32 "
                                              "--set block_dhidden=64 --set block_dexpert=64"),
}


def nsa_varlen_tables(batch: int, total: int, block: int, selected: int, heads_kv: int = 1) -> dict:
    """The tables NSA's varlen kernel reads, as its host code builds them: Offsets (sequence starts,
    lengths growing with the sequence number), TokenIndices[c] = (sequence, position) of packed
    token c, BlockIndices[c, h] = `selected` of the key blocks up to the token's position (in any
    order, sorted; the rest `total`, which the kernel's guard skips), BlockCounts in 1..selected."""
    rng = np.random.default_rng(0)
    offsets = np.array([total * k * (k + 1) // (batch * (batch + 1)) for k in range(batch + 1)])
    seq = np.searchsorted(offsets, np.arange(total), side="right") - 1
    tokens = np.stack([seq, np.arange(total) - offsets[seq]], axis=1)
    blocks = np.full((total, heads_kv, selected), total)
    for c, (_, t) in enumerate(tokens):
        for h in range(heads_kv):
            pick = rng.permutation(max(1, -(-t // block)))[:selected]
            blocks[c, h, :len(pick)] = np.sort(pick)
    counts = rng.integers(1, selected + 1, (total, heads_kv))
    return {"Offsets": offsets, "TokenIndices": tokens, "BlockIndices": blocks, "BlockCounts": counts}


def moe_routing_tables(counts: list[int], block: int) -> dict:
    """The routing tables fused MoE's routed kernel reads, as its host code builds them from the
    tokens per expert (`counts`): each group's offset among the sorted tokens, its offset padded
    to whole blocks with room for one more token, and each block's group (the last whose padded
    offset the block's first row reaches), over ceil(tokens / block) + groups blocks."""
    sizes = np.array(counts)
    padded = -(-(sizes + 1) // block) * block
    starts = np.concatenate([[0], np.cumsum(padded)[:-1]])
    blocks = -(-sizes.sum() // block) + len(sizes)
    group = [int(np.nonzero(bx * block >= starts)[0][-1]) for bx in range(blocks)]
    return {"group_sizes": sizes, "group_offsets": np.concatenate([[0], np.cumsum(sizes)[:-1]]),
            "group_padded_offsets": starts, "group_idx_for_bx": np.array(group)}


# file (and kernel) -> the input arrays it is run with (`--inputs`), in place of random ones: the
# index tables whose invariants between tensors no random draw keeps (nanott/given_inputs.py)
INPUTS = {
    "deepseek_nsa/example_tilelang_nsa_fwd_varlen.py": lambda: nsa_varlen_tables(2, 64, 32, 2),
    "fusedmoe/example_fusedmoe_tilelang.py moe_forward_tilelang_routed": lambda: moe_routing_tables([64, 32, 100, 60], 32),
}


def kernel_files(examples: Path) -> list[Path]:
    """The families' .py files that open a T.Kernel (not tests, regressions or benchmarks)."""
    out = []
    for family in FAMILIES:
        root = examples / family
        files = [root] if root.is_file() else sorted(root.glob("*.py"))
        out += [f for f in files if "T.Kernel" in f.read_text()
                and not f.name.startswith(("test_", "regression_", "benchmark_"))]
    return out


def arguments(rel: str) -> tuple[str, ...]:
    """The argument strings of a file: one per kernel it is run with."""
    a = ARGS.get(rel, "")
    return (a,) if isinstance(a, str) else a


def verdict(rc: int, out: str, err: str) -> tuple[str, str]:
    if "Traceback (most recent call last)" in err:
        return "crash", err.strip().splitlines()[-1][:150]
    m = re.search(r"error (NT\d+): (.*)", err)
    if m:
        kind = {"NT902": "no-load", "NT901": "unset", "NT903": "unset"}.get(m.group(1), "stops")
        return kind, f"{m.group(1)} {m.group(2)[:140]}"
    if rc == 0 and "EXCEEDS" not in out:
        last = [line for line in out.splitlines() if line.startswith("# checked:")][-1:]
        errs = re.findall(r"max \|err\| (\S+)", last[0]) if last else []
        level = last[0].split()[2] if last else ""
        return "runs", f"{out.count('# checked:')} levels checked" + (f", {level} max |err| {max(errs, key=float)}"
                                                                     if errs else "")
    return "crash", (err.strip().splitlines() or ["exit %d" % rc])[-1][:150]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout", type=Path, help="a TileLang checkout (its examples/ is read)")
    ap.add_argument("--stop-after", default=None, help="last stage (default: every stage, G1)")
    ap.add_argument("--family", default=None, help="only this family (a folder under examples/)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--execute", action="store_true", help="also `nanott compile --execute` each kernel that runs")
    args = ap.parse_args()
    examples = args.checkout / "examples"
    files = [f for f in kernel_files(examples)
             if args.family is None or f.relative_to(examples).parts[0] == args.family]
    counts: dict[str, int] = {}
    runs = [(f, a) for f in files for a in arguments(f.relative_to(examples).as_posix())]
    tables = tempfile.TemporaryDirectory()
    for f, argv in runs:
        rel = f.relative_to(examples).as_posix()
        if len(arguments(rel)) > 1:                       # one line per kernel of the file
            rel += " " + argv.split("--kernel ")[1].split()[0]
        if rel in INPUTS:
            path = Path(tables.name) / (rel.replace("/", "_").replace(" ", "_") + ".npz")
            np.savez(path, **INPUTS[rel]())
            argv += f" --inputs {path}"
        cmd = [sys.executable, "-m", "nanott", "explain", str(f), *argv.split()]
        cmd += ["--stop-after", args.stop_after] if args.stop_after else []
        start = time.perf_counter()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            kind, why = verdict(p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired:
            kind, why = "crash", f"timed out after {args.timeout:.0f} s"
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "runs" and args.execute:
            done = executed(f, argv, args.timeout)
            counts[done[0]] = counts.get(done[0], 0) + 1
            why += f"; {' '.join(done)}"
        print(f"{kind:8} {rel:70} {time.perf_counter() - start:5.1f}s  {why}", flush=True)
    print(f"\n{len(runs)} kernels of {len(files)} files: " + ", ".join(f"{counts.get(k, 0)} {k}"
                                                      for k in ("runs", "stops", "unset", "no-load", "crash")))
    if args.execute:
        print(f"compile --execute: {counts.get('executes', 0)} executes, "
              f"{counts.get('execute FAILS', 0)} execute FAILS (of {counts.get('runs', 0)} that run)")
    return 0


def executed(f: Path, argv: str, timeout: float) -> tuple[str, ...]:
    """("executes",) when `nanott compile --execute` built, ran and matched; else ("execute FAILS", why)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "nanott", "compile", str(f), *argv.split(), "-o", out, "--execute",
               "--timeout", str(timeout)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * timeout)
        except subprocess.TimeoutExpired:
            return "execute FAILS", f"timed out after {3 * timeout:.0f} s"
    last = (p.stdout.strip().splitlines() or [""])[-1]
    if p.returncode == 0 and last.endswith("PASS"):
        return ("executes",)
    return "execute FAILS", (last or (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1])[:120]


if __name__ == "__main__":
    sys.exit(main())
