"""Primitive differentiable ops: each forward next to its backward.

Every op is one small class. ``forward`` works on backend arrays (NumPy or
CuPy, whichever the inputs live on) and returns the output array. ``backward``
receives the gradient of the output as a Tensor and returns one gradient per
input (or None where an input needs none). Backward formulas are written with
what Tensors and arrays share (arithmetic, ``@``, ``.T``, ``.sum``,
``.reshape``): through ``operands`` they compute on Tensors when
``create_graph=True``, so the backward pass is itself recorded and can be
differentiated again, and on the raw arrays otherwise, which skips the Tensor
dispatch (about 1.5 µs an op) when nothing is recorded.

The first line of each docstring is the op's local derivative; ``viz`` prints
it on the graph.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy

from . import tensor as _tensor_module  # a cycle: read only inside functions, once both exist
from .backend import (
    array_module_of,
    errstate,
    fused,
    ignore_underflow,
    move_to_device,
    scatter_add,
)


class Function:
    """One recorded application of an op in the graph.

    ``inputs`` are the input Tensors (the graph's edges); ``output`` is the
    Tensor the op produced, for ops whose derivative is best written in terms
    of their result (exp, sigmoid, tanh, softmax, ...). ``constants`` are
    Tensors the user handed the op as arguments rather than inputs (a loss's
    target, an index, a condition; see :func:`keep_constants`): ``viz`` draws
    them, and the backward walk's in-place check looks at them (backward reads
    their values), but it sends them no gradient.
    """

    needs_output = False
    reads_inputs = True  # backward reads the inputs' values (False: only their shapes)
    recorded_at = 0  # the clock of in-place writes when the op was recorded
    # Which inputs required grad when the op was recorded (kept once any leaf's
    # requires_grad has been switched; see tensor._sends_gradient_to), else None.
    inputs_required_grad: tuple | None = None
    inputs: tuple = ()
    constants: tuple = ()
    _output_ref: Any = None
    module_call: Any = None  # (module, call number) when recorded inside a layer's forward

    def forward(self, *arrays: Any) -> Any:
        """Compute the output array from the input arrays."""
        raise NotImplementedError

    def backward(self, grad: Any) -> tuple:
        """Return the gradient of each input, given the gradient of the output."""
        raise NotImplementedError

    @property
    def output(self) -> Any:
        """The Tensor this op produced (alive for as long as the graph is)."""
        return self._output_ref()

    def values_read(self) -> list:
        """The input Tensors whose values backward reads (the rest: only their shapes).

        The in-place check of the backward walk looks at these (and at the
        op's ``constants`` and, where it is read, its output), as PyTorch checks
        only the tensors an op saved: changing an input no gradient reads (a
        weight after its update, when only the weight's gradient is wanted)
        leaves the gradients right.
        """
        return list(self.inputs) if self.reads_inputs else []

    def remember_output(self, output: Any) -> None:
        """Keep a weak link to the output: a strong one would be a reference cycle."""
        self._output_ref = weakref.ref(output)

    @property
    def name(self) -> str:
        """PyTorch-style node name, e.g. ``MulBackward``."""
        return type(self).__name__ + "Backward"

    @classmethod
    def derivative(cls) -> str:
        """The one-line local derivative from the docstring ("" under ``python -OO``,
        which strips docstrings)."""
        lines = (cls.__doc__ or "").strip().splitlines()
        return lines[0] if lines else ""

    def __repr__(self) -> str:
        return f"<{self.name}>"


# --------------------------------------------------------------------------- helpers


def recording() -> bool:
    """True while ops are recorded (a forward pass, or backward with create_graph)."""
    return _tensor_module.is_grad_enabled()


def operands(*tensors: Any) -> tuple:
    """What a backward formula computes with: these Tensors while the backward is
    recorded (``create_graph``), otherwise their raw arrays.

    One formula then serves both: differentiable a second time when asked, and
    without the Tensor dispatch otherwise. The backward walk wraps raw-array
    gradients into Tensors.
    """
    if recording():
        return tensors
    return tuple([tensor.data for tensor in tensors])


def apply(op_class: type[Function], *inputs: Any, **params: Any) -> Any:
    """Run ``op_class`` on Tensors (the Tensor class records the graph), or just its
    forward on raw arrays (an unrecorded backward)."""
    if isinstance(inputs[0], _tensor_module.Tensor):
        return _tensor_module.Tensor._apply(op_class, *inputs, **params)
    return (op_class(**params) if params else op_class()).forward(*inputs)


def keep_constants(output: Any, values: Any) -> Any:
    """Let the op that produced ``output`` keep the Tensors among ``values`` as its
    ``constants``, and return ``output``.

    For arguments that enter an op as arrays (a loss's target, an index, a
    condition): the graph's pictures then show the tensor the user passed,
    with an edge into the op, while it stays out of the backward walk. Nothing
    is kept when the op was not recorded (no gradient needed).
    """
    function = output.grad_fn
    if function is not None:
        kept = tuple([value for value in values if isinstance(value, _tensor_module.Tensor)])
        if kept:
            function.constants = kept
    return output


def _factors_read(inputs: tuple) -> list:
    """For a product of two factors (or x and W of a linear layer): each factor's
    gradient reads the other factor, so a factor is read only when the other
    one needs a gradient."""
    first, second = inputs[:2]
    return [factor for factor, other in ((first, second), (second, first)) if other.requires_grad]


def constant(like: Any, array: Any) -> Any:
    """Wrap an array (a mask, a weight) as a Tensor that carries no gradient; next to
    a raw-array ``like`` (an unrecorded backward) the array stays raw."""
    if isinstance(like, _tensor_module.Tensor):
        return type(like)._wrap(array)
    return array


def gradient_where(keep: Any, grad: Any, linked_to: Any = None, finite: bool | None = None) -> Any:
    """``grad`` where the array ``keep`` holds and 0 elsewhere, whatever arrives there:
    an inf or NaN gradient included, which a product with a 0/1 mask would turn into
    NaN (torch's where / masked_fill in these backwards; the safe-sqrt idiom
    ``where(x > 0, x, 0).sqrt()`` needs it).

    ``linked_to``: in a recorded backward, the input Tensor that ``keep`` is a
    piecewise constant of; the zeros are made from it (derivative 0), so the result
    stays a function of it and can be differentiated again, to zeros. ``finite``:
    :func:`finite_on_cpu` of ``grad`` when the caller has it (two sides, one test).
    """
    if isinstance(grad, _tensor_module.Tensor):  # a recorded backward
        if linked_to is not None:
            zeros = apply(ZerosLike, linked_to)
        else:
            zeros = constant(grad, array_module_of(keep).zeros((), dtype=grad.dtype))
        return apply(Where, grad, zeros, condition=keep)
    if finite is None:
        finite = finite_on_cpu(grad)
    if finite:
        return grad * keep
    return array_module_of(grad).where(keep, grad, 0).astype(grad.dtype, copy=False)


def finite_on_cpu(values: Any) -> bool:
    """True for a NumPy array without inf or NaN: there a product with a 0/1 mask equals
    where() and is ~15x faster on random signs. False on a GPU, where where() costs no
    more and the test would stop the device for a host round trip."""
    return type(values) is numpy.ndarray and bool(numpy.isfinite(values).all())


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum ``grad`` back down to ``shape``: the adjoint of NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size
    1, so its gradient adds those copies up again.
    """
    if grad.shape == shape:
        return grad
    leading = grad.ndim - len(shape)
    axes = tuple(range(leading)) + tuple(
        leading + axis
        for axis, size in enumerate(shape)
        if size == 1 and grad.shape[leading + axis] != 1
    )
    strides = getattr(grad, "strides", None)  # a raw array (an unrecorded backward)
    if strides is not None and grad.size and all(strides[axis] == 0 for axis in axes):
        # The copies are one value seen many times (a broadcast view, as a sum's
        # backward makes): their sum is that value times the count, with no pass
        # over the copies, when the count is exact in the dtype (float16 is not).
        count = math.prod(grad.shape[axis] for axis in axes)
        if grad.dtype.itemsize >= 4 and count < 2**24:
            first = tuple(slice(0, 1) if axis in axes else slice(None) for axis in range(grad.ndim))
            return (grad[first] * count).reshape(shape)
    if strides is None:  # a Tensor (a recorded backward): summed by recorded ops
        return grad.sum(axis=axes, keepdims=True).reshape(shape)
    # float16 copies added up in float32, rounded once (see accumulation_dtype).
    total = grad.sum(axis=axes, keepdims=True, dtype=accumulation_dtype(grad.dtype))
    return total.astype(grad.dtype, copy=False).reshape(shape)


def kept_shape(shape: tuple, axis: tuple | None) -> tuple:
    """Shape of a reduction over ``axis`` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if index in axis else size for index, size in enumerate(shape))


def expand_reduced(grad: Any, shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    """Spread the gradient of a reduction back over the axes it reduced."""
    if not keepdims and axis is not None:  # a full reduction's 0-d gradient broadcasts as is
        grad = grad.reshape(kept_shape(shape, axis))
    if isinstance(grad, _tensor_module.Tensor):
        return grad.expand(shape)
    return array_module_of(grad).broadcast_to(grad, shape)


def mean_of(total: Any, count: int) -> Any:
    """``total / count``: a mean from its sum. Of nothing it is nan, as in PyTorch,
    without NumPy's divide warning."""
    return total / count if count else total * math.nan


def accumulation_dtype(dtype: Any) -> Any:
    """The dtype a sum of ``dtype`` values is added up in: float32 for float16, whose
    sums overflow at 65504 (NumPy's mean and PyTorch's reductions widen it too); None
    (the array's own) otherwise. The caller narrows the result back."""
    return numpy.float32 if dtype == numpy.float16 else None


def sum_dtype(dtype: Any) -> Any:
    """The dtype of a sum of ``dtype`` values: int64 for bool and every integer kind,
    as torch (a count of True values, no wrap-around of small ints), except uint64,
    which stays uint64 as in NumPy (torch would wrap values past 2^63); the values'
    own dtype otherwise."""
    if dtype.kind == "b" or (dtype.kind in "iu" and dtype != numpy.uint64):
        return numpy.int64
    return dtype


def summed_over(values: Any, axis: Any) -> Any:
    """``values.sum(axis, keepdims=True)`` in a backward formula, float16 added up in
    float32 (the sum stays float32; the walk casts the gradient back); a Tensor in a
    recorded backward too, through a recorded cast."""
    wide = accumulation_dtype(values.dtype)
    if isinstance(values, _tensor_module.Tensor):
        return (values if wide is None else values.astype(wide)).sum(axis=axis, keepdims=True)
    return values.sum(axis=axis, keepdims=True, dtype=wide)


def mean_weight(count: int) -> float:
    """d mean/d element = 1 / count (nan for an empty mean, whose gradient is empty anyway)."""
    return 1.0 / count if count else math.nan


def reduced_size(shape: tuple, axis: tuple | None) -> int:
    """Number of elements that a reduction over ``axis`` combines into one."""
    count = 1
    for index, size in enumerate(shape):
        if axis is None or index in axis:
            count *= size
    return count


def swap_last_axes(tensor: Any) -> Any:
    """Transpose the last two axes (the matrix transpose of a batch)."""
    axes = list(range(tensor.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return tensor.transpose(*axes)


# --------------------------------------------------------------------------- elementwise binary


class Add(Function):
    """d(a + b)/da = 1, d(a + b)/db = 1"""

    reads_inputs = False

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        a, b = self.inputs
        a_shape = a.shape if a.requires_grad else None  # None: no gradient wanted
        b_shape = b.shape if b.requires_grad else None
        if a_shape not in (None, grad.shape) or b_shape not in (None, grad.shape):
            # A broadcast input's copies are summed: on raw arrays unless recorded (the
            # zero-stride fast path of unbroadcast). Otherwise the gradient passes as it is
            # (x + 0.5: the constant needs none).
            (grad,) = operands(grad)
        return (
            None if a_shape is None else unbroadcast(grad, a_shape),
            None if b_shape is None else unbroadcast(grad, b_shape),
        )


class Sub(Function):
    """d(a - b)/da = 1, d(a - b)/db = -1"""

    reads_inputs = False

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        a, b = self.inputs
        (grad,) = operands(grad)
        return (
            unbroadcast(grad, a.shape) if a.requires_grad else None,
            unbroadcast(-grad, b.shape) if b.requires_grad else None,
        )


class Mul(Function):
    """d(a * b)/da = b, d(a * b)/db = a"""

    def forward(self, a, b):
        return a * b

    def values_read(self):
        return _factors_read(self.inputs)

    def backward(self, grad):
        needs_a, needs_b = self.inputs[0].requires_grad, self.inputs[1].requires_grad
        grad, a, b = operands(grad, *self.inputs)
        return (
            unbroadcast(grad * b, a.shape) if needs_a else None,
            unbroadcast(grad * a, b.shape) if needs_b else None,
        )


class Div(Function):
    """d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2"""

    def forward(self, a, b):
        return a / b

    def values_read(self):
        a, b = self.inputs
        return [b, a] if b.requires_grad else [b]  # a's gradient reads b; b's reads both

    def backward(self, grad):
        needs_a, needs_b = self.inputs[0].requires_grad, self.inputs[1].requires_grad
        grad, a, b = operands(grad, *self.inputs)
        return (
            unbroadcast(grad / b, a.shape) if needs_a else None,
            # (a / b) / b, not a / (b * b): b * b overflows (or underflows) far sooner.
            unbroadcast(-grad * (a / b / b), b.shape) if needs_b else None,
        )


class Remainder(Function):
    """d(a mod b)/da = 1, d(a mod b)/db = -(a // b)  (the floor-mod of Python and torch)"""

    def forward(self, a, b):
        return array_module_of(a).remainder(a, b)

    def values_read(self):
        a, b = self.inputs
        return [a, b] if b.requires_grad else []  # a's gradient reads nothing

    def backward(self, grad):
        a, b = self.inputs
        (grad,) = operands(grad)
        grad_b = None
        if b.requires_grad:
            # a // b, as a mod b = a - (a // b) b computes it (floor(a / b) can round up to
            # the next integer: 1 // 0.1 is 9), is piecewise constant: no derivative.
            with errstate(array_module_of(a.data), divide="ignore", invalid="ignore"):
                quotient = array_module_of(a.data).floor_divide(a.data, b.data)
            grad_b = unbroadcast(-grad * constant(grad, quotient), b.shape)
        return (unbroadcast(grad, a.shape) if a.requires_grad else None, grad_b)


def refuse_negative_integer_power(base: Any, exponent: Any) -> None:
    """An integer to a negative integer power is no integer: NumPy refuses it, CuPy
    answers 0 silently (1 for 1, +-1 for -1); both are refused here."""
    if base.dtype.kind not in "iu" or isinstance(exponent, bool) or base.size == 0:
        return  # (an empty base: nothing is raised to anything, as NumPy)
    if isinstance(exponent, int):
        negative = exponent < 0
    elif getattr(exponent, "dtype", None) is not None and exponent.dtype.kind == "i":
        negative = bool((exponent < 0).any())  # one synchronisation on a GPU, ints only
    else:  # a float or an unsigned exponent
        return
    if negative:
        raise ValueError("Integers to negative integer powers are not allowed.")


class Pow(Function):
    """d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln(a)"""

    needs_output = True

    def forward(self, a, b):
        refuse_negative_integer_power(a, b)
        return a**b

    def backward(self, grad):
        needs_a, needs_b = self.inputs[0].requires_grad, self.inputs[1].requires_grad
        a_data, b_data = self.inputs[0].data, self.inputs[1].data
        grad, a, b, out = operands(grad, *self.inputs, self.output)
        grad_a = grad_b = None
        # At a = 0 the formulas meet 0 * inf (0^-1, ln 0) and a negative base has no real
        # ln: inf and nan there are the answers, as in PyTorch, not warnings.
        with errstate(array_module_of(a_data), divide="ignore", invalid="ignore"):
            if needs_a:
                # d(a^0)/da = 0 everywhere, also at 0^0, where b a^(b-1) would be 0 * inf.
                local = b * a ** (b - 1)
                grad_a = unbroadcast(gradient_where(b_data != 0, grad * local), a.shape)
            if needs_b:
                # a^b ln(a) tends to 0 as a -> 0 for b > 0 (and 0^0 = 1 is constant in b).
                varies_with_b = (a_data != 0) | (b_data < 0)
                local = out * apply(Log, a)
                grad_b = unbroadcast(gradient_where(varies_with_b, grad * local), b.shape)
        return grad_a, grad_b


class Maximum(Function):
    """d max(a, b)/da = 1 - [a < b] - [a = b]/2 (ties share; a NaN sends it to both, as PyTorch)"""

    def forward(self, a, b):
        return array_module_of(a).maximum(a, b)

    def backward(self, grad):
        a, b = self.inputs
        return _split_by_winner(grad, a, b, a.data < b.data, a.data > b.data)


class Minimum(Function):
    """d min(a, b)/da = 1 - [a > b] - [a = b]/2 (ties share; a NaN sends it to both, as PyTorch)"""

    def forward(self, a, b):
        return array_module_of(a).minimum(a, b)

    def backward(self, grad):
        a, b = self.inputs
        return _split_by_winner(grad, a, b, a.data > b.data, a.data < b.data)


def _split_by_winner(grad, a, b, a_loses, b_loses):
    """Route grad away from the losing input of max/min; a tie gives each half.

    Written as "all but what is lost", as PyTorch does: a NaN compares false with
    everything, so where either input is NaN both get the whole gradient.
    """
    (grad,) = operands(grad)
    # In the gradient's dtype: bool arithmetic would make int64 and float64
    # temporaries, four times the memory traffic for float32.
    halves = (a.data == b.data).astype(grad.dtype)  # 1 where tied
    halves *= -0.5
    halves += 1  # 1/2 where tied, else 1
    halved = grad * constant(grad, halves)
    finite = finite_on_cpu(halved)

    def share(tensor, loses):
        return unbroadcast(gradient_where(~loses, halved, finite=finite), tensor.shape)

    return (
        share(a, a_loses) if a.requires_grad else None,
        share(b, b_loses) if b.requires_grad else None,
    )


class Where(Function):
    """d where(c, a, b)/da = [c], d where(c, a, b)/db = [not c]"""

    reads_inputs = False

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return array_module_of(a).where(self.condition, a, b)

    def backward(self, grad):
        a, b = self.inputs
        (grad,) = operands(grad)
        condition, finite = self.condition, finite_on_cpu(grad)
        not_condition = array_module_of(condition).logical_not(condition)
        return (
            unbroadcast(gradient_where(condition, grad, finite=finite), a.shape)
            if a.requires_grad
            else None,
            unbroadcast(gradient_where(not_condition, grad, finite=finite), b.shape)
            if b.requires_grad
            else None,
        )


# --------------------------------------------------------------------------- elementwise unary


class Neg(Function):
    """d(-a)/da = -1"""

    reads_inputs = False

    def forward(self, a):
        return -a

    def backward(self, grad):
        (grad,) = operands(grad)
        return (-grad,)


class PowScalar(Function):
    """d(a^p)/da = p a^(p-1)  (p a constant)"""

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, a):
        refuse_negative_integer_power(a, self.exponent)
        return a**self.exponent

    def backward(self, grad):
        if self.exponent == 0:  # a^0 = 1 is constant: zeros, whatever the gradient
            return (zero_gradient(self.inputs[0]),)
        grad, a = operands(grad, *self.inputs)
        return (grad * (self.exponent * a ** (self.exponent - 1)),)  # local derivative first


class Exp(Function):
    """d exp(a)/da = exp(a)"""

    needs_output = True
    reads_inputs = False  # only the output's values

    def forward(self, a):
        xp = array_module_of(a)
        with ignore_underflow(xp):
            return xp.exp(a)

    def backward(self, grad):
        grad, out = operands(grad, self.output)
        return (grad * out,)


class Log(Function):
    """d ln(a)/da = 1 / a"""

    def forward(self, a):
        return array_module_of(a).log(a)

    def backward(self, grad):
        grad, a = operands(grad, *self.inputs)
        return (grad / a,)


class Sqrt(Function):
    """d sqrt(a)/da = 1 / (2 sqrt(a))"""

    needs_output = True
    reads_inputs = False  # only the output's values

    def forward(self, a):
        return array_module_of(a).sqrt(a)

    def backward(self, grad):
        grad, out = operands(grad, self.output)
        return (grad / (out * 2),)


class Abs(Function):
    """d |a|/da = sign(a)  (0 at a = 0 and, as PyTorch, at NaN)"""

    def forward(self, a):
        return array_module_of(a).abs(a)

    def backward(self, grad):
        return (times_local_slope(grad, self.inputs[0], "abs"),)


def abs_slope(a):
    """abs's local slope, (a > 0) - (a < 0): NumPy's sign(nan) is nan, PyTorch's
    gradient there is 0."""
    sign = (a > 0).astype(a.dtype)
    sign -= a < 0
    return sign


@fused
def sigmoid_formula(xp, a):
    """sigmoid(a) = exp(min(a, 0)) / (1 + exp(-|a|)): 1 / (1 + e^-a) for a >= 0 and
    e^a / (1 + e^a) below, without a where() (slow on random signs) and without an
    exp of a large number."""
    return xp.exp(xp.minimum(a, 0)) / (1 + xp.exp(-xp.abs(a)))


class Sigmoid(Function):
    """d sigmoid(a)/da = sigmoid(a) (1 - sigmoid(a))"""

    needs_output = True
    reads_inputs = False  # only the output's values

    def forward(self, a):
        with ignore_underflow(array_module_of(a)):
            return sigmoid_formula(a)

    def backward(self, grad):
        grad, out = operands(grad, self.output)
        return (grad * out * (1 - out),)


class Tanh(Function):
    """d tanh(a)/da = 1 - tanh(a)^2"""

    needs_output = True
    reads_inputs = False  # only the output's values

    def forward(self, a):
        return array_module_of(a).tanh(a)

    def backward(self, grad):
        grad, out = operands(grad, self.output)
        return (grad * (1 - out * out),)


class ReLU(Function):
    """d relu(a)/da = [a > 0]"""

    # The mask is read from the output (relu(a) > 0 exactly where a > 0), as torch saves
    # it: the input may then change in place before backward (x *= 2 under no_grad).
    needs_output = True
    reads_inputs = False

    def forward(self, a):
        return array_module_of(a).maximum(a, 0)

    def backward(self, grad):
        (grad,) = operands(grad)
        # An inf or NaN gradient at an input <= 0 gives 0 (torch's threshold_backward);
        # recorded, the result stays linked to a (differentiated again: zeros).
        mask = relu_mask(self.output.data)
        return (gradient_where(mask, grad, linked_to=self.inputs[0]),)


class LeakyReLU(Function):
    """d leaky_relu(a)/da = 1 if a > 0 else slope"""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, a):
        if a.dtype == numpy.float16 and not abs(self.slope) <= 65504.0:
            # The slope is no float16 number: as torch, compute in float32, round once
            # (0 times a slope cast to inf was NaN).
            wide = a.astype(numpy.float32)
            return cast_quietly(wide * leaky_factor(wide, self.slope), a.dtype)
        return a * leaky_factor(a, self.slope)

    def backward(self, grad):
        return (times_local_slope(grad, self.inputs[0], "leaky_relu", self.slope),)


def relu_mask(a):
    """relu's local slope: "not a <= 0", so that a NaN input passes its gradient on
    (as PyTorch's threshold_backward)."""
    return array_module_of(a).logical_not(a <= 0)


def leaky_factor(a, slope):
    """leaky_relu's local slope: 1 where a > 0, else slope (NaN included, as PyTorch).

    Products with masks instead of where(), which is ~15x slower on random signs;
    exact, since each element is 0 * slope + 1 or 1 * slope + 0.
    """
    positive = a > 0
    largest = float(numpy.finfo(a.dtype).max) if a.dtype.kind == "f" else math.inf
    if not abs(slope) <= largest:  # inf, NaN, or inf in a's dtype: 0 * inf is NaN
        return cast_quietly(array_module_of(a).where(positive, 1, slope), a.dtype)
    factor = (~positive).astype(a.dtype)
    factor *= slope
    factor += positive
    return factor


def times_local_slope(grad: Any, a: Any, of: str, slope: float | None = None) -> Any:
    """``grad`` times the local slope of ``of`` ("abs", "leaky_relu") at the Tensor
    ``a``; recorded, the slope is a function of a (LocalSlope), so the result stays
    linked to a and differentiates again, to zeros."""
    (grad,) = operands(grad)
    if recording():
        return grad * apply(LocalSlope, a, of=of, slope=slope)
    return grad * LocalSlope(of, slope).forward(a.data)


class LocalSlope(Function):
    """d slope(a)/da = 0  (the local slope of leaky_relu or abs is piecewise constant)

    Used by the recorded backward of LeakyReLU and Abs: the gradient they pass on
    stays linked to a, with derivative 0 (as torch's), so a gradient made with
    ``create_graph`` can be differentiated again (to zeros) instead of being a
    constant that nothing depends on.
    """

    reads_inputs = False

    def __init__(self, of, slope=None):
        self.of, self.slope = of, slope  # "leaky_relu" (with its slope) or "abs"

    def forward(self, a):
        if self.of == "abs":
            return abs_slope(a)
        return leaky_factor(a, self.slope)

    def backward(self, grad):
        return (zero_gradient(self.inputs[0]),)


def zero_gradient(a):
    """The gradient of a piecewise constant of ``a``: zeros, which a recorded backward
    keeps linked to a (through ZerosLike), so that every further derivative is zeros
    too (as torch's), not an error that nothing depends on a."""
    if recording():
        return apply(ZerosLike, a)
    return array_module_of(a.data).zeros(a.shape, dtype=a.dtype)


class ZerosLike(Function):
    """d zeros_like(a)/da = 0  (the derivative of a piecewise constant, kept in the graph)"""

    reads_inputs = False

    def forward(self, a):
        return array_module_of(a).zeros_like(a)

    def backward(self, grad):
        return (zero_gradient(self.inputs[0]),)


class Clip(Function):
    """d clip(a, lo, hi)/da = [lo <= a <= hi]"""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, a):
        return array_module_of(a).clip(a, self.low, self.high)

    def backward(self, grad):
        a = self.inputs[0].data
        inside = array_module_of(a).ones(a.shape, dtype=bool)
        if self.low is not None:
            inside &= a >= self.low
        if self.high is not None:
            inside &= a <= self.high
        (grad,) = operands(grad)
        return (gradient_where(inside, grad),)


class Cast(Function):
    """d cast(a)/da = 1 (the gradient is cast back to a's dtype)"""

    reads_inputs = False

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        return cast_quietly(a, self.dtype)

    def backward(self, grad):
        (grad,) = operands(grad)
        dtype = self.inputs[0].dtype
        # A recorded backward casts through the Tensor (its own Cast node); arrays directly.
        return (grad.astype(dtype) if recording() else cast_quietly(grad, dtype),)


def cast_quietly(array, dtype):
    """``array.astype(dtype)``; a float too large for a narrower float dtype becomes inf
    without NumPy's overflow warning (IEEE's answer, which torch gives quietly too)."""
    if array.dtype.kind == "f" and numpy.dtype(dtype).itemsize < array.dtype.itemsize:
        with errstate(array_module_of(array), over="ignore"):
            return array.astype(dtype)
    return array.astype(dtype)


class Clone(Function):
    """d clone(a)/da = 1 (a copy in memory of its own)"""

    reads_inputs = False

    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return (grad,)


class ToDevice(Function):
    """d to(a, device)/da = 1 (the gradient moves back to a's device)"""

    reads_inputs = False

    def __init__(self, device):
        self.device = device

    def forward(self, a):
        return move_to_device(a, self.device)

    def backward(self, grad):
        return (grad.to(self.inputs[0].device),)


# --------------------------------------------------------------------------- reductions


class Sum(Function):
    """d sum(a)/da_i = 1"""

    reads_inputs = False

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        wide = accumulation_dtype(a.dtype)
        if wide is not None:  # float16: added up in float32, rounded once
            total = a.sum(axis=self.axis, keepdims=self.keepdims, dtype=wide)
            return total.astype(a.dtype, copy=False)
        return a.sum(axis=self.axis, keepdims=self.keepdims, dtype=sum_dtype(a.dtype))

    def backward(self, grad):
        (a,) = self.inputs
        (grad,) = operands(grad)
        return (expand_reduced(grad, a.shape, self.axis, self.keepdims),)


class Mean(Function):
    """d mean(a)/da_i = 1 / n"""

    reads_inputs = False

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        # sum / n is what ndarray.mean computes, without its Python-level wrapper.
        total = a.sum(axis=self.axis, keepdims=self.keepdims, dtype=accumulation_dtype(a.dtype))
        return mean_of(total, reduced_size(a.shape, self.axis)).astype(a.dtype, copy=False)

    def backward(self, grad):
        (a,) = self.inputs
        (grad,) = operands(grad)
        weight = mean_weight(reduced_size(a.shape, self.axis))
        # Scale the small reduced gradient first, then spread it (one pass less over a).
        return (expand_reduced(grad * weight, a.shape, self.axis, self.keepdims),)


class Var(Function):
    """d var(a)/da_i = 2 (a_i - mean(a)) / max(0, n - correction)"""

    def __init__(self, axis, correction, keepdims):
        self.axis, self.correction, self.keepdims = axis, correction, keepdims

    def forward(self, a):
        if accumulation_dtype(a.dtype) is not None:  # float16: squares overflow at 256
            return self.forward(a.astype(accumulation_dtype(a.dtype))).astype(a.dtype)
        count = reduced_size(a.shape, self.axis)
        self.dof = max(0, count - self.correction)  # as PyTorch: never a negative divisor
        centered = a - mean_of(a.sum(axis=self.axis, keepdims=True), count)
        squares = (centered * centered).sum(axis=self.axis, keepdims=self.keepdims)
        # No degrees of freedom left: inf, or nan for constant (or no) data, without warnings.
        with errstate(array_module_of(a), divide="ignore", invalid="ignore"):
            return squares / self.dof

    def backward(self, grad):
        a_data = self.inputs[0].data
        count = reduced_size(a_data.shape, self.axis)
        grad, a = operands(grad, *self.inputs)
        spread = expand_reduced(grad, a.shape, self.axis, self.keepdims)
        if self.dof > 0:
            centered = a - mean_of(summed_over(a, self.axis), count)
            return (spread * (centered * (2.0 / self.dof)),)
        # 2 (a - mean) / 0: PyTorch's values. Its full reduction gives +inf off the
        # mean; over given axes the sign of (a - mean) stays. nan on the mean (0 / 0).
        xp = array_module_of(a_data)
        centered = a_data - mean_of(summed_over(a_data, self.axis), count)
        local = xp.where(centered == 0, math.nan, math.inf)
        if self.axis is not None:
            local = local * xp.sign(centered)
        with errstate(xp, invalid="ignore"):  # 0 * inf where the upstream gradient is 0
            return (spread * constant(grad, local.astype(a_data.dtype)),)


class Std(Function):
    """d std(a)/da_i = (a_i - mean(a)) / (max(0, n - correction) std(a)); 0 where std(a) = 0

    As torch's std, except over given axes with correction > n (std inf): its
    gradient is 0 there, this one nan (var's gradient is inf there, as torch's).
    """

    needs_output = True

    def __init__(self, axis, correction, keepdims):
        self.variance = Var(axis, correction, keepdims)  # std = sqrt(var), var's own code

    def forward(self, a):
        # In float64 whatever the input (torch's accumulator is double too): float32
        # squares overflow at 1.8e19 and underflow at 1e-19, where std itself is fine.
        wide = a.astype(numpy.float64) if a.dtype.itemsize < 8 else a
        return cast_quietly(array_module_of(a).sqrt(self.variance.forward(wide)), a.dtype)

    def backward(self, grad):
        # d std = d var / (2 std): var's backward, given grad / (2 std). Where std is 0
        # (constant data) that is 0 / 0; torch's std gives 0 there, and so does this.
        self.variance.inputs = self.inputs
        out_data = self.output.data
        xp = array_module_of(out_data)
        grad, out = operands(grad, self.output)
        with errstate(xp, divide="ignore", invalid="ignore"):
            halved = grad / (out * 2)
        halved = gradient_where(xp.asarray(out_data != 0), halved)
        if not recording():  # var's backward takes the gradient as the walk hands it
            halved = _tensor_module.Tensor._wrap(xp.asarray(halved))
        return self.variance.backward(halved)


class Max(Function):
    """d max(a)/da_i = [a_i = max] / #ties (tied maxima share the gradient)"""

    needs_output = True  # the extreme backward compares with is the output's own array

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        self.extreme = a.max(axis=self.axis, keepdims=True)
        return self.extreme if self.keepdims else self.extreme.reshape(_drop(a.shape, self.axis))

    def backward(self, grad):
        return (_route_to_extremes(self, grad),)


class Min(Function):
    """d min(a)/da_i = [a_i = min] / #ties (tied minima share the gradient)"""

    needs_output = True  # the extreme backward compares with is the output's own array

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        self.extreme = a.min(axis=self.axis, keepdims=True)
        return self.extreme if self.keepdims else self.extreme.reshape(_drop(a.shape, self.axis))

    def backward(self, grad):
        return (_route_to_extremes(self, grad),)


def _drop(shape: tuple, axis: tuple | None) -> tuple:
    """Shape of a reduction over ``axis`` with keepdims=False."""
    if axis is None:
        return ()
    return tuple(size for index, size in enumerate(shape) if index not in axis)


def _route_to_extremes(function, grad):
    """Gradient of max/min: equal shares for every element that attains the extreme."""
    a = function.inputs[0]
    (grad,) = operands(grad)
    hits = (a.data == function.extreme).astype(grad.dtype)
    share = hits / hits.sum(axis=function.axis, keepdims=True)
    spread = expand_reduced(grad, a.shape, function.axis, function.keepdims)
    return spread * constant(grad, share)


class Logsumexp(Function):
    """d logsumexp(a)/da_i = exp(a_i - logsumexp(a)) = softmax(a)_i"""

    needs_output = True

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        result = _logsumexp_keepdims(a, self.axis)
        return result if self.keepdims else result.reshape(_drop(a.shape, self.axis))

    def backward(self, grad):
        grad, a, out = operands(grad, *self.inputs, self.output)
        softmax = apply(Exp, a - out.reshape(kept_shape(a.shape, self.axis)))
        return (expand_reduced(grad, a.shape, self.axis, self.keepdims) * softmax,)


def _logsumexp_keepdims(a, axis):
    """log(sum(exp(a))) with the maximum taken out first, so exp never overflows."""
    xp = array_module_of(a)
    if a.size == 0 and reduced_size(a.shape, axis) == 0:
        # A sum of no exps is 0, whose log is -inf (as PyTorch); max() of nothing would fail.
        peak = xp.zeros(kept_shape(a.shape, axis), dtype=a.dtype)
    else:
        peak = a.max(axis=axis, keepdims=True)
    # A slice that is all -inf (or holds inf) must not turn into nan via inf - inf.
    peak = xp.where(xp.isfinite(peak), peak, 0)
    # exp may underflow to 0 (also after a shift that overflows to -inf), and a slice
    # that is all -inf rightly gives log(0) = -inf.
    with errstate(xp, under="ignore", over="ignore", divide="ignore"):
        total = xp.exp(a - peak).sum(axis=axis, keepdims=True, dtype=accumulation_dtype(a.dtype))
        return (xp.log(total) + peak).astype(a.dtype, copy=False)


def _exp_shifted(a, axis):
    """``(a - max(a), exp(a - max(a)), their sum)``: the stable pieces of (log-)softmax.

    With the maximum taken out, exp never overflows and large values keep their
    precision. The sum of float16 exps is float32 (see ``accumulation_dtype``).
    """
    xp = array_module_of(a)
    if accumulation_dtype(a.dtype) is not None:  # float16: all of it in float32, as torch
        a = a.astype(accumulation_dtype(a.dtype))
    if a.size == 0:  # nothing to normalise (an empty axis has no maximum); a total
        # of 1 keeps log() quiet, and no element is ever divided by it
        return a, xp.exp(a), xp.ones_like(a.sum(axis=axis, keepdims=True))
    # A shift past the dtype's range (-3e38 - 3e38 in float32) is -inf, whose exp is
    # the right 0: neither it nor exp's underflow is worth a warning.
    with errstate(xp, under="ignore", over="ignore"):
        shifted = a - a.max(axis=axis, keepdims=True)
        exps = xp.exp(shifted)
    return shifted, exps, exps.sum(axis=axis, keepdims=True, dtype=accumulation_dtype(a.dtype))


def _log_softmax_array(a, axis):
    """a - logsumexp(a) = (a - max(a)) - log(sum(exp(a - max(a))))."""
    shifted, _, total = _exp_shifted(a, axis)
    return (shifted - array_module_of(a).log(total)).astype(a.dtype, copy=False)


class Softmax(Function):
    """d softmax(a)_i/da_j = s_i ([i = j] - s_j)"""

    needs_output = True
    reads_inputs = False  # only the output's values

    def __init__(self, axis):
        self.axis = axis

    def forward(self, a):
        _, exps, total = _exp_shifted(a, self.axis)
        return (exps / total).astype(a.dtype, copy=False)

    def backward(self, grad):
        grad, out = operands(grad, self.output)
        return (out * (grad - summed_over(grad * out, self.axis)),)


class LogSoftmax(Function):
    """d log_softmax(a)_i/da_j = [i = j] - softmax(a)_j"""

    needs_output = True
    reads_inputs = False  # only the output's values

    def __init__(self, axis):
        self.axis = axis

    def forward(self, a):
        return _log_softmax_array(a, self.axis)

    def backward(self, grad):
        grad, out = operands(grad, self.output)
        softmax = apply(Exp, out)
        return (grad - softmax * summed_over(grad, self.axis),)


# --------------------------------------------------------------------------- shape and indexing


class Reshape(Function):
    """d reshape(a)/da = reshape of the gradient back to a's shape"""

    reads_inputs = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        return a.reshape(self.shape)

    def backward(self, grad):
        (grad,) = operands(grad)
        return (grad.reshape(self.inputs[0].shape),)


class Permute(Function):
    """d permute(a, axes)/da = permute of the gradient by the inverse permutation"""

    reads_inputs = False

    def __init__(self, axes):
        self.axes = axes

    def forward(self, a):
        return a.transpose(self.axes)

    def backward(self, grad):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        (grad,) = operands(grad)
        return (grad.transpose(*inverse),)


class Expand(Function):
    """d broadcast_to(a)/da = sum of the gradient over the broadcast axes"""

    reads_inputs = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        if a.shape == self.shape:  # nothing to broadcast: a writable view, as reshape gives
            return a.view()
        return array_module_of(a).broadcast_to(a, self.shape)

    def backward(self, grad):
        (grad,) = operands(grad)
        return (unbroadcast(grad, self.inputs[0].shape),)


class GetItem(Function):
    """d a[index]/da = scatter-add of the gradient into zeros of a's shape"""

    reads_inputs = False

    def __init__(self, index):
        self.index = index

    def forward(self, a):
        picked = a[self.index]
        if isinstance(picked, numpy.generic):
            # An int for every axis: NumPy gives a scalar (a copy); with "..." appended it
            # gives the same element as a 0-d view, as torch does (t[1] += 1 changes t).
            return a[(*self.index, Ellipsis)]
        return picked

    def backward(self, grad):
        (grad,) = operands(grad)
        return (apply(ScatterAdd, grad, index=self.index, shape=self.inputs[0].shape),)


class ScatterAdd(Function):
    """d scatter_add(g, index)/dg = g'[index] (the adjoint of indexing)"""

    reads_inputs = False

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, grad):
        xp = array_module_of(grad)
        result = xp.zeros(self.shape, dtype=grad.dtype)
        if _has_integer_array(self.index):
            # Repeated integer indices must add up, which plain assignment would not do.
            scatter_add(xp, result, self.index, grad)
        else:
            result[self.index] = grad
        return result

    def backward(self, grad):
        (grad,) = operands(grad)
        return (apply(GetItem, grad, index=self.index),)


