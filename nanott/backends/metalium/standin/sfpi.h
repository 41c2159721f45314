// nanott's stand-in for the SFPI toolchain's <sfpi.h>: the vector types, registers, constants,
// conditionals and intrinsic functions tt-llk's SFPU code is written in, declared loosely enough for
// an x86 `g++ -fsyntax-only` (every vector converts to every other; the bodies compute nothing).
// Errors inside tt-llk's own SFPU code are therefore artefacts of this file, never of nanott's C++.
// It covers the SFPI of the three supported releases, 0.81's too (its storage views vFloat16b,
// vSMag..., convert<T>(v, RoundMode), dst_reg[i].mode<DataLayout>(), min/max/clamp/copysgn), so
// that only what GCC 12 itself rejects (jit.py's `static_assert(false)` case) is left.
#pragma once
#include <cstdint>
#include <type_traits>

#define sfpi_inline inline __attribute__((always_inline))
namespace sfpi {
enum class LRegs { LReg0, LReg1, LReg2, LReg3, LReg4, LReg5, LReg6, LReg7, LRegCount };

template <int K> struct vec;

using vFloat = vec<0>;
using vInt = vec<1>;
using vUInt = vec<2>;
using vAny = vec<3>;
// the storage views of the newer SFPI (0.81's tt-llk): half floats, sign-magnitude and unsigned
// integers of several widths, and the lookup-table registers; all one loose vector here
using vFloat16a = vec<4>;
using vFloat16b = vec<5>;
using vSMag = vec<6>;
using vSMag8 = vec<7>;
using vSMag16 = vec<8>;
using vMag = vec<9>;
using vUInt8 = vec<10>;
using vUInt16 = vec<11>;
using vLut8si = vec<12>;
using vLut16ss = vec<13>;
using vLut16ii = vec<14>;
enum class RoundMode { Nearest, NearestEven, NearestAway, NearestStochastic, Zero, Stochastic };
enum class ExponentMode { Biased, Unbiased, Debiased };
enum class MantissaMode { ImplicitOne, NoImplicitOne, Pad8, Pad9 };
enum class ShiftMode { Logical, Arithmetic };
enum class LutSign { Retain, Update };
enum class DataLayout { Default, None, F32, F16a, F16b, FSrcB, I32, U32, M32, SM32, SM16, SM8, U16, U8,
                        TILE, ROW_MAJOR };
struct __rvtt_vec_t {};
struct vCond { template <int K> operator vec<K>() const; template <class T> vCond operator&&(T) const { return {}; } template <class T> vCond operator||(T) const { return {}; } vCond operator!() const { return {}; } };
using vBool = vCond;     // 0.81's tt-llk: a comparison's result (ckernel_sfpu_is_fp16_zero.h, where_tile)
struct s2vFloat16 { enum Format { fp16a, fp16b }; constexpr s2vFloat16(float, Format = fp16a) {} constexpr s2vFloat16(unsigned, Format = fp16a) {} };
struct s2vFloat16a { constexpr s2vFloat16a(float) {} };
struct s2vFloat16b { constexpr s2vFloat16b(float) {} };
using sFloat16a = s2vFloat16a;
using sFloat16b = s2vFloat16b;

template <int K> struct vec {
    constexpr vec() {}
    template <int J> constexpr vec(const vec<J>&) {}
    template <class S, class = std::enable_if_t<std::is_arithmetic_v<S> || std::is_enum_v<S>>> constexpr vec(S) {}
    constexpr vec(s2vFloat16) {}
    constexpr vec(s2vFloat16a) {}
    constexpr vec(s2vFloat16b) {}
    constexpr vec(__rvtt_vec_t) {}
    template <class T> vec& operator=(const T&) { return *this; }
    template <class T> vec& operator+=(const T&) { return *this; }
    template <class T> vec& operator-=(const T&) { return *this; }
    template <class T> vec& operator*=(const T&) { return *this; }
    template <class T> vec& operator&=(const T&) { return *this; }
    template <class T> vec& operator|=(const T&) { return *this; }
    template <class T> vec& operator^=(const T&) { return *this; }
    template <class T> vec& operator<<=(const T&) { return *this; }
    template <class T> vec& operator>>=(const T&) { return *this; }
    vec operator-() const { return {}; }
    vec operator~() const { return {}; }
    vec& operator++() { return *this; }
    vec operator++(int) { return *this; }
    vec& operator--() { return *this; }
    vec operator--(int) { return *this; }
    template <class... A> constexpr vec(A...) {}
    __rvtt_vec_t get() const { return {}; }
    template <DataLayout L> vec<3>& mode() const { static vec<3> r; return r; }
    template <class... A> bool in_use(A...) const { return true; }
    template <class A> vec<3>& mode(A) const { static vec<3> r; return r; }
    vCond operator!() const;
};

template <class A, class B> struct result { using type = vAny; };
#define NANOTT_SFPI_BINOP(op)                                                                          \
    template <int K, class T> vec<K> operator op(const vec<K>&, const T&) { return {}; }              \
    template <int K, class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>                       \
    vec<K> operator op(const T&, const vec<K>&) { return {}; }
NANOTT_SFPI_BINOP(+) NANOTT_SFPI_BINOP(-) NANOTT_SFPI_BINOP(*) NANOTT_SFPI_BINOP(&)
NANOTT_SFPI_BINOP(|) NANOTT_SFPI_BINOP(^) NANOTT_SFPI_BINOP(<<) NANOTT_SFPI_BINOP(>>)
#define NANOTT_SFPI_CMP(op)                                                                            \
    template <int K, class T> vCond operator op(const vec<K>&, const T&) { return {}; }
NANOTT_SFPI_CMP(<) NANOTT_SFPI_CMP(>) NANOTT_SFPI_CMP(<=) NANOTT_SFPI_CMP(>=) NANOTT_SFPI_CMP(==) NANOTT_SFPI_CMP(!=)

struct vConstant {
    constexpr vConstant() {}
    template <class T> vConstant& operator=(const T&) { return *this; }
    template <int K> operator vec<K>() const { return {}; }
};
#define NANOTT_SFPI_CONST_OP(op)                                                                       \
    template <class T> vAny operator op(const vConstant&, const T&) { return {}; }                    \
    template <int K> vec<K> operator op(const vec<K>&, const vConstant&) { return {}; }
NANOTT_SFPI_CONST_OP(+) NANOTT_SFPI_CONST_OP(-) NANOTT_SFPI_CONST_OP(*)
inline vConstant vConst0, vConst1, vConstNeg1, vConst0p8373, vConstFloatPrgm0, vConstFloatPrgm1,
    vConstFloatPrgm2, vConstIntPrgm0, vConstIntPrgm1, vConstIntPrgm2;

struct RegFile {
    template <class I> vAny& operator[](I) const { static vAny r; return r; }
    RegFile& operator++() { return *this; }
    RegFile operator++(int) { return *this; }
    template <class T> RegFile& operator+=(T) { return *this; }
};
inline RegFile dst_reg, l_reg;

template <class T, class U> T reinterpret(const U&) { return {}; }
template <class T, class U> T as(const U&) { return {}; }
template <class T, class U, class... A> T convert(const U&, A...) { return {}; }
template <class T, class... A> vAny convert(const T&, A...) { return {}; }
template <class A, class B> struct vPair { A first; B second; };
template <class A, class B> vPair<vAny, vAny> min_max(const A&, const B&) { return {}; }
inline void vec_min_max(vAny&, vAny&) {}
template <int K, int J> void vec_min_max(vec<K>&, vec<J>&) {}
#define NANOTT_SFPI_FN(name) template <class... A> vAny name(const A&...) { return {}; }
NANOTT_SFPI_FN(abs) NANOTT_SFPI_FN(addexp) NANOTT_SFPI_FN(exexp) NANOTT_SFPI_FN(exexp_nodebias)
NANOTT_SFPI_FN(exman8) NANOTT_SFPI_FN(exman9) NANOTT_SFPI_FN(float_to_fp16a) NANOTT_SFPI_FN(float_to_fp16b)
NANOTT_SFPI_FN(float_to_int16) NANOTT_SFPI_FN(float_to_uint16) NANOTT_SFPI_FN(int32_to_float)
NANOTT_SFPI_FN(lut) NANOTT_SFPI_FN(lut2) NANOTT_SFPI_FN(lut2_sign) NANOTT_SFPI_FN(setexp) NANOTT_SFPI_FN(setman)
NANOTT_SFPI_FN(setsgn) NANOTT_SFPI_FN(shft) NANOTT_SFPI_FN(lz) NANOTT_SFPI_FN(approx_recip)
NANOTT_SFPI_FN(clamp) NANOTT_SFPI_FN(copysgn) NANOTT_SFPI_FN(copyman) NANOTT_SFPI_FN(exman) NANOTT_SFPI_FN(exp)
NANOTT_SFPI_FN(min) NANOTT_SFPI_FN(max) NANOTT_SFPI_FN(nearby) NANOTT_SFPI_FN(setsgn2) NANOTT_SFPI_FN(is_finite)
NANOTT_SFPI_FN(is_nan) NANOTT_SFPI_FN(is_inf)
struct lreg_pressure {};     // a declaration that the code around it keeps many registers live

template <class T> bool __cond(const T&) { return true; }
constexpr int SFPEXEXP_MOD1_SET_CC_COMP_EXP = 0, SFPEXEXP_MOD1_SET_CC_SGN_EXP = 0, SFPEXMAN_MOD1_PAD9 = 0,
    SFPIADD_MOD1_ARG_2SCOMP_LREG_DST = 0, SFPIADD_MOD1_ARG_IMM = 0, SFPIADD_MOD1_CC_GTE0 = 0,
    SFPIADD_MOD1_CC_LT0 = 0, SFPIADD_MOD1_CC_NONE = 0, SFPLOADI_MOD0_FLOATB = 0, SFPLOADI_MOD0_LOWER = 0,
    SFPLOADI_MOD0_SHORT = 0, SFPLOADI_MOD0_UPPER = 0, SFPLOADI_MOD0_USHORT = 0, SFPLOAD_ADDR_MODE_NOINC = 0,
    SFPLOAD_MOD0_FMT_SRCB = 0, SFPLUTFP32_MOD0_FP16_6ENTRY_TABLE1 = 0, SFPLZ_MOD1_CC_NE0 = 0,
    SFPMAD_MOD1_INDIRECT_VA = 0, SFPSETCC_MOD1_LREG_EQ0 = 0, SFPSETCC_MOD1_LREG_GTE0 = 0,
    SFPSETCC_MOD1_LREG_LT0 = 0, SFPSETCC_MOD1_LREG_NE0 = 0, SFPSETSGN_MOD1_ARG_IMM = 0,
    SFPSHFT2_MOD1_SHFT_IMM = 0, SFPSHFT2_MOD1_SHFT_LREG = 0, SFPSTOCHRND_MOD1_FP32_TO_FP16A = 0,
    SFPSTOCHRND_MOD1_FP32_TO_FP16B = 0, SFPSTOCHRND_MOD1_FP32_TO_UINT16 = 0, SFPSTOCHRND_RND_EVEN = 0,
    SFPSTOCHRND_RND_STOCH = 0, SFPSTORE_MOD0_FMT_SRCB = 0, SFPSWAP_MOD1_VEC_MIN_MAX = 0, SFPABS_MOD1_INT = 0, SFPCAST_MOD1_INT32_TO_FP32_RNE = 0,
    SFPLOADI_MOD0_FLOATA = 0, SFPMAD_MOD1_OFFSET_NONE = 0, SFPSWAP_MOD1_SWAP = 0, SFP_DESTREG_STRIDE = 2,
    SFPSTOCHRND_MOD1_FP32_TO_INT8 = 0, SFPSTOCHRND_MOD1_FP32_TO_UINT8 = 0;
}  // namespace sfpi

template <class... A> sfpi::__rvtt_vec_t __builtin_rvtt_sfpload(A...) { return {}; }
template <class... A> void __builtin_rvtt_sfpstore(A...) {}
template <class... A> sfpi::__rvtt_vec_t __builtin_rvtt_sfpmad(A...) { return {}; }

#define v_if(x) { if (::sfpi::__cond(x)) {
#define v_elseif(x) } else if (::sfpi::__cond(x)) {
#define v_else } else {
#define v_endif } }
#define v_and(x) (void)::sfpi::__cond(x)
#define v_block {
#define v_endblock }
