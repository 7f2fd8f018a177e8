"""A fake ``cupy`` (and the bits of ``cupyx`` the library uses) over NumPy.

It lets the cuda-parametrised tests run on a machine without a GPU, to catch the
bugs real CuPy would show: opt in with ``TINYGRAD_DLCV_FAKE_CUPY=1`` or
``pytest --fake-cupy`` (see conftest.py, which calls :func:`install`).

It is faithful where library bugs hide, following CuPy's own source
(``cupy/_core/core.pyx``, ``_kernel.pyx``, ``_routines_indexing.pyx``):

* ``cupy.ndarray`` wraps a NumPy array but is not one. ``numpy.asarray`` of it
  raises TypeError, as CuPy's ``__array__`` does; NumPy ufuncs and functions on
  it dispatch here (``__array_ufunc__``/``__array_function__``), and a NumPy
  function CuPy lacks is a TypeError.
* CuPy functions and operators refuse NumPy arrays (host data must move with
  ``cupy.asarray``); only creation functions and indexing accept them.
* Results are device arrays: a reduction or ``x[0]`` is a 0-d array, never a
  NumPy scalar. ``.flags`` has no ``writeable``. The array is unhashable.
* ``cupyx.allow_synchronize(False)`` makes every device-to-host copy raise
  ``cupyx.DeviceSynchronized`` (``get``, ``item``, ``bool``, ``repr``,
  ``nonzero``, boolean masks, ``bincount``, ...).
* Inside a ``cupy.fuse`` kernel only elementwise functions work, and the
  arguments must be device arrays or scalars.
* A module attribute that is not implemented here raises AttributeError, so a
  missing (or non-existent) CuPy function shows up as a test failure. The API
  is CuPy 13's (the oldest the ``cupy-cuda12x`` extra may install): no
  ``put_along_axis``, which came in CuPy 14.
* CuPy's own restrictions are copied where the library might meet them:
  ``cupy.fuse`` needs a ``__name__`` or ``kernel_name``; sorts take only
  ``kind="stable"``; scatter-add takes int32/uint32/uint64/float16/32/64 only;
  ufuncs take ``out``, ``dtype`` and ``casting`` but no ``where``.

It cannot tell: speed, real kernels and their rounding, streams, several GPUs,
DLPack with a real CUDA consumer, writes through broadcast views (NumPy marks
them read-only, CuPy does not), and any CuPy function whose behaviour differs
from NumPy's in ways not copied here.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import sys
import types
from typing import Any

import numpy

# --------------------------------------------------------------------------- state


class DeviceSynchronized(RuntimeError):
    """Raised by a device-to-host synchronisation under ``allow_synchronize(False)``."""


class _State:
    sync_allowed = True
    fusing = False


def _synchronize(what: str) -> None:
    """Mark a device-to-host synchronisation (a copy, or a size only the data knows)."""
    if _State.fusing:
        raise TypeError(f"fake cupy: {what} cannot run inside a cupy.fuse kernel")
    if not _State.sync_allowed:
        raise DeviceSynchronized(f"fake cupy: {what} synchronizes the device")


@contextlib.contextmanager
def allow_synchronize(allow: bool):
    """``cupyx.allow_synchronize``: with False, a device synchronisation raises."""
    previous = _State.sync_allowed
    _State.sync_allowed = bool(allow)
    try:
        yield
    finally:
        _State.sync_allowed = previous


def _quiet() -> numpy.errstate:
    """GPU kernels never report overflow or division by zero: NumPy must not either,
    whatever ``numpy.errstate`` a test has set."""
    return numpy.errstate(all="ignore")


def _no_fusion(name: str) -> None:
    if _State.fusing:
        raise TypeError(f"fake cupy: cupy.{name} is not supported inside a cupy.fuse kernel")


# --------------------------------------------------------------------------- wrapping


_SCALARS = (bool, int, float, complex, numpy.generic)


def _root(array: numpy.ndarray) -> Any:
    """The object that owns the memory of a NumPy array."""
    while isinstance(array, numpy.ndarray) and array.base is not None:
        array = array.base
    return array


def _wrap(result: Any, sources: tuple = ()) -> Any:
    """NumPy results as device arrays (0-d for NumPy scalars); ``sources`` give ``.base``."""
    if isinstance(result, numpy.ndarray):
        base = None
        if result.base is not None:
            root = _root(result)
            for source in sources:
                if isinstance(source, ndarray) and _root(source._a) is root:
                    base = source if source._base is None else source._base
                    break
        return ndarray._from(result, base)
    if isinstance(result, numpy.generic):
        return ndarray._from(numpy.asarray(result))
    if isinstance(result, tuple):
        return tuple(_wrap(each, sources) for each in result)
    if isinstance(result, list):
        return [_wrap(each, sources) for each in result]
    return result


def _refuse_host(value: Any) -> None:
    raise TypeError(
        f"Unsupported type {type(value)} (fake cupy: a host array must be moved "
        "with cupy.asarray first)"
    )


def _unwrap(value: Any, host_ok: bool = False) -> Any:
    """Device arrays as their NumPy arrays; host arrays refused unless ``host_ok``."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, numpy.ndarray):
        if not host_ok:
            _refuse_host(value)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(each, host_ok) for each in value)
    return value


