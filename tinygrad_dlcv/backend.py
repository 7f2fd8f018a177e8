"""The one module that knows NumPy from CuPy.

Everything else asks this module for the array module (``xp``) of a device or
of an array and calls ``xp.*``, never ``numpy.*`` directly on tensor data, so
the same engine code runs on the CPU and on a CUDA GPU (Chainer's trick).

Device strings are ``"cpu"``, ``"cuda"`` (the current GPU) and ``"cuda:N"``.
CuPy is imported the first time a CUDA device is used, never at import time.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy

_DEVICE_PATTERN = re.compile(r"^(cpu|cuda)(?::(\d+))?$")
_FLOAT_DTYPES = (numpy.dtype("float16"), numpy.dtype("float32"), numpy.dtype("float64"))

# Read at import, checked at first use: importing the package must not import CuPy.
_default_device: str | None = os.environ.get("TINYGRAD_DLCV_DEVICE") or None
_default_device_checked = False
_default_dtype = numpy.dtype("float32")
_cupy: ModuleType | None = None


# --------------------------------------------------------------------------- devices


def _import_cupy() -> ModuleType:
    """Import CuPy once, turning its absence into the error a user can act on."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except Exception as error:  # ImportError, or a CUDA library that fails to load
            raise RuntimeError(
                "CUDA was requested but CuPy is not installed or failed to import "
                f"({type(error).__name__}: {error}); install it with "
                "`pip install tinygrad-dlcv[cuda]` or use device='cpu'"
            ) from None
        _cupy = cupy
    return _cupy


def cuda_available() -> bool:
    """Return True when CuPy imports and sees at least one CUDA GPU."""
    try:
        cupy = _import_cupy()
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def normalize_device(device: str | None, who: str | None = None) -> str:
    """Return the canonical form of a device string: ``"cpu"`` or ``"cuda:N"``.

    ``None`` means the default device. ``"cuda"`` means the current GPU. A
    CUDA device is checked here, so a missing CuPy or GPU fails early with a
    RuntimeError that says which is missing. ``who`` (the caller) starts the
    messages of a device string that is not one.
    """
    if device is None:
        return default_device()
    prefix = f"{who}: " if who else ""
    if not isinstance(device, str):
        raise TypeError(f"{prefix}device must be a string like 'cpu' or 'cuda:0', got {device!r}")
    match = _DEVICE_PATTERN.match(device.strip().lower())
    if match is None:
        raise ValueError(f"{prefix}unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'")
    kind, index = match.groups()
    if kind == "cpu":
        if index is not None:
            raise ValueError(f"{prefix}unknown device {device!r}; the CPU has no index")
        return "cpu"
    cupy = _import_cupy()
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:
        raise RuntimeError(
            f"CUDA was requested but no usable GPU was found ({type(error).__name__}: {error})"
        ) from None
    if count == 0:
        raise RuntimeError("CUDA was requested but CuPy sees no GPU on this machine")
    number = cupy.cuda.runtime.getDevice() if index is None else int(index)
    if number >= count:
        raise RuntimeError(f"device {device!r} does not exist: this machine has {count} GPU(s)")
    return f"cuda:{number}"


def default_device() -> str:
    """Return the device new tensors go to when none is given."""
    global _default_device, _default_device_checked
    if _default_device is None:
        return "cpu"
    if not _default_device_checked:
        # The environment variable is only validated here, at first use; its error says
        # where the device came from (the user may have forgotten the variable).
        try:
            _default_device = normalize_device(_default_device)
        except (RuntimeError, ValueError) as error:
            raise type(error)(f"TINYGRAD_DLCV_DEVICE={_default_device!r}: {error}") from None
        _default_device_checked = True
    return _default_device


def set_default_device(device: str | None) -> None:
    """Make ``device`` the default for new tensors; CUDA is checked at once. None: the
    CPU again, as torch."""
    global _default_device, _default_device_checked
    _default_device = normalize_device("cpu" if device is None else device, "set_default_device")
    _default_device_checked = True


def array_module(device: str) -> ModuleType:
    """Return numpy for "cpu" and cupy for "cuda:N" (device already normalized)."""
    return numpy if device == "cpu" else _import_cupy()


def is_cuda_array(array: Any) -> bool:
    """True for a CuPy ndarray, without importing CuPy."""
    return type(array).__module__.startswith("cupy")