def _has_integer_array(index) -> bool:
    """True when an index tuple holds an integer array (which may repeat positions)."""
    return any(
        hasattr(part, "dtype") and part.dtype.kind in "iu" and part.ndim > 0 for part in index
    )


class Cat(Function):
    """d cat(a_1..a_n)/da_k = the k-th slice of the gradient"""

    reads_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        return array_module_of(arrays[0]).concatenate(arrays, axis=self.axis)

    def backward(self, grad):
        (grad,) = operands(grad)
        grads, start = [], 0
        for part in self.inputs:
            stop = start + part.shape[self.axis]
            if part.requires_grad:
                index = (slice(None),) * self.axis + (slice(start, stop),)
                grads.append(grad[index])
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """d stack(a_1..a_n)/da_k = the k-th slice of the gradient along the new axis"""

    reads_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        return array_module_of(arrays[0]).stack(arrays, axis=self.axis)

    def backward(self, grad):
        (grad,) = operands(grad)
        before = (slice(None),) * self.axis
        return tuple(
            grad[before + (k,)] if part.requires_grad else None
            for k, part in enumerate(self.inputs)
        )


def dense(grad):
    """``grad`` as a contiguous array when it is a broadcast view (a sum's or mean's
    backward makes one: zero strides): NumPy's matmul does not hand such a view to
    BLAS and runs 5-10x slower; one copy is cheaper. Other arrays and Tensors as is."""
    strides = getattr(grad, "strides", None)
    if strides is not None and 0 in strides and grad.size > 1:
        return array_module_of(grad).ascontiguousarray(grad)
    return grad


