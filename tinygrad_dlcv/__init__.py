"""tinygrad_dlcv: a small reverse-mode autodiff engine over NumPy (CPU) or CuPy (CUDA).

>>> import tinygrad_dlcv as tg
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0]

Ops come as Tensor methods and, as in PyTorch, as functions (``tg.exp(x)``;
``tg.abs``, ``tg.sum``, ``tg.max`` and ``tg.min`` too, left out of ``__all__`` so that a
star import keeps Python's builtins). Importing the package imports NumPy only; CuPy,
graphviz and matplotlib are imported where they are used.
"""

import numpy as _numpy

from . import nn, optim
from .backend import cuda_available, set_default_device, set_default_dtype
from .functions import abs as abs  # re-exported, kept out of __all__ (see above)
from .functions import (  # tg.exp(x) is x.exp(), as torch.exp
    argmax,
    argmin,
    broadcast_to,
    clip,
    exp,
    expand,
    flatten,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    mean,
    permute,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    std,
    tanh,
    transpose,
    unsqueeze,
    var,
)
from .functions import max as max  # re-exported, kept out of __all__
from .functions import min as min  # re-exported, kept out of __all__
from .functions import sum as sum  # re-exported, kept out of __all__
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
    set_grad_enabled,
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
    "arange",
    "argmax",
    "argmin",
    "bool_",
    "broadcast_to",
    "cat",
    "clip",
    "cuda_available",
    "default_generator",
    "enable_grad",
    "exp",
    "expand",
    "eye",
    "flatten",
    "float16",
    "float32",
    "float64",
    "from_dlpack",
    "full",
    "grad",
    "int32",
    "int64",
    "is_grad_enabled",
    "leaky_relu",
    "load",
    "log",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "nn",
    "no_grad",
    "set_grad_enabled",
    "ones",
    "ones_like",
    "optim",
    "permute",
    "rand",
    "randn",
    "relu",
    "reshape",
    "save",
    "set_default_device",
    "set_default_dtype",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "tanh",
    "Tensor",
    "tensor",
    "transpose",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
]

# The other submodules load on first use, as attributes too (``tg.data.load_mnist``
# after a plain ``import tinygrad_dlcv as tg``): importing the package stays cheap,
# and viz/plot bring in graphviz/matplotlib only when a picture is made.
_LAZY_SUBMODULES = ("cli", "cluster", "data", "decomposition", "gradcheck", "plot", "viz")


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
