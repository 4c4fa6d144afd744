// Host-device copies on the device's stream; host-to-device goes through pinned staging blocks,
// recycled once the copy that used them has finished.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "cuda/cuda_check.h"
#include "cuda/runtime.h"
#include "cuda/runtime_state.h"

namespace mytensor::cuda {

namespace {

// Host-to-device copies go through pinned blocks of at most kStagingChunk bytes; a device keeps at
// most kMaxStagingBytes of them before it waits for in-flight copies to finish.
constexpr size_t kMinStaging = size_t(64) << 10;
constexpr size_t kStagingChunk = size_t(16) << 20;
constexpr size_t kMaxStagingBytes = size_t(256) << 20;

size_t staging_size_for(size_t chunk) {
  size_t size = kMinStaging;
  while (size < chunk) size *= 2;
  return size;
}

// A pinned block of at least `chunk` bytes that no queued copy reads any more, or nullptr when
// pinned memory cannot be had (staging_mu held, device current).
StagingBlock* acquire_staging(DeviceState& s, size_t chunk) {
  while (!s.staging_in_flight.empty()) {
    StagingBlock* b = s.staging_in_flight.front();
    cudaError_t err = cudaEventQuery(b->event);
    if (err == cudaErrorNotReady) break;
    if (err != cudaSuccess) throw_cuda_error(err, "cudaEventQuery(staging)", __FILE__, __LINE__);
    s.staging_in_flight.pop_front();
    s.staging_free.emplace(b->size, b);
  }
  auto it = s.staging_free.lower_bound(chunk);
  if (it != s.staging_free.end()) {
    StagingBlock* b = it->second;
    s.staging_free.erase(it);
    return b;
  }
  size_t size = staging_size_for(chunk);
  if (s.staging_bytes + size > kMaxStagingBytes) {
    // At the cap: wait for queued copies, oldest first, until a large enough block is free.
    while (!s.staging_in_flight.empty()) {
      StagingBlock* b = s.staging_in_flight.front();
      s.staging_in_flight.pop_front();
      MT_CUDA_CHECK(cudaEventSynchronize(b->event));
      if (b->size >= chunk) return b;
      s.staging_free.emplace(b->size, b);
    }
  }
  auto* b = new StagingBlock();
  b->size = size;
  if (cudaMallocHost(&b->host, size) != cudaSuccess) {
    cudaGetLastError();
    delete b;
    return nullptr;
  }
  if (cudaEventCreateWithFlags(&b->event, cudaEventDisableTiming) != cudaSuccess) {
    cudaGetLastError();
    cudaFreeHost(b->host);
    delete b;
    return nullptr;
  }
  s.staging_bytes += size;
  return b;
}

}  // namespace

void release_staging(DeviceState& s) {
  std::lock_guard<std::mutex> lock(s.staging_mu);
  for (auto& entry : s.staging_free) {
    cudaFreeHost(entry.second->host);
    cudaEventDestroy(entry.second->event);
    s.staging_bytes -= entry.second->size;
    delete entry.second;
  }
  s.staging_free.clear();
}

void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device) {
  refuse_while_capturing(
      "a host-to-device copy (mt.tensor(..., device='cuda'), .to('cuda'), .cuda(), a CPU tensor "
      "mixed with CUDA ones) inside a captured step: a replay would not repeat it and would keep "
      "the bytes copied at capture time; make the tensor before the step and pass it in as an "
      "argument");
  if (nbytes == 0) return;
  DeviceState& s = state(device, "to");
  DeviceGuard guard(device);
  cudaStream_t stream = current_stream(device);
  const char* from = static_cast<const char*>(src);
  char* to = static_cast<char*>(dst);
  std::lock_guard<std::mutex> lock(s.staging_mu);
  size_t done = 0;
  while (done < nbytes) {
    size_t chunk = std::min(nbytes - done, kStagingChunk);
    StagingBlock* b = acquire_staging(s, chunk);
    if (b == nullptr) {
      // No pinned memory: a pageable copy, which the driver stages before returning.
      MT_CUDA_CHECK(
          cudaMemcpyAsync(to + done, from + done, nbytes - done, cudaMemcpyHostToDevice, stream));
      return;
    }
    std::memcpy(b->host, from + done, chunk);
    cudaError_t err = cudaMemcpyAsync(to + done, b->host, chunk, cudaMemcpyHostToDevice, stream);
    if (err == cudaSuccess) err = cudaEventRecord(b->event, stream);
    if (err != cudaSuccess) {
      s.staging_free.emplace(b->size, b);
      throw_cuda_error(err, "cudaMemcpyAsync(host to device)", __FILE__, __LINE__);
    }
    s.staging_in_flight.push_back(b);
    done += chunk;
  }
}

void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device) {
  check_device(device, "to");
  refuse_while_capturing(
      "a device-to-host copy (.item(), .numpy(), .tolist(), .cpu(), float() or printing of a CUDA "
      "tensor) inside a captured step: a replay would not run the host code that reads it; "
      "return the tensor from the step and read it outside");
  {
    DeviceGuard guard(device);
    cudaStream_t stream = current_stream(device);
    if (nbytes > 0) {
      MT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream));
    }
    MT_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  check_device_errors(device);
}

void copy_device_to_device(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  check_device(device, "to");
  DeviceGuard guard(device);
  // cudaMemcpyDefault: with unified addressing the driver also handles a source on another GPU.
  MT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, current_stream(device)));
}

}  // namespace mytensor::cuda