def _product(left, right):
    """``left @ right``; with an inner size of 1 (the outer product that a vector
    operand's gradient is) as the broadcast multiply it equals, which BLAS runs
    several times slower as a GEMM."""
    return left * right if left.shape[-1] == 1 else left @ right


class MatMul(Function):
    """d(a @ b)/da = g @ b^T, d(a @ b)/db = a^T @ g"""

    def forward(self, a, b):
        return array_module_of(a).matmul(a, b)

    def values_read(self):
        return _factors_read(self.inputs)

    def backward(self, grad):
        needs_a, needs_b = self.inputs[0].requires_grad, self.inputs[1].requires_grad
        grad, a, b = operands(grad, *self.inputs)
        grad = dense(grad)
        # Treat vectors as matrices (a row for a, a column for b), as matmul itself does.
        a_matrix = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
        b_matrix = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
        if b.ndim == 1:  # first: for vector @ vector the gradient starts out 0-d
            grad = grad.reshape(grad.shape + (1,))
        if a.ndim == 1:
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:])
        grad_a = grad_b = None
        if needs_a:
            local = _product(grad, swap_last_axes(b_matrix))
            grad_a = unbroadcast(local, a_matrix.shape).reshape(a.shape)
        if needs_b:
            local = _product(swap_last_axes(a_matrix), grad)
            grad_b = unbroadcast(local, b_matrix.shape).reshape(b.shape)
        return grad_a, grad_b