def _operand(value: Any) -> Any:
    """An argument of an elementwise kernel: a device array or a scalar, nothing else."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, _SCALARS):
        return value
    _refuse_host(value)


def _out(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, ndarray):
        raise TypeError(f"fake cupy: out must be a cupy.ndarray, got {type(value)}")
    return value._a


def _sources(args: tuple, kwargs: dict) -> tuple:
    found = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, ndarray):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(each for each in value if isinstance(each, ndarray))
    return tuple(found)


# --------------------------------------------------------------------------- devices


class Device:
    """``cupy.cuda.Device``: one fake GPU, number 0."""

    def __init__(self, device: Any = None) -> None:
        number = 0 if device is None else int(device)
        if not 0 <= number < _DEVICE_COUNT:
            raise CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal ({number})")
        self.id = number

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def use(self) -> None:
        return None

    def synchronize(self) -> None:
        _synchronize("Device.synchronize()")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("fake-cuda-device", self.id))

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


class Stream:
    """``cupy.cuda.Stream``: the fake GPU runs everything at once, so only ``synchronize``."""

    def synchronize(self) -> None:
        _synchronize("Stream.synchronize()")


_NULL_STREAM = Stream()


class CUDARuntimeError(RuntimeError):
    """``cupy.cuda.runtime.CUDARuntimeError``."""


_DEVICE_COUNT = 1


class _MemoryPointer:
    """``ndarray.data``: only ``ptr`` (the address of the first element)."""

    __slots__ = ("ptr", "device_id")

    def __init__(self, array: numpy.ndarray) -> None:
        self.ptr = array.__array_interface__["data"][0]
        self.device_id = 0

    def __int__(self) -> int:
        return self.ptr


class _Flags:
    """``ndarray.flags``: CuPy's three flags, and no ``writeable``."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, c_contiguous: bool, f_contiguous: bool, owndata: bool) -> None:
        self.c_contiguous = c_contiguous
        self.f_contiguous = f_contiguous
        self.owndata = owndata

    def __getitem__(self, name: str) -> bool:
        keys = {
            "C_CONTIGUOUS": "c_contiguous",
            "F_CONTIGUOUS": "f_contiguous",
            "OWNDATA": "owndata",
        }
        if name not in keys:
            raise KeyError(f"{name} is not defined for cupy.ndarray.flags")
        return getattr(self, keys[name])

    def __repr__(self) -> str:
        return "\n".join(f"  {key.upper()} : {getattr(self, key)}" for key in self.__slots__)


# --------------------------------------------------------------------------- indexing


def _index(key: Any, shape: tuple | None = None) -> tuple[Any, bool]:
    """An index for the wrapped NumPy array, and whether it holds a boolean mask.

    CuPy accepts device arrays, host arrays and lists as index arrays (it moves
    them to the device); a boolean mask costs a synchronisation (its count).
    With the indexed array's ``shape``, integer-array indices out of range wrap
    around, as CuPy's take and scatter kernels do (``indices % size``, no
    IndexError; docs.cupy.dev, "Differences between CuPy and NumPy").
    """
    parts = key if isinstance(key, tuple) else (key,)
    converted, mask = [], False
    for part in parts:
        if isinstance(part, ndarray):
            part = part._a
        elif isinstance(part, list):
            part = numpy.asarray(_unwrap(part, host_ok=True))
            if part.size == 0:
                part = part.astype(numpy.int32)  # an empty list means no indices
        if isinstance(part, numpy.ndarray):
            if part.dtype.kind == "b":
                mask = True
            elif part.dtype.kind not in "iu":
                raise IndexError(
                    "arrays used as indices must be of integer or boolean type "
                    f"(actual: {part.dtype.type})"
                )
        elif isinstance(part, (bool, numpy.bool_)):
            mask = True
        converted.append(part)
    if shape is not None:
        converted = _wrap_around(converted, shape)
    return (tuple(converted) if isinstance(key, tuple) else converted[0]), mask


def _wrap_around(parts: list, shape: tuple) -> list:
    """Integer-array index parts taken modulo the size of the axis each indexes."""

    def axes_taken(part: Any) -> int:
        if part is None or part is Ellipsis or isinstance(part, (bool, numpy.bool_)):
            return 0
        if isinstance(part, numpy.ndarray) and part.dtype.kind == "b":
            return part.ndim
        return 1

    consumed = sum(axes_taken(part) for part in parts)
    axis, wrapped = 0, []
    for part in parts:
        if part is Ellipsis:
            axis += len(shape) - consumed
        elif (
            isinstance(part, numpy.ndarray)
            and part.dtype.kind in "iu"
            and axis < len(shape)
            and shape[axis]
        ):
            part = part % shape[axis]
        axis += axes_taken(part)
        wrapped.append(part)
    return wrapped


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(part, numpy.ndarray) for part in parts)


# --------------------------------------------------------------------------- ndarray


def _binary(ufunc_name: str, reflected: bool = False):
    def method(self, other):
        if not isinstance(other, (ndarray, *_SCALARS)) and _should_use_rop(self, other):
            return NotImplemented  # e.g. a Tensor: its reflected operator runs
        fn = _UFUNCS[ufunc_name]
        return fn(other, self) if reflected else fn(self, other)

    method.__name__ = f"__{'r' if reflected else ''}{ufunc_name}__"
    return method


def _inplace(ufunc_name: str):
    def method(self, other):
        _UFUNCS[ufunc_name](self, other, out=self)
        return self

    return method


_EQUAL, _NOT_EQUAL = _binary("equal"), _binary("not_equal")


def _should_use_rop(x: Any, y: Any) -> bool:
    """CuPy's rule: defer to ``y`` when it opts out of ufuncs or has a higher priority."""
    marker = object()
    y_ufunc = getattr(y, "__array_ufunc__", marker)
    if y_ufunc is not marker:
        return y_ufunc is None
    return getattr(x, "__array_priority__", 0) < getattr(y, "__array_priority__", 0)


