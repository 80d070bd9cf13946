// src/adapt/internal/policies.h — the policies behind MakePolicy, and the share packing the
// time-shared ones use.
#ifndef TESSERA_SRC_ADAPT_INTERNAL_POLICIES_H_
#define TESSERA_SRC_ADAPT_INTERNAL_POLICIES_H_

#include <memory>
#include <utility>
#include <vector>

#include "tessera/adapt/policy.h"

namespace tessera::adapt::internal {

std::unique_ptr<Policy> MakeEkyaPolicy(const PolicyContext& context);
std::unique_ptr<Policy> MakeFairPolicy(const PolicyContext& context);
std::unique_ptr<Policy> MakeParisPolicy(const PolicyContext& context);
// gpulet-autoscale (`autoscale` true) and static-peak.
std::unique_ptr<Policy> MakePlannerPolicy(const PolicyContext& context, bool autoscale);

// Time slices of `gpus` whole GPUs for jobs (tenant, role) wanting `shares[j]` GPUs each: shares of
// a GPU or more take whole GPUs, the rest are placed first-fit decreasing, and a slice that fits on
// no single GPU is split over the GPUs with the most room (shares beyond the GPUs are dropped).
// Each GPU gets one slot per job on it (label "whole"), valued with the PerfBook's time-slice
// figures.
Allocation PackShares(const std::vector<std::pair<int, Role>>& jobs,
                      const std::vector<double>& shares, int gpus, const PerfBook& book);

}  // namespace tessera::adapt::internal

#endif  // TESSERA_SRC_ADAPT_INTERNAL_POLICIES_H_
