// tt-metal's hostdevcommon/flags.hpp: a set of the values of one enum class, in the global
// namespace (host and device share it; its name is part of TensorAccessorArgs's mangled signature,
// which main.cpp must resolve in the real libtt_metal.so).
#pragma once
#include <type_traits>

template <typename E>
class Flags {
public:
    using Bits = std::underlying_type_t<E>;
    constexpr Flags() noexcept = default;
    constexpr Flags(E value) noexcept : bits_(static_cast<Bits>(value)) {}
    constexpr Flags operator|(Flags other) const noexcept { return Flags(static_cast<Bits>(bits_ | other.bits_)); }
    constexpr Flags operator|(E other) const noexcept { return *this | Flags(other); }
    constexpr bool test(E value) const noexcept { return (bits_ & static_cast<Bits>(value)) != 0; }
    constexpr Bits raw() const noexcept { return bits_; }
    constexpr bool operator==(const Flags&) const noexcept = default;

private:
    constexpr explicit Flags(Bits bits) noexcept : bits_(bits) {}
    Bits bits_ = 0;
};