class ndarray:  # noqa: N801  (CuPy's name)
    """A device array: a NumPy array that NumPy will not convert implicitly."""

    __slots__ = ("_a", "_base", "__weakref__")
    __array_priority__ = 100
    __hash__ = None  # type: ignore[assignment]  (CuPy arrays are unhashable)

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("fake cupy: ndarray(memptr=..., strides=...)")
        self._a = numpy.empty(shape, dtype=dtype, order=order)
        self._base = None

    @classmethod
    def _from(cls, array: numpy.ndarray, base: ndarray | None = None) -> ndarray:
        obj = object.__new__(cls)
        obj._a = array
        obj._base = base
        return obj

    def _view(self, result: Any) -> Any:
        return _wrap(result, (self,))

    # ----------------------------------------------------------- attributes

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    base = property(lambda self: self._base)
    data = property(lambda self: _MemoryPointer(self._a))
    device = property(lambda self: Device(0))
    T = property(lambda self: self._view(self._a.T))
    mT = property(lambda self: self._view(self._a.mT))
    real = property(lambda self: self._view(self._a.real))
    imag = property(lambda self: self._view(self._a.imag))

    @property
    def flags(self) -> _Flags:
        return _Flags(self._a.flags.c_contiguous, self._a.flags.f_contiguous, self._base is None)

    @property
    def __cuda_array_interface__(self) -> dict:
        interface = dict(self._a.__array_interface__)
        interface["version"] = 3
        return interface

    # ----------------------------------------------------------- to the host

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly."
        )

    def get(self, stream=None, order="C", out=None, blocking=True):
        _synchronize("ndarray.get()")
        if out is not None:
            if not isinstance(out, numpy.ndarray):
                raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
            numpy.copyto(out, self._a)
            return out
        return numpy.array(self._a, order=order, copy=True)

    def item(self):
        _synchronize("ndarray.item()")
        return self._a.item()

    def tolist(self):
        _synchronize("ndarray.tolist()")
        return self._a.tolist()

    def tobytes(self, order="C"):
        _synchronize("ndarray.tobytes()")
        return self._a.tobytes(order)

    def __bool__(self):
        _synchronize("bool(ndarray)")
        return bool(self._a)

    def __int__(self):
        _synchronize("int(ndarray)")
        return int(self._a)

    def __float__(self):
        _synchronize("float(ndarray)")
        return float(self._a)

    def __complex__(self):
        _synchronize("complex(ndarray)")
        return complex(self._a)

    def __repr__(self):
        _synchronize("repr(ndarray)")
        return repr(self._a)

    def __str__(self):
        _synchronize("str(ndarray)")
        return str(self._a)

    def __format__(self, spec):
        _synchronize("format(ndarray)")
        return format(self._a, spec)

    def __reduce__(self):
        _synchronize("pickling an ndarray")
        return (_from_host, (numpy.array(self._a),))

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return self._a.__dlpack__()

    def __dlpack_device__(self):
        return (2, 0)  # kDLCUDA, device 0

    # ----------------------------------------------------------- protocols

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key):
        _no_fusion("ndarray.__getitem__")
        index, mask = _index(key, self.shape)
        if mask:
            _synchronize("indexing with a boolean mask")
        return self._view(self._a[index])

    def __setitem__(self, key, value):
        _no_fusion("ndarray.__setitem__")
        index, _ = _index(key, self.shape)
        if isinstance(value, ndarray):
            value = value._a
        elif isinstance(value, numpy.ndarray) and value.ndim and _is_basic(index):
            # CuPy fills from a host value, which must be a scalar (gh-2079)
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        elif not isinstance(value, (*_SCALARS, numpy.ndarray)):
            if _is_basic(index):
                value = numpy.asarray(value, dtype=self.dtype)
                if value.ndim:
                    raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._a[index] = value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on device arrays run the fake CuPy ufunc of the same name."""
        fn = _UFUNCS.get(ufunc.__name__)
        if fn is None:
            return NotImplemented
        if "out" in kwargs:
            out = kwargs["out"]
            if len(out) != 1:
                raise ValueError("The 'out' parameter must have exactly one array value")
            kwargs["out"] = out[0]
        for value in inputs:
            if not isinstance(value, (ndarray, numpy.ndarray, *_SCALARS)):
                return NotImplemented
        if method == "__call__":
            return fn(*inputs, **kwargs)
        if method in ("outer", "at", "reduce", "accumulate", "reduceat"):
            return getattr(fn, method)(*inputs, **kwargs)
        return NotImplemented

    def __array_function__(self, func, types_, args, kwargs):
        """A NumPy function on device arrays runs the fake CuPy function of that name."""
        module = _MODULES["cupy"]
        for part in func.__module__.split(".")[1:]:
            module = getattr(module, part, None)
            if module is None:
                return NotImplemented
        fn = getattr(module, func.__name__, None)
        if fn is None:
            return NotImplemented
        for t in types_:
            if not issubclass(t, (ndarray, numpy.ndarray)):
                return NotImplemented
        return fn(*args, **kwargs)

    # ----------------------------------------------------------- arithmetic

    def __neg__(self):
        return _UFUNCS["negative"](self)

    def __pos__(self):
        return _UFUNCS["positive"](self)

    def __abs__(self):
        return _UFUNCS["absolute"](self)

    def __invert__(self):
        return _UFUNCS["invert"](self)

    __add__, __radd__ = _binary("add"), _binary("add", True)
    __sub__, __rsub__ = _binary("subtract"), _binary("subtract", True)
    __mul__, __rmul__ = _binary("multiply"), _binary("multiply", True)
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)
    __truediv__, __rtruediv__ = _binary("true_divide"), _binary("true_divide", True)
    __floordiv__, __rfloordiv__ = _binary("floor_divide"), _binary("floor_divide", True)
    __mod__, __rmod__ = _binary("remainder"), _binary("remainder", True)
    __pow__, __rpow__ = _binary("power"), _binary("power", True)
    __lshift__, __rlshift__ = _binary("left_shift"), _binary("left_shift", True)
    __rshift__, __rrshift__ = _binary("right_shift"), _binary("right_shift", True)
    __and__, __rand__ = _binary("bitwise_and"), _binary("bitwise_and", True)
    __or__, __ror__ = _binary("bitwise_or"), _binary("bitwise_or", True)
    __xor__, __rxor__ = _binary("bitwise_xor"), _binary("bitwise_xor", True)
    __lt__, __le__ = _binary("less"), _binary("less_equal")
    __gt__, __ge__ = _binary("greater"), _binary("greater_equal")

    def __eq__(self, other):  # type: ignore[override]
        if other is None or type(other).__eq__ is object.__eq__:
            return ndarray._from(numpy.zeros(self.shape, bool))  # CuPy's answer for None etc.
        return _EQUAL(self, other)

    def __ne__(self, other):  # type: ignore[override]
        if other is None or type(other).__eq__ is object.__eq__:
            return ndarray._from(numpy.ones(self.shape, bool))
        return _NOT_EQUAL(self, other)

    def __divmod__(self, other):
        return _UFUNCS["divmod"](self, other)

    __iadd__, __isub__ = _inplace("add"), _inplace("subtract")
    __imul__, __itruediv__ = _inplace("multiply"), _inplace("true_divide")
    __ifloordiv__, __imod__ = _inplace("floor_divide"), _inplace("remainder")
    __ipow__, __iand__ = _inplace("power"), _inplace("bitwise_and")
    __ior__, __ixor__ = _inplace("bitwise_or"), _inplace("bitwise_xor")
    __ilshift__, __irshift__ = _inplace("left_shift"), _inplace("right_shift")

    def __imatmul__(self, other):
        # CuPy has no in-place matmul (neither has NumPy for most shapes)
        return NotImplemented

    # ----------------------------------------------------------- methods (CuPy's signatures)

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        kwargs = {} if casting is None else {"casting": casting}
        result = self._a.astype(dtype, order=order, copy=copy, **kwargs)
        return self if result is self._a else ndarray._from(result)

    def copy(self, order="C"):
        return ndarray._from(self._a.copy(order=order))

    def view(self, dtype=None, array_class=None):
        if array_class is not None:
            raise NotImplementedError("fake cupy: view(array_class=...)")
        return self._view(self._a.view() if dtype is None else self._a.view(dtype))

    def fill(self, value):
        if isinstance(value, ndarray):
            if value.shape != ():
                raise ValueError("non-scalar cupy.ndarray cannot be used for fill")
            value = value._a[()]
        elif numpy.ndim(value):
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._a.fill(value)

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return self._view(self._a.reshape(shape, order=order, copy=copy))

    def transpose(self, *axes):
        return self._view(self._a.transpose(*axes))

    def swapaxes(self, axis1, axis2):
        return self._view(self._a.swapaxes(axis1, axis2))

    def flatten(self, order="C"):
        return ndarray._from(self._a.flatten(order))

    def ravel(self, order="C"):
        return self._view(self._a.ravel(order))

    def squeeze(self, axis=None):
        return self._view(self._a.squeeze(axis))

    def take(self, indices, axis=None, out=None):
        size = self.size if axis is None else self.shape[axis]
        indices, _ = _index(indices, (size,))
        return _call_out(self._a.take, out, (indices,), {"axis": axis}, self)

    def put(self, indices, values, mode="wrap"):
        indices, _ = _index(indices)
        self._a.put(indices, _unwrap(values), mode=mode)

    def repeat(self, repeats, axis=None):
        if not isinstance(repeats, int):
            _synchronize("repeat with array repeats")
        return ndarray._from(self._a.repeat(_unwrap(repeats, True), axis))

    def sort(self, axis=-1, kind=None):
        _check_kind(kind)
        self._a.sort(axis=axis, kind=kind)

    def argsort(self, axis=-1, kind=None):
        _check_kind(kind)
        return ndarray._from(self._a.argsort(axis=axis, kind=kind))

    def partition(self, kth, axis=-1):
        self._a.partition(kth, axis=axis)

    def argpartition(self, kth, axis=-1):
        return ndarray._from(self._a.argpartition(kth, axis=axis))

    def searchsorted(self, v, side="left", sorter=None):
        return searchsorted(self, v, side, sorter)

    def nonzero(self):
        _synchronize("ndarray.nonzero()")
        return _wrap(self._a.nonzero())

    def compress(self, condition, axis=None, out=None):
        _synchronize("ndarray.compress()")
        return _call_out(self._a.compress, out, (_unwrap(condition),), {"axis": axis}, self)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return self._view(self._a.diagonal(offset, axis1, axis2))

    def max(self, axis=None, out=None, keepdims=False):
        return _call_out(self._a.max, out, (), {"axis": axis, "keepdims": keepdims}, self)

    def min(self, axis=None, out=None, keepdims=False):
        return _call_out(self._a.min, out, (), {"axis": axis, "keepdims": keepdims}, self)

    def ptp(self, axis=None, out=None, keepdims=False):
        return _call_out(numpy.ptp, out, (self._a,), {"axis": axis, "keepdims": keepdims}, self)

    def argmax(self, axis=None, out=None, dtype=None, keepdims=False):
        result = self._a.argmax(axis=axis, keepdims=keepdims)
        return _into(out, result if dtype is None else result.astype(dtype))

    def argmin(self, axis=None, out=None, dtype=None, keepdims=False):
        result = self._a.argmin(axis=axis, keepdims=keepdims)
        return _into(out, result if dtype is None else result.astype(dtype))

    def clip(self, min=None, max=None, out=None):  # noqa: A002  (CuPy's names)
        return _call_out(self._a.clip, out, (_operand(min), _operand(max)), {}, self)

    def round(self, decimals=0, out=None):
        return _call_out(self._a.round, out, (decimals,), {}, self)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return _call_out(self._a.trace, out, (offset, axis1, axis2, dtype), {}, self)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return _call_out(self._a.sum, out, (axis, dtype), {"keepdims": keepdims}, self)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return _call_out(self._a.prod, out, (axis, dtype), {"keepdims": keepdims}, self)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return _call_out(self._a.mean, out, (axis, dtype), {"keepdims": keepdims}, self)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        kwargs = {"ddof": ddof, "keepdims": keepdims}
        return _call_out(self._a.var, out, (axis, dtype), kwargs, self)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        kwargs = {"ddof": ddof, "keepdims": keepdims}
        return _call_out(self._a.std, out, (axis, dtype), kwargs, self)

    def cumsum(self, axis=None, dtype=None, out=None):
        return _call_out(self._a.cumsum, out, (axis, dtype), {}, self)

    def cumprod(self, axis=None, dtype=None, out=None):
        return _call_out(self._a.cumprod, out, (axis, dtype), {}, self)

    def all(self, axis=None, out=None, keepdims=False):
        return _call_out(self._a.all, out, (axis,), {"keepdims": keepdims}, self)

    def any(self, axis=None, out=None, keepdims=False):
        return _call_out(self._a.any, out, (axis,), {"keepdims": keepdims}, self)

    def dot(self, b, out=None):
        if not isinstance(b, ndarray):
            _refuse_host(b)
        return _call_out(self._a.dot, out, (b._a,), {}, self)

    def conj(self):
        return self._view(self._a.conj())

    conjugate = conj

    def scatter_add(self, slices, value):
        scatter_add(self, slices, value)

    def scatter_max(self, slices, value):
        _scatter(numpy.maximum, self, slices, value)

    def scatter_min(self, slices, value):
        _scatter(numpy.minimum, self, slices, value)


ndarray.__module__ = "cupy"  # what backend.is_cuda_array looks at
ndarray.__qualname__ = "ndarray"


def _check_kind(kind: Any) -> None:
    """CuPy sorts are stable and take no other ``kind`` (``cupy/_sorting/sort.py``)."""
    if kind is not None and kind != "stable":
        raise ValueError("kind can only be None or 'stable'")


def _from_host(array: numpy.ndarray) -> ndarray:
    return ndarray._from(array)


def _into(out: ndarray | None, result: Any) -> Any:
    if out is None:
        return _wrap(result)
    out._a[...] = result
    return out


def _call_out(fn, out, args, kwargs, source):
    """Call a NumPy method writing into ``out`` (a device array) when given."""
    _no_fusion(getattr(fn, "__name__", "this method"))
    with _quiet():
        if out is not None:
            fn(*args, **kwargs, out=_out(out))
            return out
        return _wrap(fn(*args, **kwargs), (source,))


# --------------------------------------------------------------------------- ufuncs


class ufunc:  # noqa: N801  (CuPy's name)
    """An elementwise kernel: device arrays and scalars in; ``out``, ``dtype``, ``casting``."""

    def __init__(self, np_ufunc: numpy.ufunc, name: str | None = None) -> None:
        self._np = np_ufunc
        self.__name__ = name or np_ufunc.__name__
        self.name = "cupy_" + self.__name__
        self.nin, self.nout, self.nargs = np_ufunc.nin, np_ufunc.nout, np_ufunc.nargs

    def __repr__(self) -> str:
        return f"<ufunc '{self.name}'>"

    @property
    def types(self) -> list[str]:
        return self._np.types

    def __call__(self, *args, out=None, dtype=None, casting="same_kind", **kwargs):
        if kwargs:
            raise TypeError(f"Wrong arguments {kwargs}")
        if not self.nin <= len(args) <= self.nargs:
            raise TypeError(
                f"Wrong number of arguments for {self.name!r}. It must be either "
                f"{self.nin} or {self.nargs} (with outputs), but given {len(args)}."
            )
        inputs = [_operand(value) for value in args[: self.nin]]
        inputs = _host_converted_scalars(inputs)
        outs = args[self.nin :]
        if out is not None:
            if outs:
                raise ValueError("Cannot specify 'out' as both a positional and keyword argument")
            outs = out if isinstance(out, tuple) else (out,)
        if _State.fusing and outs:
            raise TypeError("fake cupy: out= is not supported inside a cupy.fuse kernel")
        with _quiet():
            if self.__name__ == "power":
                inputs = _integral_power_inputs(inputs)
            if outs:
                np_outs = tuple(_out(value) for value in outs)
                self._np(*inputs, out=np_outs, dtype=dtype, casting=casting)
                return outs[0] if len(outs) == 1 else tuple(outs)
            return _wrap(self._np(*inputs, dtype=dtype, casting=casting))

    def outer(self, a, b, **kwargs):
        _no_fusion(self.name + ".outer")
        a, b = _as_device(a), _as_device(b)
        return self(
            a.reshape(a.shape + (1,) * b.ndim), b.reshape((1,) * a.ndim + b.shape), **kwargs
        )

    def at(self, a, indices, b=None):
        scatter = {"add": numpy.add, "subtract": numpy.subtract}
        scatter.update(maximum=numpy.maximum, minimum=numpy.minimum)
        if self.__name__ not in scatter:
            raise NotImplementedError(f"`{self.name}.at` is not supported yet")
        _scatter(scatter[self.__name__], a, indices, b)

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        if self.__name__ == "add":
            return array.sum(axis, dtype, out, keepdims)
        if self.__name__ == "multiply":
            return array.prod(axis, dtype, out, keepdims)
        raise NotImplementedError(f"`{self.name}.reduce` is not supported yet")

    def accumulate(self, array, axis=0, dtype=None, out=None):
        if self.__name__ == "add":
            return array.cumsum(axis, dtype, out)
        if self.__name__ == "multiply":
            return array.cumprod(axis, dtype, out)
        raise NotImplementedError(f"`{self.name}.accumulate` is not supported yet")


def _host_converted_scalars(inputs: list) -> list:
    """A Python float next to a float array, cast to its dtype on the host with NumPy
    (CuPy 14's weak scalars, cupy/_core/_scalar.pyx): an overflow there warns, or
    raises under ``numpy.errstate``, though the kernel itself never reports one."""
    floats = [value.dtype for value in inputs if isinstance(value, numpy.ndarray)]
    if not floats or floats[0].kind != "f":
        return inputs
    return [
        numpy.asarray(value, dtype=floats[0]) if type(value) is float else value for value in inputs
    ]


def _integral_power_inputs(inputs: list) -> list:
    """CuPy's integer power takes a negative exponent without an error (NumPy raises):
    1 ** -n = 1, (-1) ** -n = +-1, anything else 0 (cupy/_core/_routines_math.pyx)."""
    base, exponent = (numpy.asarray(value) for value in inputs)
    if numpy.result_type(*inputs).kind not in "iu" or not (exponent < 0).any():
        return inputs
    negative = exponent < 0
    result = numpy.where(base == 1, 1, numpy.where(base == -1, 1 - 2 * (exponent % 2), 0))
    # base ** |e| where e >= 0 and the CuPy answer where e < 0, as one power of the same dtype.
    base = numpy.where(negative, result, base).astype(numpy.result_type(*inputs))
    return [base, numpy.where(negative, 1, exponent).astype(exponent.dtype)]


def _as_device(value: Any) -> ndarray:
    if isinstance(value, ndarray):
        return value
    return ndarray._from(numpy.asarray(_operand(value)))


_UFUNC_NAMES = (
    "add subtract multiply divide true_divide floor_divide remainder mod fmod power "
    "float_power negative positive absolute fabs sign reciprocal square sqrt cbrt exp exp2 "
    "expm1 log log2 log10 log1p logaddexp logaddexp2 sin cos tan arcsin arccos arctan "
    "arctan2 hypot sinh cosh tanh arcsinh arccosh arctanh degrees radians deg2rad rad2deg "
    "floor ceil trunc rint maximum minimum fmax fmin isfinite isinf isnan signbit "
    "copysign nextafter ldexp frexp modf divmod heaviside greater greater_equal less "
    "less_equal equal not_equal logical_and logical_or logical_xor logical_not bitwise_and "
    "bitwise_or bitwise_xor invert left_shift right_shift matmul conj conjugate gcd lcm"
).split()
_UFUNCS: dict[str, ufunc] = {name: ufunc(getattr(numpy, name), name) for name in _UFUNC_NAMES}
_UFUNCS["abs"] = _UFUNCS["absolute"]
_UFUNCS["bitwise_not"] = _UFUNCS["invert"]


# The dtypes CuPy's atomic scatter kernels take (cupy/_core/_routines_indexing.pyx);
# a boolean mask takes any.
_SCATTER_DTYPES = {
    "add": "int32 float16 float32 float64 uint32 uint64",
    "subtract": "int32 uint32",
    "maximum": "int32 float32 float64 uint32 uint64",
    "minimum": "int32 float32 float64 uint32 uint64",
}


def _scatter(np_ufunc, target, slices, value) -> None:
    """``target[slices] op= value`` where repeated indices all count (``ufunc.at``)."""
    _no_fusion("scatter")
    if not isinstance(target, ndarray):
        _refuse_host(target)
    index, mask = _index(slices, target.shape)
    if mask:
        _synchronize("scatter with a boolean mask")
    elif not _is_basic(index) and target.dtype.name not in _SCATTER_DTYPES[np_ufunc.__name__]:
        raise TypeError(
            f"cupy.{np_ufunc.__name__}.at only supports {_SCATTER_DTYPES[np_ufunc.__name__]} "
            f"as data type, got {target.dtype}"
        )
    if isinstance(value, numpy.ndarray):
        _refuse_host(value)
    np_ufunc.at(target._a, index, _unwrap(value))


def scatter_add(a, slices, value) -> None:
    """``cupyx.scatter_add``: unbuffered ``a[slices] += value``."""
    _scatter(numpy.add, a, slices, value)


def scatter_max(a, slices, value) -> None:
    _scatter(numpy.maximum, a, slices, value)


def scatter_min(a, slices, value) -> None:
    _scatter(numpy.minimum, a, slices, value)


# --------------------------------------------------------------------------- functions


def _function(np_func, name: str, params: str | None = None, host_ok=False, sync=False):
    """A CuPy function computed by ``np_func``.

    ``params`` lists the keyword arguments CuPy's version takes (others are a
    TypeError, as in CuPy); ``host_ok`` lets it take NumPy arrays (creation
    functions); ``sync`` marks a function whose output size needs the data.
    """
    allowed = None if params is None else set(params.split())

    def call(*args, **kwargs):
        _no_fusion(name)
        if allowed is not None:
            unknown = set(kwargs) - allowed
            if unknown:
                raise TypeError(f"fake cupy: cupy.{name}() got unexpected keyword(s) {unknown}")
        if sync:
            _synchronize(f"cupy.{name}()")
        out = kwargs.get("out")
        np_args = _unwrap(args, host_ok)
        np_kwargs = {key: _unwrap(value, host_ok) for key, value in kwargs.items()}
        with _quiet():
            result = np_func(*np_args, **np_kwargs)
        if isinstance(out, ndarray):
            return out
        return _wrap(result, _sources(args, kwargs))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Fake cupy.{name} (computed by NumPy)."
    return call


def asarray(a, dtype=None, order=None, *, blocking=False):
    _no_fusion("asarray")
    if isinstance(a, ndarray):
        if dtype is None or numpy.dtype(dtype) == a.dtype:
            if order is None or order in "KA" or a._a.flags[f"{order}_CONTIGUOUS"]:
                return a
        return ndarray._from(numpy.asarray(a._a, dtype=dtype, order=order).copy())
    return array(a, dtype=dtype, copy=True, order=order or "K")


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    _no_fusion("array")
    if isinstance(obj, ndarray):
        result = numpy.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        return obj if result is obj._a else ndarray._from(result)
    if hasattr(obj, "__cuda_array_interface__") or hasattr(obj, "__cupy_get_ndarray__"):
        raise NotImplementedError("fake cupy: arrays from other CUDA libraries")
    data = _unwrap(obj, host_ok=True)  # lists may hold device arrays: CuPy stacks them
    result = numpy.array(data, dtype=dtype, order=order, ndmin=ndmin, copy=True)
    if result.dtype.kind not in "biufc":
        raise ValueError(f"Unsupported dtype {result.dtype}")
    return ndarray._from(result)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out)
    result = numpy.asarray(a, order=order)
    if out is not None:
        numpy.copyto(out, result)
        return out
    return result


def ascontiguousarray(a, dtype=None):
    _no_fusion("ascontiguousarray")
    if not isinstance(a, ndarray):
        _refuse_host(a)
    result = numpy.ascontiguousarray(a._a, dtype=dtype)
    return a if result is a._a else ndarray._from(result)


def get_array_module(*args):
    return _MODULES["cupy"] if any(isinstance(a, ndarray) for a in args) else numpy


def where(condition, x=None, y=None):
    if x is None and y is None:
        return nonzero(condition)
    # elementwise with three operands: it may run inside a fused kernel
    return _wrap(numpy.where(_operand(condition), _operand(x), _operand(y)))


def nonzero(a):
    _no_fusion("nonzero")
    _synchronize("cupy.nonzero()")
    if not isinstance(a, ndarray):
        _refuse_host(a)
    return _wrap(numpy.nonzero(a._a))


def searchsorted(a, v, side="left", sorter=None):
    _no_fusion("searchsorted")
    if not isinstance(a, ndarray):
        _refuse_host(a)
    return _wrap(numpy.searchsorted(a._a, _operand(v), side=side, sorter=_unwrap(sorter)))


def fill_diagonal(a, val, wrap=False):
    _no_fusion("fill_diagonal")
    if not isinstance(a, ndarray):
        _refuse_host(a)
    numpy.fill_diagonal(a._a, _unwrap(val, host_ok=True), wrap=wrap)


def argsort(a, axis=-1, kind=None):
    _no_fusion("argsort")
    if not isinstance(a, ndarray):
        _refuse_host(a)
    return a.argsort(axis, kind)


def sort(a, axis=-1, kind=None):
    _no_fusion("sort")
    if not isinstance(a, ndarray):
        _refuse_host(a)
    result = a.flatten() if axis is None else a.copy()
    result.sort(-1 if axis is None else axis, kind)
    return result


def bincount(x, weights=None, minlength=None):
    """CuPy's bincount reads the maximum (and checks for negatives): it synchronizes."""
    _no_fusion("bincount")
    _synchronize("cupy.bincount()")
    if not isinstance(x, ndarray):
        _refuse_host(x)
    if x.dtype.kind == "f":
        raise TypeError("x must be int array")
    result = numpy.bincount(x._a, _unwrap(weights), 0 if minlength is None else minlength)
    return ndarray._from(result)


