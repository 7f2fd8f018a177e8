"""Function forms of the Tensor ops: ``tg.exp(x)`` is ``x.exp()``.

PyTorch offers most ops both ways (``torch.exp(x)`` and ``x.exp()``); here the
op lives once, as the Tensor method, and each function only forwards to it, so
there is nothing to keep in step. A first argument that is not a Tensor (a
list, a NumPy array) is made one, as ``tg.tensor`` would.

``tg.maximum``, ``tg.minimum``, ``tg.where``, ``tg.cat`` and ``tg.stack`` take
several tensors and live in ``tensor.py`` with the rest of the Tensor class.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .tensor import Tensor


def _function_form(name: str) -> Callable[..., Any]:
    """``tg.<name>(x, *args, **kwargs)``, which calls ``Tensor.<name>``."""
    method = getattr(Tensor, name)

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002  (torch's name)
        return method(input if isinstance(input, Tensor) else Tensor(input), *args, **kwargs)

    # The method's first paragraph (none under python -OO), joined into one line.
    summary = " ".join(inspect.getdoc(method).split("\n\n")[0].split()) if method.__doc__ else ""
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``tg.{name}(x, ...)`` is ``x.{name}(...)``. {summary}"
    # help() and inspect show the method's parameters, the tensor first as ``input``.
    signature = inspect.signature(method)
    parameters = list(signature.parameters.values())
    function.__signature__ = signature.replace(
        parameters=[parameters[0].replace(name="input", annotation=Any), *parameters[1:]]
    )
    return function


# elementwise
exp = _function_form("exp")
log = _function_form("log")
sqrt = _function_form("sqrt")
abs = _function_form("abs")  # noqa: A001  (torch.abs; a builtin name only inside this module)
sigmoid = _function_form("sigmoid")
tanh = _function_form("tanh")
relu = _function_form("relu")
leaky_relu = _function_form("leaky_relu")
clip = _function_form("clip")
# reductions
sum = _function_form("sum")  # noqa: A001  (torch.sum)
max = _function_form("max")  # noqa: A001  (torch.max, np.max: values only, as the method)
min = _function_form("min")  # noqa: A001  (torch.min, np.min)
mean = _function_form("mean")
var = _function_form("var")
std = _function_form("std")
logsumexp = _function_form("logsumexp")
argmax = _function_form("argmax")
argmin = _function_form("argmin")
softmax = _function_form("softmax")
log_softmax = _function_form("log_softmax")
# shapes and products
reshape = _function_form("reshape")
transpose = _function_form("transpose")
permute = _function_form("permute")
flatten = _function_form("flatten")
squeeze = _function_form("squeeze")
unsqueeze = _function_form("unsqueeze")
expand = _function_form("expand")
broadcast_to = _function_form("broadcast_to")
matmul = _function_form("matmul")

__all__ = [
    "abs",
    "argmax",
    "argmin",
    "broadcast_to",
    "clip",
    "exp",
    "expand",
    "flatten",
    "log",
    "log_softmax",
    "logsumexp",
    "leaky_relu",
    "max",
    "min",
    "matmul",
    "mean",
    "permute",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "std",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
]
