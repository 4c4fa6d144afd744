"""mytensor: a deep-learning framework with its own C++/CUDA kernels and a PyTorch-style API."""

from mytensor import _C, backends, cuda, data, nn, optim, testing  # noqa: E402  (after Tensor: they build on it)
from mytensor._C import (
    CudaError,
    DeviceError,
    DTypeError,
    GraphCaptureError,
    OutOfMemoryError,
    ShapeError,
)
from mytensor._device import device
from mytensor._dtype import (
    bfloat16,
    bool_,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int32,
    int64,
    long,
    promote_types,
    uint8,
)
from mytensor._dtype import dtype as dtype
from mytensor._tensor import Tensor
from mytensor.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from mytensor.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    get_rng_state,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from mytensor.ops.elementwise import (
    abs,
    add,
    clamp,
    div,
    eq,
    exp,
    ge,
    gelu,
    gt,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    rsqrt,
    sigmoid,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from mytensor.ops.index import gather, index_select
from mytensor.ops.matmul import matmul
from mytensor.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    std,
    sum,
    var,
)
from mytensor.ops.shape import (
    broadcast_to,
    cat,
    chunk,
    flatten,
    flip,
    meshgrid,
    movedim,
    narrow,
    outer,
    permute,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    tile,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
)
from mytensor.serialization import load, save

bool = bool_  # noqa: A001  (mt.bool, as torch.bool)

__version__ = "0.1.0"
