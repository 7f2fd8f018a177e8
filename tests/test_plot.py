"""tinygrad_dlcv.plot: each picture's content, the files it writes, given Axes, bad input."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import tinygrad_dlcv as tg  # noqa: E402
from tinygrad_dlcv import nn, plot  # noqa: E402
from tinygrad_dlcv.cluster import KMeans  # noqa: E402
from tinygrad_dlcv.data import make_blobs, make_moons  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    """Every test starts and ends without open figures."""
    plt.close("all")
    yield
    plt.close("all")


def visible_axes(fig):
    return [a for a in fig.axes if a.get_visible()]


def scatter_sizes(ax):
    """Number of points of each scatter (PathCollection) on ax."""
    return [len(c.get_offsets()) for c in ax.collections if type(c).__name__ == "PathCollection"]


def assert_written(path):
    assert path.exists() and path.stat().st_size > 0


def test_import_does_not_import_matplotlib():
    code = "import sys, tinygrad_dlcv.plot; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------- decision_boundary


@pytest.fixture
def moons():
    return make_moons(120, noise=0.1, seed=0)


@pytest.mark.parametrize(
    "model",
    [nn.Neuron(2), nn.Linear(2, 2), nn.Linear(2, 3), nn.MLP(2, [8], 2)],
    ids=["neuron", "linear2", "linear3", "mlp"],
)
def test_decision_boundary_models(model, moons, tmp_path):
    X, y = moons
    fig = plot.decision_boundary(model, X, y, resolution=40, path=tmp_path / "b.png")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert scatter_sizes(ax) == [len(X)]  # every data point drawn once
    assert any(type(c).__name__ in ("QuadContourSet", "PathCollection") for c in ax.collections)
    assert type(model).__name__ in ax.get_title()
    assert ax.get_xlabel() == "$x_1$"
    assert_written(tmp_path / "b.png")


def test_decision_boundary_threshold_and_accuracy_in_title():
    X = np.array([[-2.0, 0.0], [-1.0, 1.0], [1.0, -1.0], [2.0, 0.5]], dtype=np.float32)
    y = np.array([0, 0, 1, 1])
    # a logit (threshold 0) and a probability (threshold 0.5) give the same classes
    logit = plot.decision_boundary(lambda t: t[:, 0], X, y, resolution=20)
    probability = plot.decision_boundary(lambda t: t[:, 0].sigmoid(), X, y, resolution=20)
    two_columns = plot.decision_boundary(lambda t: tg.stack([-t[:, 0], t[:, 0]], axis=1), X, y)
    for fig in (logit, probability, two_columns):
        assert "accuracy 100.0%" in fig.axes[0].get_title()
    flipped = plot.decision_boundary(lambda t: t[:, 0], X, 1 - y, resolution=20)
    assert "accuracy 0.0%" in flipped.axes[0].get_title()
    # an explicit threshold overrides the guess: every point is below 5
    shifted = plot.decision_boundary(lambda t: t[:, 0], X, y, resolution=20, threshold=5.0)
    assert "accuracy 50.0%" in shifted.axes[0].get_title()


def test_decision_boundary_into_given_ax_with_title_svg(moons, tmp_path):
    X, y = moons
    fig, (left, right) = plt.subplots(1, 2)
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    assert model.training
    out = plot.decision_boundary(
        model, tg.tensor(X), tg.tensor(y), ax=right, title="mine", path=tmp_path / "b.svg"
    )
    assert out is fig
    assert right.get_title() == "mine"
    assert scatter_sizes(right) == [len(X)] and not left.collections
    assert model.training  # evaluated in eval mode, then put back
    assert_written(tmp_path / "b.svg")


def test_pictures_of_models_and_data_on_a_device(device, moons):
    X, y = moons
    model = nn.MLP(2, [8], 2, device=device)
    fig = plot.decision_boundary(model, tg.tensor(X, device=device), tg.tensor(y, device=device))
    assert scatter_sizes(fig.axes[0]) == [len(X)]
    km = KMeans(2, random_state=0, track_history=True).fit(tg.tensor(X, device=device))
    fig = plot.kmeans_history(tg.tensor(X, device=device), km.history_)
    assert all(scatter_sizes(ax)[0] == len(X) for ax in visible_axes(fig))
    weights = nn.Linear(2, 3, device=device)
    assert len(visible_axes(plot.class_templates(weights, image_shape=(1, 2)))) == 3


def test_decision_boundary_bad_input(moons):
    X, y = moons
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"decision_boundary: X must have shape \(N, 2\)"):
        plot.decision_boundary(nn.Linear(3, 2), np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="decision_boundary: y must have shape"):
        plot.decision_boundary(model, X, y[:-1])
    with pytest.raises(ValueError, match="decision_boundary: y must hold class indices"):
        plot.decision_boundary(model, X, y + 0.5)
    with pytest.raises(TypeError, match="decision_boundary: model must be callable"):
        plot.decision_boundary("model", X, y)
    with pytest.raises(TypeError, match="decision_boundary: model must be callable.*42"):
        plot.decision_boundary(42, X, y)
    with pytest.raises(ValueError, match="decision_boundary: resolution"):
        plot.decision_boundary(model, X, y, resolution=1)
    with pytest.raises(ValueError, match="decision_boundary: cannot save"):
        plot.decision_boundary(model, X, y, path="out.txt")
    with pytest.raises(ValueError, match=r"decision_boundary: the model must map \(M, 2\)"):
        plot.decision_boundary(lambda t: t.reshape(-1), X, y, resolution=10)


# --------------------------------------------------------------------------- kmeans_history


@pytest.fixture
def blobs():
    X, _ = make_blobs(200, centers=[[-5, -5], [5, -5], [0, 5]], cluster_std=1.0, seed=1)
    start = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    km = KMeans(3, init=start, max_iter=20, tol=0, track_history=True).fit(X)
    assert len(km.history_) >= 3
    return X, km


def test_kmeans_history_panels(blobs, tmp_path):
    X, km = blobs
    history = km.history_
    fig = plot.kmeans_history(X, history, max_panels=4, path=tmp_path / "k.png")
    assert isinstance(fig, Figure)
    axes = visible_axes(fig)
    assert len(axes) == min(4, len(history))
    assert axes[0].get_title() == "initial centers"
    assert axes[-1].get_title() == f"iteration {len(history) - 1}"
    for ax in axes:
        # the N points, then one big cross per center
        assert scatter_sizes(ax) == [len(X)] + [1] * 3
    last = axes[-1].collections[-3:]
    centers = np.array([c.get_offsets()[0] for c in last])
    np.testing.assert_allclose(centers, history[-1]["centers"], rtol=1e-6)
    assert "K=3" in fig.get_suptitle()
    assert_written(tmp_path / "k.png")


def test_kmeans_history_arrows_show_each_move():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    labels = np.array([0, 0, 1, 1])
    history = [
        {"centers": np.array([[0.0, 1.0], [10.0, 1.0]]), "labels": labels},
        {"centers": np.array([[0.5, 0.0], [10.0, 1.0]]), "labels": labels},  # only center 0 moves
        {"centers": np.array([[0.5, 0.0], [10.5, 0.0]]), "labels": labels},  # only center 1 moves
    ]
    fig = plot.kmeans_history(X, history)
    first, second, third = visible_axes(fig)
    assert [len(ax.texts) for ax in (first, second, third)] == [0, 1, 1]
    arrow = second.texts[0]
    np.testing.assert_allclose(arrow.xy, [0.5, 0.0])
    np.testing.assert_allclose(arrow.xyann, [0.0, 1.0])
    np.testing.assert_allclose(third.texts[0].xy, [10.5, 0.0])


def test_kmeans_history_default_panels_capped(blobs):
    X, km = blobs
    long = km.history_ * 3  # more iterations than panels
    fig = plot.kmeans_history(X, long)
    axes = visible_axes(fig)
    assert len(axes) == 6
    assert axes[0].get_title() == "initial centers"
    assert axes[-1].get_title() == f"iteration {len(long) - 1}"


def test_kmeans_history_gif_one_frame_per_iteration(blobs, tmp_path):
    from PIL import Image, ImageSequence

    X, km = blobs
    path = tmp_path / "k.gif"
    fig = plot.kmeans_history(tg.tensor(X), km, path=path, fps=4)  # a fitted KMeans works too
    assert isinstance(fig, Figure)
    assert len(visible_axes(fig)) == min(6, len(km.history_))
    assert_written(path)
    with Image.open(path) as gif:
        assert sum(1 for _ in ImageSequence.Iterator(gif)) == len(km.history_)
    assert plt.get_fignums() == [fig.number]  # the animation's own figure is closed


def test_kmeans_history_given_axes_and_projection():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-4, 1, (50, 4)), rng.normal(4, 1, (50, 4))])
    km = KMeans(2, random_state=0, track_history=True).fit(X)
    fig, ax = plt.subplots()
    assert plot.kmeans_history(X, km.history_, ax=ax) is fig
    assert scatter_sizes(ax) == [100, 1, 1]
    assert f"iteration {len(km.history_) - 1}" in ax.get_title()
    assert "principal axes" in ax.get_title()
    fig2, axes = plt.subplots(1, 2)
    assert plot.kmeans_history(X, km.history_, ax=axes) is fig2
    assert all(scatter_sizes(a) == [100, 1, 1] for a in axes)


def test_kmeans_history_bad_input(blobs):
    X, km = blobs
    history = km.history_
    with pytest.raises(ValueError, match="kmeans_history: history must be a non-empty list"):
        plot.kmeans_history(X, [])
    with pytest.raises(ValueError, match=r"kmeans_history: X must have shape \(N, D\)"):
        plot.kmeans_history(X[:, 0], history)
    with pytest.raises(ValueError, match=r"history\[0\]\['labels'\] must hold 199 labels"):
        plot.kmeans_history(X[:-1], history)
    with pytest.raises(TypeError, match=r"history\[1\] must be a dict.*got str"):
        plot.kmeans_history(X, [history[0], "x"])
    with pytest.raises(ValueError, match=r"history\[1\] must be a dict with 'centers'"):
        plot.kmeans_history(X, [history[0], {"centers": history[0]["centers"]}])
    with pytest.raises(TypeError, match="kmeans_history: history must be a non-empty list"):
        plot.kmeans_history(X, None)
    bad = [history[0], {"centers": history[1]["centers"][:2], "labels": history[1]["labels"]}]
    with pytest.raises(ValueError, match=r"history\[1\]\['centers'\] must have shape"):
        plot.kmeans_history(X, bad)
    with pytest.raises(ValueError, match="kmeans_history: max_panels"):
        plot.kmeans_history(X, history, max_panels=0)
    with pytest.raises(ValueError, match="kmeans_history: cannot save"):
        plot.kmeans_history(X, history, path="k.mp4")


# --------------------------------------------------------------------------- class_templates


def test_class_templates_images_titles_and_scale(tmp_path):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((10, 784)).astype(np.float32)
    names = [f"digit {i}" for i in range(10)]
    fig = plot.class_templates(tg.tensor(W), class_names=names, path=tmp_path / "t.png")
    images = [im for ax in visible_axes(fig) for im in ax.images]
    assert len(images) == 10
    assert [ax.get_title() for ax in visible_axes(fig)] == names
    for row, im in zip(W, images, strict=True):
        np.testing.assert_allclose(im.get_array(), row.reshape(28, 28))
        low, high = im.get_clim()
        assert low == pytest.approx(-high) and high == pytest.approx(np.abs(row).max())
        assert im.get_cmap().name == "RdBu_r"
    assert_written(tmp_path / "t.png")


def test_class_templates_from_linear_default_names_and_rgb():
    linear = nn.Linear(64, 3)
    fig = plot.class_templates(linear, image_shape=(8, 8))
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["0", "1", "2"]
    np.testing.assert_allclose(
        axes[1].images[0].get_array(), linear.weight.numpy()[1].reshape(8, 8)
    )
    rgb = plot.class_templates(np.random.default_rng(1).normal(size=(2, 3 * 4 * 5)), (3, 4, 5))
    arrays = [ax.images[0].get_array() for ax in visible_axes(rgb)]
    assert [a.shape for a in arrays] == [(4, 5, 3)] * 2
    assert all(a.min() == pytest.approx(0) and a.max() == pytest.approx(1) for a in arrays)


def test_class_templates_given_axes():
    W = np.random.default_rng(0).normal(size=(4, 36))
    fig, ax = plt.subplots()
    assert plot.class_templates(W, (6, 6), ax=ax) is fig
    assert len(ax.images) == 1  # one Axes: a mosaic of all templates
    assert [t.get_text() for t in ax.texts] == ["0", "1", "2", "3"]
    fig2, axes = plt.subplots(2, 2)
    assert plot.class_templates(W, (6, 6), class_names="abcd", ax=axes) is fig2
    assert [a.get_title() for a in axes.ravel()] == list("abcd")
    assert all(len(a.images) == 1 for a in axes.ravel())


def test_class_templates_bad_input():
    W = np.zeros((3, 784))
    with pytest.raises(ValueError, match=r"class_templates: W must have shape \(C, 100\)"):
        plot.class_templates(W, image_shape=(10, 10))
    with pytest.raises(ValueError, match="class_templates: 2 class_names for 3 rows"):
        plot.class_templates(W, class_names=["a", "b"])
    with pytest.raises(ValueError, match="class_templates: image_shape"):
        plot.class_templates(W, image_shape=(784,))
    fig, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="class_templates: 2 Axes for 3 templates"):
        plot.class_templates(W, ax=axes)


# --------------------------------------------------------------------------- neuron_function


def test_neuron_function_surface_and_decision_line(tmp_path):
    fig = plot.neuron_function(tg.tensor([1.0, 2.0]), -1, path=tmp_path / "n.png")
    three_d = [ax for ax in fig.axes if ax.name == "3d"]
    assert len(three_d) == 1
    surface = three_d[0]
    assert any(type(c).__name__ == "Poly3DCollection" for c in surface.collections)
    assert r"\sigma(x_1 + 2x_2 - 1)" in fig.get_suptitle()
    # the top view: the drawn decision line satisfies w . x + b = 0 and stays in the limits
    top = [ax for ax in fig.axes if ax.name != "3d" and ax.get_title()][0]
    (line,) = [ln for ln in top.get_lines() if "w \\cdot x" in ln.get_label()]
    x1, x2 = line.get_xdata(), line.get_ydata()
    np.testing.assert_allclose(x1 + 2 * x2 - 1, 0, atol=1e-9)
    assert x1.min() >= -4 and x1.max() <= 4 and x2.min() >= -4 and x2.max() <= 4
    assert_written(tmp_path / "n.png")


def test_neuron_function_given_3d_ax_and_activations():
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert plot.neuron_function([0.5, -1], 0.25, ax=ax, activation="tanh", limits=(-2, 2)) is fig
    assert fig.axes == [ax]
    assert r"\tanh(0.5x_1 - x_2 + 0.25)" in ax.get_title()
    low, high = ax.get_xlim()
    assert (low, high) == (-2, 2)
    relu = plot.neuron_function([1, 1], 0, activation="relu")
    assert "relu" in relu.get_suptitle()
    assert plot.neuron_function([0, 0], 1, activation=None).get_suptitle().endswith("$y = 1$")


def test_neuron_function_bad_input():
    with pytest.raises(ValueError, match="neuron_function: w must hold 2 weights"):
        plot.neuron_function([1, 2, 3], 0)
    with pytest.raises(ValueError, match="neuron_function: b must be a single number"):
        plot.neuron_function([1, 2], [0, 1])
    with pytest.raises(ValueError, match="neuron_function: unknown activation 'softplus'"):
        plot.neuron_function([1, 2], 0, activation="softplus")
    with pytest.raises(ValueError, match="neuron_function: limits"):
        plot.neuron_function([1, 2], 0, limits=(2, -2))
    fig, flat = plt.subplots()
    with pytest.raises(TypeError, match="neuron_function: ax must be a 3-D Axes"):
        plot.neuron_function([1, 2], 0, ax=flat)


# --------------------------------------------------------------------------- weight_trajectory


def test_weight_trajectory_line_and_markers(tmp_path):
    ws = [np.array([0.0, 0.0, 9.0]), tg.tensor([1.0, 0.5, 9.0]), [2.0, 0.75, 9.0]]
    fig = plot.weight_trajectory(ws, path=tmp_path / "w.png")
    (ax,) = fig.axes
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "weights"]
    np.testing.assert_allclose(line.get_xydata(), [[0, 0], [1, 0.5], [2, 0.75]])
    starts_ends = [c.get_offsets()[0].tolist() for c in ax.collections]
    assert starts_ends == [[0.0, 0.0], [2.0, 0.75]]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["weights", "start", "end"]
    assert ax.get_xlabel() == "$w_1$" and ax.get_ylabel() == "$w_2$"
    assert_written(tmp_path / "w.png")


def test_weight_trajectory_runs_and_loss_contours():
    runs = {
        "plain": np.array([[0.0, 0.0], [1.0, 1.0]]),
        "decay": np.array([[0.0, 0.0], [0.5, 0.5]]),
    }
    calls = []

    def loss_fn(w):
        calls.append(w.shape)
        return float(((w - 1) ** 2).sum())

    fig, ax = plt.subplots()
    assert plot.weight_trajectory(runs, ax=ax, loss_fn=loss_fn, resolution=12) is fig
    assert len(calls) == 144 and set(calls) == {(2,)}
    assert any(type(c).__name__ == "QuadContourSet" for c in ax.collections)
    assert len(fig.axes) == 2  # the axes and the loss colorbar
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["plain", "decay"]


def test_weight_trajectory_bad_input():
    with pytest.raises(ValueError, match="weight_trajectory: ws is empty"):
        plot.weight_trajectory([])
    with pytest.raises(ValueError, match="same length >= 2"):
        plot.weight_trajectory([[1.0], [2.0]])
    with pytest.raises(ValueError, match="same length >= 2"):
        plot.weight_trajectory([[1.0, 2.0], [1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="weight_trajectory: loss_fn must be callable"):
        plot.weight_trajectory([[1.0, 2.0]], loss_fn=3)
    with pytest.raises(TypeError, match="weight_trajectory: ws must be a sequence.*NoneType"):
        plot.weight_trajectory(None)
    with pytest.raises(TypeError, match=r"weight_trajectory: ws\['a'\] must be a sequence"):
        plot.weight_trajectory({"a": 3})
    with pytest.raises(TypeError, match="weight_trajectory: ws must be an array of numbers"):
        plot.weight_trajectory([None, [1.0, 2.0]])


# --------------------------------------------------------------------------- training_curves


def test_training_curves_two_panels(tmp_path):
    history = {
        "loss": [1.0, 0.5, 0.25],
        "val_loss": [1.1, 0.6, 0.4],
        "accuracy": [0.5, 0.8, 0.9],
        "val_accuracy": [0.4, 0.7, 0.8],
        "lr": [0.1, 0.1, 0.1],  # ignored
    }
    fig = plot.training_curves(history, path=tmp_path / "c.png")
    loss_ax, acc_ax = fig.axes
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("Loss", "Accuracy")
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    for ax, keys in ((loss_ax, ("loss", "val_loss")), (acc_ax, ("accuracy", "val_accuracy"))):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["train", "validation"]
        for line, key in zip(lines, keys, strict=True):
            np.testing.assert_allclose(line.get_xdata(), [1, 2, 3])
            np.testing.assert_allclose(line.get_ydata(), history[key])
        assert ax.get_legend() is not None
    assert_written(tmp_path / "c.png")


def test_training_curves_of_losses_kept_as_tensors(device):
    """A list of 0-d tensors (on a GPU NumPy refuses to convert them in one go)."""
    losses = [tg.tensor(value, device=device) for value in (1.0, 0.5, 0.25)]
    fig = plot.training_curves({"loss": losses})
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [1.0, 0.5, 0.25])


def test_training_curves_only_present_panels_and_twin_axis():
    only_loss = plot.training_curves({"loss": [3.0, 2.0, 1.0]})
    assert [ax.get_title() for ax in only_loss.axes] == ["Loss"]
    only_acc = plot.training_curves({"val_accuracy": [0.1, 0.2]})
    assert [ax.get_title() for ax in only_acc.axes] == ["Accuracy"]
    fig, ax = plt.subplots()
    out = plot.training_curves({"loss": [1.0, 0.5], "accuracy": [0.6, 0.9]}, ax=ax)
    assert out is fig
    assert len(fig.axes) == 2  # accuracy on a twin y axis
    assert ax.get_ylabel() == "loss" and fig.axes[1].get_ylabel() == "accuracy"


def test_training_curves_bad_input():
    with pytest.raises(ValueError, match="training_curves: history is empty"):
        plot.training_curves({})
    with pytest.raises(ValueError, match="training_curves: history is empty"):
        plot.training_curves({"loss": [], "other": [1.0]})
    with pytest.raises(TypeError, match="training_curves: history must be a dict.*list"):
        plot.training_curves([1.0, 2.0])
    with pytest.raises(TypeError, match="training_curves: history must be a dict.*list"):
        plot.training_curves([0.1])
    with pytest.raises(TypeError, match="training_curves: history must be a dict.*NoneType"):
        plot.training_curves(None)
    with pytest.raises(TypeError, match=r"training_curves: history\['loss'\] must be an array"):
        plot.training_curves({"loss": "high"})
    with pytest.raises(ValueError, match="training_curves: cannot save"):
        plot.training_curves({"loss": [1.0]}, path="c.gif")


def test_training_curves_draws_a_diverged_run_with_gaps():
    nan, inf = float("nan"), float("inf")
    history = {
        "loss": [1.0, 0.5, nan, inf],
        "val_loss": [1.2, 0.4, nan, nan],
        "accuracy": [0.5] * 4,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from NaN either
        fig = plot.training_curves(history)
    loss_ax = fig.axes[0]
    train, val = loss_ax.get_lines()
    np.testing.assert_array_equal(train.get_ydata(), [1.0, 0.5, nan, nan])  # inf too: a gap
    assert train.get_label() == "train (2 epochs nan/inf, not drawn)"
    assert val.get_label() == "validation (2 epochs nan/inf, not drawn)"
    low, high = loss_ax.get_ylim()
    assert np.isfinite([low, high]).all() and high < 2  # the axis fits the finite values
    assert "best 0.4" in [text.get_text() for text in loss_ax.texts]
    only_nan = plot.training_curves({"loss": [nan, nan]})
    assert np.isnan(only_nan.axes[0].get_lines()[0].get_ydata()).all()


# --------------------------------------------------------------------------- ax, for every function


def _call_with_ax(name, ax):
    X, y = make_moons(20, noise=0.1, seed=0)
    history = [{"centers": X[:2], "labels": np.arange(20) % 2}]
    calls = {
        "decision_boundary": lambda: plot.decision_boundary(nn.Linear(2, 2), X, y, ax=ax),
        "kmeans_history": lambda: plot.kmeans_history(X, history, ax=ax),
        "class_templates": lambda: plot.class_templates(np.zeros((2, 4)), (2, 2), ax=ax),
        "neuron_function": lambda: plot.neuron_function([1.0, 2.0], 0.0, ax=ax),
        "weight_trajectory": lambda: plot.weight_trajectory([[0.0, 1.0], [1.0, 1.0]], ax=ax),
        "training_curves": lambda: plot.training_curves({"loss": [1.0, 0.5]}, ax=ax),
    }
    return calls[name]()


@pytest.mark.parametrize("name", plot.__all__)
def test_every_function_returns_the_figure_for_an_ax_in_a_subfigure(name):
    from matplotlib.figure import Figure

    figure = plt.figure()
    left, _ = figure.subfigures(1, 2)
    ax = left.add_subplot(projection="3d" if name == "neuron_function" else None)
    assert _call_with_ax(name, ax) is figure  # the Figure, which can be saved; not the SubFigure
    assert isinstance(figure, Figure)


@pytest.mark.parametrize("name", plot.__all__)
@pytest.mark.parametrize("ax", ["x", 3, [1, 2]], ids=["str", "int", "list"])
def test_every_function_refuses_a_non_axes_ax_with_type_error(name, ax):
    with pytest.raises(TypeError, match=f"{name}: ax must be a .*Axes"):
        _call_with_ax(name, ax)
    assert plt.get_fignums() == []  # refused before any figure was made


@pytest.mark.parametrize(
    "arguments, error",
    [
        ({"max_panels": 2.9}, TypeError),
        ({"max_panels": None}, TypeError),
        ({"fps": 1e-9}, ValueError),
    ],
)
def test_kmeans_history_counts_and_frame_rate_are_checked(blobs, arguments, error):
    X, model = blobs
    with pytest.raises(error, match="kmeans_history"):
        plot.kmeans_history(X, model.history_, **arguments)
    assert not plt.get_fignums()  # nothing half-drawn is left open


def test_decision_boundary_resolution_must_be_an_int():
    X, y = make_moons(40, seed=0)
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="resolution"):
        plot.decision_boundary(model, X, y, resolution=2.9)


# --------------------------------------------------------------------------- argument checks


def test_decision_boundary_puts_back_every_module_mode():
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 3))
    model.train()
    model[1].eval()  # a dropout the user froze stays frozen
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = np.arange(20) % 3
    plot.decision_boundary(model, X, y, resolution=10)
    assert [module.training for module in model.modules()] == [True, True, False, True]


def test_decision_boundary_names_a_model_that_returns_one_number_and_a_bad_threshold():
    X = np.random.default_rng(0).standard_normal((5, 2))
    y = np.zeros(5, dtype=int)
    with pytest.raises(ValueError, match="decision_boundary: the model must map"):
        plot.decision_boundary(lambda t: t.sum(), X, y, resolution=5)
    with pytest.raises(TypeError, match="threshold"):
        plot.decision_boundary(nn.Neuron(2), X, y, threshold="a")
    with pytest.raises(ValueError, match="threshold"):
        plot.decision_boundary(nn.Neuron(2), X, y, threshold=float("nan"))


@pytest.mark.parametrize("image_shape", [(28.5, 28), "28", 784, (True, 28)])
def test_class_templates_refuses_an_image_shape_that_is_not_ints(image_shape):
    with pytest.raises(TypeError, match="image_shape"):
        plot.class_templates(np.zeros((2, 784)), image_shape=image_shape)


def test_class_templates_takes_an_array_of_ints_as_image_shape():
    fig = plot.class_templates(np.zeros((2, 784)), image_shape=np.array([28, 28]))
    assert isinstance(fig, Figure)


def test_kmeans_history_refuses_fractional_labels():
    X = np.zeros((4, 2))
    history = [{"centers": np.zeros((2, 2)), "labels": np.array([0, 1.5, 1, 0])}]
    with pytest.raises(ValueError, match="labels"):
        plot.kmeans_history(X, history)


def test_neuron_function_checks_activation_type_and_finite_limits():
    with pytest.raises(TypeError, match="activation"):
        plot.neuron_function([1.0, 1.0], 0.0, activation=3)
    with pytest.raises(ValueError, match="finite"):
        plot.neuron_function([1.0, 1.0], 0.0, limits=(-np.inf, 1))
    assert not plt.get_fignums()  # nothing half-drawn left open


def test_training_curves_refuses_nested_lists_and_weight_trajectory_a_bad_resolution():
    with pytest.raises(ValueError, match="flat list"):
        plot.training_curves({"loss": [[1, 2], [3, 4]]})
    with pytest.raises(TypeError, match="resolution"):
        plot.weight_trajectory([[0.0, 0.0], [1.0, 1.0]], resolution="x")
    assert not plt.get_fignums()


def test_training_curves_takes_one_element_arrays_per_epoch():
    fig = plot.training_curves({"loss": [np.array([1.0]), np.array([0.5])]})
    assert isinstance(fig, Figure)
