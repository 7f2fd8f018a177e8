"""The lecture's models, trained end to end, with their results asserted.

The single sigmoid neuron, weight decay, a linear softmax classifier and an MLP
trained by minibatch SGD on real MNIST digits, and an MLP on the spirals.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, optim
from tinygrad_dlcv.data import DataLoader, load_mnist, make_blobs, make_spirals
from tinygrad_dlcv.nn import functional as F

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def accuracy(logits: tg.Tensor, labels: np.ndarray) -> float:
    return float((logits.argmax(axis=1).numpy() == labels).mean())


def train(model, X, y, loss_fn, epochs, lr, batch_size=64, momentum=0.0, weight_decay=0.0):
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=True, seed=0)
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    return model


# --------------------------------------------------------------------------- the single neuron


def separable_points(seed=0):
    X, y = make_blobs(200, centers=[(-2.0, -2.0), (2.0, 2.0)], cluster_std=0.6, seed=seed)
    return X, y


def test_single_neuron_separates_two_blobs_perfectly():
    tg.manual_seed(0)
    X, y = separable_points()
    neuron = nn.Neuron(2)
    train(neuron, X, y.astype(np.float32), F.binary_cross_entropy, epochs=30, lr=0.5)
    predictions = (neuron(tg.tensor(X)).numpy() > 0.5).astype(np.int64)
    assert (predictions == y).mean() == 1.0


def test_neuron_gradient_is_prediction_error_times_feature():
    """dE/dw = -sum_n (t_n - x_n) z_n for E = BCE(sigmoid(w.z + b), t), summed."""
    tg.manual_seed(1)
    Z, t = separable_points(seed=1)
    neuron = nn.Neuron(2, dtype="float64")
    output = neuron(tg.tensor(Z, dtype="float64"))
    F.binary_cross_entropy(output, t.astype(np.float64), reduction="sum").backward()
    error = t - output.numpy()
    np.testing.assert_allclose(neuron.w.grad.numpy(), -(error @ Z), rtol=1e-10)
    np.testing.assert_allclose(neuron.b.grad.numpy(), -error.sum(), rtol=1e-10)


def test_weight_decay_keeps_the_weights_smaller():
    """E(w) + alpha * 1/2 sum w^2: alpha > 0 ends with a smaller weight norm."""
    X, y = separable_points(seed=2)
    norms = {}
    for alpha in (0.0, 0.1):
        tg.manual_seed(2)
        neuron = nn.Neuron(2)
        optimizer = optim.SGD(neuron.parameters(), lr=0.5)
        inputs, targets = tg.tensor(X), y.astype(np.float32)
        for _ in range(200):
            optimizer.zero_grad()
            loss = F.binary_cross_entropy(neuron(inputs), targets)
            (loss + alpha * F.l2_penalty([neuron.w])).backward()
            optimizer.step()
        norms[alpha] = float(np.linalg.norm(neuron.w.numpy()))
    assert norms[0.1] < 0.5 * norms[0.0]


# --------------------------------------------------------------------------- MNIST


def mnist_split():
    if (
        not (MNIST / "t10k-images-idx3-ubyte.gz").exists()
        and not (MNIST / "t10k-images-idx3-ubyte").exists()
    ):
        pytest.skip(f"MNIST test set not found in {MNIST}")
    X, y = load_mnist(MNIST, split="test", flatten=True, normalize=True)
    return X[:8000], y[:8000], X[8000:], y[8000:]


@pytest.fixture(scope="module")
def mnist():
    return mnist_split()


def test_linear_softmax_classifier_on_mnist(mnist):
    X_train, y_train, X_test, y_test = mnist
    tg.manual_seed(0)
    model = nn.Linear(784, 10)
    train(model, X_train, y_train, F.cross_entropy, epochs=8, lr=0.1, momentum=0.9)
    assert accuracy(model(tg.tensor(X_test)), y_test) >= 0.88


def test_mlp_on_mnist(mnist):
    X_train, y_train, X_test, y_test = mnist
    tg.manual_seed(0)
    model = nn.MLP(784, [256], 10)
    train(model, X_train, y_train, F.cross_entropy, epochs=10, lr=0.05, momentum=0.9)
    with tg.no_grad():
        assert accuracy(model(tg.tensor(X_test)), y_test) >= 0.95


def test_class_templates_look_like_their_digits(mnist):
    """Rows of W are class exemplars: each row correlates best with its own class mean."""
    X_train, y_train, _, _ = mnist
    tg.manual_seed(0)
    model = train(nn.Linear(784, 10), X_train, y_train, F.cross_entropy, epochs=3, lr=0.1)
    weights = model.weight.numpy()
    means = np.stack([X_train[y_train == k].mean(axis=0) for k in range(10)])
    weights = weights - weights.mean(axis=1, keepdims=True)
    means = means - means.mean(axis=1, keepdims=True)
    correlation = (weights @ means.T) / np.outer(
        np.linalg.norm(weights, axis=1), np.linalg.norm(means, axis=1)
    )
    assert (correlation.argmax(axis=1) == np.arange(10)).sum() >= 8


def test_mnist_loader_matches_the_raw_idx_bytes():
    X_train, y_train, X_test, y_test = mnist_split()
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as handle:
        raw = np.frombuffer(handle.read(), dtype=np.uint8, offset=8)
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), raw)


# --------------------------------------------------------------------------- spirals


def test_mlp_fits_spirals():
    X, y = make_spirals(300, n_classes=3, noise=0.1, seed=0)
    tg.manual_seed(0)
    model = nn.MLP(2, [64, 64], 3)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    inputs = tg.tensor(X)
    for _ in range(400):
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), y).backward()
        optimizer.step()
    assert accuracy(model(inputs), y) >= 0.97
