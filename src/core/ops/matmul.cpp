// matmul and linear: the NumPy/PyTorch shape rules, dtype and device checks, and the (B, M, K) x
// (B, K, N) views handed to the backend's bmm (broadcast batch dims become stride-0 views).
#include <algorithm>

#include "core/check.h"
#include "core/ops.h"
#include "cpu/kernels.h"
#include "cuda/kernels.h"

namespace mytensor {

namespace {

void run_bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) {
  if (out.device().is_cuda()) {
    cuda::bmm(a, b, out, accumulate);
  } else {
    cpu::bmm(a, b, out, accumulate);
  }
}

void check_operands(const Tensor& a, const Tensor& b, const char* op, const char* na,
                    const char* nb) {
  check_same_device(a, b, op);
  for (DType d : {a.dtype(), b.dtype()}) {
    MT_CHECK(d != DType::Float16 && d != DType::BFloat16, DTypeError, "[", op, "] ",
             dtype_name(d), " is not supported yet by ", op, " (got ", na, " ",
             dtype_name(a.dtype()), " and ", nb, " ", dtype_name(b.dtype()),
             "); convert with .float()");
  }
  MT_CHECK(is_floating(a.dtype()) && is_floating(b.dtype()), DTypeError, "[", op,
           "] expected float32 or float64 tensors, got ", na, " ", dtype_name(a.dtype()),
           " and ", nb, " ", dtype_name(b.dtype()),
           " (integer products are not supported; convert with .float())");
  MT_CHECK(a.dtype() == b.dtype(), DTypeError, "[", op, "] expected ", na, " and ", nb,
           " to have one dtype, got ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

// `t` with its last two dims (R, C) readable by a GEMM: unit stride in one of them and a leading
// stride of at least the other extent (what BLAS requires of lda). Strides of size-1 dims are
// rewritten to satisfy that; any other layout (slices with a step, stride-0 rows) is copied.
Tensor as_gemm_operand(const Tensor& t) {
  const int64_t n = t.ndim();
  const int64_t R = t.shape()[n - 2], C = t.shape()[n - 1];
  const int64_t rs = t.strides()[n - 2], cs = t.strides()[n - 1];
  Shape strides = t.strides();
  if ((cs == 1 || C == 1) && (R == 1 || rs >= std::max<int64_t>(C, 1))) {
    strides[n - 1] = 1;
    if (R == 1) strides[n - 2] = std::max<int64_t>(C, 1);
    return t.view_as_strided(t.shape(), strides, t.offset());
  }
  if ((rs == 1 || R == 1) && (C == 1 || cs >= std::max<int64_t>(R, 1))) {
    strides[n - 2] = 1;
    if (C == 1) strides[n - 1] = std::max<int64_t>(R, 1);
    return t.view_as_strided(t.shape(), strides, t.offset());
  }
  return contiguous(t);
}

// Whether dims [begin, end) of (shape, strides) merge into one dim; sets its stride (0 when they
// are all broadcast or all of size 1).
bool merged_stride(const Shape& shape, const Shape& strides, int64_t begin, int64_t end,
                   int64_t* stride) {
  bool first = true;
  int64_t next = 0;  // the stride the next outer dim must have to continue the run
  *stride = 0;
  for (int64_t d = end - 1; d >= begin; --d) {
    if (shape[d] == 1) continue;
    if (first) {
      *stride = strides[d];
      first = false;
    } else if (strides[d] != next) {
      return false;
    }
    next = strides[d] * shape[d];
  }
  return true;
}

// out (batch..., M, N) = a (batch..., M, K) @ b (batch..., K, N), where a and b are GEMM
// operands already expanded to the batch shape. The trailing batch dims that merge for both
// operands become bmm's B; any leading rest is looped over here.
void batched_product(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t nb = out.ndim() - 2;
  const int64_t M = a.shape()[nb], K = a.shape()[nb + 1], N = b.shape()[nb + 1];
  int64_t split = 0, sa = 0, sb = 0;
  for (; split <= nb; ++split) {
    if (merged_stride(a.shape(), a.strides(), split, nb, &sa) &&
        merged_stride(b.shape(), b.strides(), split, nb, &sb))
      break;
  }
  int64_t inner = 1, outer = 1;
  for (int64_t d = split; d < nb; ++d) inner *= out.shape()[d];
  for (int64_t d = 0; d < split; ++d) outer *= out.shape()[d];
  for (int64_t o = 0; o < outer; ++o) {
    int64_t off_a = a.offset(), off_b = b.offset(), rem = o;
    for (int64_t d = split - 1; d >= 0; --d) {
      const int64_t i = rem % out.shape()[d];
      rem /= out.shape()[d];
      off_a += i * a.strides()[d];
      off_b += i * b.strides()[d];
    }
    Tensor a3 = a.view_as_strided({inner, M, K}, {sa, a.strides()[nb], a.strides()[nb + 1]}, off_a);
    Tensor b3 = b.view_as_strided({inner, K, N}, {sb, b.strides()[nb], b.strides()[nb + 1]}, off_b);
    Tensor o3 = out.view_as_strided({inner, M, N}, {M * N, N, 1}, out.offset() + o * inner * M * N);
    run_bmm(a3, b3, o3, false);
  }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  MT_CHECK(a.ndim() >= 1 && b.ndim() >= 1, ShapeError,
           "[matmul] both arguments must be at least 1-D, got shapes ", shape_str(a.shape()),
           " and ", shape_str(b.shape()));
  check_operands(a, b, "matmul", "a", "b");
  // A 1-D a is a row (1, K) and a 1-D b a column (K, 1); those dims are dropped from the result.
  const bool a_vec = a.ndim() == 1, b_vec = b.ndim() == 1;
  Tensor a2 = a_vec ? unsqueeze(a, 0) : a;
  Tensor b2 = b_vec ? unsqueeze(b, 1) : b;
  const int64_t M = a2.size(-2), K = a2.size(-1), N = b2.size(-1);
  MT_CHECK(K == b2.size(-2), ShapeError, "[matmul] inner dims differ: a is ",
           shape_str(a.shape()), ", b is ", shape_str(b.shape()));
  const Shape a_batch(a2.shape().begin(), a2.shape().end() - 2);
  const Shape b_batch(b2.shape().begin(), b2.shape().end() - 2);
  const size_t nb = std::max(a_batch.size(), b_batch.size());
  Shape batch(nb);
  for (size_t i = 0; i < nb; ++i) {
    const int64_t da = i < nb - a_batch.size() ? 1 : a_batch[i - (nb - a_batch.size())];
    const int64_t db = i < nb - b_batch.size() ? 1 : b_batch[i - (nb - b_batch.size())];
    MT_CHECK(da == db || da == 1 || db == 1, ShapeError, "[matmul] batch dims ",
             shape_str(a_batch), " and ", shape_str(b_batch),
             " cannot be broadcast together: a is ", shape_str(a.shape()), ", b is ",
             shape_str(b.shape()));
    batch[i] = da == 1 ? db : da;
  }
  Shape full = batch, result = batch;
  full.push_back(M);
  full.push_back(N);
  if (!a_vec) result.push_back(M);
  if (!b_vec) result.push_back(N);

  Tensor out = Tensor::empty(full, a.dtype(), a.device(), "matmul");
  if (out.numel() == 0) return view(out, result);
  if (K == 0) {  // an empty sum: zeros, as in PyTorch
    fill_(out, 0.0);
    return view(out, result);
  }
  a2 = as_gemm_operand(a2);
  b2 = as_gemm_operand(b2);
  // A 2-D b against a batched row-major a: fold the batch into M (one large GEMM, no copies).
  int64_t fold_stride = 0;
  if (b2.ndim() == 2 && a2.ndim() > 2 && a2.strides().back() == 1 &&
      merged_stride(a2.shape(), a2.strides(), 0, a2.ndim() - 1, &fold_stride) &&
      (fold_stride >= K || out.numel() / N == 1)) {
    const int64_t rows = out.numel() / N;
    Tensor a3 = a2.view_as_strided({1, rows, K}, {0, std::max(fold_stride, K), 1}, a2.offset());
    Tensor b3 = b2.view_as_strided({1, K, N}, {0, b2.strides()[0], b2.strides()[1]}, b2.offset());
    run_bmm(a3, b3, out.view_as_strided({1, rows, N}, {rows * N, N, 1}, out.offset()), false);
    return view(out, result);
  }
  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), {M, K});
  b_full.insert(b_full.end(), {K, N});
  batched_product(expand(a2, a_full), expand(b2, b_full), out);
  return view(out, result);
}

Tensor linear(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias) {
  MT_CHECK(weight.ndim() == 2, ShapeError,
           "[linear] weight must be 2-D (out_features, in_features), got shape ",
           shape_str(weight.shape()));
  MT_CHECK(x.ndim() >= 1, ShapeError, "[linear] input must be at least 1-D, got a 0-d tensor");
  check_operands(x, weight, "linear", "input", "weight");
  const int64_t out_f = weight.shape()[0], in_f = weight.shape()[1];
  MT_CHECK(x.size(-1) == in_f, ShapeError, "[linear] input has ", x.size(-1),
           " features (shape ", shape_str(x.shape()), ") but weight expects ", in_f,
           " (weight shape ", shape_str(weight.shape()), ")");
  if (bias) {
    check_operands(x, *bias, "linear", "input", "bias");
    MT_CHECK(bias->ndim() == 1 && bias->shape()[0] == out_f, ShapeError,
             "[linear] bias must have shape (", out_f, ",) to match weight ",
             shape_str(weight.shape()), ", got ", shape_str(bias->shape()));
  }
  Shape result(x.shape().begin(), x.shape().end() - 1);
  result.push_back(out_f);
  const int64_t M = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  Tensor out = Tensor::empty({M, out_f}, x.dtype(), x.device(), "linear");
  if (out.numel() == 0) return view(out, result);
  // With a bias, out starts as the broadcast bias and the GEMM accumulates onto it (addmm).
  if (bias) {
    copy_(out, *bias);
  } else if (in_f == 0) {
    fill_(out, 0.0);
  }
  if (in_f > 0) {
    Tensor x2 = as_gemm_operand(reshape(x, {M, in_f}));
    Tensor wt = as_gemm_operand(transpose(weight, 0, 1));
    run_bmm(x2.view_as_strided({1, M, in_f}, {0, x2.strides()[0], x2.strides()[1]}, x2.offset()),
            wt.view_as_strided({1, in_f, out_f}, {0, wt.strides()[0], wt.strides()[1]},
                               wt.offset()),
            out.view_as_strided({1, M, out_f}, {M * out_f, out_f, 1}, out.offset()),
            bias.has_value());
  }
  return view(out, result);
}

}  // namespace mytensor
