"""Clustering on the engine's array layer: k-means and its lecture variants.

- ``pairwise_distances``: euclidean, manhattan or any p-norm, in chunks;
- ``KMeans``: Lloyd's algorithm as scikit-learn runs it, with the lecture's
  options (k-means++ / random / uniform / given init, L2 / L1 / p metrics,
  mean or median centers, restarts, empty-cluster re-seeding, a history);
- ``HierarchicalKMeans``: nested k-means, ``branching ** depth`` leaves that
  ``predict`` reaches by walking down the tree;
- ``SoftKMeans``: soft assignments (responsibilities) and soft means.

Every computation asks ``backend.array_module_of`` for the array module
(``xp``) of the data and calls ``xp.*``, so one code path runs on NumPy and
on CuPy; NumPy itself only keeps small host-side bookkeeping (random draws,
counts). Estimators are never differentiated, so they work on the backend
arrays directly instead of building an autograd graph.

Distances are computed block by block over the samples: the euclidean block
is one GEMM (``||x||^2 - 2 x.c + ||c||^2``), the L1 / Lp block sums
``|x_j - c_j|^p`` feature by feature into an (rows, K) buffer, so memory is
O(rows * K) and never O(N * K * D).

Speed, as scikit-learn's Lloyd gets it: on the CPU the blocks run on one
thread per core (NumPy releases the GIL inside its kernels) while BLAS is held
to one thread (through threadpoolctl, scikit-learn's own dependency, when it
is installed; without it the blocks run one after another on a threaded
BLAS). The update keeps per-cluster sums and moves only the samples whose
label changed, as a GEMM with a signed one-hot matrix (no scatter-add).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import numbers
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import numpy

from . import backend
from .arguments import InvalidParameterError, check_bool, check_int, check_real
from .tensor import Tensor, generator_for

__all__ = [
    "ConvergenceWarning",
    "HierarchicalKMeans",
    "KMeans",
    "NotFittedError",
    "SoftKMeans",
    "pairwise_distances",
]

_METRIC_POWERS = {"euclidean": 2.0, "manhattan": 1.0}
_INITS = ("k-means++", "random", "uniform")
_CENTERS = ("mean", "median")


class ConvergenceWarning(UserWarning):
    """k-means found fewer distinct clusters than asked for (scikit-learn's warning of
    that name): X has fewer distinct points than ``n_clusters``."""


class NotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before ``fit``.

    It is both a ValueError and an AttributeError, as scikit-learn's, so code
    written against either convention catches it.
    """


# --------------------------------------------------------------------------- argument checks


def _as_data(
    X: Any, who: str, name: str = "X", device: str | None = None, list_dtype: Any = None
) -> tuple[Any, Any]:
    """Return ``(work, out_dtype)``: X as a 2-D, finite, floating backend array.

    ``work`` is in the dtype computations run in; ``out_dtype`` is the dtype
    of the arrays handed back to the user (X's float dtype; integer or bool
    data, and Python lists, get the default float dtype). float16 is computed
    in float32 because half-precision GEMMs are slow and lose the sums.
    ``list_dtype`` is the dtype Python lists of numbers are read in instead (for
    Y or an init next to X: a list next to float64 data must not lose digits).
    """
    if isinstance(X, Tensor):
        array = X.data
    elif isinstance(X, numpy.ndarray) or backend.is_cuda_array(X):
        array = X
    else:
        if type(X).__module__.startswith("scipy.sparse"):
            raise TypeError(
                f"{who}: sparse matrices are not supported; pass {name}.toarray() (dense)"
            )
        try:
            array = numpy.asarray(X)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{who}: cannot read {name} as an array ({error})") from None
        # Another library's array (a torch tensor, a DataFrame) keeps its float dtype, as
        # in scikit-learn; plain Python numbers follow the Tensor convention.
        array_like = hasattr(X, "__array__") or hasattr(X, "__array_interface__")
        if list_dtype is not None and array.dtype.kind in "biuf":  # next to X: in X's dtype
            array = array.astype(list_dtype)
        elif array.dtype.kind == "f" and not array_like:
            array = array.astype(backend.default_dtype())
    if not backend.holds_real_numbers(array.dtype):
        raise TypeError(f"{who}: {name} must hold numbers, got dtype {array.dtype}")
    if device is not None:
        try:
            device = backend.normalize_device(device)
        except (TypeError, ValueError) as error:  # as every other parameter: both kinds
            raise InvalidParameterError(f"{who}: device: {error}") from None
        array = backend.move_to_device(array, device)
    if array.ndim != 2:
        raise ValueError(
            f"{who}: {name} must be 2-D (n_samples, n_features), got shape {tuple(array.shape)}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{who}: {name} is empty (shape {tuple(array.shape)})")
    xp = backend.array_module_of(array)
    out_dtype = array.dtype if array.dtype.kind == "f" else backend.default_dtype()
    work_dtype = numpy.dtype("float32") if out_dtype == numpy.float16 else out_dtype
    work = xp.ascontiguousarray(array, dtype=work_dtype)
    if not bool(xp.isfinite(work).all()):
        raise ValueError(f"{who}: {name} contains NaN or infinity")
    return work, numpy.dtype(out_dtype)


def _metric_power(metric: Any, who: str, allow_inf: bool = False) -> float:
    """The exponent p of a metric: 2 (euclidean), 1 (manhattan) or the number given;
    ``allow_inf``: p = inf (the max-norm, SciPy's "chebyshev") is taken too (distances
    only: the estimators' sums of d^p have no meaning for it)."""
    if isinstance(metric, str):
        if metric not in _METRIC_POWERS:
            raise ValueError(
                f"{who}: unknown metric {metric!r}; expected 'euclidean', 'manhattan' or a "
                "number p >= 1"
            )
        return _METRIC_POWERS[metric]
    if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
        raise InvalidParameterError(
            f"{who}: metric must be 'euclidean', 'manhattan' or a number p >= 1, got {metric!r}"
        )
    p = float(metric)
    if allow_inf and p == math.inf:
        return p
    if not math.isfinite(p) or p < 1:
        # Below 1 the "p-norm" breaks the triangle inequality; it is no metric.
        allowed = ">= 1 (or inf)" if allow_inf else "finite and >= 1"
        raise ValueError(f"{who}: the p of a p-norm metric must be {allowed}, got {metric}")
    return p


def _check_init(init: Any, who: str, allow_array: bool = True) -> None:
    if isinstance(init, str):
        if init not in _INITS:
            raise ValueError(
                f"{who}: unknown init {init!r}; expected 'k-means++', 'random', 'uniform'"
                + (" or an array of shape (n_clusters, n_features)" if allow_array else "")
            )
    elif not allow_array:
        raise ValueError(f"{who}: init must be 'k-means++', 'random' or 'uniform', got an array")
    elif not (
        isinstance(init, (Tensor, numpy.ndarray, list, tuple)) or backend.is_cuda_array(init)
    ):
        raise InvalidParameterError(
            f"{who}: init must be 'k-means++', 'random', 'uniform' or an array of shape "
            f"(n_clusters, n_features), got {init!r}"
        )


# --------------------------------------------------------------------------- distance kernels


