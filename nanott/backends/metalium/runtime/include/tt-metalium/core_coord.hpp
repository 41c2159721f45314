// tt-metal's tt-metalium/core_coord.hpp (docs/reference.md §6.1): logical cores, inclusive ranges, sets
// of ranges, in tt-metal's namespaces (CoreCoord is tt::xy_pair, the ranges tt::tt_metal's; the
// real libtt_metal.so's CreateKernel takes a variant of exactly these). Implemented for the CPU in
// runtime/src/host_api.cpp.
#pragma once
#include <cstddef>
#include <set>
#include <span>
#include <vector>

namespace tt {
struct xy_pair {
    constexpr xy_pair() : x{}, y{} {}
    constexpr xy_pair(std::size_t x, std::size_t y) : x(x), y(y) {}
    std::size_t x;
    std::size_t y;
};
}  // namespace tt

namespace tt::tt_metal {
using CoreCoord = tt::xy_pair;

class CoreRange {
public:
    CoreRange(const CoreCoord& point);
    CoreRange(const CoreCoord& start_coord, const CoreCoord& end_coord);
    CoreCoord start_coord;
    CoreCoord end_coord;
};

class CoreRangeSet {
public:
    CoreRangeSet() = default;
    CoreRangeSet(std::span<const CoreRange> core_ranges);
    CoreRangeSet(const std::set<CoreRange>& core_ranges);
    CoreRangeSet(const CoreRange& core_range);
    CoreRangeSet(std::span<const CoreCoord> core_coords);
    CoreRangeSet(std::vector<CoreRange>&& core_ranges);
    std::size_t size() const;
    unsigned num_cores() const;
    const std::vector<CoreRange>& ranges() const;

private:
    std::vector<CoreRange> ranges_;
};
}  // namespace tt::tt_metal
