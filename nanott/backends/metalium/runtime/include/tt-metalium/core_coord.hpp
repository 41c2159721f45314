// tt-metal's tt-metalium/core_coord.hpp (metalium.md §6.1): logical cores, inclusive ranges, sets
// of ranges. Implemented for the CPU in runtime/src/host_api.cpp.
#pragma once
#include <cstddef>
#include <set>
#include <span>
#include <vector>

struct tt_xy_pair {
    constexpr tt_xy_pair() : x{}, y{} {}
    constexpr tt_xy_pair(std::size_t x, std::size_t y) : x(x), y(y) {}
    std::size_t x;
    std::size_t y;
};
using CoreCoord = tt_xy_pair;

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
