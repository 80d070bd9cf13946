// The arrival sources ordered by their next arrival: a binary min-heap on (time, source index) with
// replace-top, so taking an arrival and pulling the source's next one costs one sift-down.
#ifndef TESSERA_SRC_SIM_INTERNAL_SOURCE_HEAP_H_
#define TESSERA_SRC_SIM_INTERNAL_SOURCE_HEAP_H_

#include <cstdint>
#include <vector>

namespace tessera::sim::internal {

class SourceHeap {
 public:
  struct Entry {
    int64_t time;
    uint32_t source;
    bool Before(const Entry& o) const { return time != o.time ? time < o.time : source < o.source; }
  };

  bool empty() const { return heap_.empty(); }
  const Entry& top() const { return heap_.front(); }
  void Push(Entry e) {
    heap_.push_back(e);
    size_t i = heap_.size() - 1;
    while (i > 0 && e.Before(heap_[(i - 1) / 2])) {
      heap_[i] = heap_[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    heap_[i] = e;
  }
  // Replaces the top with `e` (the same source's next arrival) and restores the order.
  void ReplaceTop(Entry e) { SiftDown(0, e); }
  void PopTop() {
    Entry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(0, last);
  }

 private:
  void SiftDown(size_t i, Entry e) {
    const size_t n = heap_.size();
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_[child + 1].Before(heap_[child])) ++child;
      if (!heap_[child].Before(e)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = e;
  }
  std::vector<Entry> heap_;
};

}  // namespace tessera::sim::internal

#endif  // TESSERA_SRC_SIM_INTERNAL_SOURCE_HEAP_H_
