// A growable FIFO ring buffer of int64 values (request arrival times) for the simulator's queues.
// Capacity doubles when full and never shrinks, so memory follows the largest backlog.
#ifndef TESSERA_SRC_SIM_INTERNAL_RING_H_
#define TESSERA_SRC_SIM_INTERNAL_RING_H_

#include <cstdint>
#include <vector>

namespace tessera::sim::internal {

class Ring {
 public:
  Ring() : buffer_(16) {}
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t front() const { return buffer_[head_]; }
  void push(int64_t value) {
    if (size_ == buffer_.size()) Grow();
    buffer_[(head_ + size_) & (buffer_.size() - 1)] = value;
    ++size_;
  }
  int64_t pop() {
    int64_t value = buffer_[head_];
    head_ = (head_ + 1) & (buffer_.size() - 1);
    --size_;
    return value;
  }
  size_t capacity() const { return buffer_.size(); }

 private:
  void Grow() {
    std::vector<int64_t> bigger(buffer_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = buffer_[(head_ + i) & (buffer_.size() - 1)];
    buffer_.swap(bigger);
    head_ = 0;
  }
  std::vector<int64_t> buffer_;  // size is a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace tessera::sim::internal

#endif  // TESSERA_SRC_SIM_INTERNAL_RING_H_
