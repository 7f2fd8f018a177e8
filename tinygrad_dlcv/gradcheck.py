"""Check analytic gradients (backward) against numeric ones (central differences)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy

from .arguments import check_real
from .tensor import Tensor


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare backward() with central differences, in float64.

    Every Tensor input that requires grad is checked. A non-scalar output is
    reduced to ``sum(output * v)`` with a fixed random ``v``, which checks the
    whole vector-Jacobian product. Each element of each checked input is
    perturbed by +-eps; ``(f(x + eps) - f(x - eps)) / 2 eps`` must match the
    analytic gradient within ``atol + rtol * |numeric|``.

    An input that no gradient reaches (the output does not depend on it in the
    graph, or the output does not require grad at all) has an analytic
    gradient of 0, as in ``torch.autograd.gradcheck``: it passes when the
    numeric gradient is 0 too, and otherwise the error says that the output
    does not depend on that input through the graph (fn left the graph, e.g.
    through ``.numpy()`` or ``detach()``).

    Parameters
    ----------
    fn : callable
        Takes ``inputs`` and returns a Tensor.
    *inputs
        Its arguments; Tensors that require grad are checked.
    eps : float
        The perturbation, finite and > 0.
    atol, rtol : float
        Absolute and relative tolerance, finite and >= 0.

    Returns
    -------
    True when every element matches.

    Raises
    ------
    RuntimeError
        On the first mismatch, naming the input, the element and both values.
    ValueError
        When no input requires grad, or eps, atol or rtol is out of range.
    TypeError
        When eps, atol or rtol is not a real number, or fn returns no Tensor.
    """
    check_real(eps, "eps", "gradcheck", positive=True)
    check_real(atol, "atol", "gradcheck")
    check_real(rtol, "rtol", "gradcheck")
    # float64 copies: float32 round-off would swamp a difference quotient.
    inputs = [_float64_copy(x) if isinstance(x, Tensor) and x.requires_grad else x for x in inputs]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        wrapped = len(inputs) == 1 and isinstance(inputs[0], (tuple, list))
        if wrapped and any(isinstance(x, Tensor) and x.requires_grad for x in inputs[0]):
            # torch's spelling, gradcheck(fn, (x, w)): here the inputs are separate arguments.
            raise ValueError(
                "gradcheck: pass the inputs as separate arguments, gradcheck(fn, x, w), "
                "not as one tuple or list (torch's spelling)"
            )
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")

    output = fn(*inputs)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    if output.size == 1:  # a scalar output is checked as it is, so messages show its slope
        projection = numpy.ones(output.shape)
    else:
        projection = numpy.random.default_rng(0).uniform(0.5, 1.5, size=output.shape)

    def objective() -> float:
        result = fn(*inputs)
        return float((result.numpy().astype(numpy.float64) * projection).sum())

    if output.requires_grad:  # otherwise no input is in its graph: every gradient is 0
        weights = Tensor(projection, dtype=output.dtype, device=output.device)
        (output * weights).sum().backward()

    for position in checked:
        tensor = inputs[position]
        reached = tensor.grad is not None
        analytic = tensor.grad.numpy() if reached else numpy.zeros(tensor.shape)
        host = tensor.numpy()
        for element in numpy.ndindex(*tensor.shape):
            original = host[element]
            host[element] = original + eps
            tensor.data[...] = _to_device_like(host, tensor)
            upper = objective()
            host[element] = original - eps
            tensor.data[...] = _to_device_like(host, tensor)
            lower = objective()
            host[element] = original
            tensor.data[...] = _to_device_like(host, tensor)
            numeric = (upper - lower) / (2 * eps)
            if not abs(numeric - analytic[element]) <= atol + rtol * abs(numeric):
                cause = (
                    ""
                    if reached
                    else f"; fn's output does not depend on input {position} through the graph "
                    "(no gradient reached it: did fn leave the graph, e.g. by .numpy() or "
                    "detach()?)"
                )
                raise RuntimeError(
                    f"gradcheck: gradient mismatch for input {position} at element {element}: "
                    f"numeric {numeric!r} vs analytic {float(analytic[element])!r} "
                    f"(atol={atol}, rtol={rtol}){cause}"
                )
    return True


def _float64_copy(tensor: Tensor) -> Tensor:
    """A float64 leaf with ``tensor``'s values and hooks: backward() gives the user the
    gradient after the hooks, so that is the gradient to check."""
    copy = Tensor(tensor, dtype="float64", requires_grad=True)
    if tensor._hooks:
        copy._hooks = {key: _in_float64(hook, tensor.dtype) for key, hook in tensor._hooks.items()}
    return copy


def _in_float64(hook: Callable, dtype: numpy.dtype) -> Callable:
    """``hook`` with a replacement of the input's own dtype cast to float64 (a float32
    input's hook may return float32; the float64 copy's gradient must be float64).
    Any other dtype is left for backward() to refuse, as it would for the input."""

    @functools.wraps(hook)
    def cast(grad: Tensor) -> Tensor | None:
        replacement = hook(grad)
        if isinstance(replacement, Tensor) and replacement.dtype == dtype:
            return replacement.astype("float64")
        return replacement

    return cast


def _to_device_like(host: numpy.ndarray, tensor: Tensor) -> Any:
    """``host`` on the tensor's device, ready to be written into its data."""
    return (
        host
        if tensor.device == "cpu"
        else Tensor(host, dtype=tensor.dtype, device=tensor.device).data
    )
