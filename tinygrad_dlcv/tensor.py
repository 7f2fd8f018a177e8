"""The Tensor: an array with a gradient and a link to the op that made it.

A Tensor wraps a backend array (NumPy or CuPy). Every differentiable method
dispatches to one op of :mod:`tinygrad_dlcv.ops`; when gradients are enabled
and an input requires one, the op is recorded as the result's ``grad_fn`` and
its inputs become the edges of the graph that ``backward()`` walks in reverse.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
import numbers
import operator
import re
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy

from . import ops
from .arguments import check_bool
from .backend import (
    array_module,
    array_module_of,
    check_same_device,
    default_device,
    default_dtype,
    device_of,
    errstate,
    holds_real_numbers,
    is_cuda_array,
    is_float_dtype,
    is_writable,
    native_order,
    normalize_device,
    op_label,
    to_dtype,
    to_host,
    value_ranges,
    values_of,
)

Shape = tuple[int, ...]

# --------------------------------------------------------------------------- gradient mode


class _ThreadState(threading.local):
    """What each thread switches for itself, as in PyTorch: a ``no_grad`` block in
    one thread leaves the others recording. Every new thread starts recording."""

    grad_enabled = True

    def __init__(self) -> None:
        # The innermost module call running now (nn.Module sets it around the forward
        # of a module without submodules): each recorded op remembers it, so pictures
        # of a big graph can fold one layer's ops into one node.
        self.module_calls: list[tuple[Any, int]] = []


_thread = _ThreadState()


class _GradMode:
    """Context manager and decorator that switches recording of the graph."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.previous: list[bool] = []

    def __enter__(self) -> None:
        self.previous.append(_thread.grad_enabled)
        _thread.grad_enabled = self.enabled

    def __exit__(self, *exc_info: Any) -> None:
        _thread.grad_enabled = self.previous.pop()

    def __call__(self, function: Callable) -> Callable:
        function = _decorated(function, type(self).__name__)
        mode = self._fresh
        if inspect.isgeneratorfunction(function):
            return _generator_in_mode(function, mode)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return function(*args, **kwargs)

        return wrapper

    def _fresh(self) -> _GradMode:
        """A new context of the same mode, for each call of a decorated function."""
        return type(self)()


