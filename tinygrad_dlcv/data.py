"""Data: small synthetic sets, a train/validation/test split, a minibatch
loader, and readers for the MNIST (IDX) and CIFAR-10 (binary) files.

The synthetic sets are the lecture's toy problems, each ``(X, y)`` with
``X`` float32 of shape (N, 2) and ``y`` int64 of shape (N,):

- ``make_blobs``: Gaussian clusters (k-means, linear classifiers);
- ``make_moons``: two interleaving half circles (needs a non-linear model);
- ``make_spirals``: the CS231n spiral arms (an MLP's classic test);
- ``make_xor``: the four quadrants of XOR (no single neuron can fit it).

With ``seed=None`` every random choice comes from the generator that
``tg.manual_seed`` seeds, so ``tg.manual_seed(0)`` makes a whole script
reproducible. NumPy only: no torch, no scikit-learn.
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy

from .arguments import InvalidParameterError, check_bool, check_int, check_path, check_real
from .backend import array_module, is_cuda_array, normalize_device
from .tensor import Tensor, default_generator, generator_for

__all__ = [
    "DataLoader",
    "load_cifar10",
    "load_mnist",
    "make_blobs",
    "make_moons",
    "make_spirals",
    "make_xor",
    "train_val_test_split",
]


# --------------------------------------------------------------------------- argument checks


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    """Split n_samples as evenly as possible; the first classes get the remainder."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def _finish(parts: list[numpy.ndarray], rng: numpy.random.Generator) -> tuple:
    """Stack per-class point sets, label them 0..K-1 and shuffle the samples together."""
    X = numpy.concatenate(parts, axis=0)
    y = numpy.concatenate([numpy.full(len(p), k, dtype=numpy.int64) for k, p in enumerate(parts)])
    order = rng.permutation(len(X))
    return X[order].astype(numpy.float32), y[order]


# --------------------------------------------------------------------------- synthetic sets


