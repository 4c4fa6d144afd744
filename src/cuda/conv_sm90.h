// The Hopper (sm_90a) implicit-GEMM convolutions of conv_sm90.cu (issue #12), built when the CUDA
// architectures include 90 (MYTENSOR_SM90A). Each returns true when it ran the pass on a compute
// capability 9.0 device, and false, having done nothing, when the geometry, the alignment or the
// device is outside what it serves: conv.cu then runs the older kernels. float32 only, TF32
// tensor cores (PyTorch's convolution default), groups == 1, tensors contiguous NCHW.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/tensor_impl.h"

namespace mytensor::cuda {

struct Conv2dGeom {
  int64_t n, c, h, w;   // input
  int64_t o, kh, kw;    // weight (o, c, kh, kw)
  int64_t oh, ow;       // output
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
};

// out (n, o, oh, ow) = conv2d(x, w) + bias (bias may be null).
bool conv2d_sm90(const Tensor& x, const Tensor& w, const float* bias, const Conv2dGeom& g,
                 const Tensor& out, int device, cudaStream_t stream);
// grad_in (n, c, h, w) from grad_out (n, o, oh, ow) and w; stride 1 only.
bool conv2d_backward_input_sm90(const Tensor& grad_out, const Tensor& w, const Conv2dGeom& g,
                                const Tensor& grad_in, int device, cudaStream_t stream);
// grad_w (o, c, kh, kw) from grad_out and x; stride 1 only.
bool conv2d_backward_weight_sm90(const Tensor& grad_out, const Tensor& x, const Conv2dGeom& g,
                                 const Tensor& grad_w, int device, cudaStream_t stream);

// How many passes the sm90 convolutions have run in this process (tests check that a geometry
// really took the Hopper path).
int64_t conv_sm90_launches();

}  // namespace mytensor::cuda
