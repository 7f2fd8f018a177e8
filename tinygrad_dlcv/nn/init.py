"""Parameter initialisation, in place, with PyTorch's signatures and defaults.

Values are drawn from the generator that ``tg.manual_seed`` seeds (on the host,
so one seed gives the same weights on every device) and written into the
tensor's data. Each function returns the tensor it filled.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy

from ..arguments import check_real
from ..backend import move_to_device
from ..tensor import Tensor, default_generator, note_in_place_write

_KAIMING_MODES = ("fan_in", "fan_out")


def _check_tensor(tensor: Any, name: str, floating: bool = True) -> None:
    """Raise TypeError unless ``tensor`` is a Tensor, and a floating one when ``floating``.

    Random values in an integer tensor would be silently truncated; torch refuses
    them too (only ``zeros_``/``ones_`` fill any dtype).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")
    if floating and tensor.dtype.kind != "f":
        raise TypeError(f"{name}: fills floating tensors only, got dtype {tensor.dtype}")


def _check_real(name: str, label: str, value: Any, low: float = -math.inf) -> None:
    """A finite number >= ``low`` (``arguments.check_real``)."""
    check_real(value, label, name, low)


def _check_choice(name: str, label: str, value: Any) -> None:
    """Raise TypeError unless ``value`` is a string (the choices are names)."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: {label} must be a string, got {value!r}")


def _fill(tensor: Tensor, values: numpy.ndarray) -> Tensor:
    """Write host ``values`` into ``tensor`` in place (no graph is recorded)."""
    tensor.data[...] = move_to_device(values.astype(tensor.dtype), tensor.device)
    note_in_place_write(tensor)  # a graph recorded before would now read the new values
    return tensor


def _fans(tensor: Tensor, name: str) -> tuple[int, int]:
    """(fan_in, fan_out) as PyTorch computes them: (out, in, *kernel) layout."""
    if tensor.ndim < 2:
        raise ValueError(
            f"{name}: fan in and fan out need a tensor with >= 2 dimensions, "
            f"got shape {tensor.shape}"
        )
    receptive = int(numpy.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _gain(nonlinearity: str, param: float | None, name: str) -> float:
    """PyTorch's table of recommended gains; errors name the public function ``name``."""
    _check_choice(name, "nonlinearity", nonlinearity)
    linear_like = ("linear", "sigmoid", "conv1d", "conv2d", "conv3d")
    if nonlinearity in linear_like or nonlinearity.startswith("conv_transpose"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            return math.sqrt(2.0 / (1 + 0.01**2))
        _check_real(name, "negative slope", param)
        return math.sqrt(2.0 / (1 + float(param) ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"{name}: unsupported nonlinearity {nonlinearity!r}")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    A nonlinearity that is not a string, or a slope that is not a number, is a
    TypeError; an unknown nonlinearity or a non-finite slope a ValueError.
    """
    return _gain(nonlinearity, param, "calculate_gain")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with U(a, b); a <= b, both finite (a ValueError otherwise, as torch's)."""
    _check_tensor(tensor, "uniform_")
    _check_real("uniform_", "a", a)
    _check_real("uniform_", "b", b)
    if a > b:
        raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
    return _fill(tensor, default_generator().uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with N(mean, std^2); mean finite, std finite and >= 0."""
    _check_tensor(tensor, "normal_")
    _check_real("normal_", "mean", mean)
    _check_real("normal_", "std", std, low=0.0)
    return _fill(tensor, default_generator().normal(mean, std, size=tensor.shape))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0 (any dtype, as torch)."""
    _check_tensor(tensor, "zeros_", floating=False)
    return _fill(tensor, numpy.zeros(tensor.shape))


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1 (any dtype, as torch)."""
    _check_tensor(tensor, "ones_", floating=False)
    return _fill(tensor, numpy.ones(tensor.shape))


def _xavier_scale(tensor: Tensor, gain: float, numerator: float, name: str) -> float | None:
    """gain * sqrt(numerator / (fan_in + fan_out)); None for a tensor with no fans at all
    (shape (0, 0, ...): nothing to fill, and torch would divide by zero)."""
    _check_tensor(tensor, name)
    _check_real(name, "gain", gain, low=0.0)
    fan_in, fan_out = _fans(tensor, name)
    if fan_in + fan_out == 0:
        return None
    return gain * math.sqrt(numerator / (fan_in + fan_out))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)); gain >= 0."""
    bound = _xavier_scale(tensor, gain, 6.0, "xavier_uniform_")
    return tensor if bound is None else uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)); gain >= 0."""
    std = _xavier_scale(tensor, gain, 2.0, "xavier_normal_")
    return tensor if std is None else normal_(tensor, 0.0, std)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, name: str) -> float | None:
    """gain / sqrt(fan); None for a zero-element tensor, which torch leaves alone with a
    warning (its fan may be 0)."""
    _check_tensor(tensor, name)
    _check_real(name, "a", a)
    _check_choice(name, "mode", mode)
    if mode not in _KAIMING_MODES:
        raise ValueError(f"{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    gain = _gain(nonlinearity, a, name)
    if tensor.size == 0:  # before the fans, as torch: a (0,) tensor is no error either
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan_in, fan_out = _fans(tensor, name)
    return gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan); a zero-element tensor is left
    as it is (with torch's warning)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return tensor if std is None else uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)


def kaiming_normal_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan); a zero-element tensor is left
    as it is (with torch's warning)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return tensor if std is None else normal_(tensor, 0.0, std)
