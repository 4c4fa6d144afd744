"""``mt.cuda``: what CUDA support was compiled in, what the GPUs hold, and CUDA graphs
(:class:`CUDAGraph` in :mod:`mytensor.cuda.graphs`, :func:`make_graphed_step` in
:mod:`mytensor.cuda.graphed_step`, the interface components register with in
:mod:`mytensor.cuda.graph_hooks`)."""

from mytensor import _C
from mytensor.cuda import graph_hooks
from mytensor.cuda.graph_hooks import GraphCaptureError
from mytensor.cuda.graphed_step import make_graphed_step
from mytensor.cuda.graphs import CUDAGraph

__all__ = [
    "CUDAGraph",
    "GraphCaptureError",
    "device_count",
    "empty_cache",
    "graph_hooks",
    "is_available",
    "is_compiled",
    "make_graphed_step",
    "max_memory_allocated",
    "memory_allocated",
    "memory_reserved",
    "reset_peak_memory_stats",
    "synchronize",
]


def is_available() -> bool:
    """True when mytensor was built with CUDA and a GPU is visible."""
    return _C.cuda_is_available()


def is_compiled() -> bool:
    """True when the CUDA backend was compiled into this build."""
    return _C.cuda_is_compiled()


def device_count() -> int:
    """The number of CUDA devices (0 in a CPU-only build)."""
    return _C.cuda_device_count()


def synchronize(device: int = 0) -> None:
    """Waits for every queued kernel of `device`; raises if one of them reported a bad index."""
    _C.cuda_synchronize(_index(device))


def memory_allocated(device: int = 0) -> int:
    """Bytes held by live tensors on `device`."""
    return _C.cuda_memory_allocated(_index(device))


def max_memory_allocated(device: int = 0) -> int:
    """Peak bytes held by tensors on ``device`` since the start or the last reset."""
    return _C.cuda_max_memory_allocated(_index(device))


def memory_reserved(device: int = 0) -> int:
    """Bytes the caching allocator holds from the driver (live and cached blocks)."""
    return _C.cuda_memory_reserved(_index(device))


def reset_peak_memory_stats(device: int = 0) -> None:
    """Restarts the peak that :func:`max_memory_allocated` reports."""
    _C.cuda_reset_peak_memory_stats(_index(device))


def empty_cache() -> None:
    """Returns cached, unused blocks to the driver."""
    _C.cuda_empty_cache()


def _index(device) -> int | None:
    if isinstance(device, int):
        return device
    from mytensor._device import as_device

    return as_device(device).index
