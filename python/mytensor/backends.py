"""``mt.backends``: numeric switches with PyTorch's names and defaults.

``mt.backends.cuda.matmul.allow_tf32`` (default False) lets float32 GEMMs use TF32 tensor cores;
``mt.backends.cudnn.allow_tf32`` (default True) does the same for convolutions, as in PyTorch.
"""

from mytensor import _C


class _Matmul:
    @property
    def allow_tf32(self) -> bool:
        return _C.allow_tf32_matmul()

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        _C.set_allow_tf32(bool(value), _C.allow_tf32_conv())


class _Cuda:
    matmul = _Matmul()


class _Cudnn:
    @property
    def allow_tf32(self) -> bool:
        return _C.allow_tf32_conv()

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        _C.set_allow_tf32(_C.allow_tf32_matmul(), bool(value))


cuda = _Cuda()
cudnn = _Cudnn()