def make_blobs(
    n_samples: int = 300,
    centers: int | Sequence = 3,
    cluster_std: float | Sequence[float] = 1.0,
    seed: Any = None,
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Isotropic Gaussian clusters in 2-D.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible among the clusters.
    centers : int or array-like of shape (K, 2)
        The number of clusters (their centres drawn uniformly from the box
        [-10, 10]^2, as scikit-learn does) or the centres themselves.
    cluster_std : float or sequence of K floats
        Standard deviation of each cluster.
    seed : int, numpy Generator or None
        None draws from the generator ``tg.manual_seed`` seeds.

    Returns
    -------
    X : numpy.ndarray, float32, shape (N, 2)
    y : numpy.ndarray, int64, shape (N,)
        The cluster of each point, 0..K-1; the points are shuffled.
    """
    name = "make_blobs"
    n_samples = check_int(n_samples, "n_samples", name, 1)
    # Every argument is checked before the generator is made or drawn from: a refused
    # call must not move tg.manual_seed's stream (or the caller's generator).
    center_points = None
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_centers = check_int(centers, "centers", name, 1)
    elif centers is None or isinstance(centers, (numbers.Number, str, bytes)):  # no K
        raise InvalidParameterError(
            f"{name}: centers must be an int or an array of shape (K, 2), got {centers!r}"
        )
    else:
        try:
            center_points = numpy.asarray(centers, dtype=numpy.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}: centers must be an int or an array of shape (K, 2), got {centers!r}"
            ) from None
        if center_points.ndim != 2 or center_points.shape[1] != 2 or len(center_points) == 0:
            raise ValueError(
                f"{name}: centers must be an int or an array of shape (K, 2), "
                f"got shape {center_points.shape}"
            )
        if not numpy.isfinite(center_points).all():
            raise ValueError(f"{name}: centers must be finite, got {center_points.tolist()}")
        n_centers = len(center_points)
    if isinstance(cluster_std, numbers.Real):
        stds = [check_real(cluster_std, "cluster_std", name)] * n_centers
    else:
        try:
            stds = [check_real(s, "cluster_std", name) for s in cluster_std]
        except TypeError:
            raise InvalidParameterError(
                f"{name}: cluster_std must be a number or a sequence of numbers, "
                f"got {cluster_std!r}"
            ) from None
        if len(stds) != n_centers:
            raise ValueError(f"{name}: cluster_std has {len(stds)} values for {n_centers} centers")
    rng = generator_for(seed, name)
    if center_points is None:
        center_points = rng.uniform(-10.0, 10.0, size=(n_centers, 2))
    sizes = _class_sizes(n_samples, n_centers)
    parts = [
        center + std * rng.standard_normal((size, 2))
        for center, std, size in zip(center_points, stds, sizes, strict=True)
    ]
    return _finish(parts, rng)


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: Any = None
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Two interleaving half circles (scikit-learn's moons).

    Class 0 lies on the upper unit half circle, class 1 on the lower one
    centred at (1, 0.5); Gaussian noise of standard deviation ``noise`` is
    added to every coordinate. For an odd total class 1 gets the extra point,
    as in scikit-learn.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the moons.
    noise : float
        Standard deviation of the Gaussian noise (>= 0).
    seed : int, numpy Generator or None
        None draws from the generator ``tg.manual_seed`` seeds.

    Returns
    -------
    X : numpy.ndarray, float32, shape (N, 2)
    y : numpy.ndarray, int64, shape (N,)
    """
    name = "make_moons"
    n_samples = check_int(n_samples, "n_samples", name, 1)
    noise = check_real(noise, "noise", name)
    rng = generator_for(seed, name)
    n_outer = n_samples // 2  # scikit-learn's split: the inner moon takes an odd point
    n_inner = n_samples - n_outer
    angle_outer = numpy.linspace(0.0, numpy.pi, n_outer)
    angle_inner = numpy.linspace(0.0, numpy.pi, n_inner)
    outer = numpy.stack([numpy.cos(angle_outer), numpy.sin(angle_outer)], axis=1)
    inner = numpy.stack([1.0 - numpy.cos(angle_inner), 0.5 - numpy.sin(angle_inner)], axis=1)
    parts = [p + noise * rng.standard_normal(p.shape) for p in (outer, inner)]
    return _finish(parts, rng)


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: Any = None
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The CS231n spiral arms: one arm per class, winding out from the origin.

    Arm k has radii ``linspace(0, 1)`` and angles ``linspace(4k, 4(k + 1))``
    plus Gaussian noise of standard deviation ``noise`` (in radians); the
    point is ``(r sin t, r cos t)``. Not linearly separable: an MLP's test.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible among the arms.
    n_classes : int
        Number of arms (>= 1).
    noise : float
        Standard deviation of the angular noise (>= 0).
    seed : int, numpy Generator or None
        None draws from the generator ``tg.manual_seed`` seeds.

    Returns
    -------
    X : numpy.ndarray, float32, shape (N, 2)
    y : numpy.ndarray, int64, shape (N,)
    """
    name = "make_spirals"
    n_samples = check_int(n_samples, "n_samples", name, 1)
    n_classes = check_int(n_classes, "n_classes", name, 1)
    noise = check_real(noise, "noise", name)
    rng = generator_for(seed, name)
    parts = []
    for k, size in enumerate(_class_sizes(n_samples, n_classes)):
        radius = numpy.linspace(0.0, 1.0, size)
        angle = numpy.linspace(4.0 * k, 4.0 * (k + 1), size) + noise * rng.standard_normal(size)
        parts.append(numpy.stack([radius * numpy.sin(angle), radius * numpy.cos(angle)], axis=1))
    return _finish(parts, rng)


def make_xor(
    n_samples: int = 200, noise: float = 0.1, seed: Any = None
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The XOR problem: label 1 where the two coordinates have opposite signs.

    Points are drawn uniformly in the quadrants of [-1, 1]^2 that belong to
    their class (class 0: the first and third, class 1: the second and
    fourth), then Gaussian noise of standard deviation ``noise`` is added.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the classes.
    noise : float
        Standard deviation of the Gaussian noise (>= 0).
    seed : int, numpy Generator or None
        None draws from the generator ``tg.manual_seed`` seeds.

    Returns
    -------
    X : numpy.ndarray, float32, shape (N, 2)
    y : numpy.ndarray, int64, shape (N,)
    """
    name = "make_xor"
    n_samples = check_int(n_samples, "n_samples", name, 1)
    noise = check_real(noise, "noise", name)
    rng = generator_for(seed, name)
    parts = []
    for label, size in enumerate(_class_sizes(n_samples, 2)):
        magnitude = rng.uniform(0.0, 1.0, size=(size, 2))
        sign_x = rng.choice([-1.0, 1.0], size=size)
        sign_y = sign_x if label == 0 else -sign_x
        points = magnitude * numpy.stack([sign_x, sign_y], axis=1)
        parts.append(points + noise * rng.standard_normal(points.shape))
    return _finish(parts, rng)


# --------------------------------------------------------------------------- split


def _take(data: Any, index: numpy.ndarray) -> Any:
    """Rows ``index`` of a Tensor (as a Tensor, no graph) or of a NumPy or CuPy array."""
    if isinstance(data, Tensor):
        return data.detach()[index]
    return data[index]


def _check_fraction(value: Any, name: str, function: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(
            f"{function}: {name} must be a fraction in [0, 1), got {value!r}"
        )
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{function}: {name} must be a fraction in [0, 1), got {value}")
    return float(value)


def _refuse_non_array(data: Any, name: str, function: str) -> None:
    """TypeError for None, a string or a dict given as data (NumPy would make them a
    0-d array, and the error would blame the shape)."""
    if data is None or isinstance(data, (str, bytes, Mapping)):
        raise TypeError(
            f"{function}: {name} must be an array or a Tensor, got {type(data).__name__}"
        )


def _as_rows(data: Any, name: str, function: str) -> Any:
    """A Tensor or CuPy array stays as it is (NumPy cannot read a CuPy array); anything
    else becomes a NumPy array with a first axis."""
    _refuse_non_array(data, name, function)
    if not isinstance(data, Tensor) and not is_cuda_array(data):
        try:
            data = numpy.asarray(data)
        except ValueError as error:  # a ragged list
            raise ValueError(f"{function}: cannot read {name} as an array ({error})") from None
    if data.ndim == 0:
        raise ValueError(f"{function}: {name} must have at least one axis, got a scalar")
    return data


def train_val_test_split(
    X: Any, y: Any, val: float = 0.1, test: float = 0.1, seed: Any = None
) -> tuple:
    """Shuffle the samples and cut them into disjoint train, validation and test sets.

    Parameters
    ----------
    X, y : numpy.ndarray, cupy.ndarray or Tensor
        Samples along the first axis; ``len(X) == len(y)``. Each comes back
        as the same kind it went in (a Tensor stays on its device, without
        a graph).
    val, test : float
        Fractions in [0, 1) with ``val + test < 1``. The validation and test
        sets get ``round(val * N)`` and ``round(test * N)`` samples; the
        rest is the training set.
    seed : int, numpy Generator or None
        None draws from the generator ``tg.manual_seed`` seeds.

    Returns
    -------
    X_train, X_val, X_test, y_train, y_val, y_test

    Raises
    ------
    ValueError
        A fraction outside [0, 1), fractions summing to 1 or more, an empty
        training set, or ``len(X) != len(y)``.
    """
    name = "train_val_test_split"
    val = _check_fraction(val, "val", name)
    test = _check_fraction(test, "test", name)
    if val + test >= 1.0:
        raise ValueError(f"{name}: val + test must be < 1, got {val} + {test} = {val + test}")
    X = _as_rows(X, "X", name)
    y = _as_rows(y, "y", name)
    if len(X) != len(y):
        raise ValueError(f"{name}: X and y differ in length: {len(X)} vs {len(y)}")
    n = len(X)
    n_val, n_test = round(val * n), round(test * n)
    if n - n_val - n_test < 1:
        raise ValueError(
            f"{name}: {n} samples with val={val}, test={test} leave no training samples "
            f"({n_val} validation, {n_test} test)"
        )
    order = generator_for(seed, name).permutation(n)
    val_index = order[:n_val]
    test_index = order[n_val : n_val + n_test]
    train_index = order[n_val + n_test :]
    return (
        _take(X, train_index),
        _take(X, val_index),
        _take(X, test_index),
        _take(y, train_index),
        _take(y, val_index),
        _take(y, test_index),
    )


# --------------------------------------------------------------------------- DataLoader


class DataLoader:
    """Minibatches of ``(X, y)`` as Tensors, every sample once per epoch.

    Parameters
    ----------
    X : numpy.ndarray, array-like or Tensor
        Samples along the first axis. Floating NumPy data take the default
        float dtype (the Tensor rule); integer data keep theirs.
    y : numpy.ndarray, array-like, Tensor or None
        Targets, ``len(y) == len(X)``; integer labels keep their dtype. With
        ``y=None`` iterating yields ``xb`` alone.
    batch_size : int
        Samples per batch (>= 1); the last batch may be smaller.
    shuffle : bool
        Visit the samples in a fresh random order each epoch.
    drop_last : bool
        Skip the last batch when it is smaller than ``batch_size``.
    seed : int, numpy Generator or None
        Seeds the loader's own generator once, at construction; each epoch
        then draws a new order from it, so two loaders with the same seed
        give the same sequence of epochs. None draws that seed from the
        generator ``tg.manual_seed`` seeds.
    device : str or None
        Where the batches live. None: X's device when X is a Tensor, else the
        default device. Arrays are copied there once; a Tensor already there
        is shared, not copied (as torch's TensorDataset), so changing it
        changes later batches. Batches are gathered on the device with one
        vectorised index per batch.

    Examples
    --------
    >>> X, y = make_blobs(100, seed=0)
    >>> loader = DataLoader(X, y, batch_size=32, seed=0)
    >>> len(loader)
    4
    >>> [xb.shape[0] for xb, yb in loader]
    [32, 32, 32, 4]
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: Any = None,
        device: str | None = None,
    ) -> None:
        name = "DataLoader"
        self.batch_size = check_int(batch_size, "batch_size", name, 1)
        if device is None:
            device = X.device if isinstance(X, Tensor) else None
        self.device = normalize_device(device, "DataLoader")
        self.X = self._to_tensor(X, "X")
        self.y = None if y is None else self._to_tensor(y, "y")
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"{name}: X and y differ in length: {len(self.X)} vs {len(self.y)}")
        self.shuffle = check_bool(shuffle, "shuffle", "DataLoader")
        self.drop_last = check_bool(drop_last, "drop_last", "DataLoader")
        # The loader owns its generator, seeded once here; each epoch draws an order from it.
        if seed is None or isinstance(seed, numpy.random.Generator):
            source = default_generator() if seed is None else seed
            seed = int(source.integers(2**63))
        self._rng = generator_for(seed, name)

    def _to_tensor(self, data: Any, name: str) -> Tensor:
        if isinstance(data, Tensor):
            tensor = data.detach().to(self.device)
        else:
            _refuse_non_array(data, name, "DataLoader")
            try:
                tensor = Tensor(data, device=self.device)
            except (TypeError, ValueError) as error:  # Tensor's words, with the loader's name
                raise type(error)(f"DataLoader: {name}: {error}") from None
        if tensor.ndim == 0:
            raise ValueError(f"DataLoader: {name} must have at least one axis, got a scalar")
        return tensor

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = len(self.X)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self) -> Iterator:
        n = len(self.X)
        order = self._rng.permutation(n) if self.shuffle else numpy.arange(n)
        order = array_module(self.device).asarray(order)  # one transfer per epoch
        for batch in range(len(self)):
            index = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            xb = self.X[index]
            yield xb if self.y is None else (xb, self.y[index])

    def __repr__(self) -> str:
        return (
            f"DataLoader(n_samples={len(self.X)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, device={self.device!r})"
        )


# --------------------------------------------------------------------------- file readers


def _read_bytes(path: Path) -> bytes:
    """Bytes of a raw or gzip file; a damaged gzip stream is a ValueError naming the file."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"load_mnist: {path}: damaged or truncated gzip file ({error})") from None


def _find_mnist_file(root: Path, name: str, expected: list[str]) -> Path:
    for candidate in (root / name, root / (name + ".gz")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"load_mnist: {root / name}[.gz] not found; expected the files {', '.join(expected)} "
        f"(raw or .gz) in {root}"
    )


def _parse_idx(data: bytes, path: Path, magic: int, ndim: int) -> tuple[tuple[int, ...], int]:
    """Check an IDX header (big-endian int32 magic and sizes); return the shape and offset."""
    header = 4 * (1 + ndim)
    if len(data) < header:
        raise ValueError(
            f"load_mnist: {path} is truncated: {len(data)} bytes, "
            f"fewer than its {header}-byte IDX header"
        )
    found, *shape = numpy.frombuffer(data, dtype=">i4", count=1 + ndim).tolist()
    if found != magic:
        raise ValueError(
            f"load_mnist: {path} has magic number {found}, expected {magic} "
            f"({'images' if magic == 2051 else 'labels'}); not an MNIST IDX file"
        )
    if any(size < 0 for size in shape):
        raise ValueError(f"load_mnist: {path} has negative sizes in its header: {shape}")
    expected = header + math.prod(shape)
    if len(data) < expected:
        raise ValueError(
            f"load_mnist: {path} is truncated: {len(data)} bytes, but its header "
            f"(sizes {shape}) needs {expected}"
        )
    if len(data) > expected:
        raise ValueError(
            f"load_mnist: {path} has {len(data)} bytes, but its header (sizes {shape}) "
            f"describes {expected}; the file is damaged"
        )
    return tuple(shape), header


def load_mnist(
    root: str | os.PathLike, split: str = "train", flatten: bool = False, normalize: bool = False
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Read MNIST from its original IDX files.

    Parameters
    ----------
    root : str or path
        Folder holding ``{train,t10k}-images-idx3-ubyte`` and
        ``{train,t10k}-labels-idx1-ubyte``, each raw or gzip-compressed
        (``.gz``), whichever is there.
    split : {"train", "test"}
        "test" reads the ``t10k`` files.
    flatten : bool
        Return images as rows of 784 pixels instead of 28 x 28.
    normalize : bool
        Return float32 pixels in [0, 1] (divided by 255) instead of uint8.

    Returns
    -------
    X : numpy.ndarray
        uint8 (N, 28, 28), (N, 784) with ``flatten``; float32 with ``normalize``.
    y : numpy.ndarray, int64, shape (N,)

    Raises
    ------
    TypeError
        ``root`` is not a str or path, or a flag is not True or False.
    FileNotFoundError
        A file is missing (names the path and the files expected).
    ValueError
        A bad ``split``, a wrong magic number, a truncated or damaged file,
        labels outside 0..9, or image and label counts that differ.
    """
    if not isinstance(split, str) or split not in ("train", "test"):
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    root = check_path(root, "root", "load_mnist")
    flatten = check_bool(flatten, "flatten", "load_mnist")
    normalize = check_bool(normalize, "normalize", "load_mnist")
    prefix = "train" if split == "train" else "t10k"
    image_name, label_name = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
    expected = [image_name, label_name]
    image_path = _find_mnist_file(root, image_name, expected)
    label_path = _find_mnist_file(root, label_name, expected)

    image_data = _read_bytes(image_path)
    (count, rows, cols), offset = _parse_idx(image_data, image_path, 2051, 3)
    X = numpy.frombuffer(image_data, dtype=numpy.uint8, offset=offset).reshape(count, rows, cols)

    label_data = _read_bytes(label_path)
    (label_count,), offset = _parse_idx(label_data, label_path, 2049, 1)
    labels = numpy.frombuffer(label_data, dtype=numpy.uint8, offset=offset)
    if label_count != count:
        raise ValueError(
            f"load_mnist: {image_path} holds {count} images but {label_path} "
            f"holds {label_count} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"load_mnist: {label_path} has label {labels.max()}, expected 0..9")

    if flatten:
        X = X.reshape(count, rows * cols)
    X = X.astype(numpy.float32) / numpy.float32(255.0) if normalize else X.copy()
    return X, labels.astype(numpy.int64)


_CIFAR_RECORD = 1 + 3 * 32 * 32
_CIFAR_FILES = {
    "train": [f"data_batch_{i}.bin" for i in range(1, 6)],
    "test": ["test_batch.bin"],
}


def load_cifar10(
    root: str | os.PathLike, split: str = "train", normalize: bool = False
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Read CIFAR-10 from its binary version.

    Parameters
    ----------
    root : str or path
        Folder holding ``data_batch_1.bin`` .. ``data_batch_5.bin`` and
        ``test_batch.bin``, directly or in its ``cifar-10-batches-bin/``
        subfolder (the tarball's layout). Each record is one label byte and
        3072 pixel bytes (the red, green and blue 32 x 32 planes).
    split : {"train", "test"}
    normalize : bool
        Return float32 pixels in [0, 1] (divided by 255) instead of uint8.

    Returns
    -------
    X : numpy.ndarray, uint8 (float32 with ``normalize``), shape (N, 3, 32, 32)
    y : numpy.ndarray, int64, shape (N,)

    Raises
    ------
    TypeError
        ``root`` is not a str or path, or ``normalize`` is not True or False.
    FileNotFoundError
        A file is missing (names the paths looked in and the files expected).
    ValueError
        A bad ``split``, a truncated file (size not a multiple of 3073
        bytes, or empty), or a label above 9.
    """
    if not isinstance(split, str) or split not in _CIFAR_FILES:  # a list is no dict key
        raise ValueError(f"load_cifar10: split must be 'train' or 'test', got {split!r}")
    root = check_path(root, "root", "load_cifar10")
    normalize = check_bool(normalize, "normalize", "load_cifar10")
    names = _CIFAR_FILES[split]
    folders = [root, root / "cifar-10-batches-bin"]
    folder = next((f for f in folders if all((f / n).is_file() for n in names)), None)
    if folder is None:
        # Report the folder that holds the most of the files (root when neither holds any).
        closest = max(folders, key=lambda f: sum((f / n).is_file() for n in names))
        missing = [n for n in names if not (closest / n).is_file()]
        raise FileNotFoundError(
            f"load_cifar10: {closest / missing[0]} not found; expected the files "
            f"{', '.join(names)} in {root} or in {folders[1]}"
        )
    images, labels = [], []
    for name in names:
        path = folder / name
        data = path.read_bytes()
        if len(data) == 0 or len(data) % _CIFAR_RECORD:
            raise ValueError(
                f"load_cifar10: {path} is truncated or damaged: {len(data)} bytes is not a "
                f"positive multiple of the {_CIFAR_RECORD}-byte record"
            )
        records = numpy.frombuffer(data, dtype=numpy.uint8).reshape(-1, _CIFAR_RECORD)
        if records[:, 0].max() > 9:
            raise ValueError(f"load_cifar10: {path} has label {records[:, 0].max()}, expected 0..9")
        labels.append(records[:, 0].astype(numpy.int64))
        images.append(records[:, 1:].reshape(-1, 3, 32, 32))
    X = numpy.concatenate(images)  # a fresh, writable array
    y = numpy.concatenate(labels)
    if normalize:
        X = X.astype(numpy.float32) / numpy.float32(255.0)
    return X, y