def from_dlpack(x, *, device=None, copy=None):
    """Device arrays come back as views (shared memory); others are not on this fake GPU."""
    _no_fusion("from_dlpack")
    if isinstance(x, ndarray):
        return ndarray._from(x._a.view(), x if x._base is None else x._base)
    device_type = x.__dlpack_device__()[0] if hasattr(x, "__dlpack_device__") else None
    raise NotImplementedError(
        f"fake cupy: from_dlpack of a {type(x).__name__} on DLPack device {device_type} "
        "(only fake cupy arrays live on the fake GPU)"
    )


def fuse(*args, kernel_name=None):
    """``cupy.fuse``: run the function with only elementwise operations allowed.

    As in CuPy (``cupy/_core/fusion.pyx``), the kernel is named ``kernel_name``
    or else the function's ``__name__``: a callable without one (a
    ``functools.partial``) is an AttributeError when it is decorated. Arguments
    must be device arrays or scalars; inside, ``get()``, ``bool()``, indexing
    and non-elementwise functions raise, as they cannot be fused.
    """

    def decorate(function):
        name = kernel_name or function.__name__  # CuPy's Fusion.__init__

        def kernel(*arrays):
            for value in arrays:
                if not isinstance(value, (ndarray, *_SCALARS, type(None))):
                    raise TypeError(f"Invalid argument type for '{name}': ({type(value)})")
            if _State.fusing or not any(isinstance(value, ndarray) for value in arrays):
                return function(*arrays)  # nested, or no device array: CuPy just calls it
            _State.fusing = True
            try:
                result = function(*arrays)
            finally:
                _State.fusing = False
            if isinstance(result, ndarray) and result._base is not None:
                result = result.copy()
            return result

        kernel.__name__ = kernel.__qualname__ = name
        return kernel

    if len(args) == 1 and callable(args[0]):
        return decorate(args[0])
    if args:
        raise TypeError(f"fake cupy: fuse() got unexpected arguments {args!r}")
    return decorate