# --------------------------------------------------------------------------- fused ops
# Each of these equals a chain of the ops above; fusing them saves passes over
# memory and, for the losses, avoids log(0) and exp overflow for large logits.


class Linear(Function):
    """d(x W^T + b)/dx = g W, d/dW = g^T x, d/db = sum_n g  (matmul and bias add fused)"""

    def forward(self, x, weight, bias=None):
        wide = accumulation_dtype(x.dtype)
        if wide is not None and weight.dtype == x.dtype:
            # float16: product and bias in float32, rounded once (torch's fused addmm).
            widened = self.forward(
                x.astype(wide), weight.astype(wide), None if bias is None else bias.astype(wide)
            )
            return cast_quietly(widened, x.dtype)
        batched = x.ndim != 2  # more than one leading axis: one long batch
        out = (x.reshape(-1, x.shape[-1]) if batched else x) @ weight.T
        if bias is not None:
            out += bias  # in place on the fresh matmul result: one pass less
        return out.reshape(x.shape[:-1] + (weight.shape[0],)) if batched else out

    def values_read(self):
        return _factors_read(self.inputs)  # the bias's gradient reads no values

    def backward(self, grad):
        needs = [tensor.requires_grad for tensor in self.inputs]
        grad, x, weight = operands(grad, *self.inputs[:2])
        grad = dense(grad)
        # Inputs with more than one leading axis are treated as one long batch.
        batched = x.ndim != 2
        grad_flat = grad.reshape(-1, weight.shape[0]) if batched else grad
        x_flat = x.reshape(-1, x.shape[-1]) if batched else x
        grads = [
            (grad_flat @ weight).reshape(x.shape) if needs[0] else None,
            grad_flat.T @ x_flat if needs[1] else None,
        ]
        if len(needs) == 3:
            grads.append(grad_flat.sum(axis=0) if needs[2] else None)
        return tuple(grads)


