"""Stateless functions: activations, linear layer, losses (``F`` in PyTorch terms).

The losses are fused where that is both faster and exact for large inputs:
cross-entropy takes logits and never forms softmax's exp(z) on its own, and
binary cross-entropy with logits never forms sigmoid(z) then log of it.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy

from .. import ops
from ..arguments import InvalidParameterError
from ..backend import (
    array_module_of,
    check_same_device,
    holds_real_numbers,
    move_to_device,
    value_range,
    value_ranges,
)
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def check_tensor(value: Any, name: str) -> Tensor:
    """``value`` itself if it is a Tensor, else a TypeError naming ``name``."""
    if isinstance(value, Tensor):
        return value
    raise TypeError(f"{name}: expected a Tensor, got {type(value).__name__}")


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(losses: Tensor, reduction: str, name: str) -> Tensor:
    """Apply a loss reduction: "mean", "sum" or "none"."""
    _check_reduction(reduction, name)
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def _keep_target(loss: Tensor, target: Any, values: Any) -> Tensor:
    """Let the fused loss op keep the target as a constant, so graph pictures draw it.

    The target enters the op as an array (it needs no gradient); the Tensor the
    user passed (or, for a list or array, ``values`` wrapped) is kept beside it.
    """
    if loss.grad_fn is None:  # not recorded: nothing will draw it
        return loss
    shown = target if isinstance(target, Tensor) else Tensor._wrap(values)
    return ops.keep_constants(loss, (shown,))


def _check_target_device(like: Tensor, target: Any, name: str) -> None:
    """A target Tensor must be on the input's device: mixing devices is an error, as in
    any op, never a silent copy (lists and host arrays are not Tensors and do move)."""
    if isinstance(target, Tensor):
        check_same_device(name, like.data, target.data)


def _target_values(target: Any, like: Tensor, name: str) -> Any:
    """The target's values as an array of numbers (bool, int or float), not yet moved.

    Anything else (None, strings, objects) is a TypeError naming the loss:
    NumPy would read "1" as 1.0 and None as NaN.
    """
    _check_target_device(like, target, name)
    values = target.data if isinstance(target, Tensor) else target
    if not isinstance(getattr(values, "dtype", None), numpy.dtype):  # lists, scalars, torch
        try:
            values = numpy.asarray(values)
        except ValueError as error:  # ragged nested lists
            raise ValueError(f"{name}: target is not an array: {error}") from None
    if not holds_real_numbers(values.dtype):
        raise TypeError(
            f"{name}: target must hold numbers (bool, int or float), got {values.dtype} "
            f"from {type(target).__name__}"
        )
    return values


def _target_array(target: Any, like: Tensor, dtype: Any, name: str) -> Any:
    """The target's values as a backend array on ``like``'s device (targets get no gradient)."""
    values = move_to_device(_target_values(target, like, name), like.device)
    return values if dtype is None else values.astype(dtype, copy=False)


# --------------------------------------------------------------------------- activations


def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return check_tensor(x, "relu").relu()


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return check_tensor(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return check_tensor(x, "tanh").tanh()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return check_tensor(x, "leaky_relu").leaky_relu(negative_slope)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``."""
    return check_tensor(x, "softmax").softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``."""
    return check_tensor(x, "log_softmax").log_softmax(axis)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, with W of shape (out_features, in_features); matmul and bias fused."""
    x, weight = check_tensor(x, "linear"), check_tensor(weight, "linear")
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
            "(expected (..., in_features) and (out_features, in_features))"
        )
    inputs = [x, weight]
    if bias is not None:
        if check_tensor(bias, "linear").shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias of shape {bias.shape} does not fit weight of shape {weight.shape}"
            )
        inputs.append(bias)
    dtype = x.data.dtype
    if weight.data.dtype != dtype or (bias is not None and bias.data.dtype != dtype):
        common = numpy.result_type(*[t.dtype for t in inputs])
        inputs = [t.astype(common) for t in inputs]
    return Tensor._apply(ops.Linear, *inputs)


