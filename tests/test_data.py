"""tinygrad_dlcv.data: synthetic sets, the split, the DataLoader, and the MNIST
and CIFAR-10 readers (real MNIST test files when present, small CIFAR-10
files written here in the exact binary layout)."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import Tensor
from tinygrad_dlcv.data import (
    DataLoader,
    load_cifar10,
    load_mnist,
    make_blobs,
    make_moons,
    make_spirals,
    make_xor,
    train_val_test_split,
)

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST test files not found in {MNIST_DIR}",
)

MAKERS = [make_blobs, make_moons, make_spirals, make_xor]


# --- synthetic sets ------------------------------------------------------------------------


@pytest.mark.parametrize("make", MAKERS)
def test_make_shapes_dtypes_and_determinism(make):
    X, y = make(101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert np.isfinite(X).all()
    X2, y2 = make(101, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(101, seed=4)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("make", MAKERS)
def test_make_seed_none_follows_manual_seed(make):
    tg.manual_seed(123)
    X1, y1 = make(50)
    X1b, _ = make(50)  # the global generator moved on
    tg.manual_seed(123)
    X2, y2 = make(50)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X1b)


@pytest.mark.parametrize(
    "make, n, counts",
    [
        (make_blobs, 300, [100, 100, 100]),
        (make_blobs, 301, [101, 100, 100]),
        (make_moons, 201, [100, 101]),  # scikit-learn's make_moons: the inner moon gets it
        (make_spirals, 300, [100, 100, 100]),
        (make_spirals, 302, [101, 101, 100]),
        (make_xor, 200, [100, 100]),
    ],
)
def test_make_class_balance(make, n, counts):
    _, y = make(n, seed=0)
    assert np.bincount(y).tolist() == counts


def test_make_blobs_centers_and_std():
    centers = np.array([[10.0, 0.0], [-10.0, 5.0]])
    X, y = make_blobs(2000, centers=centers, cluster_std=[0.5, 2.0], seed=0)
    assert np.bincount(y).tolist() == [1000, 1000]
    for k, std in enumerate([0.5, 2.0]):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.2)
        np.testing.assert_allclose(X[y == k].std(axis=0), std, rtol=0.1)
    X, y = make_blobs(400, centers=4, cluster_std=0.0, seed=1)
    assert len(np.unique(X, axis=0)) == 4  # std 0: every point sits on its centre
    assert np.abs(X).max() <= 10.0  # centres come from the box [-10, 10]^2


def test_make_blobs_is_shuffled():
    _, y = make_blobs(300, seed=0)
    assert not np.all(np.diff(y) >= 0)


def test_make_moons_without_noise_lies_on_the_half_circles():
    X, y = make_moons(100, noise=0.0, seed=0)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, atol=1e-6)
    assert (outer[:, 1] >= -1e-6).all()
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (inner[:, 1] <= 0.5 + 1e-6).all()


def test_make_spirals_without_noise_follows_cs231n():
    X, y = make_spirals(30, n_classes=3, noise=0.0, seed=0)
    for k in range(3):
        arm = X[y == k]
        order = np.argsort(np.hypot(*arm.T))
        radius = np.linspace(0.0, 1.0, 10)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), 10)
        expected = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
        np.testing.assert_allclose(arm[order], expected, atol=1e-6)


def test_make_xor_labels_are_the_sign_xor():
    X, y = make_xor(1000, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.abs(X).max() <= 1.0
    X, _ = make_xor(1000, noise=0.3, seed=0)
    assert np.abs(X).max() > 1.0  # the noise is there


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_blobs(0), "make_blobs.*n_samples.*0"),
        (lambda: make_blobs(10.5), "make_blobs.*n_samples.*10.5"),
        (lambda: make_blobs(True), "make_blobs.*n_samples"),
        (lambda: make_blobs(10, centers=0), "make_blobs.*centers.*0"),
        (lambda: make_blobs(10, centers=[[1, 2, 3]]), r"make_blobs.*centers.*\(1, 3\)"),
        (lambda: make_blobs(10, cluster_std=-1.0), "make_blobs.*cluster_std.*-1.0"),
        (lambda: make_blobs(10, centers=2, cluster_std=[1.0]), "make_blobs.*cluster_std"),
        (lambda: make_moons(-5), "make_moons.*n_samples.*-5"),
        (lambda: make_moons(10, noise=-0.1), "make_moons.*noise.*-0.1"),
        (lambda: make_moons(10, noise=float("nan")), "make_moons.*noise.*nan"),
        (lambda: make_spirals(10, n_classes=0), "make_spirals.*n_classes.*0"),
        (lambda: make_spirals(10, noise=-1), "make_spirals.*noise.*-1"),
        (lambda: make_xor("10"), "make_xor.*n_samples.*'10'"),
        (lambda: make_xor(10, seed=-1), "make_xor.*seed.*-1"),
    ],
)
def test_make_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_blobs("100"),
        lambda: make_moons(10.5),
        lambda: make_spirals(10, noise="a lot"),
        lambda: make_blobs(10, cluster_std="wide"),
        lambda: DataLoader(np.zeros((4, 2)), np.zeros(4), batch_size="4"),
        lambda: DataLoader(np.zeros((4, 2)), np.zeros(4), 2, shuffle="no"),  # bool("no") is True
        lambda: DataLoader(np.zeros((4, 2)), np.zeros(4), 2, drop_last=1),
        lambda: train_val_test_split(np.zeros((10, 2)), np.zeros(10), val="0.1"),
    ],
)
def test_an_argument_of_the_wrong_type_is_a_type_error(call):
    with pytest.raises(TypeError) as caught:
        call()
    assert isinstance(caught.value, ValueError)  # and still a ValueError, as before


def test_make_bad_seed_type():
    with pytest.raises(TypeError, match="make_moons.*seed.*'abc'"):
        make_moons(10, seed="abc")


# --- train_val_test_split -----------------------------------------------------------------


def _rows(X):
    return {tuple(row) for row in np.asarray(X).tolist()}


def test_split_sizes_disjoint_and_complete():
    X = np.arange(200).reshape(100, 2)
    y = np.arange(100)
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val=0.15, test=0.2, seed=0)
    assert (len(X_tr), len(X_va), len(X_te)) == (65, 15, 20)
    assert (len(y_tr), len(y_va), len(y_te)) == (65, 15, 20)
    all_y = np.concatenate([y_tr, y_va, y_te])
    assert sorted(all_y.tolist()) == list(range(100))  # disjoint and complete
    for Xp, yp in [(X_tr, y_tr), (X_va, y_va), (X_te, y_te)]:
        np.testing.assert_array_equal(Xp, X[yp])  # rows stay paired with their labels
    assert not np.array_equal(y_tr, np.sort(y_tr))  # shuffled


@pytest.mark.parametrize("n, val, test", [(10, 0.1, 0.1), (7, 0.25, 0.25), (33, 0.0, 0.3)])
def test_split_sizes_are_rounded(n, val, test):
    parts = train_val_test_split(np.zeros((n, 3)), np.zeros(n), val=val, test=test, seed=0)
    n_val, n_test = round(val * n), round(test * n)
    assert [len(p) for p in parts[:3]] == [n - n_val - n_test, n_val, n_test]


def test_split_seeded_and_manual_seed():
    X, y = np.arange(50), np.arange(50)
    a = train_val_test_split(X, y, seed=7)
    b = train_val_test_split(X, y, seed=7)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)
    tg.manual_seed(5)
    c = train_val_test_split(X, y)
    tg.manual_seed(5)
    d = train_val_test_split(X, y)
    for p, q in zip(c, d, strict=True):
        np.testing.assert_array_equal(p, q)


def test_split_arrays_stay_on_their_device(device):
    """A CuPy array is split on the GPU (NumPy cannot read it), a NumPy array on the host."""
    xp = tg.backend.array_module(tg.backend.normalize_device(device))
    X, y = xp.arange(40.0).reshape(20, 2), xp.arange(20)
    parts = train_val_test_split(X, y, val=0.2, test=0.2, seed=0)
    assert all(type(p) is type(X) for p in parts)
    host = train_val_test_split(np.arange(40.0).reshape(20, 2), np.arange(20), 0.2, 0.2, seed=0)
    for p, q in zip(parts, host, strict=True):
        np.testing.assert_array_equal(tg.backend.to_host(p), q)


def test_split_tensors_stay_tensors(device):
    X = tg.arange(40, device=device).reshape(20, 2).astype("float32").requires_grad_()
    y = tg.arange(20, device=device)
    parts = train_val_test_split(X, y, val=0.2, test=0.2, seed=0)
    assert all(isinstance(p, Tensor) for p in parts)
    assert all(p.device == X.device for p in parts)
    assert not any(p.requires_grad for p in parts)
    assert [len(p) for p in parts] == [12, 4, 4, 12, 4, 4]
    for Xp, yp in zip(parts[:3], parts[3:], strict=True):
        np.testing.assert_array_equal(Xp.numpy(), X.numpy()[yp.numpy()])
    # Mixed kinds: each comes back as it went in.
    parts = train_val_test_split(X, y.numpy(), seed=0)
    assert isinstance(parts[0], Tensor) and isinstance(parts[3], np.ndarray)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"val": -0.1}, "val.*-0.1"),
        ({"val": 1.0}, "val.*1.0"),
        ({"test": 1.5}, "test.*1.5"),
        ({"val": 0.5, "test": 0.5}, "val \\+ test"),
        ({"val": 0.6, "test": 0.45}, "val \\+ test"),
    ],
)
def test_split_bad_fractions(kwargs, match):
    with pytest.raises(ValueError, match="train_val_test_split.*" + match):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_length_mismatch_and_empty_train():
    with pytest.raises(ValueError, match="train_val_test_split.*10 vs 9"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="train_val_test_split.*no training samples"):
        train_val_test_split(np.zeros((2, 2)), np.zeros(2), val=0.45, test=0.45)


# --- DataLoader ----------------------------------------------------------------------------


def _epoch_labels(loader):
    return np.concatenate([yb.numpy() for _, yb in loader])


def test_loader_covers_every_sample_once_and_pairs_rows():
    X = np.arange(103 * 2, dtype=np.float64).reshape(103, 2)
    y = np.arange(103)
    loader = DataLoader(X, y, batch_size=10, seed=0)
    assert len(loader) == 11
    sizes = []
    seen = []
    for xb, yb in loader:
        assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64  # the Tensor dtype rule
        np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])
        sizes.append(len(xb))
        seen.extend(yb.tolist())
    assert sizes == [10] * 10 + [3]
    assert sorted(seen) == list(range(103))


def test_loader_reshuffles_each_epoch_and_is_reproducible():
    X, y = np.zeros((50, 1)), np.arange(50)
    loader = DataLoader(X, y, batch_size=8, seed=42)
    first, second = _epoch_labels(loader), _epoch_labels(loader)
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(50))
    assert not np.array_equal(first, second)
    again = DataLoader(X, y, batch_size=8, seed=42)
    np.testing.assert_array_equal(_epoch_labels(again), first)
    np.testing.assert_array_equal(_epoch_labels(again), second)


def test_loader_seed_none_follows_manual_seed():
    X, y = np.zeros((30, 1)), np.arange(30)
    tg.manual_seed(9)
    a = DataLoader(X, y, batch_size=4)
    tg.manual_seed(9)
    b = DataLoader(X, y, batch_size=4)
    np.testing.assert_array_equal(_epoch_labels(a), _epoch_labels(b))


def test_loader_without_shuffle_keeps_order():
    X, y = np.arange(10.0), np.arange(10)
    loader = DataLoader(X, y, batch_size=4, shuffle=False)
    batches = [(xb.tolist(), yb.tolist()) for xb, yb in loader]
    assert batches == [([0, 1, 2, 3], [0, 1, 2, 3]), ([4, 5, 6, 7], [4, 5, 6, 7]), ([8, 9], [8, 9])]


def test_loader_drop_last():
    X, y = np.zeros((10, 2)), np.arange(10)
    loader = DataLoader(X, y, batch_size=4, drop_last=True, seed=0)
    assert len(loader) == 2
    assert [len(xb) for xb, _ in loader] == [4, 4]
    assert len(DataLoader(X, y, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(X, y, batch_size=11, drop_last=True)) == 0
    assert len(DataLoader(X, y, batch_size=11, drop_last=False)) == 1


def test_loader_without_targets_yields_tensors():
    X = np.arange(12.0).reshape(6, 2)
    batches = list(DataLoader(X, batch_size=4, shuffle=False))
    assert all(isinstance(xb, Tensor) for xb in batches)
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in batches]), X)


def test_loader_keeps_integer_and_float_dtypes():
    X = np.zeros((4, 3), dtype=np.uint8)
    y = np.zeros(4, dtype=np.float64)
    xb, yb = next(iter(DataLoader(X, y, batch_size=4)))
    assert xb.dtype == np.uint8 and yb.dtype == np.float32
    tg.set_default_dtype(tg.float64)
    xb, _ = next(iter(DataLoader(np.zeros((4, 3), dtype=np.float32), y, batch_size=4)))
    assert xb.dtype == np.float64


def test_loader_device(device):
    X = tg.randn(20, 3, device=device)
    y = tg.arange(20, device=device)
    loader = DataLoader(X, y, batch_size=6, seed=0)
    batches = list(loader)
    assert all(xb.device == X.device and yb.device == X.device for xb, yb in batches)
    labels = np.concatenate([yb.numpy() for _, yb in batches])
    assert sorted(labels.tolist()) == list(range(20))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.numpy(), X.numpy()[yb.numpy()])
    # NumPy data go to the device asked for.
    xb, yb = next(iter(DataLoader(np.ones((5, 2)), np.arange(5), device=device)))
    assert xb.device == yb.device == tg.zeros(1, device=device).device


def test_loader_tensor_input_is_detached():
    X = tg.randn(8, 2, requires_grad=True)
    xb, _ = next(iter(DataLoader(X, np.arange(8), batch_size=8)))
    assert not xb.requires_grad and xb.grad_fn is None


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_loader_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"DataLoader.*batch_size.*{batch_size}"):
        DataLoader(np.zeros((4, 2)), np.zeros(4), batch_size=batch_size)


def test_loader_length_mismatch():
    with pytest.raises(ValueError, match="DataLoader.*5 vs 4"):
        DataLoader(np.zeros((5, 2)), np.zeros(4))


# --- MNIST ---------------------------------------------------------------------------------


def _idx_images(images):
    n, rows, cols = images.shape
    header = np.array([2051, n, rows, cols], dtype=">i4").tobytes()
    return header + images.astype(np.uint8).tobytes()


def _idx_labels(labels):
    return np.array([2049, len(labels)], dtype=">i4").tobytes() + labels.astype(np.uint8).tobytes()


def _write_mnist(folder, images, labels, prefix="train", gz=False):
    for name, data in [
        (f"{prefix}-images-idx3-ubyte", _idx_images(images)),
        (f"{prefix}-labels-idx1-ubyte", _idx_labels(labels)),
    ]:
        if gz:
            with gzip.open(folder / (name + ".gz"), "wb") as f:
                f.write(data)
        else:
            (folder / name).write_bytes(data)


@needs_mnist
def test_mnist_real_test_split():
    X, y = load_mnist(MNIST_DIR, split="test")
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS
    assert X.max() == 255 and X.min() == 0
    assert X.flags.writeable
    Xf, yf = load_mnist(MNIST_DIR, split="test", flatten=True, normalize=True)
    assert Xf.shape == (10000, 784) and Xf.dtype == np.float32
    assert 0.0 <= Xf.min() and Xf.max() == 1.0
    np.testing.assert_allclose(Xf, X.reshape(10000, 784) / 255.0, atol=1e-7)
    np.testing.assert_array_equal(yf, y)


@needs_mnist
def test_mnist_raw_files_read_the_same(tmp_path):
    for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
        with gzip.open(MNIST_DIR / (name + ".gz"), "rb") as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    X_raw, y_raw = load_mnist(tmp_path, split="test")
    X_gz, y_gz = load_mnist(MNIST_DIR, split="test")
    np.testing.assert_array_equal(X_raw, X_gz)
    np.testing.assert_array_equal(y_raw, y_gz)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_small_files_round_trip(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1, 5, 2])
    _write_mnist(tmp_path, images, labels, prefix="train", gz=gz)
    X, y = load_mnist(tmp_path)  # split="train" by default
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    X, _ = load_mnist(tmp_path, flatten=True)
    np.testing.assert_array_equal(X, images.reshape(7, 784))
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, split="test")


def test_loader_flags_must_be_bools(tmp_path):
    # "no" is truthy: normalize="no" handed back normalised floats without a word.
    _write_mnist(tmp_path, np.zeros((2, 28, 28), np.uint8), np.array([1, 2]), prefix="train")
    _write_cifar(tmp_path, "test", np.random.default_rng(0), [2])
    for call in (
        lambda: load_mnist(tmp_path, normalize="no"),
        lambda: load_mnist(tmp_path, flatten=1),
        lambda: load_cifar10(tmp_path, split="test", normalize="no"),
    ):
        with pytest.raises(TypeError, match=r"load_(mnist|cifar10): (normalize|flatten) must be"):
            call()
    X, _ = load_mnist(tmp_path, flatten=np.bool_(True), normalize=False)
    assert X.shape == (2, 784) and X.dtype == np.uint8


def test_mnist_bad_split(tmp_path):
    with pytest.raises(ValueError, match="load_mnist.*split.*'validation'"):
        load_mnist(tmp_path, split="validation")


def test_mnist_missing_file_names_path_and_expected(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path / "nowhere", split="test")
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    # Images present, labels missing.
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_images(np.zeros((1, 28, 28))))
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path, split="test")


def test_mnist_wrong_magic(tmp_path):
    _write_mnist(tmp_path, np.zeros((2, 28, 28)), np.zeros(2))
    bad = np.array([2049, 2, 28, 28], dtype=">i4").tobytes() + bytes(2 * 784)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(bad)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*magic number 2049.*2051"):
        load_mnist(tmp_path)


def test_mnist_truncated(tmp_path):
    _write_mnist(tmp_path, np.zeros((3, 28, 28)), np.zeros(3))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte is truncated: 2268 bytes.*2368"):
        load_mnist(tmp_path)
    path.write_bytes(path.read_bytes()[:10])  # shorter than the header
    with pytest.raises(ValueError, match="truncated: 10 bytes"):
        load_mnist(tmp_path)


def test_mnist_truncated_gzip(tmp_path):
    _write_mnist(tmp_path, np.zeros((3, 28, 28)), np.zeros(3), gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match="^load_mnist: .*train-images-idx3-ubyte.gz: damaged"):
        load_mnist(tmp_path)


def test_mnist_count_mismatch_and_bad_label(tmp_path):
    _write_mnist(tmp_path, np.zeros((3, 28, 28)), np.zeros(2))
    with pytest.raises(ValueError, match="3 images.*2 labels"):
        load_mnist(tmp_path)
    _write_mnist(tmp_path, np.zeros((2, 28, 28)), np.array([1, 12]))
    with pytest.raises(ValueError, match="label 12"):
        load_mnist(tmp_path)


# --- CIFAR-10 ------------------------------------------------------------------------------


def _cifar_records(rng, n):
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([labels[:, None], images.reshape(n, 3072)], axis=1)
    return records.tobytes(), images, labels


def _write_cifar(folder, split, rng, sizes):
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    all_images, all_labels = [], []
    for name, n in zip(names, sizes, strict=True):
        data, images, labels = _cifar_records(rng, n)
        (folder / name).write_bytes(data)
        all_images.append(images)
        all_labels.append(labels)
    return np.concatenate(all_images), np.concatenate(all_labels)


@pytest.mark.parametrize("subfolder", ["", "cifar-10-batches-bin"])
def test_cifar_train_round_trip(tmp_path, subfolder):
    rng = np.random.default_rng(0)
    images, labels = _write_cifar(tmp_path / subfolder, "train", rng, [3, 1, 2, 4, 2])
    X, y = load_cifar10(tmp_path, split="train")
    assert X.shape == (12, 3, 32, 32) and X.dtype == np.uint8
    assert y.shape == (12,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, images)  # files read in order 1..5
    np.testing.assert_array_equal(y, labels)
    # The first record's layout: label byte, then the red, green, blue planes row-major.
    raw = (tmp_path / subfolder / "data_batch_1.bin").read_bytes()
    assert y[0] == raw[0]
    assert X[0, 0, 0, 1] == raw[2] and X[0, 1, 0, 0] == raw[1 + 1024]
    assert X[0, 2, 31, 31] == raw[3072]


def test_cifar_test_split_and_normalize(tmp_path):
    images, labels = _write_cifar(tmp_path, "test", np.random.default_rng(1), [5])
    X, y = load_cifar10(tmp_path, split="test", normalize=True)
    assert X.dtype == np.float32 and X.shape == (5, 3, 32, 32)
    np.testing.assert_allclose(X, images / 255.0, atol=1e-7)
    np.testing.assert_array_equal(y, labels)


def test_cifar_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_cifar10(tmp_path, split="test")
    assert "test_batch.bin" in str(info.value) and str(tmp_path) in str(info.value)
    _write_cifar(tmp_path, "train", np.random.default_rng(0), [1, 1, 1, 1, 1])
    (tmp_path / "data_batch_4.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_4.bin.*data_batch_1.bin"):
        load_cifar10(tmp_path)


def test_cifar_truncated_and_bad_label(tmp_path):
    _write_cifar(tmp_path, "test", np.random.default_rng(0), [2])
    path = tmp_path / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="test_batch.bin.*6145 bytes.*3073"):
        load_cifar10(tmp_path, split="test")
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="test_batch.bin.*0 bytes"):
        load_cifar10(tmp_path, split="test")
    record = bytearray(3073)
    record[0] = 10
    path.write_bytes(bytes(record))
    with pytest.raises(ValueError, match="test_batch.bin.*label 10"):
        load_cifar10(tmp_path, split="test")


def test_cifar_bad_split(tmp_path):
    with pytest.raises(ValueError, match="load_cifar10.*split.*'val'"):
        load_cifar10(tmp_path, split="val")


def test_make_moons_splits_an_odd_total_as_scikit_learn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    for n in (7, 101):
        ours = np.bincount(make_moons(n, seed=0)[1])
        theirs = np.bincount(sklearn_datasets.make_moons(n, random_state=0)[1])
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: load_cifar10("/tmp", split=["train"]), ValueError),  # was "unhashable type"
        (lambda: make_blobs(10, centers=2.0, seed=0), TypeError),
        (lambda: make_blobs(10, centers=True, seed=0), TypeError),
        (lambda: train_val_test_split([[1, 2], [3]], [0, 1]), ValueError),
        (lambda: train_val_test_split(np.ones((4, 2)), None), TypeError),
    ],
)
def test_data_functions_name_themselves_in_errors(call, error):
    with pytest.raises(error, match="load_cifar10|make_blobs|train_val_test_split"):
        call()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"centers": 3, "cluster_std": [1.0, 2.0]},
        {"centers": 3, "cluster_std": -1.0},
        {"centers": 3, "cluster_std": [1.0, 2.0, "a"]},
        {"centers": "x"},
        {"centers": None},
    ],
)
def test_a_refused_make_blobs_leaves_the_random_streams_where_they_were(kwargs):
    tg.manual_seed(0)
    expected = tg.randn(3).numpy()
    tg.manual_seed(0)
    with pytest.raises((TypeError, ValueError)):
        make_blobs(10, **kwargs)
    np.testing.assert_array_equal(tg.randn(3).numpy(), expected)
    generator = np.random.default_rng(5)
    with pytest.raises((TypeError, ValueError)):
        make_blobs(10, seed=generator, **kwargs)
    assert generator.random() == np.random.default_rng(5).random()


def test_make_blobs_centers_none_is_a_type_error():
    with pytest.raises(TypeError, match="centers"):
        make_blobs(10, centers=None)


@pytest.mark.parametrize("bad", [None, "abcdef", {1: 2}])
def test_data_that_is_no_array_is_a_type_error_naming_the_function(bad):
    with pytest.raises(TypeError, match="train_val_test_split: X"):
        train_val_test_split(bad, np.zeros(6))
    with pytest.raises(TypeError, match="DataLoader: X"):
        DataLoader(bad, np.zeros(6))
    if bad is not None:  # y=None is allowed: batches of X alone
        with pytest.raises(TypeError, match="DataLoader: y"):
            DataLoader(np.zeros((6, 2)), bad)


def test_dataloader_names_itself_for_data_a_tensor_cannot_hold():
    with pytest.raises(TypeError, match="DataLoader: y"):
        DataLoader(np.zeros((2, 2)), np.array([object(), object()]))
    with pytest.raises(TypeError, match="DataLoader: X"):
        DataLoader(np.array([1 + 2j, 3j]), None)


def test_load_mnist_refuses_a_split_that_is_not_a_string(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split=np.array(["test", "x"]))