class Loss(Function):
    """A loss with its reduction fused in: per-element losses, then "mean", "sum" or "none".

    The reduction's backward (the gradient spread over the elements, times 1/n
    for the mean) folds into the loss's own gradient, so a training step
    records one node instead of two, as PyTorch's fused losses do.
    """

    def __init__(self, target=None, reduction="none"):
        # The target is a constant array here, or (None) the op's second input,
        # which then gets a gradient as torch's losses give one.
        self.target, self.reduction = target, reduction

    def given_target(self, target):
        """The target: the forward's second input when it gets a gradient, else the
        constant the op was made with."""
        if target is not None:
            self.target = target
        return self.target

    def reduce(self, losses):
        """The forward's last step: the per-element losses, reduced."""
        self.count = losses.size
        if self.reduction == "none":
            return losses
        total = losses.sum(dtype=accumulation_dtype(losses.dtype))
        reduced = mean_of(total, self.count) if self.reduction == "mean" else total
        return reduced.astype(losses.dtype, copy=False)

    def spread(self, grad):
        """The gradient of each per-element loss: d(reduced)/d(loss_i) times ``grad``."""
        return grad * mean_weight(self.count) if self.reduction == "mean" else grad


class CrossEntropy(Loss):
    """d CE(z, t)/dz = softmax(z) - onehot(t)  (log-softmax, NLL and the reduction fused)"""

    def forward(self, logits):
        xp = array_module_of(logits)
        shifted, exps, total = _exp_shifted(logits, 1)
        self.probabilities = exps / total  # softmax, kept for the backward
        rows = xp.arange(logits.shape[0])
        # -log softmax at the target only: N logs, not N x C.
        losses = self.reduce(xp.log(total[:, 0]) - shifted[rows, self.target])
        return losses.astype(logits.dtype, copy=False)

    def backward(self, grad):
        (logits,) = self.inputs
        xp = array_module_of(logits.data)
        rows = xp.arange(logits.shape[0])
        (grad,) = operands(grad)
        per_sample = self.spread(grad).reshape(-1, 1)  # (N, 1), or (1, 1) when reduced
        if not recording():
            # The fused fast path: (softmax - onehot) * g on arrays, in one buffer.
            local = self.probabilities.copy()
            local[rows, self.target] -= 1
            local *= per_sample
            return (local,)
        # Recorded (create_graph): softmax as a function of the logits, for second derivatives.
        one_hot = xp.zeros(logits.shape, dtype=grad.dtype)
        one_hot[rows, self.target] = 1
        return ((logits.softmax(axis=1) - constant(grad, one_hot)) * per_sample,)