def array_module_of(array: Any) -> ModuleType:
    """Return the array module that owns ``array``."""
    if type(array) is numpy.ndarray:
        return numpy
    return _import_cupy() if is_cuda_array(array) else numpy


def device_of(array: Any) -> str:
    """Return the device string of a backend array."""
    if type(array) is numpy.ndarray:
        return "cpu"
    if is_cuda_array(array):
        return f"cuda:{array.device.id}"
    return "cpu"


def check_same_device(op: Any, *arrays: Any) -> None:
    """Raise RuntimeError naming both devices when ``arrays`` live on different devices.

    ``op`` names the operation: a string, or an op class (named only on error,
    to keep the common path cheap).
    """
    if len(arrays) == 2 and type(arrays[0]) is type(arrays[1]) is numpy.ndarray:
        return  # the common case, checked without building a list
    if all(type(array) is numpy.ndarray for array in arrays):
        return
    devices = [device_of(array) for array in arrays]
    if any(device != devices[0] for device in devices):
        other = next(device for device in devices if device != devices[0])
        raise RuntimeError(
            f"{op_label(op)}: expected all tensors on the same device, "
            f"found {devices[0]} and {other}"
        )


def op_label(op: Any) -> str:
    """The name of an operation for an error message: a string as it is, an op class
    lower-cased (``Add`` -> ``"add"``). Callers pass the class and name it only on error."""
    return op if isinstance(op, str) else op.__name__.lower()


def move_to_device(array: Any, device: str) -> Any:
    """Return ``array`` on ``device`` (a copy only when it has to move)."""
    if device == "cpu":
        return array.get() if is_cuda_array(array) else array
    cupy = _import_cupy()
    number = int(device.split(":")[1])
    if is_cuda_array(array) and array.device.id == number:
        return array
    with cupy.cuda.Device(number):
        return cupy.asarray(array)


def value_range(array: Any) -> tuple[Any, Any]:
    """(min, max) of a non-empty array as Python numbers: one device-to-host copy on a GPU."""
    return value_ranges(array)[0]


def value_ranges(*arrays: Any) -> list[tuple[Any, Any]]:
    """(min, max) of each non-empty array as Python numbers: one device-to-host copy on a
    GPU for all of them.

    Used where input must be validated (class indices, probabilities and targets):
    the bounds travel together, so a check costs one synchronisation, not one per bound.
    """
    if all(type(array) is numpy.ndarray for array in arrays):
        return [(array.min().item(), array.max().item()) for array in arrays]
    xp = array_module_of(arrays[0])
    bounds = xp.stack([bound for array in arrays for bound in (array.min(), array.max())])
    flat = bounds.get().tolist()
    return list(zip(flat[::2], flat[1::2], strict=True))


def fused(formula: Callable) -> Callable:
    """Run an elementwise ``formula(xp, *arrays)`` as one GPU kernel on CuPy.

    On NumPy the formula runs as written (one ufunc call per operation); on CuPy
    it is compiled once with ``cupy.fuse`` into a single kernel, so its
    intermediate arrays never touch GPU memory. The same Python lines are the
    fallback and the fused kernel, and the cuda tests check one against the other.
    """
    compiled: dict[str, Callable] = {}

    @functools.wraps(formula)
    def run(*arrays: Any) -> Any:
        if type(arrays[0]) is numpy.ndarray or not is_cuda_array(arrays[0]):
            return formula(numpy, *arrays)
        kernel = compiled.get("cupy")
        if kernel is None:
            cupy = _import_cupy()
            # cupy.fuse names the kernel after func.__name__, which a partial lacks.
            fuse = cupy.fuse(kernel_name=formula.__name__)
            kernel = compiled["cupy"] = fuse(functools.partial(formula, cupy))
        return kernel(*arrays)

    run.unfused = formula  # type: ignore[attr-defined]  (the plain version, for tests)
    return run


def to_host(array: Any) -> numpy.ndarray:
    """Return a NumPy array with the values of ``array`` (no copy for NumPy input)."""
    return array.get() if is_cuda_array(array) else numpy.asarray(array)


def host_copy(array: Any) -> numpy.ndarray:
    """A NumPy copy of a backend array (``.get()`` already copies from the GPU: once)."""
    return array.get() if is_cuda_array(array) else numpy.array(array, copy=True)