def _generator_in_mode(function: Callable, mode: type) -> Callable:
    """A generator function whose every step runs in ``mode`` (no_grad, enable_grad),
    as PyTorch's decorators do: wrapping only the call would cover none of its body,
    which runs later, step by step, between the caller's own code."""

    @functools.wraps(function)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = function(*args, **kwargs)
        step, value = inner.send, None
        while True:
            try:
                with mode():
                    request = step(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, step = (yield request), inner.send
            except GeneratorExit:
                with mode():
                    inner.close()
                raise
            except BaseException as error:  # thrown in by the caller: pass it on
                value, step = error, inner.throw

    return generator


def _decorated(function: Any, who: str) -> Callable:
    """``function``, checked to be something a decorator can wrap."""
    if not callable(function):
        raise TypeError(f"{who}: takes no argument, or a function to decorate; got {function!r}")
    return function


class no_grad(_GradMode):  # noqa: N801  (PyTorch's name)
    """Disable graph recording inside a ``with`` block or a decorated function.

    Works as ``with no_grad():``, ``@no_grad()`` and ``@no_grad``.
    """

    def __new__(cls, function: Callable | None = None) -> Any:
        if function is not None:  # used bare, as @no_grad
            return cls()(_decorated(function, "no_grad"))
        return super().__new__(cls)

    def __init__(self, function: Callable | None = None) -> None:
        super().__init__(False)


class enable_grad(_GradMode):  # noqa: N801  (PyTorch's name)
    """Re-enable graph recording, e.g. inside a ``no_grad`` block (also ``@enable_grad``)."""

    def __new__(cls, function: Callable | None = None) -> Any:
        if function is not None:
            return cls()(_decorated(function, "enable_grad"))
        return super().__new__(cls)

    def __init__(self, function: Callable | None = None) -> None:
        super().__init__(True)


class set_grad_enabled(_GradMode):  # noqa: N801  (PyTorch's name)
    """Switch graph recording on or off (in this thread), as torch: at once when called
    (``tg.set_grad_enabled(False)``), for a ``with`` block (restored after it), or
    for a decorated function."""

    def __init__(self, mode: bool) -> None:
        super().__init__(check_bool(mode, "mode", "set_grad_enabled"))
        self.before = _thread.grad_enabled  # restored by a block's end, as torch
        _thread.grad_enabled = self.enabled

    def __enter__(self) -> None:
        _thread.grad_enabled = self.enabled  # again, for a second block

    def __exit__(self, *exc_info: Any) -> None:
        _thread.grad_enabled = self.before

    def __call__(self, function: Callable) -> Callable:
        # Used as a decorator: making it switched the mode for the caller, which it must
        # not; each call of the function switches it instead.
        _thread.grad_enabled = self.before
        return super().__call__(function)

    def _fresh(self) -> _GradMode:
        return set_grad_enabled(self.enabled)


def is_grad_enabled() -> bool:
    """Return True when new ops are recorded for backward (in this thread)."""
    return _thread.grad_enabled


_call_numbers = itertools.count()


class module_call:  # noqa: N801  (used like a function, in a with statement)
    """Tag the ops recorded inside this block with ``(module, call number)``."""

    __slots__ = ()

    def __init__(self, module: Any) -> None:
        _thread.module_calls.append((module, next(_call_numbers)))

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        _thread.module_calls.pop()


# --------------------------------------------------------------------------- argument helpers


def _shape_argument(shape: tuple, op_name: str, lowest: int | None = None) -> Shape:
    """Accept ``f((2, 3))`` and ``f(2, 3)`` alike (PyTorch's convention).

    Each size must be an integer (a Python or NumPy int, or anything with
    ``__index__``): a float such as 2.5, a string or a bool is a TypeError, as
    in PyTorch, never silently truncated.
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    sizes = []
    for size in shape:
        if type(size) is not int:  # the common case skips the checks
            refused = isinstance(size, (bool, numpy.bool_))  # True is an int to Python
            try:
                index = operator.index(size)
            except TypeError:
                refused = True
            if refused:
                raise TypeError(
                    f"{op_name}: a shape must be integers, got {size!r} "
                    f"({type(size).__name__}) in {shape!r}"
                )
            size = index
        if lowest is not None and size < lowest:
            allowed = "-1 (inferred) or a size >= 0" if lowest == -1 else "sizes >= 0"
            raise ValueError(f"{op_name}: got size {size} in {shape!r}; expected {allowed}")
        sizes.append(size)
    return tuple(sizes)


def _normalize_axis(axis: int, ndim: int, op_name: str) -> int:
    """Turn a possibly negative axis into 0..ndim-1, or raise IndexError naming ``op_name``.

    A 0-d tensor accepts axis 0 and -1 (PyTorch's rule, as if it had one axis of
    size 1); both normalize to 0.
    """
    if not isinstance(axis, (int, numpy.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op_name}: axis must be an int, got {axis!r}")
    bound = max(ndim, 1)
    if not -bound <= axis < bound:
        raise IndexError(
            f"{op_name}: axis {axis} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected {-bound}..{bound - 1})"
        )
    return int(axis) % bound


def _normalize_axes(
    axis: Any, ndim: int, op_name: str, single: bool = False, keepdims: Any = False
) -> tuple[int, ...] | None:
    """Normalize ``axis=None|int|tuple`` to None or a sorted tuple of distinct axes
    (and check a reduction's ``keepdims`` flag: True or False only).

    On a 0-d tensor axis 0 or -1 is allowed (PyTorch) and becomes ``()``: NumPy
    has no axis there to reduce, and reducing over none leaves the value as it is.
    With ``single`` the axis must be one int (softmax), returned as a 1-tuple
    (or ``()``).
    """
    if keepdims is not False and keepdims is not True:
        check_bool(keepdims, "keepdims", op_name)
    if axis is None and not single:
        return None
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, without the checks
        return (axis % ndim,)
    axes = axis if isinstance(axis, (tuple, list)) and not single else (axis,)
    normalized = tuple(sorted(_normalize_axis(each, ndim, op_name) for each in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op_name}: repeated axis in {axis!r}")
    return normalized if ndim else ()


def _scalar_dtype(value: Any, tensor_dtype: numpy.dtype) -> numpy.dtype:
    """Dtype of a Python scalar next to a tensor: a scalar never widens a tensor."""
    if isinstance(value, (bool, numpy.bool_)):
        return tensor_dtype
    if isinstance(value, (int, numpy.integer)):
        return numpy.dtype("int64") if tensor_dtype.kind == "b" else tensor_dtype
    return tensor_dtype if tensor_dtype.kind in "fc" else default_dtype()


_SCALAR_TYPES = (int, float, bool, numpy.integer, numpy.floating, numpy.bool_)
_FLOAT16 = numpy.dtype("float16")


def _scales_half(tensor: Tensor, other: Any) -> bool:
    """Whether ``tensor * other`` (or ``/``) is float16 times a number: torch computes
    that in float32 and rounds once (x / 1e5 is not x / inf = 0, x * 0.1 not x times
    0.1 rounded to float16); its + and - round the number to float16 first, as NumPy."""
    return tensor.data.dtype is _FLOAT16 and isinstance(other, _SCALAR_TYPES)


def _python_scalar(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds (others unchanged).

    Op parameters (an exponent, a slope, clip bounds) meet arrays inside the
    forward, where NumPy would let an ``np.float64`` widen a float32 tensor;
    a Python number never does.
    """
    return value.item() if isinstance(value, numpy.generic) else value


# Python scalars in expressions (x * 0.5, 1 - p) become 0-d constant tensors. They
# are immutable and recur in every training step, so each is made once per dtype
# and device: no allocation and, on a GPU, no host-to-device copy per op.
_scalar_constants: dict[tuple, Tensor] = {}
# ids of the cached constants' GPU arrays: CuPy has no read-only flag to set on them.
_device_constant_ids: set[int] = set()


def _scalar_constant(value: Any, dtype: numpy.dtype, like: Any, op: Any) -> Tensor:
    """A cached 0-d gradient-free Tensor holding ``value`` with ``like``'s device.

    ``op`` (a name or an op class) is named if ``value`` does not fit in ``dtype``.
    """
    device = "cpu" if type(like) is numpy.ndarray else device_of(like)
    key = (type(value), value, dtype, device)
    if not value or value != value:
        # As keys -0.0 == 0.0 (but 1 / -0.0 is -inf) and nan != nan (each nan would
        # miss and be stored again): their repr tells them apart and matches itself.
        key = (type(value), repr(value), dtype, device)
    constant = _scalar_constants.get(key)
    if constant is None:
        if len(_scalar_constants) >= 4096:  # bounded: a loop over many values must not leak
            _scalar_constants.clear()
            _device_constant_ids.clear()
        try:
            # As a Python number: NumPy wraps np.int64(1000) into int8 silently, 1000 it
            # refuses. A float past a float dtype's range is inf, quietly (as torch).
            xp = array_module_of(like)
            with errstate(xp, over="ignore"):
                array = xp.asarray(_python_scalar(value), dtype=dtype)
        except OverflowError:
            raise ValueError(
                f"{op_label(op)}: the scalar {value!r} does not fit in the tensor's dtype {dtype}; "
                "cast the tensor first (e.g. .astype('int64'))"
            ) from None
        # Shared by every expression with this number: never written.
        if xp is numpy:
            array.flags.writeable = False
        else:
            _device_constant_ids.add(id(array))
        constant = Tensor._wrap(array)
        _scalar_constants[key] = constant
    return constant


def _as_array(value: Any) -> Any:
    """``value`` itself, or as a 0-d array where NumPy returned a scalar (it does for
    0-d results and full reductions)."""
    return numpy.asarray(value) if isinstance(value, numpy.generic) else value


# --------------------------------------------------------------------------- Tensor


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    Parameters
    ----------
    data : scalar, nested list, numpy/cupy array or Tensor
        The values; always copied. Floating data take the default dtype
        (float32) unless ``dtype`` is given; integer and bool data and Tensors
        keep their dtype.
    requires_grad : bool
        Record ops on this tensor so ``backward()`` fills ``.grad``.
    dtype : numpy dtype or its name, optional
    device : "cpu", "cuda" or "cuda:N", optional
        Defaults to the data's device for CuPy arrays and Tensors, otherwise
        to the default device.
    name : str, optional
        A label for pictures of the graph.
    """

    __slots__ = (
        "data",
        "_grad",
        "_requires_grad",
        "grad_fn",
        "name",
        "_hooks",
        "_retains_grad",
        "__weakref__",
    )
    # NumPy and CuPy must hand `array + tensor` to Tensor.__radd__ instead of looping over
    # the elements; both defer only to an object whose __array_ufunc__ is None (CuPy
    # checks for exactly that, so NumPy ufuncs such as np.exp(t) stay TypeErrors).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        device: str | None = None,
        name: str | None = None,
    ) -> None:
        self.data = _to_array(data, dtype, device)
        self._grad: Tensor | None = None
        self.grad_fn: ops.Function | None = None
        self._requires_grad = False
        self.name = name
        self._hooks: dict[int, Callable] | None = None
        self._retains_grad = False
        if requires_grad is not False:  # checked, not taken by its truth: bool("no") is True
            self._switch_requires_grad(requires_grad, "Tensor: requires_grad")

    @classmethod
    def _wrap(cls, array: Any) -> Tensor:
        """Make a Tensor around an existing backend array, without copying or checks."""
        tensor = object.__new__(cls)
        tensor.data = array
        tensor._grad = None
        tensor.grad_fn = None
        tensor._requires_grad = False
        tensor.name = None
        tensor._hooks = None
        tensor._retains_grad = False
        return tensor

    @staticmethod
    def _apply(op_class: type[ops.Function], *inputs: Tensor, **params: Any) -> Tensor:
        """Run one op forward and, when gradients are on, record it in the graph."""
        function = op_class(**params) if params else op_class()
        arrays = [tensor.data for tensor in inputs]
        if len(arrays) > 1:
            check_same_device(op_class, *arrays)
        try:
            data = function.forward(*arrays)
        except (ValueError, OverflowError) as error:  # Overflow: a parameter outside the dtype
            shapes = ", ".join(str(tensor.shape) for tensor in inputs)
            raise ValueError(f"{op_label(op_class)}: {error} (shapes {shapes})") from None
        except (IndexError, TypeError) as error:  # NumPy's own words do not name the op
            shapes = ", ".join(str(tensor.shape) for tensor in inputs)
            kind = IndexError if isinstance(error, IndexError) else TypeError
            raise kind(f"{op_label(op_class)}: {error} (shapes {shapes})") from None
        out = Tensor._wrap(_as_array(data))
        if _thread.grad_enabled and data.dtype.kind == "f":
            for tensor in inputs:
                if tensor._requires_grad:
                    function.inputs = inputs
                    function.recorded_at = _in_place_writes
                    if _switched:  # some leaf's requires_grad changed: remember each now
                        function.inputs_required_grad = tuple(t._requires_grad for t in inputs)
                    module_calls = _thread.module_calls
                    if module_calls:
                        function.module_call = module_calls[-1]
                    out.grad_fn = function
                    out._requires_grad = True
                    if function.needs_output:
                        function.remember_output(out)
                    break
        return out

    # ----------------------------------------------------------------- attributes

    @property
    def grad(self) -> Tensor | None:
        """The gradient ``backward()`` stored: None, or a Tensor of this tensor's shape,
        dtype and device."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        # Checked as torch checks it: a .grad of another shape would broadcast silently
        # into the next accumulation, one of another dtype would outlive every step.
        if value is not None:
            if value is self:  # backward would add into the tensor itself (torch refuses)
                raise RuntimeError("grad: can't assign a tensor as its own grad")
            _check_fits(self, value, "grad", "assigned grad")
        self._grad = value

    @property
    def shape(self) -> Shape:
        """Tuple of dimension sizes."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(self.data.size)

    @property
    def dtype(self) -> numpy.dtype:
        """The ``numpy.dtype`` of the elements."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """ "cpu" or "cuda:N"."""
        return device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:  # noqa: N802  (NumPy's name)
        """The tensor with all axes reversed."""
        return self.transpose()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[index] for index in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all() on .numpy()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.size != 1:
            raise TypeError(f"only single-element integer tensors can be an index, got {self!r}")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` and ``f"{loss}"``: a 0-d tensor formats its value, as in
        PyTorch."""
        if self.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)  # str() for "", a TypeError for other specs

    __hash__ = object.__hash__  # tensors are graph nodes: identity, not value

    def __repr__(self) -> str:
        prefix = "Tensor("
        values = numpy.array2string(
            to_host(self.data), separator=", ", prefix=prefix, threshold=100, edgeitems=3
        )
        values = re.sub(r" +(?=[,\]])", "", values)  # NumPy pads "2. " to align columns
        parts = [values, f"shape={self.shape}", f"dtype={self.dtype}", f"device={self.device}"]
        if self.grad_fn is not None:
            parts.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        return prefix + ", ".join(parts) + ")"

    # ----------------------------------------------------------------- conversions

    def numpy(self) -> numpy.ndarray:
        """Return a NumPy copy of the values (also for tensors that require grad)."""
        return self.data.get() if is_cuda_array(self.data) else self.data.copy()

    def item(self) -> int | float | bool:
        """Return the single value of a one-element tensor as a Python scalar."""
        if self.size != 1:
            raise ValueError(f"item: only one-element tensors convert, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """Return the values as (nested) Python lists."""
        return to_host(self.data).tolist()

    def to(self, device: Any = None, dtype: Any = None) -> Tensor:
        """Return this tensor on ``device`` (itself when it is already there) and, when
        given, cast to ``dtype``: torch's spellings ``x.to("cuda")``, ``x.to(tg.float64)``,
        ``x.to("cuda", tg.float64)``, ``x.to(dtype=tg.float64)`` (differentiable)."""
        device, dtype = device_and_dtype(device, dtype, "Tensor.to")
        moved = self
        if device is not None and device != self.device:
            moved = Tensor._apply(ops.ToDevice, self, device=device)
        return moved if dtype is None else moved.astype(dtype)

    def cpu(self) -> Tensor:
        """Return this tensor on the CPU."""
        return self.to("cpu")

    def cuda(self, index: int | None = None) -> Tensor:
        """Return this tensor on the current (or given) GPU."""
        return self.to("cuda" if index is None else f"cuda:{index}")

    def detach(self) -> Tensor:
        """Return a tensor that shares the data but is cut from the graph."""
        return Tensor._wrap(self.data)

    def clone(self) -> Tensor:
        """Return a copy with memory of its own, still in the graph (torch's clone:
        the gradient flows through to this tensor)."""
        return Tensor._apply(ops.Clone, self)

    def astype(self, dtype: Any) -> Tensor:
        """Return the tensor cast to ``dtype`` (differentiable between float dtypes)."""
        dtype = to_dtype(dtype, "astype")
        if dtype == self.dtype:
            return self
        return Tensor._apply(ops.Cast, self, dtype=dtype)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient recording on a leaf tensor, in place; returns self."""
        self._switch_requires_grad(requires_grad, "requires_grad_", later=True)
        return self

    def __getstate__(self) -> tuple:
        """What pickle keeps: values, requires_grad, ``.grad``, name (and attributes a
        subclass's instance holds). Not the graph: a result comes back a leaf, as in
        torch, so a pickled loss does not drag its whole graph along. Not the hooks,
        which are code (torch drops them too, with a warning)."""
        if self._hooks:
            warnings.warn("pickling a tensor drops its hooks", UserWarning, stacklevel=2)
        slots = {name: getattr(self, name) for name in ("data", "_grad", "_requires_grad", "name")}
        slots.update(grad_fn=None, _hooks=None, _retains_grad=False)
        return (getattr(self, "__dict__", None) or None, slots)

    def __setstate__(self, state: Any) -> None:
        # Restore the slots as they are, around the checking setters (they would read
        # slots not restored yet); pickles made before 2026-11-27 name two slots
        # without their underscore.
        attributes, slots = state if isinstance(state, tuple) else (None, state)
        for name, value in (slots or {}).items():
            name = {"grad": "_grad", "requires_grad": "_requires_grad"}.get(name, name)
            object.__setattr__(self, name, value)
        if attributes:
            self.__dict__.update(attributes)

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy with memory (and a ``.grad``) of its own, without hooks (as torch).

        Only leaves: a result's copy would carry a copy of its graph, and its
        gradients would reach copies of the leaves, never the leaves themselves
        (torch refuses too).
        """
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only tensors made by the user (leaves), not results of ops, can "
                "be deep-copied, as in torch; copy t.detach() instead"
            )
        copied = type(self)._wrap(copy.deepcopy(self.data, memo))
        memo[id(self)] = copied
        copied._requires_grad = self._requires_grad
        copied.name = self.name
        copied._grad = copy.deepcopy(self._grad, memo)
        if getattr(self, "__dict__", None):
            copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor (set it on leaves: ``t.requires_grad = True``)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._switch_requires_grad(value, "requires_grad", later=True)

    def _switch_requires_grad(self, requires_grad: Any, who: str, later: bool = False) -> None:
        """The checks of both spellings (torch makes them too): a bool; an int tensor that
        required grad would get truncated int gradients, a non-leaf switched off would cut
        the graph. ``later``: a switch after the tensor was made (not at construction),
        which ops recorded before it do not see."""
        if not isinstance(requires_grad, (bool, numpy.bool_)):
            raise TypeError(f"{who}: must be True or False, got {requires_grad!r}")
        if requires_grad and not is_float_dtype(self.dtype):
            raise TypeError(f"{who}: only floating tensors can require gradients, got {self.dtype}")
        if not requires_grad and not self.is_leaf:
            raise RuntimeError(f"{who}: cannot switch off gradients of a non-leaf tensor")
        if later and self.grad_fn is None and bool(requires_grad) != self._requires_grad:
            _note_switch(self, bool(requires_grad))
        self._requires_grad = bool(requires_grad)

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        if not self.is_leaf:
            self._retains_grad = True

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> numpy.ndarray:
        if is_cuda_array(self.data):
            raise TypeError(
                f"cannot convert a tensor on {self.device} to NumPy implicitly; "
                "use .numpy() or .cpu() first"
            )
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        if copy is False and array is not self.data:  # NumPy 2's protocol: never copy silently
            raise ValueError(
                f"cannot give a {self.dtype} tensor as {array.dtype} without a copy (copy=False)"
            )
        return array.copy() if copy else array

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        """Share the memory through DLPack. A view with negative strides (``x[::-1]``)
        is handed over as a contiguous copy instead (a BufferError with
        ``copy=False``): DLPack allows such strides, but PyTorch aborts the whole
        process on them rather than raising."""
        data = self.data
        if any(stride < 0 for stride in data.strides):
            if kwargs.get("copy") is False:
                raise BufferError(
                    "__dlpack__: this view has negative strides, which PyTorch cannot take; "
                    "it can only be handed over as a copy (copy=False was asked)"
                )
            data = array_module_of(data).ascontiguousarray(data)
        return data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.data.__dlpack_device__()

    # ----------------------------------------------------------------- operand coercion

    def _operands(self, other: Any, op: Any) -> tuple[Tensor, Tensor] | None:
        """Bring ``other`` to a Tensor of a common dtype (None when unsupported).

        ``op`` (an op class or a name) is what an error names.
        """
        if isinstance(other, Tensor):
            if other.data.dtype == self.data.dtype:
                return self, other
            common = numpy.result_type(self.dtype, other.dtype)
            return self.astype(common), other.astype(common)
        if type(other) is float and self.data.dtype.kind == "f":  # the common case, first
            return self, _scalar_constant(other, self.data.dtype, self.data, op)
        if isinstance(other, _SCALAR_TYPES):
            dtype = _scalar_dtype(other, self.dtype)
            return self.astype(dtype), _scalar_constant(other, dtype, self.data, op)
        if isinstance(other, (list, tuple, numpy.ndarray)) or is_cuda_array(other):
            return self._operands(_operand_tensor(other, self.dtype, self.device), op)
        return None

    def _binary(self, other: Any, op_class: type[ops.Function], reflected: bool = False) -> Any:
        if op_class is ops.Mul and _scales_half(self, other):
            return self._through_float32(lambda wide: wide._binary(other, op_class, reflected))
        pair = self._operands(other, op_class)
        if pair is None:
            return NotImplemented
        a, b = pair
        return Tensor._apply(op_class, b, a) if reflected else Tensor._apply(op_class, a, b)

    def _floating(self) -> Tensor:
        """The tensor itself, or cast to the default float dtype when it is int/bool."""
        return self if self.dtype.kind == "f" else self.astype(default_dtype())

    # ----------------------------------------------------------------- arithmetic

    def __add__(self, other: Any) -> Tensor:
        return self._binary(other, ops.Add)

    def __radd__(self, other: Any) -> Tensor:
        return self._binary(other, ops.Add, reflected=True)

    def __sub__(self, other: Any) -> Tensor:
        return self._binary(other, ops.Sub)

    def __rsub__(self, other: Any) -> Tensor:
        return self._binary(other, ops.Sub, reflected=True)

    def __mul__(self, other: Any) -> Tensor:
        return self._binary(other, ops.Mul)

    def __rmul__(self, other: Any) -> Tensor:
        return self._binary(other, ops.Mul, reflected=True)

    def _quotient_operands(self, other: Any) -> tuple[Tensor, Tensor] | None:
        """The operands of a true division, floating: int / int divides as floats (as
        torch), and an int tensor meets a scalar as a float tensor (int8 / 1000 is
        0.001, not an overflow of 1000 into int8)."""
        source = self._floating() if isinstance(other, _SCALAR_TYPES) else self
        pair = source._operands(other, ops.Div)
        return None if pair is None else (pair[0]._floating(), pair[1]._floating())

    def _through_float32(self, compute: Callable[[Tensor], Any]) -> Any:
        """``compute`` on this float16 tensor widened to float32, the result rounded
        back once (see ``_scales_half``)."""
        result = compute(self.astype(numpy.float32))
        return result if result is NotImplemented else result.astype(numpy.float16)

    def __truediv__(self, other: Any) -> Tensor:
        if _scales_half(self, other):
            return self._through_float32(lambda wide: wide / other)
        pair = self._quotient_operands(other)
        if pair is None:
            return NotImplemented
        return Tensor._apply(ops.Div, *pair)

    def __rtruediv__(self, other: Any) -> Tensor:
        if _scales_half(self, other):
            return self._through_float32(lambda wide: other / wide)
        pair = self._quotient_operands(other)
        if pair is None:
            return NotImplemented
        return Tensor._apply(ops.Div, pair[1], pair[0])

    # ----------------------------------------------------------------- in-place arithmetic
    # ``p -= lr * p.grad`` under no_grad must change p itself: without these methods
    # Python would rebind the name to a new tensor and leave the model's parameter as
    # it was. As in PyTorch, a leaf that requires grad can only change in place while
    # nothing is recorded.

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place(other, ops.Add, "add", Tensor.__add__)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place(other, ops.Sub, "subtract", Tensor.__sub__)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place(other, ops.Mul, "multiply", Tensor.__mul__)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place(other, ops.Div, "true_divide", Tensor.__truediv__)

    def __ipow__(self, other: Any) -> Tensor:
        return self._in_place(other, ops.Pow, "power", Tensor.__pow__)

    def _in_place(
        self, other: Any, op_class: type[ops.Function], ufunc: str, recorded: Callable
    ) -> Tensor:
        """``self op= other``: the values change in place when the op is not recorded;
        a recorded op makes a new graph node (the graph keeps the old values) that
        Python binds to the name."""
        name = f"{op_label(op_class)} (in place)"
        other_requires_grad = isinstance(other, Tensor) and other.requires_grad
        if _thread.grad_enabled and (self.requires_grad or other_requires_grad):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad cannot change in place while "
                    "gradients are recorded; update it under tg.no_grad() (as optimizers do)"
                )
            return recorded(self, other)
        xp = array_module_of(self.data)
        if isinstance(other, Tensor):
            check_same_device(name, self.data, other.data)
            other = other.data
        elif isinstance(other, (list, tuple, numpy.ndarray)):
            other = xp.asarray(other)
        elif not (isinstance(other, _SCALAR_TYPES) or is_cuda_array(other)):
            return NotImplemented
        else:
            check_same_device(name, self.data, other) if is_cuda_array(other) else None
        if not is_writable(self.data) or (
            _device_constant_ids and id(_root_buffer(self.data)) in _device_constant_ids
        ):  # (the second test only once a GPU constant exists: CPU ones are read-only)
            # A broadcast (expanded) view: NumPy refuses, CuPy would write every element
            # of the source many times over. Or memory another library lent read-only.
            what = "a broadcast view (from expand)" if 0 in self.data.strides else "read-only"
            raise ValueError(f"{name}: the tensor is {what}; change a copy instead")
        try:
            if ufunc in ("multiply", "true_divide") and _scales_half(self, other):
                wide = getattr(xp, ufunc)(self.data.astype(numpy.float32), other)
                self.data[...] = ops.cast_quietly(wide, _FLOAT16)
            elif ufunc == "power" and self.dtype.kind in "iu":
                ops.refuse_negative_integer_power(self.data, other)
                # Into a new array first: NumPy finds a negative integer exponent halfway
                # through, after writing the elements before it.
                result = xp.empty_like(self.data)
                xp.power(self.data, other, out=result, casting="same_kind")
                self.data[...] = result
            else:
                getattr(xp, ufunc)(self.data, other, out=self.data, casting="same_kind")
            note_in_place_write(self)
        except TypeError:  # NumPy's UFuncTypeError: the result does not fit self's dtype
            other_dtype = getattr(other, "dtype", type(other).__name__)
            raise TypeError(
                f"{name}: the result of {self.dtype} and {other_dtype} cannot be stored in "
                f"a tensor of dtype {self.dtype}"
            ) from None
        except (ValueError, OverflowError) as error:  # Overflow: an int too large for the dtype
            raise ValueError(
                f"{name}: {error} (shapes {self.shape} and {getattr(other, 'shape', ())}, "
                f"dtype {self.dtype})"
            ) from None
        return self

    def __neg__(self) -> Tensor:
        return Tensor._apply(ops.Neg, self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, _SCALAR_TYPES):
            base = self.astype(_scalar_dtype(exponent, self.dtype))
            return Tensor._apply(ops.PowScalar, base, exponent=_python_scalar(exponent))
        return self._binary(exponent, ops.Pow)

    def __rpow__(self, base: Any) -> Tensor:
        return self._binary(base, ops.Pow, reflected=True)

    def __mod__(self, other: Any) -> Tensor:
        return self._remainder(other, reflected=False)

    def __rmod__(self, other: Any) -> Tensor:
        return self._remainder(other, reflected=True)

    def _remainder(self, other: Any, reflected: bool) -> Tensor:
        pair = self._operands(other, ops.Remainder)
        if pair is None:
            return NotImplemented
        a, b = pair[::-1] if reflected else pair
        _check_integer_divisor(a, b, "remainder")
        return Tensor._apply(ops.Remainder, a, b)

    # ----------------------------------------------------------------- without a gradient
    # Floor division and bitwise logic have no derivative (torch refuses to differentiate
    # floor_divide): their results are plain tensors, as comparisons are.

    def __floordiv__(self, other: Any) -> Tensor:
        return self._without_grad(other, "floor_divide", operator.floordiv)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return self._without_grad(other, "floor_divide", operator.floordiv, reflected=True)

    def __and__(self, other: Any) -> Tensor:
        return self._without_grad(other, "bitwise_and", operator.and_, bitwise=True)

    __rand__ = __and__

    def __or__(self, other: Any) -> Tensor:
        return self._without_grad(other, "bitwise_or", operator.or_, bitwise=True)

    __ror__ = __or__

    def __xor__(self, other: Any) -> Tensor:
        return self._without_grad(other, "bitwise_xor", operator.xor, bitwise=True)

    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        """``~mask``: logical not of a bool tensor, bitwise not of an int one."""
        _check_bitwise(self, "bitwise_not")
        return Tensor._wrap(_as_array(~self.data))

    def _without_grad(
        self,
        other: Any,
        op_name: str,
        compute: Callable,
        reflected: bool = False,
        bitwise: bool = False,
    ) -> Tensor:
        pair = self._operands(other, op_name)
        if pair is None:
            return NotImplemented
        a, b = pair[::-1] if reflected else pair
        check_same_device(op_name, a.data, b.data)
        if bitwise:
            _check_bitwise(a, op_name)
        else:
            _check_integer_divisor(a, b, op_name)
        try:
            return Tensor._wrap(_as_array(compute(a.data, b.data)))
        except ValueError as error:
            raise ValueError(f"{op_name}: {error} (shapes {a.shape}, {b.shape})") from None

    def __contains__(self, element: Any) -> bool:
        """``value in t``: whether any element equals it (as torch)."""
        if not isinstance(element, (Tensor, *_SCALAR_TYPES)):
            raise TypeError(
                f"in: a tensor holds numbers; cannot look for a {type(element).__name__}"
            )
        return bool((self == element).data.any())

    def __matmul__(self, other: Any) -> Tensor:
        if isinstance(other, _SCALAR_TYPES):  # no matrix product with a number (use *)
            return NotImplemented
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        if isinstance(other, _SCALAR_TYPES):
            return NotImplemented
        pair = self._operands(other, ops.MatMul)
        if pair is None:
            return NotImplemented
        return pair[1].matmul(pair[0])

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules for 1-D, 2-D and batched operands."""
        pair = None if isinstance(other, _SCALAR_TYPES) else self._operands(other, ops.MatMul)
        if pair is None:
            raise TypeError(f"matmul: expected a Tensor or array, got {type(other).__name__}")
        a, b = pair
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need >= 1 dimension, got {a.shape}, {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not line up")
        return Tensor._apply(ops.MatMul, a, b)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum (tied elements share the gradient)."""
        return self._binary_or_raise(other, ops.Maximum)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise minimum (tied elements share the gradient)."""
        return self._binary_or_raise(other, ops.Minimum)

    def _binary_or_raise(self, other: Any, op_class: type[ops.Function]) -> Tensor:
        result = self._binary(other, op_class)
        if result is NotImplemented:
            raise TypeError(f"{op_class.__name__.lower()}: unsupported operand {other!r}")
        return result

    # ----------------------------------------------------------------- comparisons (no gradient)

    def _compare(self, other: Any, compare: Callable) -> Tensor:
        if type(other) is int and self.dtype.kind in "iu":
            info = numpy.iinfo(self.dtype)
            if not info.min <= other <= info.max:
                # Every element lies on the same side of an int past the dtype's range (for
                # uint8, 255 == -1 is False), which a constant of that dtype could not hold.
                outcome = compare(0, 1) if other > info.max else compare(1, 0)
                xp = array_module_of(self.data)
                return Tensor._wrap(xp.full(self.shape, outcome, dtype=bool))
        pair = self._operands(other, "comparison")
        if pair is None:
            return NotImplemented
        a, b = pair
        check_same_device("comparison", a.data, b.data)
        try:
            return Tensor._wrap(_as_array(compare(a.data, b.data)))  # 0-d: an array, not a bool
        except ValueError as error:
            raise ValueError(f"comparison: {error} (shapes {a.shape}, {b.shape})") from None

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a >= b)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest element (flat index when axis is None), int64, no gradient."""
        return self._arg_extreme("argmax", axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest element (flat index when axis is None), int64, no gradient."""
        return self._arg_extreme("argmin", axis, keepdims)

    def _arg_extreme(self, op_name: str, axis: int | None, keepdims: bool) -> Tensor:
        check_bool(keepdims, "keepdims", op_name)
        if axis is not None:
            axis = _normalize_axis(axis, self.ndim, op_name)
        self._check_not_empty(op_name, None if axis is None else (axis,))
        xp = array_module_of(self.data)
        # A 0-d array has no axis 0 to reduce in NumPy/CuPy; its flat index is the answer.
        axis = axis if self.ndim else None
        result = getattr(xp, op_name)(self.data, axis=axis, keepdims=keepdims)
        return Tensor._wrap(xp.asarray(result, dtype=numpy.int64))

    # ----------------------------------------------------------------- elementwise functions

    def exp(self) -> Tensor:
        """e ** x, elementwise."""
        return Tensor._apply(ops.Exp, self._floating())

    def log(self) -> Tensor:
        """Natural logarithm, elementwise."""
        return Tensor._apply(ops.Log, self._floating())

    def sqrt(self) -> Tensor:
        """Square root, elementwise."""
        return Tensor._apply(ops.Sqrt, self._floating())

    def abs(self) -> Tensor:
        """Absolute value, elementwise."""
        return Tensor._apply(ops.Abs, self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e ** -x), elementwise, stable for any finite x."""
        return Tensor._apply(ops.Sigmoid, self._floating())

    def tanh(self) -> Tensor:
        """Hyperbolic tangent, elementwise."""
        return Tensor._apply(ops.Tanh, self._floating())

    def relu(self) -> Tensor:
        """max(x, 0), elementwise."""
        return Tensor._apply(ops.ReLU, self)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """x for x > 0, slope * x otherwise (a float slope makes an int tensor float)."""
        if isinstance(slope, (bool, numpy.bool_)) or not isinstance(slope, _SCALAR_TYPES):
            raise TypeError(f"leaky_relu: negative_slope must be a number, got {slope!r}")
        x = self._with_scalars(slope)
        return Tensor._apply(ops.LeakyReLU, x, slope=_python_scalar(slope))

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Limit values to [lo, hi]; either bound may be None (float bounds make an int
        tensor float, as PyTorch). With lo > hi every value becomes hi, as in NumPy and
        PyTorch."""
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        for bound in (lo, hi):
            if bound is not None and not isinstance(bound, _SCALAR_TYPES):
                raise TypeError(
                    f"clip: bounds must be numbers, got {type(bound).__name__}; for "
                    "elementwise bounds use maximum(lo).minimum(hi)"
                )
        x = self._with_scalars(*[bound for bound in (lo, hi) if bound is not None])
        return Tensor._apply(ops.Clip, x, low=_python_scalar(lo), high=_python_scalar(hi))

    def _with_scalars(self, *values: Any) -> Tensor:
        """This tensor in the dtype it takes next to scalar op parameters (the rule of
        ``_scalar_dtype``: an int tensor with a float scalar becomes the default float)."""
        x = self
        if x.data.dtype.kind == "f":  # a float tensor stays as it is (the common case)
            return x
        for value in values:
            x = x.astype(_scalar_dtype(value, x.dtype))
        return x

    # ----------------------------------------------------------------- reductions

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (None: all axes)."""
        axes = _normalize_axes(axis, self.ndim, "sum", keepdims=keepdims)
        return Tensor._apply(ops.Sum, self, axis=axes, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (None: all axes)."""
        axes = _normalize_axes(axis, self.ndim, "mean", keepdims=keepdims)
        return Tensor._apply(ops.Mean, self._floating(), axis=axes, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Largest value over ``axis``; tied maxima share the gradient."""
        return self._extreme(ops.Max, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Smallest value over ``axis``; tied minima share the gradient."""
        return self._extreme(ops.Min, axis, keepdims)

    def _extreme(self, op_class: type[ops.Function], axis: Any, keepdims: bool) -> Tensor:
        name = op_label(op_class)
        axes = _normalize_axes(axis, self.ndim, name, keepdims=keepdims)
        self._check_not_empty(name, axes)
        return Tensor._apply(op_class, self, axis=axes, keepdims=keepdims)

    def _check_not_empty(self, op_name: str, axes: tuple[int, ...] | None) -> None:
        """Refuse a max/min/argmax over an axis of size 0 (of no elements it is undefined,
        as in NumPy); other axes may be empty: ``zeros(0, 3).max(axis=1)`` has shape (0,)."""
        if self.size == 0 and ops.reduced_size(self.shape, axes) == 0:
            raise ValueError(
                f"{op_name}: cannot reduce over an empty axis (shape {self.shape}, "
                f"axis {'all' if axes is None else axes}); the {op_name} of nothing is undefined"
            )

    def var(self, axis: Any = None, correction: int = 1, keepdims: bool = False) -> Tensor:
        """Variance over ``axis``, dividing by max(0, n - correction) (PyTorch's default
        correction: 1); where that is 0 the variance is inf, or nan for constant data.

        The gradient there is inf (nan on the mean) as PyTorch's; for correction
        greater than n over given axes PyTorch's own gradient is finite against its
        inf value, and this one stays inf like the value.
        """
        axes = _normalize_axes(axis, self.ndim, "var", keepdims=keepdims)
        correction = _check_correction(correction, "var")
        return Tensor._apply(
            ops.Var, self._floating(), axis=axes, correction=correction, keepdims=keepdims
        )

    def std(self, axis: Any = None, correction: int = 1, keepdims: bool = False) -> Tensor:
        """Standard deviation over ``axis``: the square root of ``var`` (same arguments),
        as torch's std; its gradient is 0 where the data is constant, as torch's."""
        axes = _normalize_axes(axis, self.ndim, "std", keepdims=keepdims)
        correction = _check_correction(correction, "std")
        return Tensor._apply(
            ops.Std, self._floating(), axis=axes, correction=correction, keepdims=keepdims
        )

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``axis``, without overflow."""
        axes = _normalize_axes(axis, self.ndim, "logsumexp", keepdims=keepdims)
        return Tensor._apply(ops.Logsumexp, self._floating(), axis=axes, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``."""
        axes = _normalize_axes(axis, self.ndim, "softmax", single=True)
        return Tensor._apply(ops.Softmax, self._floating(), axis=axes)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along ``axis``."""
        axes = _normalize_axes(axis, self.ndim, "log_softmax", single=True)
        return Tensor._apply(ops.LogSoftmax, self._floating(), axis=axes)

    # ----------------------------------------------------------------- shape

    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (one size may be -1)."""
        shape = _shape_argument(shape, "reshape", lowest=-1)
        # Also for the same shape: a new (view) tensor, as torch, so hooks and
        # retain_grad on it stay its own.
        return Tensor._apply(ops.Reshape, self, shape=shape)

    def permute(self, *axes: Any) -> Tensor:
        """Reorder the axes: ``axes`` is a permutation of 0..ndim-1."""
        axes = _shape_argument(axes, "permute")
        normalized = tuple(_normalize_axis(axis, self.ndim, "permute") for axis in axes)
        if sorted(normalized) != list(range(self.ndim)):
            raise ValueError(f"permute: {axes} is not a permutation of the axes of {self.shape}")
        return Tensor._apply(ops.Permute, self, axes=normalized)

    def transpose(self, *axes: Any) -> Tensor:
        """Reverse the axes, or permute them as NumPy does when ``axes`` are given."""
        if not axes or (len(axes) == 1 and axes[0] is None):
            return Tensor._apply(ops.Permute, self, axes=tuple(range(self.ndim - 1, -1, -1)))
        return self.permute(*axes)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """Merge axes start_axis..end_axis into one."""
        start = _normalize_axis(start_axis, self.ndim, "flatten")
        end = _normalize_axis(end_axis, self.ndim, "flatten")
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
        merged = int(numpy.prod(self.shape[start : end + 1]))
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def squeeze(self, axis: Any = None) -> Tensor:
        """Drop axes of size 1 (all of them, or those in ``axis``)."""
        if axis is None:
            return self.reshape(tuple(size for size in self.shape if size != 1))
        axes = _normalize_axes(axis, self.ndim, "squeeze")
        for each in axes:
            if self.shape[each] != 1:
                raise ValueError(
                    f"squeeze: axis {each} has size {self.shape[each]}, not 1 (shape {self.shape})"
                )
        return self.reshape(tuple(size for i, size in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of size 1 at ``axis``."""
        axis = _normalize_axis(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` without copying (-1 keeps a size)."""
        shape = _shape_argument(shape, "expand")
        leading = len(shape) - self.ndim
        if leading < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}")
        shape = tuple(
            self.shape[i - leading] if size == -1 and i >= leading else size
            for i, size in enumerate(shape)
        )
        return Tensor._apply(ops.Expand, self, shape=shape)

    broadcast_to = expand

    def __getitem__(self, index: Any) -> Tensor:
        given = index if isinstance(index, tuple) else (index,)  # index Tensors, for pictures
        index = _normalize_index(index, self)
        return ops.keep_constants(Tensor._apply(ops.GetItem, self, index=index), given)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "Tensor does not support item assignment (it would break the graph); "
            "build a new tensor, or write to .data under no_grad"
        )

    # ----------------------------------------------------------------- autograd

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        The hook sees the total gradient of one backward pass, before it is
        stored or passed on, and may return a replacement. Returns a handle
        whose ``remove()`` unregisters the hook.
        """
        if not callable(hook):
            raise TypeError(f"register_hook: expected a function, got {type(hook).__name__}")
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, hook)

    def backward(
        self,
        grad: Any = None,
        retain_grad: bool = False,
        create_graph: bool = False,
        *,
        retain_graph: bool | None = None,
        gradient: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``grad`` is the gradient of some scalar with respect to this tensor; it
        may be omitted only when this tensor has a single element. With
        ``retain_grad`` every non-leaf keeps its ``.grad`` too; with
        ``create_graph`` the backward pass is recorded so gradients can be
        differentiated again. ``retain_graph`` is taken for torch code and
        changes nothing: the graph always survives backward; ``gradient`` is
        torch's name for ``grad``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: the tensor does not require grad and has no grad_fn "
                "(did you create it under no_grad, or forget requires_grad=True?)"
            )
        check_bool(retain_grad, "retain_grad", "backward")
        check_bool(create_graph, "create_graph", "backward")
        if retain_graph is not None:
            check_bool(retain_graph, "retain_graph", "backward")
        if gradient is not None:
            if grad is not None:
                raise TypeError("backward: got both grad and gradient (torch's name for it)")
            grad = gradient
        seed = _seed_gradient(self, grad, "backward", create_graph)
        _backpropagate([self], [seed], create_graph=create_graph, retain_all=retain_grad)

    # torch's cast spellings, ``(pred == y).float().mean()``. Last in the class: from
    # here on ``float`` and ``int`` in the class body would name these methods.
    def float(self) -> Tensor:
        """``astype(float32)`` (torch's spelling; differentiable from a float dtype)."""
        return self.astype(numpy.float32)

    def double(self) -> Tensor:
        """``astype(float64)`` (torch's spelling; differentiable from a float dtype)."""
        return self.astype(numpy.float64)

    def half(self) -> Tensor:
        """``astype(float16)`` (torch's spelling; differentiable from a float dtype)."""
        return self.astype(numpy.float16)

    def long(self) -> Tensor:
        """``astype(int64)`` (torch's spelling)."""
        return self.astype(numpy.int64)

    def int(self) -> Tensor:
        """``astype(int32)`` (torch's spelling)."""
        return self.astype(numpy.int32)

    def bool(self) -> Tensor:
        """``astype(bool)`` (torch's spelling)."""
        return self.astype(numpy.bool_)


class _HookHandle:
    """Returned by ``register_hook`` and the module hooks; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: dict[int, Callable], key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        """Unregister the hook (removing twice is harmless)."""
        self._hooks.pop(self._key, None)


_hook_ids = itertools.count()


def add_hook(hooks: dict[int, Callable], hook: Callable) -> _HookHandle:
    """Add ``hook`` to ``hooks`` (called in the order added); returns its handle."""
    key = next(_hook_ids)
    hooks[key] = hook
    return _HookHandle(hooks, key)


# --------------------------------------------------------------------------- construction helpers


def device_and_dtype(device: Any, dtype: Any, who: str) -> tuple[str | None, Any]:
    """Read torch's ``.to`` arguments: ``(device)``, ``(dtype)``, ``(device, dtype)`` or
    ``(dtype=...)``; returns the normalized device and the NumPy dtype, each None when
    not given (``Tensor.to`` and ``Module.to``)."""
    if device is not None and _reads_as_dtype(device, who):
        if dtype is not None:
            raise TypeError(f"{who}: got two dtypes, {device!r} and {dtype!r}")
        device, dtype = None, device
    if device is not None:
        device = normalize_device(device, who)
    if dtype is not None:
        dtype = to_dtype(dtype.strip().lower() if isinstance(dtype, str) else dtype, who)
    return device, dtype


def _reads_as_dtype(value: Any, who: str) -> bool:
    """Whether a ``.to``'s first argument is a dtype rather than a device."""
    if isinstance(value, str):
        return value.strip().lower() in _DTYPE_NAMES
    try:
        to_dtype(value, who)
    except TypeError:
        return False  # neither: the device check names it
    return True


# Strings ``.to`` reads as dtypes rather than devices.
_DTYPE_NAMES = frozenset(
    ["bool", "float16", "float32", "float64", "half", "double"]
    + [f"{kind}int{bits}" for kind in ("", "u") for bits in (8, 16, 32, 64)]
)


def _to_array(data: Any, dtype: Any, device: str | None) -> Any:
    """Copy ``data`` into a backend array of the right dtype on the right device."""
    from_python = False
    if isinstance(data, Tensor):
        source, keeps_dtype = data.data, True
    elif isinstance(data, numpy.ndarray) or is_cuda_array(data):
        source, keeps_dtype = data, False
    elif isinstance(data, (list, tuple)) and data and all(isinstance(e, Tensor) for e in data):
        # A list of Tensors keeps their (promoted) dtype, as torch.tensor does.
        source, keeps_dtype = numpy.asarray([element.numpy() for element in data]), True
        if len({element.device for element in data}) > 1:
            raise RuntimeError("Tensor: the listed tensors are on different devices")
    else:
        try:
            source = numpy.asarray(values_of(data))
        except (ValueError, TypeError) as error:  # ragged lists are a ValueError (a shape)
            kind = ValueError if isinstance(error, ValueError) else TypeError
            raise kind(f"Tensor: cannot make a tensor from {data!r} ({error})") from None
        keeps_dtype, from_python = False, True
        if source.dtype.kind in "uO" and _has_huge_int(data):
            # NumPy makes ints past int64 uint64 (up to 2^64) or objects; ints are int64 here
            # unless a dtype that holds them is asked for.
            if dtype is None:
                raise ValueError(f"Tensor: {data!r} holds an integer that does not fit in int64")
            try:
                source = numpy.asarray(data, dtype=to_dtype(dtype, "Tensor"))
            except OverflowError:
                raise ValueError(f"Tensor: {data!r} does not fit in {dtype}") from None
    if not holds_real_numbers(source.dtype):
        raise TypeError(
            f"Tensor: expected numbers or booleans, got data of dtype {source.dtype} "
            f"({type(data).__name__})"
        )
    if dtype is not None:
        target_dtype = to_dtype(dtype, "Tensor")
    elif source.dtype.kind == "f" and not keeps_dtype:
        target_dtype = default_dtype()
    else:  # in the machine's byte order (DLPack and the gradient checks need it)
        target_dtype = native_order(source.dtype)
    if device is None:
        # A Tensor or CuPy array stays where it is: Tensor(cpu_tensor) must not move
        # to a CUDA default device (gradcheck's float64 copies rely on it).
        stays = isinstance(data, Tensor) or is_cuda_array(source)
        device = device_of(source) if stays else default_device()
    else:
        device = normalize_device(device, "Tensor")
    if from_python and target_dtype.kind in "iu" and source.dtype.kind in "iuf" and source.size:
        # Numbers written out must fit (as PyTorch): a cast of arrays would wrap them silently.
        info, low, high = numpy.iinfo(target_dtype), source.min(), source.max()
        if not (low >= info.min and high <= info.max):  # written so that NaN fails too
            raise ValueError(
                f"Tensor: values from {low} to {high} do not fit in {target_dtype} "
                f"({info.min}..{info.max})"
            )
    xp = array_module(device)
    if xp is numpy:
        return numpy.array(to_host(source), dtype=target_dtype, copy=True)
    with xp.cuda.Device(int(device.split(":")[1])):
        return xp.array(source, dtype=target_dtype, copy=True)


def _has_huge_int(data: Any) -> bool:
    """True when ``data`` (a Python int or nested lists) holds an int outside int64."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:
            return True
    return False


_BASIC_INDEX_TYPES = (int, float, slice, type(None), type(Ellipsis))


def _normalize_index(index: Any, tensor: Tensor) -> tuple:
    """Turn an index into a tuple of ints, slices, None, Ellipsis and device arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    xp = array_module_of(tensor.data)
    parts = []
    for part in index:
        if isinstance(part, Tensor):
            check_same_device("index", tensor.data, part.data)
            part = part.data
        elif isinstance(part, (list, tuple)) or not (
            isinstance(part, _BASIC_INDEX_TYPES) or hasattr(getattr(part, "dtype", None), "kind")
        ):
            # A list, a tuple inside the index (a list to NumPy) or another library's array
            # (a torch tensor): its values as a NumPy array, checked before any device sees
            # them. An empty list selects nothing: an integer index (NumPy: float64).
            try:
                empty = isinstance(part, (list, tuple)) and not part
                part = numpy.zeros(0, numpy.int64) if empty else numpy.asarray(values_of(part))
            except ValueError as error:  # ragged lists
                raise IndexError(f"index: {error}") from None
            except TypeError:  # a list of GPU scalars: NumPy may not read them
                if xp is numpy:
                    raise
                part = xp.asarray(part)
        if hasattr(part, "dtype") and part.dtype.kind not in "biu":
            raise IndexError(
                f"index: arrays used as indices must be integer or bool, got {part.dtype}"
            )
        if isinstance(part, float):
            raise IndexError(f"index: {part!r} is a float; indices must be integers")
        if xp is not numpy and isinstance(part, numpy.ndarray):
            part = xp.asarray(part)
        parts.append(part)
    if xp is not numpy:
        _check_index_bounds(parts, tensor.shape)
    return tuple(parts)


def _check_index_bounds(parts: list, shape: Shape) -> None:
    """Raise IndexError for an integer-array index outside its axis, as NumPy does.

    CuPy wraps such indices around (``x[[3]]`` of 3 elements is ``x[0]``),
    silently; all of them are checked with one synchronisation.
    """

    def axes_taken(part: Any) -> int:
        if part is None or part is Ellipsis or isinstance(part, bool):  # a bool adds an axis
            return 0
        if getattr(part, "dtype", None) is not None and part.dtype.kind == "b":
            return part.ndim  # a mask covers as many axes as it has
        return 1

    consumed = sum(axes_taken(part) for part in parts)
    axis, checks, masks = 0, [], []
    for part in parts:
        if part is Ellipsis:
            axis += len(shape) - consumed
            continue
        taken = axes_taken(part)
        # Integer device arrays only: NumPy scalars and Python ints CuPy checks itself,
        # and a mask over one axis takes one axis too but holds no indices.
        device_array = hasattr(part, "shape") and not isinstance(part, numpy.generic)
        if device_array and part.size == 0:  # the indices broadcast to nothing: NumPy
            return  # checks none
        if device_array and part.dtype.kind == "b":
            masks.append(part)
        elif device_array and part.dtype.kind in "iu" and axis < len(shape):
            checks.append((part, axis))
        axis += taken
    if not checks:
        return
    # The masks' bounds come along: one that selects nothing leaves nothing to check.
    ranges = value_ranges(*[part for part, _ in checks], *masks)
    if any(not high for _, high in ranges[len(checks) :]):
        return
    for (_, axis), (low, high) in zip(checks, ranges, strict=False):
        size = shape[axis]
        if low < -size or high >= size:
            bad = high if high >= size else low
            raise IndexError(
                f"index: index {int(bad)} is out of bounds for axis {axis} with size {size}"
            )


def _check_correction(correction: Any, op_name: str) -> Any:
    """var's and std's ``correction``: a number (None: torch's spelling of 1)."""
    if correction is None:
        return 1
    if isinstance(correction, bool) or not isinstance(correction, numbers.Real):
        raise TypeError(f"{op_name}: correction must be a number, got {correction!r}")
    return _python_scalar(correction)  # an np.int64 must not widen float32


def _seed_gradient(output: Tensor, grad: Any, op_name: str, create_graph: bool) -> Tensor:
    """The gradient backward starts from: ones for a single element, else the one given."""
    if grad is None:
        if output.size != 1:
            raise RuntimeError(
                f"{op_name}: grad can be omitted only for a single-element output, "
                f"got shape {output.shape}; pass grad= of that shape"
            )
        return Tensor._wrap(array_module_of(output.data).ones(output.shape, dtype=output.dtype))
    if not isinstance(grad, Tensor):
        grad = Tensor(grad, dtype=output.dtype, device=output.device)
    if grad.shape != output.shape:
        raise ValueError(f"{op_name}: grad has shape {grad.shape}, the output has {output.shape}")
    check_same_device(op_name, output.data, grad.data)
    if grad.dtype != output.dtype:
        grad = grad.astype(output.dtype)
    # A copy: the gradient may end up as a leaf's .grad, which must not alias the caller's array.
    return grad if create_graph else Tensor._wrap(grad.data.copy())


# --------------------------------------------------------------------------- the backward walk


def topological_order(roots: Sequence[Tensor], constants: bool = False) -> list[Tensor]:
    """Tensors that need a gradient, each after every tensor it was computed from.

    Iterative depth-first search (no recursion), so graphs of any depth work.
    With ``constants`` the inputs that need no gradient are listed too (for
    drawing the whole graph).
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        function = node.grad_fn
        if function is not None:
            for parent in function.inputs:
                # _sends_gradient_to, its common case inline (this runs for every edge).
                if (
                    constants
                    or (
                        parent._requires_grad
                        and (not _switched or _sends_gradient_to(parent, function))
                    )
                ) and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _leading_to(order: list[Tensor], targets: Mapping[int, Any]) -> list[Tensor]:
    """The tensors of ``order`` (a topological order) that are one of ``targets`` (ids)
    or were computed from one, directly or not: only through them does a gradient
    reach a target, so ``tg.grad`` computes no other and runs no other's hooks (as
    PyTorch)."""
    leading: set[int] = set()
    for node in order:  # inputs come before the tensors computed from them
        function = node.grad_fn
        if id(node) in targets or (
            function is not None and any(id(parent) in leading for parent in function.inputs)
        ):
            leading.add(id(node))
    return [node for node in order if id(node) in leading]


def _backpropagate(
    roots: Sequence[Tensor],
    seeds: Sequence[Tensor],
    create_graph: bool,
    retain_all: bool = False,
    capture: dict[int, Tensor | None] | None = None,
) -> None:
    """Walk the graph from ``roots`` back to the leaves, applying the chain rule.

    Each tensor's gradient is the sum of what its consumers sent it; it is
    complete once the walk reaches the tensor in reverse topological order. It
    is then passed through the hooks, stored where asked, pushed to the inputs
    of the op that made the tensor, and dropped, so intermediate gradients are
    freed as soon as they are used. With ``capture`` (``tg.grad``) the
    gradients of the captured tensors are returned there and no ``.grad`` is
    touched. Otherwise the ``.grad``s are written only once the whole walk has
    succeeded: a backward that fails (a hook, a bad op) changes none of them.
    """
    grads: dict[int, Tensor] = {}
    to_store: list[tuple[Tensor, Tensor]] = []
    handed_in: set[int] = set()  # buffers of tensors hooks returned: their callers may hold them
    order = topological_order(roots)
    if capture is not None:  # tg.grad: only the tensors on a path to one it asks for
        order = _leading_to(order, capture)
    for root, seed in zip(roots, seeds, strict=True):
        key = id(root)
        grads[key] = seed if key not in grads else grads[key] + seed
    with _GradMode(create_graph):
        for node in reversed(order):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if node._hooks:
                grad = _run_hooks(node, grad, handed_in)
            if capture is not None:
                if id(node) in capture:
                    capture[id(node)] = grad
            elif node.grad_fn is None or retain_all or node._retains_grad:
                to_store.append((node, grad))
            function = node.grad_fn
            if function is None:
                continue
            if function.recorded_at != _in_place_writes:  # something changed in place since
                _check_unchanged(function)
            input_grads = function.backward(grad)
            del grad
            for parent, parent_grad in zip(function.inputs, input_grads, strict=True):
                if (
                    parent_grad is None
                    or not parent._requires_grad  # _sends_gradient_to's common case, inline
                    or (_switched and not _sends_gradient_to(parent, function))
                ):
                    continue
                if not isinstance(parent_grad, Tensor):  # an unrecorded backward's raw array
                    parent_grad = Tensor._wrap(_as_array(parent_grad))
                data, expected = parent_grad.data, parent.data
                if data.dtype != expected.dtype:  # a gradient has its tensor's dtype
                    parent_grad = parent_grad.astype(expected.dtype)
                if data.shape != expected.shape:
                    raise RuntimeError(
                        f"{function.name} returned a gradient of shape {data.shape} "
                        f"for an input of shape {expected.shape}"
                    )
                key = id(parent)
                grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
        if to_store:
            # Every new value first (an accumulation can fail too), then the writes: the
            # in-place ones are checked to fit first, so none of them can fail half-way.
            stored = handed_in  # a buffer met again is copied: a .grad must not alias another
            in_place = [_adds_in_place(node, grad, create_graph) for node, grad in to_store]
            values = [
                None if adds else _grad_to_store(node, grad, create_graph, stored)
                for (node, grad), adds in zip(to_store, in_place, strict=True)
            ]
            for (node, grad), adds, value in zip(to_store, in_place, values, strict=True):
                if adds:
                    node.grad.data += grad.data
                    note_in_place_write(node.grad)
                else:
                    node.grad = value


# In-place writes (``+=`` and friends, optimizer steps, init fills, state_dict loads)
# are counted. The memory written (the root buffer, so that views, reshapes and
# detach() of it count too) remembers the count at its last write, and an op the
# count when it was recorded. The backward walk can so tell, with one comparison
# per op in the common case, whether a value an op's gradient reads has changed
# since: that gradient would be silently wrong (PyTorch's version counters).
_in_place_writes = 0
_written: dict[int, tuple[Any, int]] = {}  # id(root buffer) -> (weak ref to it, count)
_written_limit = 4096  # entries before the dead ones are pruned (doubles as needed)


def _root_buffer(array: Any) -> Any:
    """The array that owns ``array``'s memory (itself unless it is a view)."""
    while array.base is not None and hasattr(array.base, "shape"):
        array = array.base
    return array


def note_in_place_write(tensor: Tensor) -> None:
    """Record that ``tensor``'s memory was changed in place (by ``+=``, an optimizer, ...)."""
    global _in_place_writes, _written_limit
    _in_place_writes += 1
    root = _root_buffer(tensor.data)
    entry = _written.get(id(root))
    if entry is not None and entry[0] is not None and entry[0]() is root:
        _written[id(root)] = (entry[0], _in_place_writes)  # written before (every step)
        return
    try:
        reference = weakref.ref(root)
    except TypeError:  # an array type without weak references: trust its id
        reference = None
    if len(_written) >= _written_limit:  # bounded: forget buffers that no longer exist
        for key in [key for key, (ref, _) in _written.items() if ref is not None and ref() is None]:
            del _written[key]
        # Twice what is alive: the next scan comes after as many new entries again, so
        # the scans cost O(1) per entry (a fixed bound rescanned 16,000 live ones each time).
        _written_limit = max(4096, 2 * len(_written))
    _written[id(root)] = (reference, _in_place_writes)


# Leaves whose requires_grad was switched after they were made: id -> (weak ref, the
# clock time of the first switch, whether it required grad before it). Once any leaf has
# been switched, each recorded op keeps which of its inputs required grad then
# (``Function.inputs_required_grad``); an op recorded before that is judged by the
# leaf's state before its first switch. An op recorded while a leaf did not require grad
# sends it no gradient (torch's graph has no edge there), even if the leaf requires grad
# by the time of backward.
_switched: dict[int, tuple[Any, int, bool]] = {}
_switched_limit = 4096  # entries before the dead ones are pruned (doubles as needed)
_switched_lock = threading.Lock()


def _note_switch(tensor: Tensor, requires_grad: bool) -> None:
    """Record that the leaf ``tensor`` starts or stops requiring grad now (a clock tick)."""
    global _in_place_writes, _switched_limit
    with _switched_lock:
        _in_place_writes += 1
        entry = _switched.get(id(tensor))
        if entry is not None and entry[0]() is tensor:
            return  # its first switch is known; later ops record their own flags
        if len(_switched) >= _switched_limit:  # forget tensors that no longer exist
            for key, (ref, _, _) in list(_switched.items()):
                if ref() is None:
                    del _switched[key]
            _switched_limit = max(4096, 2 * len(_switched))
        _switched[id(tensor)] = (weakref.ref(tensor), _in_place_writes, not requires_grad)


def _sends_gradient_to(parent: Tensor, function: ops.Function) -> bool:
    """Whether backward through ``function`` passes a gradient on to its input ``parent``:
    it requires grad now (torch: a leaf switched off gets none) and did when the op was
    recorded."""
    if not parent._requires_grad:
        return False
    if not _switched or parent.grad_fn is not None:  # the common case, at once
        return True
    flags = function.inputs_required_grad
    if flags is not None:  # recorded after some leaf was switched: it knows
        position = next(i for i, tensor in enumerate(function.inputs) if tensor is parent)
        return flags[position]
    entry = _switched.get(id(parent))
    if entry is None or entry[0]() is not parent:
        return True
    _, first_switch, before = entry
    return before if function.recorded_at < first_switch else True


def _written_since(tensor: Tensor, count: int) -> bool:
    """True when ``tensor``'s memory was written in place after the count ``count``."""
    root = _root_buffer(tensor.data)
    entry = _written.get(id(root))
    if entry is None:
        return False
    reference, written_at = entry
    if reference is not None and reference() is not root:  # a freed buffer's id, reused
        return False
    return written_at > count


def _check_unchanged(function: ops.Function) -> None:
    """Raise if a value ``function``'s backward reads was written in place after it ran."""
    # The constants too: backward reads an index, a target or a condition (as torch,
    # which saves them).
    read = function.values_read() + list(function.constants)
    if function.needs_output and function.output is not None:
        read.append(function.output)
    for tensor in read:
        if _written_since(tensor, function.recorded_at):
            raise RuntimeError(
                f"{function.name}: a tensor of shape {tensor.shape} that its gradient needs "
                "was changed in place (+=, an optimizer step, ...) after the forward pass; the "
                "gradient would be wrong. Change a copy (x = x + 1), or change it before the "
                "forward pass"
            )


def _check_fits(tensor: Tensor, gradient: Any, who: str, what: str) -> None:
    """Raise unless ``gradient`` can be ``tensor``'s gradient: a Tensor (else TypeError)
    of its shape, dtype and device (else RuntimeError, as PyTorch's "hook has changed
    the type of value" and "assigned grad has data of a different size")."""
    if not isinstance(gradient, Tensor):
        raise TypeError(f"{who}: {what} must be a Tensor or None, got {type(gradient).__name__}")
    if gradient.shape != tensor.shape or gradient.dtype != tensor.dtype:
        raise RuntimeError(
            f"{who}: {what} has shape {gradient.shape} and dtype {gradient.dtype}, the "
            f"tensor has shape {tensor.shape} and dtype {tensor.dtype}"
        )
    check_same_device(who, tensor.data, gradient.data)


def _run_hooks(node: Tensor, grad: Tensor, handed_in: set[int]) -> Tensor:
    """Pass the total gradient through the tensor's hooks; each may replace it.

    A replacement must be a Tensor (else TypeError) of the tensor's shape, dtype
    and device (else RuntimeError, as PyTorch's "hook has changed the type of value").
    The memory of each gradient a hook is handed or returns is noted in
    ``handed_in``: the hook may keep it, so a ``.grad`` made of it is a copy.
    """
    for hook in list(node._hooks.values()):
        handed_in.add(id(_root_buffer(grad.data)))
        replacement = hook(grad)
        if replacement is not None:
            name = getattr(hook, "__name__", hook)
            _check_fits(node, replacement, f"hook {name!r}", "the gradient it returned")
            handed_in.add(id(_root_buffer(replacement.data)))
            grad = replacement
    return grad


def _changeable_in_place(grad: Tensor) -> bool:
    """Whether a ``.grad`` may be written in place: writable memory, outside any graph."""
    return not grad.requires_grad and is_writable(grad.data)


def _adds_in_place(node: Tensor, grad: Tensor, create_graph: bool) -> bool:
    """Whether ``grad`` is added into a leaf's existing ``.grad`` in place, as torch
    accumulates (a reference to ``x.grad`` stays the gradient). Not while the
    backward is recorded, not into a retained non-leaf gradient (torch replaces
    those), and not where the old one could not take the sum as it is."""
    old = node.grad
    return (
        old is not None
        and not create_graph
        and node.grad_fn is None
        and _changeable_in_place(old)
        and type(old.data) is type(grad.data)
        and old.data.shape == grad.data.shape
        and old.data.dtype == grad.data.dtype
    )


def _grad_to_store(node: Tensor, grad: Tensor, create_graph: bool, stored: set[int]) -> Tensor:
    """The new ``node.grad`` where it is not accumulated in place: the sum with the old
    one, or a ``.grad`` that owns writable memory of its own.

    Gradients flow through ops like ``+`` unchanged, so one buffer can reach
    several tensors, be one a hook was handed or returned (``stored`` starts with
    those buffers), or arrive as a read-only broadcast view. Copying those (and
    only those: a view such as the transpose that carries a weight's gradient is
    kept when its buffer reaches no other tensor) lets optimizers, users and
    the next backward change a ``.grad`` in place.
    """
    if node.grad is not None:
        return node.grad + grad
    if create_graph:
        # A copy recorded in the graph (torch clones here too): the gradient may also be
        # another tensor's .grad, the caller's seed or a read-only broadcast view.
        return Tensor._apply(ops.Clone, grad)
    data = grad.data
    buffer = _root_buffer(data)
    if not is_writable(data) or id(buffer) in stored:
        data = data.copy()
        buffer = data
    stored.add(id(buffer))
    return Tensor._wrap(data)


def clear_grad(tensor: Tensor, set_to_none: bool = True) -> None:
    """Forget ``tensor.grad``: None, or (``set_to_none=False``) zeros.

    The zeros are written into the old ``.grad`` in place, as torch's
    ``zero_()`` (a reference to it sees them, as backward's in-place
    accumulation adds into it); fresh zeros where it is read-only or part of
    a graph. ``Module.zero_grad`` and ``Optimizer.zero_grad`` both use it.
    """
    old = tensor.grad
    if old is None:
        return
    if set_to_none:
        tensor.grad = None
    elif _changeable_in_place(old):
        old.data[...] = 0
        note_in_place_write(old)
    else:
        tensor.grad = zeros_like(tensor)


def backward_steps(root: Tensor, grad: Any = None) -> list[tuple[Tensor, Tensor]]:
    """The backward walk from ``root`` step by step: ``(tensor, its total gradient)``.

    In the order backward() visits the tensors (the root first, then each
    tensor once all its consumers have sent their share), without touching any
    ``.grad``. For pictures of the chain rule at work (``viz.animate_backward``).
    """
    if not root.requires_grad:
        raise RuntimeError("backward_steps: the tensor does not require grad")
    order = topological_order([root])
    captured: dict[int, Tensor | None] = {id(node): None for node in order}
    seed = _seed_gradient(root, grad, "backward_steps", create_graph=False)
    _backpropagate([root], [seed], create_graph=False, capture=captured)
    return [
        (node, captured[id(node)]) for node in reversed(order) if captured[id(node)] is not None
    ]


def _tensor_list(value: Any, name: str) -> list:
    """``tg.grad``'s outputs, inputs or grad_outputs: one Tensor, or an iterable of
    them (a list, ``model.parameters()``); anything else is a TypeError."""
    if isinstance(value, Tensor):
        return [value]
    if name == "grad_outputs" and hasattr(value, "shape"):  # one array: the one gradient
        return [value]
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes)):
        raise TypeError(
            f"grad: {name} must be a Tensor or a list of Tensors, got {type(value).__name__}"
        )
    return list(value)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    *,
    retain_graph: bool | None = None,
    allow_unused: bool | None = None,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) as a tuple, without touching any ``.grad``.

    ``grad_outputs`` plays the role of backward's ``grad`` for each output.
    An input that the outputs do not depend on is a RuntimeError, or (with
    ``allow_unused``, as torch) None in its place. ``retain_graph`` is taken
    for torch code and changes nothing (the graph always survives).
    """
    outputs, inputs = _tensor_list(outputs, "outputs"), _tensor_list(inputs, "inputs")
    check_bool(create_graph, "create_graph", "grad")
    if retain_graph is not None:
        check_bool(retain_graph, "retain_graph", "grad")
    allow_unused = (
        False if allow_unused is None else check_bool(allow_unused, "allow_unused", "grad")
    )
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:  # a Tensor (the gradient of the one output), or one per output
        grad_outputs = _tensor_list(grad_outputs, "grad_outputs")
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for tensor in outputs + inputs:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"grad: expected Tensors, got {type(tensor).__name__}")
    for output in outputs:
        if not output.requires_grad:
            raise RuntimeError("grad: an output does not require grad (it has no grad_fn)")
    for position, tensor in enumerate(inputs):
        if not tensor.requires_grad:  # torch's error, allow_unused or not
            raise RuntimeError(
                f"grad: input {position} (shape {tensor.shape}) does not require grad"
            )
    seeds = [
        _seed_gradient(output, seed, "grad", create_graph)
        for output, seed in zip(outputs, grad_outputs, strict=True)
    ]
    captured: dict[int, Tensor | None] = {id(tensor): None for tensor in inputs}
    _backpropagate(outputs, seeds, create_graph=create_graph, capture=captured)
    results = []
    for position, tensor in enumerate(inputs):
        value = captured[id(tensor)]
        if value is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {position} (shape {tensor.shape}) was not used to compute the "
                "outputs, or does not require grad"
            )
        results.append(value)
    return tuple(results)


# --------------------------------------------------------------------------- factories


def tensor(
    data: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """Make a Tensor from data (a copy); see :class:`Tensor`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def _factory(
    op_name: str,
    make: Callable[[Any, numpy.dtype], Any],
    dtype: Any,
    device: str | None,
    requires_grad: bool,
    fallback_dtype: numpy.dtype | None = None,
) -> Tensor:
    """Build a tensor with ``make(xp, dtype)`` on the requested device (``op_name``: the
    factory, for errors)."""
    device = normalize_device(device, op_name)
    dtype = to_dtype(dtype, op_name) if dtype is not None else (fallback_dtype or default_dtype())
    xp = array_module(device)
    try:
        if xp is numpy:
            array = make(xp, dtype)
        else:
            with xp.cuda.Device(int(device.split(":")[1])):
                array = make(xp, dtype)
    except OverflowError as error:  # a Python int out of the dtype's range
        raise ValueError(f"{op_name}: {error}; choose a wider dtype than {dtype}") from None
    result = Tensor._wrap(array)
    if requires_grad is not False:
        result._switch_requires_grad(requires_grad, f"{op_name}: requires_grad")
    return result


