"""One autograd Function per differentiable op, grouped as the native op families are.

The Function classes are not re-exported at the top level (``mt.nn.Conv2d`` stays unambiguous);
the functional forms are, through ``mytensor`` and ``mytensor.nn.functional``.
"""