@fused
def bce_with_logits_formula(xp, z, t):
    """max(z, 0) - z t + log(1 + exp(-|z|)): BCE(sigmoid(z), t), never exp of a large number."""
    return xp.maximum(z, 0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))


class BinaryCrossEntropyWithLogits(Loss):
    """d BCE(sigmoid(z), t)/dz = sigmoid(z) - t, d/dt = -z  (sigmoid, BCE, reduction fused)"""

    def forward(self, logits, target=None):
        target = self.given_target(target)
        wide = accumulation_dtype(logits.dtype)
        if wide is not None:  # float16: the formula in float32, rounded once (as torch)
            with ignore_underflow(array_module_of(logits)):
                losses = bce_with_logits_formula(logits.astype(wide), target.astype(wide))
            return cast_quietly(self.reduce(losses), logits.dtype)
        with ignore_underflow(array_module_of(logits)):
            return self.reduce(bce_with_logits_formula(logits, target))

    def backward(self, grad):
        grad, logits, *given = operands(grad, *self.inputs)
        target = given[0] if given else constant(grad, self.target)
        spread = self.spread(grad)
        d_logits = spread * (apply(Sigmoid, logits) - target)
        return (d_logits, -(spread * logits)) if given else (d_logits,)


_FLOAT32_1E_12 = float(numpy.float32(1e-12))


