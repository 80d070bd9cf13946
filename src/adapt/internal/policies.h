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
// a GPU or more take whole GPUs; the rest stay, when they fit, on a GPU where `previous` ran the
// same job (its process keeps running), then go first-fit decreasing; a slice that fits on no
// single GPU is split over the GPUs with the most room in parts of at least 0.1 GPU (what cannot be
// placed so is dropped). Each GPU gets one slot per job on it (label "whole"), valued with the
// PerfBook's time-slice figures. `previous` may be null.
Allocation PackShares(const std::vector<std::pair<int, Role>>& jobs,
                      const std::vector<double>& shares, int gpus, const PerfBook& book,
                      const Allocation* previous);

}  // namespace tessera::adapt::internal

#endif  // TESSERA_SRC_ADAPT_INTERNAL_POLICIES_H_