def zeros(
    *shape: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of zeros; shape as a tuple or separate ints."""
    shape = _shape_argument(shape, "zeros", lowest=0)
    return _factory("zeros", lambda xp, dt: xp.zeros(shape, dtype=dt), dtype, device, requires_grad)


def ones(
    *shape: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ones; shape as a tuple or separate ints."""
    shape = _shape_argument(shape, "ones", lowest=0)
    return _factory("ones", lambda xp, dt: xp.ones(shape, dtype=dt), dtype, device, requires_grad)


def full(
    shape: Any,
    fill_value: float | int | bool,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as PyTorch)."""
    shape = _shape_argument(
        shape if isinstance(shape, (tuple, list)) else (shape,), "full", lowest=0
    )
    fill_value = _number_of(fill_value)
    if not isinstance(fill_value, _SCALAR_TYPES):
        raise TypeError(f"full: fill_value must be a number or a bool, got {fill_value!r}")
    if isinstance(fill_value, (bool, numpy.bool_)):
        inferred = numpy.dtype(bool)
    elif isinstance(fill_value, (int, numpy.integer)):
        inferred = numpy.dtype("int64")
    else:
        inferred = default_dtype()
    return _factory(
        "full",
        lambda xp, dt: xp.full(shape, _fill(fill_value, dt), dtype=dt),
        dtype,
        device,
        requires_grad,
        inferred,
    )


def _number_of(value: Any) -> Any:
    """A 0-d Tensor as the Python number it holds (as torch takes one for a number)."""
    return value.item() if isinstance(value, Tensor) and value.ndim == 0 else value


def _fill(value: Any, dtype: numpy.dtype) -> Any:
    """``value`` for an array of ``dtype``; nan or inf into an int array would be garbage."""
    if dtype.kind in "biu" and isinstance(value, (float, numpy.floating)):
        if not numpy.isfinite(value):
            raise ValueError(f"full: {value} does not fit in {dtype}")
    return value


def _like(other: Any, dtype: Any, device: str | None) -> tuple[Shape, Any, str]:
    """Shape, dtype and device of ``other`` unless overridden."""
    if not (isinstance(other, (Tensor, numpy.ndarray)) or is_cuda_array(other)):
        raise TypeError(f"*_like: expected a Tensor or an array, got {type(other).__name__}")
    source = other if isinstance(other, Tensor) else Tensor._wrap(other)
    return source.shape, dtype if dtype is not None else source.dtype, device or source.device


def zeros_like(
    other: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """Zeros with the shape (and, unless given, dtype and device) of ``other``."""
    shape, dtype, device = _like(other, dtype, device)
    return zeros(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(
    other: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """Ones with the shape (and, unless given, dtype and device) of ``other``."""
    shape, dtype, device = _like(other, dtype, device)
    return ones(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for int arguments, as PyTorch."""
    start, stop, step = (_number_of(value) for value in (start, stop, step))
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if not isinstance(value, numbers.Real) and not (name == "stop" and value is None):
            raise TypeError(f"arange: {name} must be a number, got {type(value).__name__}")
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if not all(math.isfinite(value) for value in (start, stop, step)):
        raise ValueError(
            f"arange: start, stop and step must be finite, got {start}, {stop}, {step}"
        )
    all_ints = all(isinstance(v, (int, numpy.integer)) for v in (start, stop, step))
    inferred = numpy.dtype("int64") if all_ints else default_dtype()
    return _factory(
        "arange",
        lambda xp, dt: xp.arange(start, stop, step).astype(dt),
        dtype,
        device,
        requires_grad,
        inferred,
    )


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    device: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The identity matrix (n x m)."""
    n, m = _shape_argument((n, n if m is None else m), "eye", lowest=0)
    return _factory("eye", lambda xp, dt: xp.eye(n, m, dtype=dt), dtype, device, requires_grad)


_generator = numpy.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind rand and randn, nn.init, Dropout, DataLoader and the
    make_* data sets when given no seed, and every estimator with random_state=None."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r}")
    if not -(2**63) <= seed < 2**64:  # torch's range: a signed or unsigned 64-bit int
        raise ValueError(f"manual_seed: seed must fit in 64 bits, got {seed}")
    # A negative seed is taken, as torch takes it (as the same 64 bits, unsigned).
    _generator = numpy.random.default_rng(int(seed) + 2**64 if seed < 0 else int(seed))


def default_generator() -> numpy.random.Generator:
    """The NumPy generator that ``manual_seed`` seeds."""
    return _generator


def generator_for(
    seed: Any, who: str, name: str = "seed", wrong_type: type[Exception] = TypeError
) -> numpy.random.Generator:
    """The generator a seeded function or estimator draws from.

    None: the one ``manual_seed`` seeds; a Generator: that one; an int >= 0: a
    fresh generator seeded with it; a legacy ``numpy.random.RandomState`` (what
    scikit-learn code passes): a generator seeded from its next draw, so each
    call consumes from it as scikit-learn would. Anything else raises
    ``wrong_type`` (scikit-learn's estimators raise ValueError for a bad
    ``random_state``).
    """
    if seed is None:
        return _generator
    if isinstance(seed, numpy.random.Generator):
        return seed
    if isinstance(seed, numpy.random.RandomState):
        return numpy.random.default_rng(int(seed.randint(0, 2**31 - 1)))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise wrong_type(
            f"{who}: {name} must be None, an int, a numpy Generator or RandomState, got {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{who}: {name} must be non-negative, got {seed}")
    return numpy.random.default_rng(int(seed))


def _random(
    op_name: str,
    shape: Shape,
    sample: Callable,
    dtype: Any,
    device: str | None,
    requires_grad: bool,
) -> Tensor:
    # Drawn on the host so one seed gives the same numbers on every device.
    dtype = to_dtype(dtype, op_name) if dtype is not None else default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"{op_name}: random tensors must be floating, got {dtype}")
    values = sample(shape, dtype)
    result = Tensor(values, dtype=dtype, device=device)
    if requires_grad:  # at construction: no op can have used it yet
        result._switch_requires_grad(True, f"{op_name}: requires_grad")
    return result


def rand(
    *shape: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """Uniform samples in [0, 1)."""
    shape = _shape_argument(shape, "rand", lowest=0)
    return _random("rand", shape, _uniform_sample, dtype, device, requires_grad)


def _uniform_sample(shape: Shape, dtype: numpy.dtype) -> numpy.ndarray:
    """Uniform in [0, 1), exactly representable in ``dtype``."""
    if dtype in (numpy.float32, numpy.float64):
        return _generator.random(shape, dtype=dtype)
    if numpy.finfo(dtype).nmant >= 52:  # wider than float64 holds float64's draws exactly
        return _generator.random(shape)
    # float16: one of its 2^11 equally spaced values below 1; a float32 draw rounded to
    # float16 would give 1.0 about once in 4,000 samples.
    steps = 2 ** (numpy.finfo(dtype).nmant + 1)
    return _generator.integers(0, steps, size=shape) / steps


def randn(
    *shape: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples."""
    shape = _shape_argument(shape, "randn", lowest=0)
    return _random("randn", shape, _normal_sample, dtype, device, requires_grad)


def _normal_sample(shape: Shape, dtype: numpy.dtype) -> numpy.ndarray:
    """Standard normal, drawn in ``dtype`` where NumPy can (float32, float64)."""
    native = dtype if dtype in (numpy.float32, numpy.float64) else None
    return _generator.standard_normal(shape, dtype=native)


# ---------------------------------------------------------------- functions of several tensors


def _check_bitwise(tensor: Tensor, op_name: str) -> None:
    """Bitwise logic is for bool and integer tensors only (as torch)."""
    if tensor.dtype.kind not in "biu":
        raise TypeError(f"{op_name}: needs bool or integer tensors, got {tensor.dtype}")


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """An integer tensor divided (``//``, ``%``) by zero: torch raises a RuntimeError
    saying "ZeroDivisionError", Python a ZeroDivisionError; this is both, so either
    ``except`` works."""


def _check_integer_divisor(a: Tensor, b: Tensor, op_name: str) -> None:
    """Bool tensors do not divide (torch refuses; NumPy would give int8). An integer
    division by zero is an error (as torch); NumPy would give 0 with a warning.
    Floats divide by zero into inf or nan."""
    if a.dtype.kind == "b":
        raise TypeError(f"{op_name}: not defined for bool tensors")
    if a.dtype.kind in "iu" and bool((b.data == 0).any()):
        raise IntegerDivisionByZero(f"{op_name}: integer division by zero")


def _operand_tensor(value: Any, like: numpy.dtype | None, device: str | None) -> Tensor:
    """A host list/array (or CuPy array) as the other operand of a tensor of dtype ``like``.

    Floating data take the default dtype, as ``Tensor(value)`` does, but never
    fewer digits than the tensor it meets: next to a float64 tensor a float64
    array stays exact (rounding it through float32 would be silent precision
    loss). Host values join ``device``; CuPy arrays keep theirs.
    """
    device = None if is_cuda_array(value) else device
    tensor = Tensor(value, device=device)
    if (
        like is not None
        and like.kind == "f"
        and tensor.dtype.kind == "f"
        and like.itemsize > tensor.dtype.itemsize
    ):
        tensor = Tensor(value, dtype=like, device=device)
    return tensor


def _as_tensors(values: Iterable[Any], op_name: str) -> list[Tensor]:
    """Tensors of one common dtype and device from a list of tensors/arrays.

    Host values (lists, NumPy arrays) join the first Tensor's device, as the
    other operand of ``x + values`` does; CuPy arrays keep theirs.
    """
    if isinstance(values, Tensor) or not isinstance(values, Iterable):
        raise TypeError(
            f"{op_name}: expected a list or tuple of tensors, got {type(values).__name__}"
        )
    values = list(values)
    given = [value for value in values if isinstance(value, Tensor)]
    device = given[0].device if given else None
    widest = numpy.result_type(*[tensor.dtype for tensor in given]) if given else None
    tensors = [
        value if isinstance(value, Tensor) else _operand_tensor(value, widest, device)
        for value in values
    ]
    if not tensors:
        raise ValueError(f"{op_name}: expected a non-empty list of tensors")
    check_same_device(op_name, *[t.data for t in tensors])
    common = numpy.result_type(*[t.dtype for t in tensors])
    return [t.astype(common) for t in tensors]


def cat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = _as_tensors(tensors, "cat")
    ndim = tensors[0].ndim
    if any(t.ndim != ndim for t in tensors) or ndim == 0:
        shapes = [t.shape for t in tensors]
        raise ValueError(f"cat: tensors need the same number (>= 1) of dimensions, got {shapes}")
    axis = _normalize_axis(axis, ndim, "cat")
    return Tensor._apply(ops.Cat, *tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = _as_tensors(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: tensors need the same shape, got {sorted(shapes)}")
    axis = _normalize_axis(axis, tensors[0].ndim + 1, "stack")
    return Tensor._apply(ops.Stack, *tensors, axis=axis)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a if condition else b`` (gradients flow to the chosen side)."""
    if isinstance(a, Tensor):
        pair = a._operands(b, "where")
    elif isinstance(b, Tensor):
        swapped = b._operands(a, "where")
        pair = None if swapped is None else (swapped[1], swapped[0])
    else:  # two numbers or lists: on the condition's device, as torch
        device = condition.device if isinstance(condition, Tensor) else None
        pair = Tensor(a, device=device)._operands(b, "where")
    if pair is None:
        raise TypeError(f"where: unsupported operands {type(a).__name__}, {type(b).__name__}")
    a, b = pair
    if isinstance(condition, Tensor):
        check_same_device("where", condition.data, a.data)
        mask = condition.data
    else:
        mask = array_module_of(a.data).asarray(condition)
    if mask.dtype.kind not in "biu":  # NumPy's truth of numbers; a float or text mask is a slip
        raise TypeError(f"where: the condition must be bool (or int), got dtype {mask.dtype}")
    if mask.dtype != numpy.bool_:
        mask = mask.astype(bool)
    return ops.keep_constants(Tensor._apply(ops.Where, a, b, condition=mask), (condition,))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of two tensors (or a tensor and a scalar, either side)."""
    if not isinstance(a, Tensor) and isinstance(b, Tensor):  # symmetric: the scalar rules apply
        return b.maximum(a)
    return a.maximum(b) if isinstance(a, Tensor) else Tensor(a).maximum(b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of two tensors (or a tensor and a scalar, either side)."""
    if not isinstance(a, Tensor) and isinstance(b, Tensor):  # symmetric: the scalar rules apply
        return b.minimum(a)
    return a.minimum(b) if isinstance(a, Tensor) else Tensor(a).minimum(b)


def from_dlpack(source: Any, *, device: str | None = None, copy: bool | None = None) -> Tensor:
    """Wrap another library's array (PyTorch, CuPy, NumPy, JAX) without copying.

    As the array API's ``from_dlpack``: ``copy=True`` copies the values (False or
    None shares them); ``device``, when given and not the source's, moves a copy there.
    """
    if not hasattr(source, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: {type(source).__name__} does not support DLPack")
    if copy is not None:
        check_bool(copy, "copy", "from_dlpack")
    source = values_of(source)  # a torch tensor that requires grad exports only detached
    device_type, _ = source.__dlpack_device__()
    try:
        if device_type == 1:  # kDLCPU
            array = numpy.from_dlpack(source)
        elif device_type in (2, 13):  # kDLCUDA, kDLCUDAManaged (CuPy takes both)
            array = array_module("cuda:0").from_dlpack(source)
        else:
            raise RuntimeError(f"from_dlpack: unsupported DLPack device type {device_type}")
    except (BufferError, RuntimeError, TypeError) as error:
        if "dtype" not in str(error).lower():
            raise
        # bfloat16, float8, ...: no NumPy dtype (a dtype kind this engine cannot hold)
        raise TypeError(f"from_dlpack: the source's dtype is not supported ({error})") from None
    if not holds_real_numbers(array.dtype):  # as Tensor(): ops would drop imaginary parts
        raise TypeError(f"from_dlpack: expected numbers or booleans, got dtype {array.dtype}")
    tensor = Tensor._wrap(array)
    if device is not None and normalize_device(device, "from_dlpack") != tensor.device:
        if copy is False:  # the array API's rule: refuse rather than copy
            raise ValueError(
                f"from_dlpack: copy=False, but the source is on {tensor.device}, not {device}"
            )
        return tensor.to(device).detach()
    return Tensor._wrap(array.copy()) if copy else tensor