class BinaryCrossEntropy(Loss):
    """d BCE(p, t)/dp = (p - t) / max(p (1 - p), 1e-12), d/dt = ln(1 - p) - ln(p)  (as PyTorch)"""

    def forward(self, probabilities, target=None):
        self.given_target(target)
        xp = array_module_of(probabilities)
        with errstate(xp, divide="ignore"):  # log(0) = -inf is expected: it gets clamped
            log_p = xp.maximum(xp.log(probabilities), -100)
            log_not_p = xp.maximum(xp.log(1 - probabilities), -100)
        return self.reduce(-(self.target * log_p + (1 - self.target) * log_not_p))

    def backward(self, grad):
        grad, p, *given = operands(grad, *self.inputs)
        target = given[0] if given else constant(grad, self.target)
        xp = array_module_of(self.inputs[0].data)
        # torch's floor is the float32 1e-12 (9.9999999600e-13), in float64 too.
        floor = constant(grad, xp.asarray(_FLOAT32_1E_12, dtype=grad.dtype))
        spread = self.spread(grad)
        d_p = spread * (p - target) / apply(Maximum, p * (1 - p), floor)
        if not given:
            return (d_p,)
        # torch's -logit(p), unclamped: +-inf at p = 0 or 1, as torch gives.
        with errstate(xp, divide="ignore"):
            return (d_p, spread * (apply(Log, 1 - p) - apply(Log, p)))