# (name, keyword arguments CuPy takes or None for NumPy's, host arrays ok, synchronizes)
_FUNCTIONS = {
    # creation
    "empty": ("shape dtype order", True, False),
    "zeros": ("shape dtype order", True, False),
    "ones": ("shape dtype order", True, False),
    "full": ("shape fill_value dtype order", True, False),
    "empty_like": ("dtype order subok shape", False, False),
    "zeros_like": ("dtype order subok shape", False, False),
    "ones_like": ("dtype order subok shape", False, False),
    "full_like": ("fill_value dtype order subok shape", False, False),
    "arange": ("start stop step dtype", False, False),
    "linspace": ("num endpoint retstep dtype axis", False, False),
    "eye": ("N M k dtype order", False, False),
    "identity": ("dtype", False, False),
    "diag": ("k", False, False),
    "tri": ("M k dtype", False, False),
    "tril": ("k", False, False),
    "triu": ("k", False, False),
    "meshgrid": ("indexing sparse copy", False, False),
    "copy": ("order", False, False),
    # shapes
    "reshape": ("order", False, False),
    "ravel": ("order", False, False),
    "transpose": ("axes", False, False),
    "swapaxes": (None, False, False),
    "moveaxis": (None, False, False),
    "expand_dims": (None, False, False),
    "squeeze": ("axis", False, False),
    "broadcast_to": (None, False, False),
    "broadcast_arrays": (None, False, False),
    "atleast_1d": (None, False, False),
    "atleast_2d": (None, False, False),
    "concatenate": ("axis out dtype casting", False, False),
    "stack": ("axis out dtype casting", False, False),
    "vstack": ("dtype casting", False, False),
    "hstack": ("dtype casting", False, False),
    "column_stack": (None, False, False),
    "split": (None, False, False),
    "array_split": (None, False, False),
    "tile": (None, False, False),
    "repeat": ("axis", False, False),
    "flip": ("axis", False, False),
    "roll": ("axis", False, False),
    "pad": ("mode constant_values", False, False),
    "diagonal": ("offset axis1 axis2", False, False),
    "take": ("axis out", False, False),
    "take_along_axis": (None, False, False),
    "copyto": ("casting where", False, False),
    # reductions and sorting
    "sum": ("axis dtype out keepdims", False, False),
    "prod": ("axis dtype out keepdims", False, False),
    "mean": ("axis dtype out keepdims", False, False),
    "var": ("axis dtype out ddof keepdims", False, False),
    "std": ("axis dtype out ddof keepdims", False, False),
    "max": ("axis out keepdims", False, False),
    "min": ("axis out keepdims", False, False),
    "amax": ("axis out keepdims", False, False),
    "amin": ("axis out keepdims", False, False),
    "ptp": ("axis out keepdims", False, False),
    "argmax": ("axis dtype out keepdims", False, False),
    "argmin": ("axis dtype out keepdims", False, False),
    "all": ("axis out keepdims", False, False),
    "any": ("axis out keepdims", False, False),
    "cumsum": ("axis dtype out", False, False),
    "cumprod": ("axis dtype out", False, False),
    "count_nonzero": ("axis", False, False),
    "median": ("axis out overwrite_input keepdims", False, False),
    "quantile": ("axis out overwrite_input method keepdims", False, False),
    "percentile": ("axis out overwrite_input method keepdims", False, False),
    "trace": ("offset axis1 axis2 dtype out", False, False),
    "partition": ("axis", False, False),
    "argpartition": ("axis", False, False),
    "unique": ("return_index return_inverse return_counts axis equal_nan", False, True),
    "argwhere": (None, False, True),
    "flatnonzero": (None, False, True),
    "average": ("axis weights returned keepdims", False, False),
    # linear algebra and comparisons
    "dot": ("out", False, False),
    "vdot": (None, False, False),
    "inner": (None, False, False),
    "outer": ("out", False, False),
    "tensordot": ("axes", False, False),
    "einsum": ("dtype optimize", False, False),
    "allclose": ("rtol atol equal_nan", False, False),
    "isclose": ("rtol atol equal_nan", False, False),
    "array_equal": ("equal_nan", False, False),
    "may_share_memory": ("max_work", False, False),
    "shares_memory": ("max_work", False, False),
    "clip": ("out", False, False),
    "round": ("decimals out", False, False),
    "around": ("decimals out", False, False),
    "nan_to_num": ("copy nan posinf neginf", False, False),
}