def errstate(xp: ModuleType, **settings: str) -> contextlib.AbstractContextManager:
    """``numpy.errstate(**settings)``: on the CPU for the computation itself; CuPy's
    kernels never report such errors, but CuPy converts Python scalars with NumPy on
    the host (``x * 1e300`` on float32 casts 1e300 there), which does."""
    return numpy.errstate(**settings)


def ignore_underflow(xp: ModuleType) -> contextlib.AbstractContextManager:
    """Context in which exp() may underflow to 0 silently.

    exp(-1000) = 0 is the right answer inside sigmoid/softmax, not an error, so
    it must not trip ``np.errstate(all="raise")`` set by the user.
    """
    return errstate(xp, under="ignore")


def scatter_add(xp: ModuleType, target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` where repeated indices add up (unbuffered)."""
    if xp is not numpy:
        import cupyx

        cupyx.scatter_add(target, index, values)
        return
    axis = _lone_array_axis(index)
    if axis is None:
        numpy.add.at(target, index, values)
    else:  # x[rows] or x[:, columns]: the backward of a gather (an embedding, a batch)
        rows = numpy.moveaxis(target, axis, 0)
        _add_rows(rows, index[axis], numpy.moveaxis(values, axis, 0))


def _lone_array_axis(index: tuple) -> int | None:
    """The position of the only index part when it is a 1-D integer array and every
    other part is a full slice (``x[rows]``, ``x[:, columns]``); otherwise None."""
    arrays = [position for position, part in enumerate(index) if isinstance(part, numpy.ndarray)]
    if len(arrays) != 1 or index[arrays[0]].ndim != 1 or index[arrays[0]].dtype.kind not in "iu":
        return None
    full = slice(None)
    if any(part != full for position, part in enumerate(index) if position != arrays[0]):
        return None
    return arrays[0]


# Above this many repeats of one row, numpy.add.at beats a Python loop of rounds.
_MOST_ROUNDS = 32


def _add_rows(target: Any, rows: Any, values: Any) -> None:
    """``target[rows[i]] += values[i]`` for every i, repeated rows adding up.

    In rounds: each round adds the next occurrence of every row that has one, so
    within a round the rows are distinct and a plain indexed ``+=`` loses nothing.
    Rows are added in the order ``numpy.add.at`` adds them (the same sums, bit for
    bit) at several times its speed; the rounds are as many as a row repeats, so
    rows repeated more than ``_MOST_ROUNDS`` times go to ``numpy.add.at`` itself.
    """
    if rows.size == 0:
        return
    if target.ndim == 1:  # single numbers: NumPy's add.at has a fast loop for them
        numpy.add.at(target, rows, values)
        return
    rows = rows.astype(numpy.intp, copy=False)  # uint8 rows + 300 would overflow
    count = target.shape[0]
    rows = numpy.where(rows < 0, rows + count, rows)  # -1 and n - 1: one row
    if rows.min() < 0 or rows.max() >= count:  # the index was changed after the forward
        raise IndexError(
            f"getitem backward: rows out of range for {count} rows "
            f"(from {rows.min()} to {rows.max()})"
        )
    if numpy.bincount(rows, minlength=count).max() > _MOST_ROUNDS:
        # Few rows, many times each: one round per repeat would be slower. add.at on
        # the flat elements (row * width + column) runs NumPy's fast 1-D loop, adding in
        # the same order as on whole rows; in blocks, so the flat index stays small.
        if target.flags.c_contiguous:
            width = target[0].size
            columns, flat_target = numpy.arange(width), target.reshape(-1)
            block = max(1, 2**20 // max(width, 1))
            for start in range(0, rows.size, block):
                flat = (rows[start : start + block, None] * width + columns).reshape(-1)
                numpy.add.at(flat_target, flat, values[start : start + block].reshape(-1))
        else:
            numpy.add.at(target, rows, values)
        return
    order = numpy.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = numpy.flatnonzero(numpy.concatenate(([True], ordered[1:] != ordered[:-1])))
    sizes = numpy.diff(numpy.append(starts, rows.size))
    groups = numpy.arange(starts.size)
    occurrence = 0
    while groups.size:
        picked = order[starts[groups] + occurrence]
        target[rows[picked]] += values[picked]
        occurrence += 1
        groups = groups[sizes[groups] > occurrence]


# --------------------------------------------------------------------------- dtypes


def default_dtype() -> numpy.dtype:
    """Return the dtype given to floating data when none is asked for."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the default floating dtype (float32 or float64; float16 is accepted too)."""
    global _default_dtype
    resolved = to_dtype(dtype, "set_default_dtype")
    if resolved not in _FLOAT_DTYPES:
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {resolved}")
    _default_dtype = resolved


def values_of(data: Any) -> Any:
    """Another library's tensor as NumPy can read it: detached when it records gradients
    (torch's ``requires_grad``; ``torch.tensor`` copies the values too), and bfloat16,
    which NumPy has no dtype for, widened to float32 (exact). Anything else as it is."""
    if getattr(data, "requires_grad", False) is True and callable(getattr(data, "detach", None)):
        data = data.detach()
    if str(getattr(data, "dtype", "")).endswith("bfloat16") and callable(
        getattr(data, "float", None)
    ):
        data = data.float()
    return data


def to_dtype(dtype: Any, op_name: str = "dtype") -> numpy.dtype:
    """Turn a dtype name, NumPy dtype or scalar type into a ``numpy.dtype``.

    Every ``dtype=`` argument passes through here, so this is where a dtype that
    no tensor can hold (complex, strings, objects, dates) is refused with a
    TypeError: tensors hold booleans, integers and floats only.
    """
    if dtype is None:  # numpy.dtype(None) would quietly mean float64
        raise TypeError(f"{op_name}: not a dtype: None")
    try:
        resolved = numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op_name}: not a dtype: {dtype!r}") from None
    if not holds_real_numbers(resolved):
        raise TypeError(
            f"{op_name}: unsupported dtype {resolved} ({dtype!r}); a tensor holds "
            "booleans, integers or floats"
        )
    return native_order(resolved)


def native_order(dtype: numpy.dtype) -> numpy.dtype:
    """``dtype`` in the machine's byte order (">f4" is float32 here): DLPack and every
    dtype comparison expect it. The dtype object itself when already native."""
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def holds_real_numbers(dtype: numpy.dtype) -> bool:
    """True for the dtypes a tensor can hold: bool, signed and unsigned ints, floats
    (not complex, strings, objects or dates)."""
    return dtype.kind in "biuf"


def is_writable(array: Any) -> bool:
    """True when writing into ``array`` changes only its own elements.

    NumPy marks broadcast views read-only; CuPy has no such flag, so a zero
    stride along an axis of more than one element (one element seen many times)
    says it there. A new axis of size 1 (``t[None]``) may have stride 0 and is fine.
    """
    if not getattr(array.flags, "writeable", True):
        return False
    strides = array.strides
    if 0 not in strides or array.size == 0:  # (NumPy 2 gives empty arrays zero strides)
        return True
    return all(stride or size < 2 for stride, size in zip(strides, array.shape, strict=True))


def is_float_dtype(dtype: numpy.dtype) -> bool:
    """True for floating dtypes (the only ones that carry gradients)."""
    return dtype.kind == "f"


# --------------------------------------------------------------------------- host memory

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Freed memory glibc may keep for reuse before it hands the heap's top back to the OS.
_KEEP_FREED_BYTES = 256 * 1024 * 1024
# Blocks from this size up get their own mapping: the largest threshold glibc's own
# adjustment would reach (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit), so huge arrays still
# go back to the OS the moment they are freed.
_OWN_MAPPING_BYTES = 32 * 1024 * 1024


def keep_freed_host_memory() -> bool:
    """Ask glibc to keep freed graph memory for reuse; return True when it was set.

    The graph keeps every intermediate value (pictures show them and backward can
    run twice), so a step's memory is freed in one go when its graph is dropped.
    glibc then trims that memory back to the OS and the next step faults every page
    in again: in a chain of 200 ops on (256, 256) that was 31 of 39 ms. Keeping up to
    256 MB of freed heap lets the next step reuse warm pages, which is what CuPy's
    memory pool does on the GPU. Runs once at import on glibc (Linux); elsewhere it
    does nothing. Set ``TINYGRAD_DLCV_SYSTEM_MALLOC=1`` to leave malloc as it is.
    """
    if os.environ.get("TINYGRAD_DLCV_SYSTEM_MALLOC", "") not in ("", "0"):
        return False
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
        import ctypes

        libc = ctypes.CDLL(None)
        # mallopt returns 1 on success; setting either value turns off glibc's
        # dynamic thresholds, so both are set together.
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, _OWN_MAPPING_BYTES)
            and libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_FREED_BYTES)
        )
    except (ValueError, OSError, AttributeError):  # not glibc, or no mallopt symbol
        return False


keep_freed_host_memory()