def _chunk_rows(xp: ModuleType, n_rows: int, n_cols: int, depth: int = 1) -> int:
    """Rows per block so that one (rows, n_cols) buffer stays small.

    On the CPU a block should stay in a core's L2 cache (argmin and the adds
    then read it from cache), and there should be a few blocks per core where
    each still carries work worth handing to a thread (about 2^20
    multiply-adds; ``depth`` is the work per entry of the buffer, D for the
    distance GEMM): narrow blocks (K = 10 centers of MNIST) would otherwise
    put every row in one block on one core. On a GPU a block should be large
    enough to fill the device.
    """
    budget = 2**18 if xp is numpy else 2**24
    rows = budget // max(n_cols, 1)
    if xp is numpy:
        least = 2**20 // max(n_cols * depth, 1)
        rows = min(rows, max(least, -(-n_rows // (4 * _cpu_workers()))))
    return max(1, min(n_rows, rows))


_pool: ThreadPoolExecutor | None = None
_blas_controller: Any = None


def _cpu_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _one_blas_thread() -> Any:
    """A context that limits BLAS to one thread, or None without threadpoolctl.

    Blocks run on our own threads (one per core, as scikit-learn's k-means),
    so each GEMM must stay single-threaded: two levels of threads would fight
    for the same cores, which is far slower than either alone.
    """
    global _blas_controller
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_controller = ThreadpoolController()
        except Exception:  # optional: without it blocks simply run one after another
            _blas_controller = False
    return _blas_controller.limit(limits=1, user_api="blas") if _blas_controller else None


def _for_blocks(
    xp: ModuleType, n: int, rows: int, width: int, dtype: Any, uses_blas: bool, work: Callable
) -> None:
    """Call ``work(start, stop, buffer)`` for row blocks of ``range(n)``.

    ``buffer`` is a scratch (rows, width) array owned by the calling thread.
    On the CPU the blocks are spread over one thread per core: NumPy releases
    the GIL inside its kernels, so the cores work on different blocks at once.
    """
    blocks = [(start, min(start + rows, n)) for start in range(0, n, rows)]
    threads = min(_cpu_workers(), len(blocks)) if xp is numpy else 1
    limit = contextlib.nullcontext()
    if threads > 1 and uses_blas:
        limit = _one_blas_thread()
        if limit is None:
            threads, limit = 1, contextlib.nullcontext()

    if threads == 1:
        buffer = xp.empty((rows, width), dtype=dtype) if width else None
        for start, stop in blocks:
            work(start, stop, buffer)
        return
    # Each thread takes the next block when it is free (a thread slowed down by
    # another process does not hold the others up); each writes its own rows.
    pending = iter(blocks)
    lock = threading.Lock()

    def run(_: int) -> None:
        buffer = xp.empty((rows, width), dtype=dtype) if width else None
        while True:
            with lock:
                block = next(pending, None)
            if block is None:
                return
            work(block[0], block[1], buffer)

    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_cpu_workers(), thread_name_prefix="kmeans")
    with limit:
        list(_pool.map(run, range(threads)))  # list() re-raises a worker's exception


def _cpu_threads_only(xp: ModuleType) -> Any:
    """Keep BLAS single-threaded for a whole fit on the CPU (our blocks use every core).

    OpenBLAS threads spin for a while after each multi-threaded call; between
    our threaded blocks they would steal the cores the blocks run on.
    """
    limit = _one_blas_thread() if xp is numpy and _cpu_workers() > 1 else None
    return limit if limit is not None else contextlib.nullcontext()


def _row_sq_norms(xp: ModuleType, X: Any) -> Any:
    """``||x_n||^2`` for each row, without an (N, D) temporary."""
    return xp.einsum("ij,ij->i", X, X)


class _Centers:
    """Centers prepared once per assignment step for the block kernels, in the data's dtype."""

    def __init__(self, xp: ModuleType, centers: Any, p: float, dtype: Any) -> None:
        self.p = p
        self.k = centers.shape[0]
        centers = self.centers = centers.astype(dtype, copy=False)
        if p == 2.0:
            # [-2 C^T; ||c||^2] against [x, 1]: the GEMM adds ||c||^2 itself, which
            # saves a pass over every block.
            self.w = xp.concatenate([-2.0 * centers.T, _row_sq_norms(xp, centers)[None]])
        else:
            self.ct = xp.ascontiguousarray(centers.T)


class _Data:
    """X with what the kernels need.

    ``X`` is the data less ``offset`` (scikit-learn centers X before Lloyd:
    the GEMM form then loses less to rounding). For the euclidean metric it is
    a view into ``X1 = [X, 1]`` (the ones column lets the GEMM add ``||c||^2``).
    It is float64 when X is narrower and either ``precise`` (distances handed
    to the user: the GEMM form leaves float32 about 3 digits, as scikit-learn
    knows and upcasts too) or p is neither 1 nor 2 (``|x - c|^p`` overflows
    float32 already at ``20^30``; SciPy sums the powers in float64 too).
    ``x_sq`` (``||x||^2``) and ``XT`` (X^T made contiguous, for the L1/Lp
    blocks and the bincount sums) are made on first use, before any threads
    start.

    ``streamed`` (one pass over X: predict, transform, pairwise distances;
    euclidean only) makes no copy of X: each block's rows of ``X1`` are made
    when the block is reached, with the very values the copy would hold, so
    predict agrees with fit's labels. ``X`` and ``X1`` are then None.
    """

    def __init__(
        self,
        xp: ModuleType,
        X: Any,
        p: float,
        offset: Any = None,
        precise: bool = False,
        streamed: bool = False,
    ) -> None:
        self.xp = xp
        self.p = p
        self.n, self.d = X.shape
        self.dtype = _work_dtype(X.dtype, p, precise)
        self.source, self.offset = X, offset
        self.X1 = self.X = None
        if p == 2.0 and not streamed:
            self.X1 = xp.empty((self.n, self.d + 1), dtype=self.dtype)

            def fill(start: int, stop: int, _buffer: Any) -> None:
                self._fill(self.X1[start:stop], start, stop)

            size = _chunk_rows(xp, self.n, self.d + 1)
            _for_blocks(xp, self.n, size, 0, None, False, fill)
            self.X = self.X1[:, : self.d]
        elif p != 2.0:
            self.X = self._centered_rows(slice(None))

    def _centered_rows(self, index: Any) -> Any:
        """Rows ``index`` of X less the offset, in the work dtype."""
        if self.X is not None:
            return self.X[index]
        if self.offset is None:
            return self.source[index].astype(self.dtype, copy=False)
        return self.xp.subtract(self.source[index], self.offset, dtype=self.dtype)

    def _fill(self, rows: Any, start: int, stop: int) -> None:
        """Write ``[x - offset, 1]`` for samples start..stop into ``rows`` (of X1's width)."""
        if self.offset is None:
            rows[:, : self.d] = self.source[start:stop]
        else:
            self.xp.subtract(self.source[start:stop], self.offset, out=rows[:, : self.d])
        rows[:, self.d] = 1

    def _rows1(self, start: int, stop: int) -> Any:
        """``[x - offset, 1]`` for samples start..stop: X1's rows, or made now (streamed)."""
        if self.X1 is not None:
            return self.X1[start:stop]
        rows = self.xp.empty((stop - start, self.d + 1), dtype=self.dtype)
        self._fill(rows, start, stop)
        return rows

    @functools.cached_property
    def x_sq(self) -> Any:
        """``||x||^2`` per sample: only true distances need it, argmin does not."""
        return _row_sq_norms(self.xp, self.X)

    @functools.cached_property
    def XT(self) -> Any:  # noqa: N802  (X transposed)
        """X^T made contiguous: feature j's values are then one contiguous row."""
        return self.xp.ascontiguousarray(self.X.T)

    def _by_feature(self, k: int) -> bool:
        """Whether the L1/Lp blocks sum feature by feature (over X^T), not center by
        center. By feature is faster per element (an add, not a row reduction), but
        each of its D steps covers only a (rows, K) block: with few centers (K = 10 of
        MNIST's 784 features, 12,500 entries a step) the calls' own cost dominates,
        and K passes over the rows win. Decided by K and D alone, never by the block
        size (which follows the number of cores): the summing order, so the
        results, must not depend on the machine."""
        return k >= min(self.d, 32)

    def _build_shared(self, distances: bool) -> None:
        """Make the lazy arrays the blocks read now, not in two worker threads at once."""
        if self.p != 2.0:
            # Also where the blocks go center by center: the center sums of L1/Lp fits
            # are float64 bincounts over X^T (a float32 one-hot GEMM loses digits).
            _ = self.XT
        elif distances and self.X is not None:
            _ = self.x_sq

    def _block(self, start: int, stop: int, prepared: _Centers, out: Any, rows1: Any = None) -> Any:
        """Fill ``out`` (rows, K) with d^p of X[start:stop] to the centers, up to a row shift.

        Euclidean: one GEMM, ``[x, 1] [-2 C^T; ||c||^2] = ||c||^2 - 2 x.c``
        (``rows1``: those rows of ``X1`` when the caller has them); the row
        constant ``||x||^2`` is left out because argmin does not need it
        (``_distances`` adds it).
        Other metrics: d^p = sum_j |x_j - c_j|^p exactly, so no (rows, K, D)
        array is ever made: summed feature by feature into ``out``, or one
        center at a time where the blocks are narrow (see ``_by_feature``).
        """
        xp = self.xp
        if prepared.p == 2.0:
            rows1 = self._rows1(start, stop) if rows1 is None else rows1
            return xp.matmul(rows1, prepared.w, out=out)
        if not self._by_feature(prepared.k):
            rows = self.X[start:stop]
            difference = xp.empty_like(rows)
            with backend.errstate(xp, over="ignore", under="ignore"):  # as below
                for k, center in enumerate(prepared.centers):
                    xp.subtract(rows, center, out=difference)
                    xp.abs(difference, out=difference)
                    if prepared.p != 1.0:
                        _raise_to(xp, difference, prepared.p)
                    difference.sum(axis=1, out=out[:, k])
            return out
        XT, ct = self.XT, prepared.ct
        term = xp.empty_like(out)
        # inf (or 0) for a large p is expected here and settled by _settle_lost_ties.
        with backend.errstate(xp, over="ignore", under="ignore"):
            for j in range(ct.shape[0]):
                target = out if j == 0 else term
                xp.subtract(XT[j, start:stop, None], ct[j], out=target)
                xp.abs(target, out=target)
                if prepared.p != 1.0:
                    _raise_to(xp, target, prepared.p)
                if j:
                    out += term
        return out

    def _distances(self, start: int, stop: int, prepared: _Centers, out: Any) -> Any:
        """True d^p of a block: add ``||x||^2`` back and clamp rounding below 0 (euclidean)."""
        if self.p != 2.0:
            return self._block(start, stop, prepared, out)
        rows1 = self._rows1(start, stop)
        x_sq = (
            self.x_sq[start:stop]
            if self.X is not None
            else _row_sq_norms(self.xp, rows1[:, : self.d])
        )
        # An overflow in the GEMM form is expected here: _redo_overflowed mends it.
        with backend.errstate(self.xp, over="ignore", invalid="ignore"):
            block = self._block(start, stop, prepared, out, rows1)
            block += x_sq[:, None]
        self.xp.maximum(block, 0, out=block)
        self._redo_overflowed(start, block, prepared.centers)
        return block

    def _redo_overflowed(self, start: int, block: Any, centers: Any) -> None:
        """Entries of a euclidean block the GEMM form lost to overflow (``||x||^2`` or
        ``||c||^2`` past the dtype's range: inf - inf is NaN, however near x and c
        are), summed from the differences instead, as SciPy's cdist does: inf
        only where sum (x - c)^2 itself overflows. A few pairs at a time."""
        xp = self.xp
        rows, columns = xp.nonzero(~xp.isfinite(block))
        step = max(1, 2**20 // self.d)
        with backend.errstate(xp, over="ignore"):
            for first in range(0, rows.size, step):
                pair_rows, pair_columns = rows[first : first + step], columns[first : first + step]
                differences = self._centered_rows(start + pair_rows) - centers[pair_columns]
                block[pair_rows, pair_columns] = (differences * differences).sum(axis=1)

    def nearest(self, centers: Any) -> Any:
        """Index (int64) of the nearest center for each sample; argmin block by block."""
        xp = self.xp
        prepared = _Centers(xp, centers, self.p, self.dtype)
        labels = xp.empty(self.n, dtype=xp.int64)
        self._build_shared(distances=False)

        overflow_possible = self.p == 2.0 and self._gemm_may_overflow(prepared.centers)

        def work(start: int, stop: int, buffer: Any) -> None:
            # An overflow there is expected and mended below (per thread: errstate is).
            quiet = backend.errstate(xp, over="ignore", invalid="ignore")
            with quiet if overflow_possible else contextlib.nullcontext():
                block = self._block(start, stop, prepared, buffer[: stop - start])
            chosen = labels[start:stop]
            xp.argmin(block, axis=1, out=chosen)
            if overflow_possible:
                self._settle_overflowed(start, block, chosen, prepared.centers)
            elif self.p not in (1.0, 2.0):
                self._settle_lost_ties(start, block, chosen, centers)

        rows = _chunk_rows(xp, self.n, prepared.k, self.d)
        _for_blocks(xp, self.n, rows, prepared.k, self.dtype, self.p == 2.0, work)
        return labels

    @functools.cached_property
    def _magnitude(self) -> float:
        """The largest ||x - offset|| (inf where its square overflows), from x_sq."""
        with backend.errstate(self.xp, over="ignore"):  # inf is the answer then
            return math.sqrt(float(self.x_sq.max()))

    def _gemm_may_overflow(self, centers: Any) -> bool:
        """Whether ||c||^2 - 2 x.c can leave the dtype's range for some sample and center
        (data of size ~1e19 in float32), so that the argmins must be checked. A fit
        (X copied, its norms kept) bounds it once; one pass over X (streamed) checks
        its argmins instead, a gather per block."""
        if self.X is None:
            return True
        reach = self._magnitude + float(self.xp.sqrt(_row_sq_norms(self.xp, centers).max()))
        return not reach * reach < float(numpy.finfo(self.dtype).max) / 4  # NaN: True

    def _settle_overflowed(self, start: int, block: Any, chosen: Any, centers: Any) -> None:
        """Decide again the rows of a euclidean block with an entry that is not finite:
        the GEMM form overflowed there (inf - inf is NaN, argmin takes the first NaN,
        and an inf may hide the nearest center)."""
        xp = self.xp
        # Any entry, not only the chosen one: the nearest center's own entry may be the
        # one that overflowed, and then a farther, finite one won the argmin.
        rows = xp.nonzero(~xp.isfinite(block).all(axis=1))[0]
        if rows.size:
            chosen[rows] = _nearest_by_scaled_norm(
                xp, self._centered_rows(start + rows), centers, 2.0
            )

    def _settle_lost_ties(self, start: int, block: Any, chosen: Any, centers: Any) -> None:
        """Decide again the rows of a block whose nearest sum of ``|x - c|^p`` is inf or 0
        and shared, or subnormal: for a large p the powers overflow (p = 100: once
        ``|x - c| > 1200``) and argmin then picks the first of centers that are not
        tied, or underflow to 0 or to subnormals, which keep too few digits to order
        the centers (p = 16: 6.06e-21 and 6e-21 both give 5e-324)."""
        xp = self.xp
        least = block[xp.arange(block.shape[0]), chosen]
        # Subnormal: too few digits to order by. An exact 0 is a sample on its center
        # (or all of d^p underflowed): in doubt only when shared, as an inf.
        subnormal = (least > 0) & (least < numpy.finfo(block.dtype).tiny)
        doubtful = xp.nonzero(subnormal | (least == 0) | xp.isinf(least))[0]
        if doubtful.size == 0:
            return
        shared = (block[doubtful] == least[doubtful, None]).sum(axis=1) > 1
        rows = doubtful[shared | subnormal[doubtful]]
        if rows.size:
            rows_of_X = self.X[start + rows]
            chosen[rows] = _nearest_by_scaled_norm(
                xp, rows_of_X, centers.astype(self.dtype), self.p
            )

    def power_distances(self, centers: Any) -> Any:
        """The full (N, K) matrix of d^p (only where N x K is wanted anyway)."""
        xp = self.xp
        prepared = _Centers(xp, centers, self.p, self.dtype)
        out = xp.empty((self.n, prepared.k), dtype=self.dtype)
        self._build_shared(distances=True)

        def work(start: int, stop: int, _buffer: Any) -> None:
            self._distances(start, stop, prepared, out[start:stop])

        rows = _chunk_rows(xp, self.n, prepared.k, self.d)
        _for_blocks(xp, self.n, rows, 0, None, self.p == 2.0, work)
        return out

    def distances(self, centers: Any, out_dtype: Any) -> Any:
        """The (N, K) distances d in ``out_dtype``, each block rooted in the data's dtype
        before it is narrowed (d^p may not fit where d does)."""
        xp = self.xp
        prepared = _Centers(xp, centers, self.p, self.dtype)
        out = xp.empty((self.n, prepared.k), dtype=out_dtype)
        self._build_shared(distances=True)

        def work(start: int, stop: int, buffer: Any) -> None:
            block = self._distances(start, stop, prepared, buffer[: stop - start])
            out[start:stop] = _root(xp, block, self.p)

        rows = _chunk_rows(xp, self.n, prepared.k, self.d)
        _for_blocks(xp, self.n, rows, prepared.k, self.dtype, self.p == 2.0, work)
        return out

    def assigned_power(self, centers: Any, labels: Any) -> Any:
        """Exact d(x_n, c_{label_n})^p from differences (no cancellation), in blocks."""
        return _assigned_powers(self.xp, self.X, centers, labels, self.p, self.dtype)


def _assigned_powers(
    xp: ModuleType, X: Any, centers: Any, labels: Any, p: float, dtype: Any
) -> Any:
    """``sum_j |x_nj - c_label_n,j|^p`` for each row, from the differences computed in
    ``dtype`` (exact for float32 data in float64: no cancellation), in blocks."""
    n, d = X.shape
    out = xp.empty(n, dtype=dtype)
    centers = centers.astype(dtype, copy=False)

    def work(start: int, stop: int, _buffer: Any) -> None:
        diff = xp.subtract(X[start:stop], centers[labels[start:stop]], dtype=dtype)
        out[start:stop] = _power_sum(xp, diff, p)

    _for_blocks(xp, n, _chunk_rows(xp, n, d), 0, None, False, work)
    return out


def _work_dtype(dtype: Any, p: float, precise: bool) -> numpy.dtype:
    """The dtype distances are computed in (see ``_Data``): float64 for narrower data
    that is ``precise`` or whose p is neither 1 nor 2, else the data's own."""
    if numpy.dtype(dtype).itemsize < 8 and (precise or p not in (1.0, 2.0)):
        return numpy.dtype(numpy.float64)
    return numpy.dtype(dtype)


def _nearest_by_scaled_norm(xp: ModuleType, X: Any, centers: Any, p: float) -> Any:
    """The nearest center (p-norm) for rows whose ``|x - c|^p`` over- or underflows.

    Each pair's differences are divided by their largest, m, so the powers lie
    in [0, 1]: ``d = m (sum_j (|x_j - c_j| / m)^p)^(1/p)`` is exact in any
    range. A few rows only, in (rows, K, D) chunks of at most 2^22 elements.
    """
    k, d = centers.shape
    nearest = xp.empty(X.shape[0], dtype=xp.int64)
    step = max(1, 2**22 // max(k * d, 1))
    for start in range(0, X.shape[0], step):
        differences = xp.abs(X[start : start + step, None, :] - centers[None])
        largest = differences.max(axis=2, keepdims=True)
        differences /= xp.where(largest > 0, largest, 1)  # a center on the point: 0, not 0/0
        norms = largest[..., 0] * (differences**p).sum(axis=2) ** (1.0 / p)
        nearest[start : start + step] = xp.argmin(norms, axis=1)
    return nearest


def _max_norm_distances(xp: ModuleType, X: Any, Y: Any) -> Any:
    """``max_j |x_j - y_j|`` for every pair (the p-norm as p -> inf), in (rows, M, D)
    chunks of at most 2^22 elements: no power, so no over- or underflow."""
    result = xp.empty((X.shape[0], Y.shape[0]), dtype=X.dtype)
    step = max(1, 2**22 // max(Y.shape[0] * Y.shape[1], 1))
    for start in range(0, X.shape[0], step):
        differences = xp.abs(X[start : start + step, None, :] - Y[None])
        result[start : start + step] = differences.max(axis=2)
    return result


def _centered(
    xp: ModuleType, X: Any, p: float, precise: bool = False, streamed: bool = False
) -> tuple[_Data, Any]:
    """``_Data`` of X less its mean, and that mean (what to take off the centers too).

    Distances do not change under a shift, but the euclidean GEMM form loses
    far less to cancellation on centered data: fit, predict and transform all
    center, so they agree on the same samples. ``streamed``: for one pass over
    X (see ``_Data``).
    """
    offset = X.mean(axis=0, dtype=xp.float64 if precise else None)
    return _Data(xp, X, p, offset, precise, streamed), offset


def _power_sum(xp: ModuleType, diff: Any, p: float) -> Any:
    """Row sums of |diff|^p."""
    if p == 2.0:
        return xp.einsum("ij,ij->i", diff, diff)
    xp.abs(diff, out=diff)
    if p != 1.0:
        with backend.errstate(xp, over="ignore", under="ignore"):  # inf is then the answer
            _raise_to(xp, diff, p)
    return diff.sum(axis=1)


def _raise_to(xp: ModuleType, values: Any, p: float) -> None:
    """``values **= p`` in place, for values >= 0. A whole p up to 16 is a few
    multiplications (binary powering: |d|^3 = |d|^2 |d|), several times faster than
    ``power``, which takes the general exp-log route for any exponent but 2."""
    if p != int(p) or p > 16:
        xp.power(values, p, out=values)
        return
    exponent, base = int(p), values.copy()
    exponent -= 1  # values holds base^1
    while exponent:
        if exponent & 1:
            values *= base
        exponent >>= 1
        if exponent:
            base *= base


def _root(xp: ModuleType, powered: Any, p: float) -> Any:
    """d from d^p, in place."""
    if p == 2.0:
        return xp.sqrt(powered, out=powered)
    if p != 1.0:
        return xp.power(powered, 1.0 / p, out=powered)
    return powered


def pairwise_distances(X: Any, Y: Any = None, metric: Any = "euclidean") -> Any:
    """Distances between the rows of X and the rows of Y.

    Parameters
    ----------
    X : Tensor, numpy or cupy array of shape (N, D)
    Y : same kinds, shape (M, D), optional
        Defaults to X. When Y is X (None, or the same object) the diagonal is
        exactly 0; a list Y is read in X's float dtype.
    metric : "euclidean", "manhattan" or a number p >= 1 (``math.inf`` included)
        The p-norm ``(sum_j |x_j - y_j|^p)^(1/p)``; "euclidean" is p = 2,
        "manhattan" p = 1 and p = inf the max-norm ``max_j |x_j - y_j|``
        (SciPy's "chebyshev").

    Returns
    -------
    array of shape (N, M)
        Of X's backend and float dtype; never negative. The euclidean form
        ``||x||^2 - 2 x.y + ||y||^2`` is clamped at 0 before the square root.
    """
    who = "pairwise_distances"
    p = _metric_power(metric, who, allow_inf=True)
    X_given = X
    X, out_dtype = _as_data(X, who)
    xp = backend.array_module_of(X)
    if Y is None:
        Y_work = X
    else:
        Y_work, _ = _as_data(Y, who, name="Y", list_dtype=X.dtype)
        backend.check_same_device(who, X, Y_work)
        if Y_work.shape[1] != X.shape[1]:
            raise ValueError(
                f"{who}: X and Y need the same number of features, got shapes "
                f"{tuple(X.shape)} and {tuple(Y_work.shape)}"
            )
        Y_work = Y_work.astype(X.dtype, copy=False)
    if p == math.inf:
        result = _max_norm_distances(xp, X, Y_work).astype(out_dtype, copy=False)
    else:
        data, offset = _centered(xp, X, p, precise=True, streamed=True)
        result = data.distances(Y_work - offset, out_dtype)
    if Y is None or Y is X_given:
        # Rounding in the GEMM form leaves tiny positive self-distances; a point is 0 from
        # itself (scikit-learn zeroes the diagonal for Y is X too).
        xp.fill_diagonal(result, 0)
    return result


# --------------------------------------------------------------------------- estimator base


def _same(value: Any, default: Any) -> bool:
    """Equal and of the same type (1 and 1.0 and True are told apart), never raising."""
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:
        return False


class _Estimator:
    """scikit-learn's estimator conventions: parameters in ``__init__``, fitted ``name_``."""

    _sklearn_role: str | None = None  # scikit-learn's estimator_type ("clusterer", ...)

    def __sklearn_tags__(self) -> Any:
        """What scikit-learn's helpers (``check_is_fitted``, pipelines, grid search)
        ask of an estimator. Only scikit-learn calls it, so it is imported here."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=self._sklearn_role,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
            input_tags=InputTags(),
        )

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(name for name in signature.parameters if name != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters as a dict (``deep`` is accepted for scikit-learn).

        Parameters
        ----------
        deep : bool
            Ignored: these estimators hold no sub-estimators.

        Returns
        -------
        dict
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any):
        """Set constructor parameters; an unknown name is a ValueError.

        Returns
        -------
        self
        """
        valid = self._param_names()
        for name in params:
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__}.set_params: invalid parameter {name!r}; "
                    f"valid parameters are {valid}"
                )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        changed = []
        for name, parameter in signature.parameters.items():
            if name == "self":
                continue
            value = getattr(self, name)
            if hasattr(value, "shape") and getattr(value, "ndim", 0):
                changed.append(f"{name}=<array of shape {tuple(value.shape)}>")
            elif value is not parameter.default and not _same(value, parameter.default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def _generator(self, who: str) -> numpy.random.Generator:
        """The generator ``random_state`` names (a bad one is also a ValueError, as in sklearn)."""
        return generator_for(self.random_state, who, "random_state", InvalidParameterError)

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' with "
                "training data before using this estimator."
            )

    def _data_for(self, X: Any, who: str, fitted: Any) -> tuple[Any, Any]:
        """X for predict/transform: checked, on the device of the ``fitted`` array."""
        work, out_dtype = _as_data(X, who, device=getattr(self, "device", None))
        backend.check_same_device(who, work, fitted)
        if work.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{who}: X has {work.shape[1]} features but the estimator was fitted on "
                f"{self.n_features_in_}"
            )
        return work, out_dtype


# --------------------------------------------------------------------------- k-means


def _init_centers(
    work: Any, data: _Data, k: int, init: Any, rng: numpy.random.Generator, who: str
) -> Any:
    """Initial (K, D) centers in X's own coordinates (``work``; ``data`` is X centered).

    Samples are taken from ``work`` itself, so "random" and "k-means++"
    centers are exactly samples of X (no round trip through the centering).
    """
    xp = data.xp
    if not isinstance(init, str):
        given, _ = _as_data(init, who, name="init", list_dtype=work.dtype)
        if tuple(given.shape) != (k, data.d):
            raise ValueError(
                f"{who}: init array must have shape (n_clusters, n_features) = {(k, data.d)}, "
                f"got {tuple(given.shape)}"
            )
        return backend.move_to_device(given, backend.device_of(work)).astype(work.dtype)
    if init == "random":
        return work[xp.asarray(rng.choice(data.n, size=k, replace=False))]
    if init == "uniform":
        low = backend.to_host(work.min(axis=0)).astype(numpy.float64)
        high = backend.to_host(work.max(axis=0)).astype(numpy.float64)
        return xp.asarray(rng.uniform(low, high, size=(k, data.d)), dtype=work.dtype)
    return work[xp.asarray(_kmeans_plusplus(_near_unit_size(data)[0], k, rng))]


def _near_unit_size(data: _Data) -> tuple[_Data, float]:
    """``data`` and 1, or for a large p the same points times a power of two ``factor``
    that brings them near unit size, and that factor.

    k-means++ draws samples in proportion to d^p and re-seeding takes the samples
    with the largest d^p; for p ~ 40+ d^p overflows to inf (or underflows to 0)
    for every sample unless the points are near unit size, and every draw fell
    on the first sample. Proportions and order do not change with the scale, and
    a power of two scales exactly.
    """
    if data.p in (1.0, 2.0) or not data.X.size:
        return data, 1.0
    largest = float(data.xp.abs(data.X).max())
    if largest == 0 or abs(math.log2(largest)) * data.p < 900:  # d^p well inside float64
        return data, 1.0
    factor = math.ldexp(1.0, -math.frexp(largest)[1])
    return _Data(data.xp, data.X * factor, data.p), factor


def _kmeans_plusplus(data: _Data, k: int, rng: numpy.random.Generator) -> list[int]:
    """Greedy k-means++ (scikit-learn's): each new center is the best of 2 + log(K) draws.

    Draws are proportional to d^p to the nearest chosen center; of the
    ``2 + int(log K)`` candidates the one that lowers the total sum of d^p most
    is kept (Arthur & Vassilvitskii's seeding with local trials). Returns the
    indices of the chosen samples.
    """
    xp, X = data.xp, data.X
    trials = 2 + int(math.log(k))
    chosen = [int(rng.integers(data.n))]
    closest = data.power_distances(X[chosen[0] : chosen[0] + 1])[:, 0]
    potential = float(closest.sum(dtype=xp.float64))
    for _ in range(1, k):
        # float64 cumulative sums: float32 ones stall once the running total is large.
        cumulative = xp.cumsum(closest, dtype=xp.float64)
        targets = xp.asarray(rng.uniform(size=trials) * potential)
        candidates = xp.minimum(xp.searchsorted(cumulative, targets), data.n - 1)
        to_candidates = data.power_distances(X[candidates])
        xp.minimum(to_candidates, closest[:, None], out=to_candidates)
        potentials = backend.to_host(to_candidates.sum(axis=0, dtype=xp.float64))
        best = int(numpy.argmin(potentials))
        potential = float(potentials[best])
        closest = xp.ascontiguousarray(to_candidates[:, best])
        chosen.append(int(candidates[best]))
    return chosen


def _group(xp: ModuleType, labels: Any, k: int) -> tuple[Any, list[int]]:
    """Sample order grouped by label, and the host-side bounds of each group.

    Labels below 2^15 are sorted as int16: NumPy's stable sort is then a radix
    sort, O(N) (about 15x faster than on int64 for 100,000 labels).
    """
    narrow = labels.astype(xp.int16) if k <= 2**15 else labels
    order = xp.argsort(narrow, kind="stable")
    counts = backend.to_host(xp.bincount(labels, minlength=k))
    return order, [0, *numpy.cumsum(counts).tolist()]


class _CenterUpdate:
    """The update step of one Lloyd run: new centers from labels.

    Empty clusters are first re-seeded with the samples farthest from their own
    centers (scikit-learn's rule), so no center is ever NaN.

    Mean: the per-cluster sums (float64) are kept between iterations. Only the
    samples whose label changed are taken out of their old cluster and added
    to their new one, as one GEMM of a signed one-hot matrix with those
    samples: O(moved) instead of O(N) once Lloyd settles, and no scatter-add.
    When more than half moved they are recomputed (per-feature ``bincount``
    over X^T where that exists, else the same GEMM over all samples; summing
    label-sorted rows instead measured no faster on 100,000 x 64).
    Median: samples grouped by label once, then a loop over the K clusters
    (never over samples).
    """

    def __init__(self, data: _Data, k: int, center: str) -> None:
        self.data, self.k, self.center = data, k, center
        self.labels: Any = None  # the labels the sums were made from
        self.sums: Any = None
        self.reseeded = False  # whether the last update re-seeded an empty cluster

    def __call__(self, labels: Any, old: Any) -> Any:
        xp, data, k = self.data.xp, self.data, self.k
        counts = xp.bincount(labels, minlength=k)
        empty = xp.nonzero(counts == 0)[0]
        self.reseeded = bool(empty.size)
        if empty.size:
            # Each empty cluster takes one of the samples farthest from their own center,
            # farthest first; the labels used for the convergence test stay as assigned.
            scaled, factor = _near_unit_size(data)
            far = xp.argsort(-scaled.assigned_power(old * factor, labels))[: empty.size]
            labels = labels.copy()
            labels[far] = empty
            counts = xp.bincount(labels, minlength=k)
        filled = (counts > 0)[:, None]
        if self.center == "median":
            return self._medians(labels, old)
        self._update_sums(labels)
        with backend.errstate(xp, invalid="ignore", divide="ignore"):
            means = (self.sums / counts[:, None]).astype(old.dtype)
        # A cluster stays empty only when re-seeding took its last sample: keep its center.
        return xp.where(filled, means, old)

    def _update_sums(self, labels: Any) -> None:
        xp, data, k = self.data.xp, self.data, self.k
        moved = None if self.sums is None else xp.nonzero(labels != self.labels)[0]
        if moved is None or 2 * moved.size > data.n:
            if "XT" in vars(data):  # X^T exists already (L1/Lp): per-feature bincounts
                self.sums = xp.stack(
                    [xp.bincount(labels, weights=row, minlength=k) for row in data.XT], 1
                )
            else:
                self.sums = xp.zeros((k, data.d), dtype=xp.float64)
                self._add_moves(None, labels, None)
        elif moved.size:
            self._add_moves(moved, labels, self.labels)
        self.labels = labels

    def _add_moves(self, moved: Any, labels: Any, previous: Any) -> None:
        """sums += (one-hot of new labels - one-hot of old labels) @ X[moved].

        ``moved=None`` means every sample (and then X is sliced, not gathered).
        A (K, m) one-hot matrix times X[moved] is one GEMM (no scatter-add);
        blocks keep that matrix under 2^18 entries and run on all cores. Their
        partial sums are added in block order, so results do not depend on
        which thread finished first.
        """
        xp, data, k = self.data.xp, self.data, self.k
        # A size that depends on K alone (so the sums do not depend on the machine).
        # Smaller blocks for few centers would share the cores but round the float32
        # partial sums more: 0.69 instead of 0.03 off on tight clusters at +-3e4.
        rows = max(1, 2**18 // k)
        count = data.n if moved is None else moved.size
        partials = [None] * (-(-count // rows))

        def work(start: int, stop: int, _buffer: Any) -> None:
            index = slice(start, stop) if moved is None else moved[start:stop]
            columns = xp.arange(stop - start)
            onehot = xp.zeros((k, stop - start), dtype=data.X.dtype)
            onehot[labels[index], columns] = 1
            if previous is not None:
                onehot[previous[index], columns] = -1
            partials[start // rows] = onehot @ data.X[index]

        _for_blocks(xp, count, rows, 0, None, True, work)
        for partial in partials:
            self.sums += partial

    def _medians(self, labels: Any, old: Any) -> Any:
        order, bounds = _group(self.data.xp, labels, self.k)
        grouped = self.data.X.take(order, axis=0)
        new = old.copy()
        for cluster in range(self.k):
            if bounds[cluster + 1] > bounds[cluster]:
                members = grouped[bounds[cluster] : bounds[cluster + 1]]
                new[cluster] = self.data.xp.median(members, axis=0)
        return new


def _check_n_init(n_init: Any, who: str) -> None:
    """``n_init`` is an int >= 1 or "auto"."""
    if isinstance(n_init, str):
        if n_init != "auto":
            raise InvalidParameterError(f"{who}: n_init must be an int or 'auto', got {n_init!r}")
    else:
        check_int(n_init, "n_init", who, 1)


def _runs(init: Any, n_init: Any) -> int:
    """How many k-means runs ``n_init`` asks for with this ``init`` (scikit-learn's rule)."""
    if not isinstance(init, str):
        return 1  # the centers given: every run would be the same
    if n_init == "auto":
        return 1 if init == "k-means++" else 10
    return int(n_init)


def _lloyd(
    data: _Data,
    centers: Any,
    max_iter: int,
    tol: float,
    center: str,
    history: list | None,
) -> tuple[Any, Any, float, int]:
    """One k-means run from ``centers``; returns (centers, labels, inertia, n_iter).

    Exactly scikit-learn's loop: an iteration assigns, then updates; it stops
    after an iteration whose labels equal the previous ones ("strict
    convergence") or whose sum of squared center shifts is <= tol (already
    absolute here). Unless strictly converged, labels are recomputed for the
    final centers so that ``labels_`` fits ``cluster_centers_``.
    """
    xp = data.xp
    update = _CenterUpdate(data, centers.shape[0], center)
    previous = None
    strict = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        labels = data.nearest(centers)
        if history is not None:
            history.append((centers, labels))
        new = update(labels, centers)
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if previous is not None and bool(xp.array_equal(labels, previous)):
            # Converged, but a re-seed in this update moved a center away from these
            # labels: they are redone below, so that labels_ fit the final centers.
            strict = not update.reseeded
            break
        if shift <= tol:
            break
        previous = labels
    if not strict:
        labels = data.nearest(centers)
    if history is not None:
        history.append((centers, labels))
    inertia = float(data.assigned_power(centers, labels).sum(dtype=xp.float64))
    return centers, labels, inertia, n_iter


class KMeans(_Estimator):
    """k-means clustering (Lloyd's algorithm) with the lecture's options.

    Parameters
    ----------
    n_clusters : int
        K, the number of clusters (1 <= K <= number of samples).
    init : "k-means++", "random", "uniform" or array of shape (K, D)
        "k-means++": scikit-learn's greedy k-means++ (samples drawn
        proportionally to d^p, best of ``2 + int(log K)`` local trials);
        "random": K distinct samples; "uniform": uniform in the data's
        bounding box; an array: those centers (then ``n_init`` is 1).
    n_init : int or "auto"
        Runs from different initialisations; the lowest inertia wins. "auto"
        (scikit-learn's default): 1 run for "k-means++", 10 for "random" and
        "uniform". A given init array is always 1 run.
    max_iter : int
        Iterations (assign + update) per run, at most.
    tol : float
        Stop when the sum of squared center shifts is <= ``tol`` times the
        mean per-feature variance of X. ``tol=0``: stop only when no center
        moves (or the labels repeat).
    metric : "euclidean", "manhattan" or a number p >= 1
        The distance d; assignments minimise d and ``inertia_`` is sum d^p.
    center : "mean" or "median"
        The update: cluster means, or coordinate-wise medians (k-medians,
        the L1-optimal center, robust to outliers).
    random_state : None, int or numpy.random.Generator
        None draws from the generator seeded by ``tg.manual_seed``.
    device : str, optional
        Move X there first ("cpu", "cuda", "cuda:N"); default: X's device.
    track_history : bool
        Keep ``history_``.

    Attributes
    ----------
    cluster_centers_ : array (K, D)
        In X's backend and float dtype.
    labels_ : array (N,) of int64
        The nearest final center of each training sample.
    inertia_ : float
        Sum over samples of d(x, center)^p.
    n_iter_ : int
        Iterations of the best run.
    history_ : list of dict
        ``{"centers": (K, D), "labels": (N,)}``: the initial centers first,
        entry t holds the centers after t updates and the labels they induce
        (so ``len(history_) == n_iter_ + 1``). Only with ``track_history``.

    Notes
    -----
    Empty clusters are re-seeded with the samples farthest from their own
    centers, as scikit-learn does, so no center is ever NaN.
    """

    _sklearn_role = "clusterer"

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        metric: Any = "euclidean",
        center: str = "mean",
        random_state: Any = None,
        device: str | None = None,
        track_history: bool = False,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.metric = metric
        self.center = center
        self.random_state = random_state
        self.device = device
        self.track_history = track_history

    def _check_params(self, who: str) -> tuple[int, float]:
        k = check_int(self.n_clusters, "n_clusters", who, 1)
        _check_n_init(self.n_init, who)
        check_int(self.max_iter, "max_iter", who, 1)
        check_real(self.tol, "tol", who)
        check_bool(self.track_history, "track_history", who)
        p = _metric_power(self.metric, who)
        _check_init(self.init, who)
        if not isinstance(self.center, str):
            raise InvalidParameterError(
                f"{who}: center must be 'mean' or 'median', got {self.center!r}"
            )
        if self.center not in _CENTERS:
            raise ValueError(f"{who}: unknown center {self.center!r}; expected 'mean' or 'median'")
        return k, p

    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Cluster X.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)
        y : ignored

        Returns
        -------
        self
        """
        who = f"{type(self).__name__}.fit"
        k, p = self._check_params(who)
        work, out_dtype = _as_data(X, who, device=self.device)
        if k > work.shape[0]:
            raise ValueError(
                f"{who}: n_clusters={k} is larger than the number of samples {work.shape[0]}"
            )
        rng = self._generator(who)
        result = self._fit_array(work, k, p, rng, who)
        self._store(result, out_dtype)
        xp = backend.array_module_of(work)
        distinct = int((xp.bincount(self.labels_, minlength=k) > 0).sum())
        if distinct < k:  # duplicate centers: scikit-learn warns the same way
            warnings.warn(
                f"{who}: number of distinct clusters ({distinct}) found smaller than "
                f"n_clusters ({k}); possibly due to duplicate points in X",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _fit_array(self, work: Any, k: int, p: float, rng: numpy.random.Generator, who: str):
        """Runs on a checked work array; returns the best run and its history."""
        xp = backend.array_module_of(work)
        data, offset = _centered(xp, work, p)
        tol = 0.0
        if self.tol:
            tol = float(self.tol) * float(data.X.var(axis=0).mean())
        runs = _runs(self.init, self.n_init)
        best = None
        with _cpu_threads_only(xp):
            for _ in range(runs):
                history = [] if self.track_history else None
                start = _init_centers(work, data, k, self.init, rng, who)
                centers, labels, inertia, n_iter = _lloyd(
                    data, start - offset, int(self.max_iter), tol, self.center, history
                )
                if history is not None:  # back to X's coordinates; the start exactly as drawn
                    later = [(c + offset, lab) for c, lab in history[1:]]
                    history = [(start, history[0][1]), *later]
                if best is None or inertia < best[2]:
                    best = (centers + offset, labels, inertia, n_iter, history)
        return best

    def _store(self, result: tuple, out_dtype: Any) -> None:
        centers, labels, inertia, n_iter, history = result
        self.cluster_centers_ = centers.astype(out_dtype, copy=False)
        self.labels_ = labels.astype("int64", copy=False)
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = int(centers.shape[1])
        if history is not None:
            self.history_ = [
                {"centers": c.astype(out_dtype, copy=False), "labels": lab} for c, lab in history
            ]
        elif hasattr(self, "history_"):  # fitted attributes describe the last fit only
            del self.history_

    def predict(self, X: Any) -> Any:
        """Index of the nearest center for each row of X.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)

        Returns
        -------
        array (N,) of int64, on X's backend
        """
        self._check_fitted("cluster_centers_")
        work, _ = self._data_for(X, f"{type(self).__name__}.predict", self.cluster_centers_)
        return self._nearest_centers(work)

    def _nearest_centers(self, work: Any) -> Any:
        """predict for a checked work array."""
        p = _metric_power(self.metric, type(self).__name__)
        data, offset = _centered(backend.array_module_of(work), work, p, streamed=True)
        return data.nearest(self.cluster_centers_ - offset)

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the k-means objective on X: -sum of d(x, its predicted center)^p
        (scikit-learn's ``KMeans.score``: higher is better, as grid searches want).

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)
        y : ignored

        Returns
        -------
        float
        """
        self._check_fitted("cluster_centers_")
        work, _ = self._data_for(X, f"{type(self).__name__}.score", self.cluster_centers_)
        labels = self._nearest_centers(work)
        p = _metric_power(self.metric, type(self).__name__)
        xp = backend.array_module_of(work)
        exact = _work_dtype(work.dtype, p, precise=True)
        powers = _assigned_powers(xp, work, self.cluster_centers_, labels, p, exact)
        return -float(powers.sum(dtype=xp.float64))

    def fit_predict(self, X: Any, y: Any = None) -> Any:
        """Fit, then return ``labels_``.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)
        y : ignored

        Returns
        -------
        array (N,) of int64
        """
        return self.fit(X).labels_

    def transform(self, X: Any) -> Any:
        """Distances from each row of X to each center.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)

        Returns
        -------
        array (N, K) in X's backend and float dtype
        """
        self._check_fitted("cluster_centers_")
        work, out_dtype = self._data_for(
            X, f"{type(self).__name__}.transform", self.cluster_centers_
        )
        p = _metric_power(self.metric, type(self).__name__)
        xp = backend.array_module_of(work)
        data, offset = _centered(xp, work, p, precise=True, streamed=True)
        return data.distances(self.cluster_centers_ - offset, out_dtype)

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit, then return ``transform(X)``.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)
        y : ignored

        Returns
        -------
        array (N, K)
        """
        return self.fit(X).transform(X)


# --------------------------------------------------------------------------- hierarchical


class _Node:
    """One k-means split: its child centers, and per child a _Node or a leaf index."""

    __slots__ = ("centers", "children")

    def __init__(self, centers: Any) -> None:
        self.centers = centers
        self.children: list[Any] = []

    # Slots without these pickle with protocol 2 and later only; a fitted tree must
    # pickle as every other estimator does (protocol 0 and 1 too).
    def __getstate__(self) -> tuple:
        return self.centers, self.children

    def __setstate__(self, state: tuple) -> None:
        self.centers, self.children = state


class HierarchicalKMeans(KMeans):
    """Nested k-means: ``branching`` clusters, each split again, ``depth`` levels deep.

    The lecture's speed-up: 100 = 10^2 leaf clusters found by two levels of
    10-means. ``predict`` walks down the tree, so a sample costs
    ``branching * depth`` distance computations instead of ``branching ** depth``.

    Parameters
    ----------
    branching : int
        Children per node (>= 2).
    depth : int
        Levels of splits (>= 1); up to ``branching ** depth`` leaves.
    init, n_init, max_iter, tol, metric, center, random_state, device
        As in ``KMeans`` for every split (``init`` must be a string: each node
        has its own data).

    Attributes
    ----------
    cluster_centers_ : array (L, D)
        Leaf centers, leaves numbered depth-first. A node with fewer than
        ``branching`` samples gets one child per sample, so L can be smaller
        than ``branching ** depth`` on little data.
    labels_ : array (N,) of int64
        Leaf of each training sample, exactly as ``predict(X)`` gives.
    inertia_ : float
        Sum of d(x, leaf center)^p.
    n_iter_ : int
        The most Lloyd iterations any one split took.
    """

    def __init__(
        self,
        branching: int = 10,
        depth: int = 2,
        *,
        init: str = "k-means++",
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        metric: Any = "euclidean",
        center: str = "mean",
        random_state: Any = None,
        device: str | None = None,
    ) -> None:
        self.branching = branching
        self.depth = depth
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.metric = metric
        self.center = center
        self.random_state = random_state
        self.device = device

    def fit(self, X: Any, y: Any = None) -> HierarchicalKMeans:
        """Build the tree of clusters.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)
        y : ignored

        Returns
        -------
        self
        """
        who = f"{type(self).__name__}.fit"
        branching = check_int(self.branching, "branching", who, 2)
        depth = check_int(self.depth, "depth", who, 1)
        _check_init(self.init, who, allow_array=False)
        splitter = KMeans(
            init=self.init,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            metric=self.metric,
            center=self.center,
        )
        _, p = splitter._check_params(who)
        work, out_dtype = _as_data(X, who, device=self.device)
        rng = self._generator(who)
        leaves: list[Any] = []
        iterations: list[int] = []
        root = self._split(work, depth, branching, p, rng, splitter, (leaves, iterations), who)
        xp = backend.array_module_of(work)
        centers = xp.stack(leaves)
        labels = _route(root, work, p)
        powers = _assigned_powers(xp, work, centers, labels, p, _work_dtype(work.dtype, p, False))
        self.inertia_ = float(powers.sum(dtype=xp.float64))
        self.cluster_centers_ = centers.astype(out_dtype, copy=False)
        self.labels_ = labels
        self.n_iter_ = max(iterations)
        self.n_features_in_ = int(work.shape[1])
        self._root = root
        return self

    def _split(self, X, depth, branching, p, rng, splitter, found, who) -> _Node:
        """Fit one node's k-means on X and recurse into each child's samples; ``found``
        collects the leaf centers and each split's iteration count."""
        xp = backend.array_module_of(X)
        leaves, iterations = found
        k = min(branching, X.shape[0])
        centers, labels, _, n_iter, _ = splitter._fit_array(X, k, p, rng, who)
        iterations.append(n_iter)
        node = _Node(centers)
        order, bounds = _group(xp, labels, k)
        for child in range(k):
            members = X[order[bounds[child] : bounds[child + 1]]]
            if depth > 1 and members.shape[0] > 1:
                node.children.append(
                    self._split(members, depth - 1, branching, p, rng, splitter, found, who)
                )
            else:
                node.children.append(len(leaves))
                leaves.append(centers[child])
        return node

    def predict(self, X: Any) -> Any:
        """Leaf of each row of X, found by descending the tree.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)

        Returns
        -------
        array (N,) of int64
        """
        self._check_fitted("cluster_centers_")
        work, _ = self._data_for(X, f"{type(self).__name__}.predict", self.cluster_centers_)
        return self._nearest_centers(work)

    def _nearest_centers(self, work: Any) -> Any:
        """predict (and score) for a checked work array: the leaf the tree routes to."""
        return _route(self._root, work, _metric_power(self.metric, type(self).__name__))


def _route(root: _Node, X: Any, p: float) -> Any:
    """Walk every sample down the tree, one vectorised assignment per node."""
    xp = backend.array_module_of(X)
    labels = xp.empty(X.shape[0], dtype=xp.int64)
    pending = [(root, xp.arange(X.shape[0]))]
    while pending:
        node, index = pending.pop()
        if index.size == 0:
            continue
        data, offset = _centered(xp, X[index], p, streamed=True)
        chosen = data.nearest(node.centers - offset)
        order, bounds = _group(xp, chosen, len(node.children))
        for child, target in enumerate(node.children):
            members = index[order[bounds[child] : bounds[child + 1]]]
            if isinstance(target, _Node):
                pending.append((target, members))
            else:
                labels[members] = target
    return labels


# --------------------------------------------------------------------------- soft k-means


class SoftKMeans(KMeans):
    """Soft k-means: every sample belongs to every cluster with a responsibility.

    ``r_nk = exp(-beta d(x_n, mu_k)^p) / sum_j exp(-beta d(x_n, mu_j)^p)``
    (normalised with the log-sum-exp shift, so a huge beta is stable), and
    ``mu_k = sum_n r_nk x_n / sum_n r_nk``. As beta grows this becomes hard
    k-means; beta depends on the scale of the data.

    Parameters
    ----------
    n_clusters : int
    beta : float
        Stiffness (> 0).
    init, n_init, max_iter, tol, metric, random_state, device
        As in ``KMeans``: iterate until the sum of squared center shifts is
        <= tol times the mean feature variance, or ``max_iter``; of
        ``n_init`` runs the one with the lowest soft objective is kept.

    Attributes
    ----------
    cluster_centers_ : array (K, D)
    responsibilities_ : array (N, K)
        Rows sum to 1.
    labels_ : array (N,) of int64
        The most responsible cluster.
    inertia_ : float
        The soft objective sum_nk r_nk d(x_n, mu_k)^p.
    n_iter_ : int
    """

    def __init__(
        self,
        n_clusters: int = 8,
        beta: float = 1.0,
        *,
        init: Any = "k-means++",
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        metric: Any = "euclidean",
        random_state: Any = None,
        device: str | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.beta = beta
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.metric = metric
        self.random_state = random_state
        self.device = device

    def fit(self, X: Any, y: Any = None) -> SoftKMeans:
        """Fit soft centers to X.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)
        y : ignored

        Returns
        -------
        self
        """
        who = f"{type(self).__name__}.fit"
        k = check_int(self.n_clusters, "n_clusters", who, 1)
        beta = check_real(self.beta, "beta", who, positive=True)
        max_iter = check_int(self.max_iter, "max_iter", who, 1)
        check_real(self.tol, "tol", who)
        p = _metric_power(self.metric, who)
        _check_init(self.init, who)
        _check_n_init(self.n_init, who)
        work, out_dtype = _as_data(X, who, device=self.device)
        if k > work.shape[0]:
            raise ValueError(
                f"{who}: n_clusters={k} is larger than the number of samples {work.shape[0]}"
            )
        xp = backend.array_module_of(work)
        data, offset = _centered(xp, work, p)
        tol = float(self.tol) * float(data.X.var(axis=0).mean()) if self.tol else 0.0
        rng = self._generator(who)
        best = None
        for _ in range(_runs(self.init, self.n_init)):
            start = _init_centers(work, data, k, self.init, rng, who)
            centers, n_iter = _soft_lloyd(data, start - offset, beta, max_iter, tol)
            resp, powered = _responsibilities(data, centers, beta)
            # A weight of exactly 0 on an overflowed d^p adds nothing (not 0 * inf = NaN).
            with backend.errstate(xp, invalid="ignore"):
                weighted = xp.where(resp > 0, resp * powered, 0)
            objective = float(weighted.sum(dtype=xp.float64))
            if best is None or objective < best[0]:
                best = (objective, centers, resp, n_iter)
        self.inertia_, centers, resp, self.n_iter_ = best
        self.responsibilities_ = resp.astype(out_dtype, copy=False)
        self.labels_ = xp.argmax(resp, axis=1).astype(xp.int64)
        self.cluster_centers_ = (centers + offset).astype(out_dtype, copy=False)
        self.n_features_in_ = int(work.shape[1])
        return self

    def predict_proba(self, X: Any) -> Any:
        """Responsibilities of each cluster for each row of X.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)

        Returns
        -------
        array (N, K), rows summing to 1, in X's backend and float dtype
        """
        return self._probabilities(X, f"{type(self).__name__}.predict_proba")

    def _probabilities(self, X: Any, who: str) -> Any:
        """predict_proba, its errors naming ``who``."""
        self._check_fitted("cluster_centers_")
        work, out_dtype = self._data_for(X, who, self.cluster_centers_)
        beta = check_real(self.beta, "beta", who, positive=True)
        p = _metric_power(self.metric, who)
        data, offset = _centered(backend.array_module_of(work), work, p, streamed=True)
        resp, _ = _responsibilities(data, self.cluster_centers_ - offset, beta)
        return resp.astype(out_dtype, copy=False)

    def predict(self, X: Any) -> Any:
        """The most responsible cluster for each row of X.

        Parameters
        ----------
        X : Tensor, numpy or cupy array of shape (N, D)

        Returns
        -------
        array (N,) of int64
        """
        proba = self._probabilities(X, f"{type(self).__name__}.predict")
        return backend.array_module_of(proba).argmax(proba, axis=1).astype("int64")


def _soft_lloyd(
    data: _Data, centers: Any, beta: float, max_iter: int, tol: float
) -> tuple[Any, int]:
    """One soft k-means run from ``centers``: alternate responsibilities and soft
    means until the squared center shift is <= tol; returns (centers, n_iter)."""
    xp = data.xp
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        resp, _ = _responsibilities(data, centers, beta)
        weights = resp.sum(axis=0)
        with backend.errstate(xp, invalid="ignore", divide="ignore"):
            means = (resp.T @ data.X) / weights[:, None]
        # A cluster whose responsibilities all underflowed keeps its center (no 0/0).
        new = xp.where((weights > 0)[:, None], means, centers)
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if shift <= tol:
            break
    return centers, n_iter


def _responsibilities(data: _Data, centers: Any, beta: float) -> tuple[Any, Any]:
    """(N, K) softmax of -beta d^p over clusters, and d^p itself."""
    xp = data.xp
    powered = data.power_distances(centers)
    # The log-sum-exp shift, taken before scaling by beta: the nearest cluster's
    # logit is exactly 0, so a beta large enough to overflow gives -inf for the
    # others (weight 0), never inf - inf = NaN.
    least = powered.min(axis=1, keepdims=True)
    # A beta past the dtype's range would be inf, and 0 * inf NaN for the nearest
    # cluster; any beta that large already gives hard assignments.
    beta = min(beta, float(xp.finfo(powered.dtype).max))
    with backend.errstate(xp, over="ignore", under="ignore", invalid="ignore"):
        gaps = powered - least
        logits = xp.multiply(gaps, -beta, out=gaps)
        resp = xp.exp(logits, out=logits)
        resp /= resp.sum(axis=1, keepdims=True)
    unreachable = xp.nonzero(xp.isinf(least[:, 0]))[0]
    if unreachable.size:
        # d^p overflowed for every center (a large p): inf - inf left NaN. Their gaps
        # beta (d_k^p - d_min^p) are astronomically large, so the nearest takes it all.
        nearest = _nearest_by_scaled_norm(
            xp, data._centered_rows(unreachable), centers.astype(data.dtype), data.p
        )
        resp[unreachable] = 0
        resp[unreachable, nearest] = 1
    return resp, powered