_LINALG = {
    "svd": ("full_matrices compute_uv", False, False),
    "eigh": ("UPLO", False, False),
    "eigvalsh": ("UPLO", False, False),
    "norm": ("ord axis keepdims", False, False),
    "inv": (None, False, False),
    "solve": (None, False, False),
    "det": (None, False, False),
    "qr": ("mode", False, False),
    "cholesky": (None, False, False),
}

# dtypes and constants CuPy re-exports from NumPy
_NUMPY_NAMES = (
    "bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 intp uintp float16 float32 "
    "float64 complex64 complex128 dtype finfo iinfo result_type promote_types can_cast "
    "inf nan pi e newaxis integer floating number generic"
).split()


def _make_module(name: str, attributes: dict) -> types.ModuleType:
    module = types.ModuleType(name, f"Fake {name} over NumPy (tests/fake_cupy.py).")
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__file__ = __file__
    module.__dict__.update(attributes)

    def __getattr__(attr: str) -> Any:  # noqa: N807  (module __getattr__)
        raise AttributeError(
            f"fake cupy does not implement {name}.{attr}; if CuPy has it and the library "
            "needs it, add it to tests/fake_cupy.py"
        )

    module.__getattr__ = __getattr__
    return module


def _build() -> dict[str, types.ModuleType]:
    runtime = _make_module(
        "cupy.cuda.runtime",
        {
            "getDeviceCount": lambda: _DEVICE_COUNT,
            "getDevice": lambda: 0,
            "setDevice": lambda device: Device(device) and None,
            "deviceSynchronize": lambda: _synchronize("deviceSynchronize()"),
            "CUDARuntimeError": CUDARuntimeError,
        },
    )
    cuda = _make_module(
        "cupy.cuda",
        {
            "Device": Device,
            "runtime": runtime,
            "is_available": lambda: True,
            "get_device_id": lambda: 0,
            "Stream": Stream,
            "get_current_stream": lambda device=None: _NULL_STREAM,
        },
    )
    linalg = _make_module(
        "cupy.linalg",
        {
            name: _function(getattr(numpy.linalg, name), "linalg." + name, *spec)
            for name, spec in _LINALG.items()
        },
    )
    attributes: dict[str, Any] = {name: getattr(numpy, name) for name in _NUMPY_NAMES}
    attributes.update(_UFUNCS)
    attributes.update(
        {name: _function(getattr(numpy, name), name, *spec) for name, spec in _FUNCTIONS.items()}
    )
    attributes.update(
        ndarray=ndarray,
        ufunc=ufunc,
        asarray=asarray,
        array=array,
        asnumpy=asnumpy,
        ascontiguousarray=ascontiguousarray,
        get_array_module=get_array_module,
        where=where,
        nonzero=nonzero,
        searchsorted=searchsorted,
        fill_diagonal=fill_diagonal,
        bincount=bincount,
        argsort=argsort,
        sort=sort,
        from_dlpack=from_dlpack,
        fuse=fuse,
        cuda=cuda,
        linalg=linalg,
        __version__="13.0.0+fake",
    )
    cupy = _make_module("cupy", attributes)
    cupyx = _make_module(
        "cupyx",
        {
            "scatter_add": scatter_add,
            "scatter_max": scatter_max,
            "scatter_min": scatter_min,
            "allow_synchronize": allow_synchronize,
            "DeviceSynchronized": DeviceSynchronized,
            "errstate": numpy.errstate,
        },
    )
    return {
        "cupy": cupy,
        "cupy.cuda": cuda,
        "cupy.cuda.runtime": runtime,
        "cupy.linalg": linalg,
        "cupyx": cupyx,
    }


_MODULES = _build()


def install() -> types.ModuleType:
    """Put the fake into ``sys.modules`` as ``cupy`` and ``cupyx``; return the cupy module.

    Must run before the library first imports CuPy (it does so lazily, at the
    first CUDA use), and before a test module checks ``cuda_available()``.
    """
    sys.modules.update(_MODULES)
    return _MODULES["cupy"]


__all__ = ["install", "ndarray", "DeviceSynchronized", "allow_synchronize"]