def one_hot(target: Any, num_classes: int = -1) -> Tensor:
    """Rows of the identity: int64 tensor of shape target.shape + (num_classes,).

    ``num_classes=-1`` takes the largest label + 1, as torch; an empty
    ``target`` then has no labels to count, which is a ValueError.
    ``num_classes`` that is not an int is a TypeError, below -1 a ValueError.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be >= 0, or -1 to infer it, got {num_classes}")
    labels = target if isinstance(target, Tensor) else Tensor(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class labels must be integers, got {labels.dtype}")
    xp = array_module_of(labels.data)
    values = labels.data
    if num_classes == -1:
        if not values.size:
            raise ValueError(
                f"one_hot: cannot infer the number of classes from an empty tensor of shape "
                f"{values.shape}; pass num_classes"
            )
    low, high = value_range(values) if values.size else (0, -1)  # one synchronisation
    if num_classes == -1:
        num_classes = int(high) + 1
    if low < 0 or high >= num_classes:
        raise IndexError(
            f"one_hot: class labels must lie in [0, {num_classes}), got values in [{low}, {high}]"
        )
    encoded = xp.zeros(values.shape + (num_classes,), dtype=numpy.int64)
    # A 1 in column label_n of row n of the (size, C) view: no put_along_axis, which
    # CuPy has only from version 14 (this is as fast on NumPy).
    rows = encoded.reshape(values.size, num_classes)
    rows[xp.arange(values.size), values.reshape(-1)] = 1
    return Tensor._wrap(encoded)


# --------------------------------------------------------------------------- losses


def _class_targets(logits: Tensor, target: Any, name: str) -> Any:
    """Validate integer class targets for (N, C) scores; return them as a device array."""
    labels = _target_array(target, logits, None, name)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got {labels.dtype}")
    if labels.shape != logits.shape[:1]:
        raise ValueError(
            f"{name}: target of shape {labels.shape} does not match input of shape "
            f"{logits.shape} (expected ({logits.shape[0]},))"
        )
    classes = logits.shape[1]
    if labels.size:
        low, high = value_range(labels)
        if low < 0 or high >= classes:
            raise IndexError(
                f"{name}: class index out of range [0, {classes}): got values in [{low}, {high}]"
            )
    return labels.astype(numpy.int64, copy=False)


def _unbatched_class_target(input: Tensor, target: Any, name: str) -> Tensor:
    """The class target of one unbatched sample, as a (1,) tensor (torch allows () or (1,))."""
    labels = _target_array(target, input, None, name)
    if labels.shape not in ((), (1,)):
        raise ValueError(
            f"{name}: target of shape {labels.shape} does not match unbatched input of shape "
            f"{input.shape} (expected one class index, shape () or (1,))"
        )
    return Tensor._wrap(labels.reshape(1))


def _probability_target(logits: Tensor, target: Any) -> Tensor | None:
    """A floating target of the logits' shape as a Tensor (None for class indices).

    A Tensor target that requires grad is kept in the graph (only cast to the
    logits' dtype), so the loss back-propagates into it as torch's does;
    other targets become constants on the logits' device.
    """
    values = _target_values(target, logits, "cross_entropy")
    if values.dtype.kind != "f":
        return None
    if values.shape != logits.shape:
        if values.shape == logits.shape[:-1]:  # the shape of class indices, in floats
            # A wrong dtype (TypeError) that a shape check used to report (ValueError): both.
            raise InvalidParameterError(
                f"cross_entropy: class indices must be integers, got dtype {values.dtype} "
                f"(shape {values.shape}); a floating target holds class probabilities and "
                f"has the logits' shape {logits.shape}"
            )
        raise ValueError(
            f"cross_entropy: probability target of shape {values.shape} does not match "
            f"logits of shape {logits.shape}"
        )
    if isinstance(target, Tensor) and target.requires_grad:
        return target.astype(logits.dtype)
    values = _target_array(values, logits, logits.dtype, "cross_entropy")
    if isinstance(target, Tensor) and values is target.data:
        return target  # used as it is: graph pictures show the user's tensor
    return Tensor._wrap(values)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of (N, C) logits against int class indices (N,).

    Fused with log-softmax, so it is exact for logits of any finite size. A
    floating target of the logits' shape is read as class probabilities (and
    gets a gradient, -log_softmax(logits) times the reduction's weight, when
    it requires one). Unbatched (C,) logits take a class index of shape () or
    (1,), or probabilities of shape (C,), and give a 0-d loss, as torch.

    Raises
    ------
    ValueError
        Logits that are not 1-D or 2-D, a target whose shape does not fit
        them, or an unknown reduction.
    TypeError
        A class target that is not integer.
    IndexError
        A class index outside [0, C).
    """
    logits = check_tensor(logits, "cross_entropy")._floating()
    _check_reduction(reduction, "cross_entropy")
    if logits.ndim not in (1, 2):
        raise ValueError(
            f"cross_entropy: logits must be (N, C) or unbatched (C,), got shape {logits.shape}"
        )
    probabilities = _probability_target(logits, target)
    if logits.ndim == 1:  # one unbatched sample: a batch of one, unwrapped again
        if probabilities is not None:
            batch_target = probabilities.unsqueeze(0)
        else:
            batch_target = _unbatched_class_target(logits, target, "cross_entropy")
        loss = cross_entropy(logits.unsqueeze(0), batch_target, reduction)
        if probabilities is None and isinstance(target, Tensor):
            ops.keep_constants(loss, (target,))  # the user's target, not its (1,) copy
        return loss.reshape(()) if reduction == "none" else loss
    if probabilities is not None:
        losses = -(probabilities * logits.log_softmax(axis=1)).sum(axis=1)
        return _reduce(losses, reduction, "cross_entropy")
    labels = _class_targets(logits, target, "cross_entropy")
    # The fused op reduces too (one node, as torch); the probability target path does not.
    loss = Tensor._apply(ops.CrossEntropy, logits, target=labels, reduction=reduction)
    return _keep_target(loss, target, labels)


def nll_loss(log_probabilities: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -log_probabilities[n, target[n]], reduced.

    Unbatched (C,) input takes a class index of shape () or (1,) and gives a
    0-d loss, as torch.
    """
    log_probabilities = check_tensor(log_probabilities, "nll_loss")
    _check_reduction(reduction, "nll_loss")
    if log_probabilities.ndim == 1:  # one unbatched sample: a batch of one, unwrapped again
        labels = _unbatched_class_target(log_probabilities, target, "nll_loss")
        loss = nll_loss(log_probabilities.unsqueeze(0), labels, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    if log_probabilities.ndim != 2:
        raise ValueError(
            f"nll_loss: input must be (N, C) or unbatched (C,), got shape {log_probabilities.shape}"
        )
    labels = _class_targets(log_probabilities, target, "nll_loss")
    rows = array_module_of(labels).arange(labels.shape[0])
    picked = _keep_target(log_probabilities[rows, labels], target, labels)
    return _reduce(-picked, reduction, "nll_loss")


def _binary_target(input: Tensor, target: Any, name: str) -> Any:
    values = _target_array(target, input, input.dtype, name)
    if values.shape != input.shape:
        raise ValueError(
            f"{name}: target of shape {values.shape} does not match input of shape {input.shape}"
        )
    return values


def _check_unit_interval(named_values: dict[str, Any]) -> None:
    """ValueError unless every value of each array lies in [0, 1] (NaN fails too); the
    bounds of all the arrays come from the GPU together (one synchronisation)."""
    present = {what: values for what, values in named_values.items() if values.size}
    bounds = value_ranges(*present.values()) if present else []
    for what, (low, high) in zip(present, bounds, strict=True):
        if not (low >= 0 and high <= 1):  # written so that NaN (which min/max pass on) fails too
            raise ValueError(
                f"binary_cross_entropy: {what} must lie in [0, 1], got [{low}, {high}]"
            )


def binary_cross_entropy(prob: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-[t log p + (1 - t) log(1 - p)] of probabilities ``prob``, each log clamped at
    -100 as PyTorch does.

    Probabilities or targets outside [0, 1], or NaN, are a ValueError (torch refuses
    them too: the loss would be a number without a meaning, negative for t = -1).
    """
    probabilities = check_tensor(prob, "binary_cross_entropy")._floating()
    _check_reduction(reduction, "binary_cross_entropy")
    values = _binary_target(probabilities, target, "binary_cross_entropy")
    _check_unit_interval({"input probabilities": probabilities.data, "targets": values})
    if isinstance(target, Tensor) and target.requires_grad:  # an input: it gets a gradient
        target = target.astype(probabilities.dtype)
        return Tensor._apply(ops.BinaryCrossEntropy, probabilities, target, reduction=reduction)
    loss = Tensor._apply(ops.BinaryCrossEntropy, probabilities, target=values, reduction=reduction)
    return _keep_target(loss, target, values)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Any, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of sigmoid(logits), fused: exact for logits of any finite size."""
    logits = check_tensor(logits, "binary_cross_entropy_with_logits")._floating()
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    values = _binary_target(logits, target, "binary_cross_entropy_with_logits")
    if isinstance(target, Tensor) and target.requires_grad:  # an input: it gets a gradient
        target = target.astype(logits.dtype)
        return Tensor._apply(ops.BinaryCrossEntropyWithLogits, logits, target, reduction=reduction)
    loss = Tensor._apply(
        ops.BinaryCrossEntropyWithLogits, logits, target=values, reduction=reduction
    )
    return _keep_target(loss, target, values)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (input - target)^2, reduced."""
    input = check_tensor(input, "mse_loss")._floating()  # int or bool input: a float loss
    _check_target_device(input, target, "mse_loss")  # before the subtraction names "sub"
    target_tensor = (
        target
        if isinstance(target, Tensor)
        else Tensor(target, dtype=input.dtype, device=input.device)
    )
    if target_tensor.shape != input.shape:
        raise ValueError(
            f"mse_loss: target of shape {target_tensor.shape} does not match input of shape "
            f"{input.shape}"
        )
    if target_tensor.dtype.kind in "biu" and input.dtype.kind == "f":
        # torch: integer targets take the input's float dtype (NumPy would widen to float64).
        target_tensor = target_tensor.astype(input.dtype)
    difference = input - target_tensor
    return _reduce(difference * difference, reduction, "mse_loss")


def l2_penalty(parameters: Iterable[Tensor] | Any) -> Tensor:
    """The lecture's weight decay term E(w) = 1/2 sum of w^2 over all parameters.

    Accepts an iterable of Tensors, a single Tensor or a Module (its
    parameters); anything else, or an element that is not a Tensor, is a
    TypeError (the penalty is a Tensor in the graph, never a NumPy number).
    """
    if isinstance(parameters, Tensor):  # one parameter, not an iterable of its rows
        parameters = [parameters]
    elif hasattr(parameters, "parameters"):
        parameters = parameters.parameters()
    if not isinstance(parameters, Iterable):
        raise TypeError(
            f"l2_penalty: expected an iterable of Tensors or a Module, got {parameters!r}"
        )
    parameters = list(parameters)
    for parameter in parameters:
        if not isinstance(parameter, Tensor):
            raise TypeError(
                f"l2_penalty: parameters must be Tensors, got {type(parameter).__name__}"
            )
    terms = [(p * p).sum() for p in parameters]
    if not terms:
        raise ValueError("l2_penalty: no parameters given")
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total * 0.5
