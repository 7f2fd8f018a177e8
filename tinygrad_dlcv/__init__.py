"""tinygrad_dlcv: a small reverse-mode autodiff engine over NumPy (CPU) or CuPy (CUDA).

>>> import tinygrad_dlcv as tg
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0]

Importing the package imports NumPy only; CuPy, graphviz and matplotlib are
imported where they are used.
"""

import numpy as _numpy

from . import nn, optim
from .backend import cuda_available, set_default_device, set_default_dtype
from .serialization import load, save
from .tensor import (
    Tensor,
    arange,
    cat,
    default_generator,
    enable_grad,
    eye,
    from_dlpack,
    full,
    grad,
    is_grad_enabled,
    manual_seed,
    maximum,
    minimum,
    no_grad,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)

float16 = _numpy.dtype("float16")
float32 = _numpy.dtype("float32")
float64 = _numpy.dtype("float64")
int32 = _numpy.dtype("int32")
int64 = _numpy.dtype("int64")
bool_ = _numpy.dtype("bool")

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "arange",
    "bool_",
    "cat",
    "cuda_available",
    "default_generator",
    "enable_grad",
    "eye",
    "float16",
    "float32",
    "float64",
    "from_dlpack",
    "full",
    "grad",
    "int32",
    "int64",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "maximum",
    "minimum",
    "nn",
    "no_grad",
    "ones",
    "optim",
    "ones_like",
    "rand",
    "randn",
    "save",
    "set_default_device",
    "set_default_dtype",
    "stack",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]
