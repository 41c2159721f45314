"""The dtype vocabulary, in one table: every dtype name a kernel may write, its width, and, for the
dtypes nanott lowers, the Tenstorrent data format that holds it and the C++ host type of its files.

  name        bits  tt::DataFormat  bytes/tile  host type  why this format
  bfloat16     16   Float16_b         2048      bfloat16   Tensix's native 16-bit float
  float16      16   Float16           2048      uint16_t   IEEE binary16 (5-bit exponent, 10-bit
                                                           mantissa); tt-metal has no host half type,
                                                           so the host holds its bit patterns
  float32      32   Float32           4096      float      IEEE single; the SFPU computes in it
  int32        32   Int32             4096      int32_t    indices and integer sums
  int8          8   Int8              1024      int8_t     quantised weights and activations
  uint8         8   UInt8             1024      uint8_t    masks, packed codes
  bool          8   UInt8             1024      uint8_t    Tensix has no 1-bit format: a byte 0 or 1,
                                                           as TileLang stores bool on a GPU
  float8_e4m3fn 8   Bfp8_b            1088      uint8_t    Wormhole has no fp8 format: its 8-bit float
  float8_e5m2   8   Bfp8_b            1088      uint8_t    is the block float Bfp8_b (a shared exponent
                                                           per 16 values, 7-bit magnitudes), one byte
                                                           per value like fp8. Every e4m3 value within 3
                                                           binades of its group's largest (e5m2: 4) is
                                                           held exactly; smaller ones lose low bits
                                                           (nanott/block_float.py models it). The file
                                                           holds the fp8 bit patterns; main.cpp decodes
                                                           them and packs Bfp8_b tiles. Blackhole's
                                                           tt-llk added Fp8_e4m3 (DataFormat 26) in
                                                           2026 (tt-llk #1375); nanott's CPU runtime
                                                           does not model it yet, so both targets
                                                           take Bfp8_b.

Numerics: arithmetic runs in float32 (as the SFPU's); a value stored into a buffer of a float dtype
is rounded to it to nearest, ties to even (NumPy's and ml_dtypes' casts, the host's conversion, and
nanott's CPU runtime's packer agree). The hardware flushes float16 denormals (below 6.1e-5) to zero
in compute; nanott keeps them (not modelled). A value stored into an integer buffer is truncated
toward zero (C's cast, NumPy's astype); values outside the integer type's range are outside the
model (C leaves them undefined). A value stored into a bool buffer is 1 unless it is 0. An fp8
input is read as DRAM holds it, Bfp8_b (nanott/block_float.py, at every level: the host converts it
as it writes it). An fp8 tensor a kernel writes is rounded to the fp8 dtype where the kernel stores
it, and DRAM holds it as Bfp8_b (the packer's format): every level puts the written tensor on
Bfp8_b's grid, and main.cpp reads the Bfp8_b tiles back and rounds each value to fp8 for the file
(`fp8_bits`, ties to even as ml_dtypes; e4m3fn has no infinity: past 448 is NaN). The device rounds
to Bfp8_b first and to fp8 second, the levels the other way round: the two differ at most where
the second rounding meets a tie, one fp8 step, inside the fp8 output's tolerance.

Other names TileLang accepts (float64, int16, float8_e4m3fn, ...) are known here with their width
(`tvm.DataType(name).bits`) and rejected by P0 with NT101 until a row gives them a format. NumPy
types are named, not imported, so that loading a kernel file does not import NumPy.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DType:
    """A dtype nanott lowers: its storage for NumPy and the interpreters, and its target format."""
    name: str
    bits: int
    numpy: str            # a numpy or ml_dtypes type name
    format: str           # tt::DataFormat
    tile_bytes: int       # one 32x32 tile in that format
    kind: str             # float | int
    host: str             # the C++ type of the host's copy (and of the .bin files)
    header: str | None    # the header declaring it


LOWERED = {d.name: d for d in (
    DType("bfloat16", 16, "bfloat16", "Float16_b", 2048, "float", "bfloat16", "tt-metalium/bfloat16.hpp"),
    DType("float16", 16, "float16", "Float16", 2048, "float", "uint16_t", None),
    DType("float32", 32, "float32", "Float32", 4096, "float", "float", None),
    DType("int32", 32, "int32", "Int32", 4096, "int", "int32_t", None),
    DType("int8", 8, "int8", "Int8", 1024, "int", "int8_t", None),
    DType("uint8", 8, "uint8", "UInt8", 1024, "int", "uint8_t", None),
    DType("bool", 8, "bool_", "UInt8", 1024, "bool", "uint8_t", None),
    DType("float8_e4m3fn", 8, "float8_e4m3fn", "Bfp8_b", 1088, "float", "uint8_t", None),
    DType("float8_e5m2", 8, "float8_e5m2", "Bfp8_b", 1088, "float", "uint8_t", None),
)}

BITS = {"float64": 64, "float16": 16, "int8": 8, "int16": 16, "int64": 64, "uint8": 8, "uint16": 16,
        "uint32": 32, "uint64": 64, "bool": 1, "float8_e4m3fn": 8, "float8_e5m2": 8, "float8_e4m3": 8,
        "float8_e8m0fnu": 8, "float4_e2m1fn": 4, "int4": 4, "tfloat32": 32,
        **{d.name: d.bits for d in LOWERED.values()}}

ALIASES = {"float": "float32", "fp32": "float32", "bf16": "bfloat16", "half": "float16",
           "double": "float64", "int": "int32", "uint": "uint32", "long": "int64", "short": "int16",
           "ulong": "uint64"}                   # the last five: TileLang's display names (dtypes.py)


def canonical(name: str) -> str:
    """The vocabulary's name for a dtype spelled as TileLang, torch or NumPy spell it."""
    name = str(name).removeprefix("torch.").removeprefix("numpy.")
    return ALIASES.get(name, name)


def bits_of(name: str) -> int:
    return BITS[canonical(name)]
