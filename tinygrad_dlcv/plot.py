"""Pictures of the lecture: decision boundaries, k-means iterations, templates, the neuron.

Every function draws into the matplotlib Axes given as ``ax`` (or a new
figure when ``ax`` is None), returns the :class:`matplotlib.figure.Figure`
and, with ``path=``, also saves it (the file type follows the suffix: ``.png``,
``.svg``, ``.pdf``, ``.jpg``; ``kmeans_history`` also writes ``.gif``).

>>> from tinygrad_dlcv import plot                      # doctest: +SKIP
>>> fig = plot.decision_boundary(model, X, y, path="boundary.png")  # doctest: +SKIP

matplotlib is imported inside the functions, never by ``import
tinygrad_dlcv.plot``. On a machine without a display (and no backend chosen
by the user) the non-interactive "Agg" backend is selected.

Inputs may be Tensors, NumPy or CuPy arrays, or lists; they are copied to the
host. Bad input names the function and the problem: a wrong type (a model that
is not callable, an ``ax`` that is not an Axes, a history that is not a dict)
is a TypeError, checked before anything is drawn; a bad value or shape is a
ValueError.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy

from .arguments import check_int, check_path, check_real
from .backend import to_host
from .viz import check_frame_rate

__all__ = [
    "class_templates",
    "decision_boundary",
    "kmeans_history",
    "neuron_function",
    "training_curves",
    "weight_trajectory",
]

_SAVE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")
_DPI = 110  # saved pictures: sharp on screen, small on disk
_EDGE = "#222222"  # outlines of markers and the decision lines


# --------------------------------------------------------------------------- helpers


def _figure_of(ax: Any) -> Any:
    """The Figure ``ax`` is drawn on: for axes in a SubFigure, the Figure above it
    (``ax.figure`` would be the SubFigure, which cannot be saved)."""
    figure = ax.figure
    while figure.figure is not figure:  # a Figure is its own .figure
        figure = figure.figure
    return figure


def _pyplot() -> Any:
    """Import matplotlib.pyplot, on the "Agg" backend when there is no display to draw on."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "tinygrad_dlcv.plot needs matplotlib: pip install matplotlib "
            '(or pip install "tinygrad-dlcv[viz]")'
        ) from None
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: None)()
        headless = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
        if chosen is None and headless:
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _to_numpy(value: Any) -> numpy.ndarray:
    """Values of a Tensor, NumPy/CuPy array or nested list as a NumPy array (host)."""
    if hasattr(value, "weight") and not hasattr(value, "shape"):  # nn.Linear and friends
        value = value.weight
    if hasattr(value, "numpy") and hasattr(value, "grad_fn"):  # a Tensor
        return value.numpy()
    try:
        return to_host(value)
    except TypeError:
        if not isinstance(value, (list, tuple)):
            raise
        # NumPy will not convert CUDA tensors or CuPy arrays implicitly: each element moves.
        return numpy.asarray([_to_numpy(element) for element in value])


def _array(
    value: Any, who: str, name: str, dtype: Any = numpy.float64, finite: bool = True
) -> numpy.ndarray:
    """``value`` on the host as ``dtype``.

    Something that is no array at all (None, a str, a dict) is a TypeError; an
    array that cannot hold numbers (ragged rows) is a ValueError, and so are
    NaN or infinite values unless ``finite`` is False.
    """
    message = f"{who}: {name} must be an array of numbers, got {value!r}"
    if value is None or isinstance(value, (str, bytes, Mapping)):
        raise TypeError(message)
    try:
        array = numpy.asarray(_to_numpy(value), dtype=dtype)
    except TypeError:
        raise TypeError(message) from None
    except ValueError:
        raise ValueError(message) from None
    if finite and array.dtype.kind == "f" and not numpy.isfinite(array).all():
        raise ValueError(f"{who}: {name} holds NaN or infinite values")
    return array


def _indices(value: Any, who: str, name: str) -> numpy.ndarray:
    """``value`` as int64 class or cluster indices: whole numbers >= 0 (1.5 is refused,
    not cut to 1)."""
    array = _array(value, who, name)
    if (array != numpy.round(array)).any() or (array < 0).any():
        raise ValueError(
            f"{who}: {name} must hold class indices 0, 1, ..., got {numpy.unique(array)}"
        )
    return array.astype(numpy.int64)


def _check_path(path: Any, who: str, suffixes: Sequence[str] = _SAVE_SUFFIXES) -> Path | None:
    """The path to save to (None for none); an unsupported suffix is a ValueError, up front."""
    if path is None:
        return None
    path = check_path(path, "path", who)
    if path.suffix.lower() not in suffixes:
        raise ValueError(
            f"{who}: cannot save {str(path)!r}: the suffix must be one of {', '.join(suffixes)}"
        )
    return path


def _save(fig: Any, path: Path | None) -> None:
    """Write ``fig`` to ``path`` (parent folders created) when a path is given."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=_DPI, bbox_inches="tight", facecolor="white")


def _is_axes(ax: Any) -> bool:
    return hasattr(ax, "plot") and hasattr(ax, "figure")


def _check_axes(
    ax: Any, who: str, several: bool = False, projection: str | None = None
) -> list[Any] | None:
    """The ``ax`` argument of every function here: None, or the Axes to draw into as a list.

    A single Axes is always allowed, a sequence / array of Axes only with
    ``several``; ``projection="3d"`` asks for 3-D Axes. Anything else is a
    TypeError, raised before the function computes or draws anything.
    """
    if ax is None:
        return None
    if _is_axes(ax):
        axes = [ax]
    elif several and not isinstance(ax, (str, bytes)):
        try:
            axes = list(numpy.asarray(ax, dtype=object).ravel())
        except TypeError:
            axes = []
    else:
        axes = []
    wanted = "a 3-D Axes (projection='3d')" if projection else "a matplotlib Axes"
    if several:
        wanted += " or a sequence of Axes"
    if not axes or not all(_is_axes(a) for a in axes):
        raise TypeError(f"{who}: ax must be {wanted}, got {ax!r}")
    if projection is not None and any(getattr(a, "name", None) != projection for a in axes):
        raise TypeError(f"{who}: ax must be {wanted}, got {ax!r}")
    return axes


def _class_colors(n: int) -> list[Any]:
    """One colour per class: tab10 up to 10 classes, then tab20, then an evenly spaced hue wheel."""
    import matplotlib

    if n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(n)]
    return [matplotlib.colormaps["hsv"](i / n) for i in range(n)]


def _lighten(color: Any, amount: float = 0.6) -> tuple[float, float, float]:
    """``color`` mixed with white (``amount`` = share of white)."""
    import matplotlib.colors

    r, g, b = matplotlib.colors.to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _model_device_dtype(model: Any) -> tuple[str | None, Any]:
    """Device and dtype of a Module's first parameter (None, None for other callables)."""
    parameters = getattr(model, "parameters", None)
    if callable(parameters):
        try:
            first = next(iter(parameters()))
        except (StopIteration, TypeError):
            return None, None
        return getattr(first, "device", None), getattr(first, "dtype", None)
    return None, None


# --------------------------------------------------------------------------- decision_boundary


def decision_boundary(
    model: Callable[[Any], Any],
    X: Any,
    y: Any,
    ax: Any = None,
    resolution: int = 200,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    threshold: float | None = None,
) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data on top.

    The model is evaluated (under ``tg.no_grad()``, in eval mode) on a
    ``resolution x resolution`` grid spanning the data plus a margin.

    Parameters
    ----------
    model : callable
        Takes a Tensor of shape (M, 2) and returns either logits / scores of
        shape (M, C), C >= 2 (the class is the argmax), or one score per row,
        shape (M,) or (M, 1): class 1 where the score exceeds ``threshold``.
        Works for ``nn.Neuron``, ``nn.Linear(2, C)``, ``nn.MLP(2, ..., C)``.
    X : Tensor or array of shape (N, 2)
        The data points.
    y : Tensor or array of shape (N,)
        Their integer classes (the colour of each point).
    ax : matplotlib Axes, optional
        Draw into it; by default a new figure.
    resolution : int
        Grid points along each axis (>= 2).
    title : str, optional
        Axes title (default: the model's class name).
    path : str or path, optional
        Save the figure there.
    threshold : float, optional
        For single-score models: default 0.5 when every score on the grid
        lies in [0, 1] (probabilities, e.g. after a sigmoid), else 0 (logits).

    Returns
    -------
    matplotlib.figure.Figure
    """
    who = "decision_boundary"
    if not callable(model):
        raise TypeError(f"{who}: model must be callable (Tensor (M, 2) -> scores), got {model!r}")
    axes = _check_axes(ax, who)
    X = _array(X, who, "X")
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(f"{who}: X must have shape (N, 2) with N >= 1, got {X.shape}")
    y = _indices(y, who, "y")
    if y.shape != (X.shape[0],):
        raise ValueError(f"{who}: y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    resolution = check_int(resolution, "resolution", who, 2)
    if threshold is not None:
        threshold = check_real(threshold, "threshold", who, low=-math.inf)
    path = _check_path(path, who)

    # the grid: data range plus 10% (at least 0.5) on each side
    low, high = X.min(axis=0), X.max(axis=0)
    margin = numpy.maximum(0.1 * (high - low), 0.5)
    xs = numpy.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = numpy.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    gx, gy = numpy.meshgrid(xs, ys)
    grid = numpy.stack([gx.ravel(), gy.ravel()], axis=1)

    scores = _evaluate(model, grid, who)
    if scores.ndim == 2 and scores.shape[1] >= 2:
        columns = scores
    else:  # one score: class 1 above the threshold, as two columns of margins
        scores = scores.reshape(len(grid))
        if threshold is None:
            threshold = 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0.0
        columns = numpy.stack([threshold - scores, scores - threshold], axis=1)
    # each class's margin over the best other class: > 0 exactly where it is predicted,
    # and smooth, so the region edges are contour lines rather than grid staircases
    top = numpy.sort(columns, axis=1)
    best_other = numpy.where(columns == top[:, -1:], top[:, -2:-1], top[:, -1:])
    margins = (columns - best_other).T.reshape(columns.shape[1], *gx.shape)
    n_classes = max(columns.shape[1], int(y.max()) + 1)
    colors = _class_colors(n_classes)

    plt = _pyplot()
    from matplotlib.lines import Line2D

    fig, ax = (
        (_figure_of(axes[0]), axes[0])
        if axes is not None
        else plt.subplots(figsize=(6, 5), layout="constrained")
    )
    for k, margin in enumerate(margins):
        high = float(margin.max())
        if high <= 0:
            continue  # class k is predicted nowhere on the grid
        ax.contourf(gx, gy, margin, levels=[0, high], colors=[_lighten(colors[k], 0.65)])
        if float(margin.min()) < 0 and (columns.shape[1] > 2 or k == 1):
            ax.contour(gx, gy, margin, levels=[0], colors=_EDGE, linewidths=1.3)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=[colors[k] for k in y],
        s=max(6.0, min(30.0, 6000.0 / len(X))),
        edgecolors="white",
        linewidths=0.5,
        zorder=3,
    )
    present = numpy.unique(y)
    if len(present) <= 12:
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor=colors[k],
                markeredgecolor="white",
                markersize=7,
                label=f"class {k}",
            )
            for k in present
        ]
        ax.legend(handles=handles, loc="best", framealpha=0.85, fontsize=9)
    if title is None:  # the model's accuracy on the points drawn
        accuracy = float((_predict_points(model, X, threshold, who) == y).mean())
        title = f"{type(model).__name__}: decision regions (accuracy {100 * accuracy:.1f}%)"
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    _save(fig, path)
    return fig


def _evaluate(model: Callable[[Any], Any], points: numpy.ndarray, who: str) -> numpy.ndarray:
    """The model's outputs on ``points`` (rows of 2), in chunks, without a graph, in eval mode."""
    from .tensor import no_grad, tensor

    device, dtype = _model_device_dtype(model)
    # Each module's own mode, to put back exactly (a Dropout the user froze stays frozen).
    modules = list(model.modules()) if callable(getattr(model, "modules", None)) else []
    modes = [(module, module.training) for module in modules]
    if modes and callable(getattr(model, "eval", None)):
        model.eval()
    try:
        outputs = []
        with no_grad():
            for start in range(0, len(points), 65536):
                chunk = tensor(points[start : start + 65536], dtype=dtype, device=device)
                outputs.append(_array(model(chunk), who, "the model's output"))
    finally:
        for module, training in modes:
            module.training = training
    if any(output.ndim == 0 for output in outputs):
        raise ValueError(
            f"{who}: the model must map (M, 2) to (M,), (M, 1) or (M, C), got a single number"
        )
    scores = numpy.concatenate(outputs, axis=0)
    if scores.shape[:1] != (len(points),) or scores.ndim > 2:
        raise ValueError(
            f"{who}: the model must map (M, 2) to (M,), (M, 1) or (M, C), "
            f"got {scores.shape} for M={len(points)}"
        )
    return scores


def _predict_points(model: Any, X: numpy.ndarray, threshold: float | None, who: str):
    """Predicted classes of the data points, read as ``decision_boundary`` reads the grid."""
    scores = _evaluate(model, X, who)
    if scores.ndim == 2 and scores.shape[1] >= 2:
        return scores.argmax(axis=1)
    return (scores.reshape(len(X)) > threshold).astype(numpy.int64)


# --------------------------------------------------------------------------- kmeans_history


def kmeans_history(
    X: Any,
    history: Any,
    ax: Any = None,
    path: str | os.PathLike | None = None,
    max_panels: int = 6,
    fps: float = 2,
) -> Any:
    """k-means iteration by iteration: assignments, centers and how far they moved.

    One panel per iteration shown (at most ``max_panels``, evenly spaced,
    always the first and the last): points coloured by their cluster, the
    centers as large crosses, the path of each center so far as a thin line
    and its last move as an arrow.

    Parameters
    ----------
    X : Tensor or array of shape (N, D), D >= 2
        The clustered data. For D > 2 data and centers are projected onto the
        first two principal axes of X (said in the title).
    history : list of dict, or a fitted KMeans
        ``KMeans(track_history=True).fit(X).history_``: entry t holds
        ``"centers"`` (K, D) after t updates and ``"labels"`` (N,) they induce.
        NumPy or CuPy arrays, or Tensors.
    ax : matplotlib Axes or sequence of Axes, optional
        A sequence: one panel per Axes. A single Axes: the last iteration with
        the centers' whole paths. Default: a new figure with the panels.
    path : str or path, optional
        Save the panels there; a ``.gif`` suffix writes an animation instead,
        one frame per iteration (all of them), and still returns the panels.
    max_panels : int
        Most panels drawn (>= 1).
    fps : float
        Frames per second of the GIF.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    who = "kmeans_history"
    if history is not None and not isinstance(history, (list, tuple)):
        history = getattr(history, "history_", history)  # a fitted KMeans
    wanted = "a non-empty list of {'centers', 'labels'} dicts (KMeans(track_history=True).history_)"
    if not isinstance(history, (list, tuple)):
        raise TypeError(f"{who}: history must be {wanted}, got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError(f"{who}: history must be {wanted}, got an empty list")
    given_axes = _check_axes(ax, who, several=True)
    X = _array(X, who, "X")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] < 2:
        raise ValueError(f"{who}: X must have shape (N, D) with N >= 1 and D >= 2, got {X.shape}")
    n, d = X.shape
    centers, labels = [], []
    for t, entry in enumerate(history):
        if not isinstance(entry, Mapping):
            raise TypeError(
                f"{who}: history[{t}] must be a dict with 'centers' and 'labels', "
                f"got {type(entry).__name__}"
            )
        if "centers" not in entry or "labels" not in entry:
            raise ValueError(f"{who}: history[{t}] must be a dict with 'centers' and 'labels'")
        c = _array(entry["centers"], who, f"history[{t}]['centers']")
        lab = _indices(entry["labels"], who, f"history[{t}]['labels']")
        k = c.shape[0] if c.ndim == 2 else -1
        if c.ndim != 2 or c.shape[1] != d or (centers and c.shape != centers[0].shape):
            raise ValueError(
                f"{who}: history[{t}]['centers'] must have shape (K, {d}) like the others, "
                f"got {c.shape}"
            )
        if lab.shape != (n,) or (lab.size and (lab.min() < 0 or lab.max() >= k)):
            raise ValueError(
                f"{who}: history[{t}]['labels'] must hold {n} labels in 0..{k - 1}, "
                f"got shape {lab.shape}"
            )
        centers.append(c)
        labels.append(lab)
    max_panels = check_int(max_panels, "max_panels", who, 1)
    fps = check_frame_rate(fps, who)
    path = _check_path(path, who, (*_SAVE_SUFFIXES, ".gif"))

    projected = ""
    if d > 2:  # the first two principal axes of X
        mean = X.mean(axis=0)
        _, _, vt = numpy.linalg.svd(X - mean, full_matrices=False)
        axes2 = vt[:2].T
        X = (X - mean) @ axes2
        centers = [(c - mean) @ axes2 for c in centers]
        projected = f" (D={d}, projected onto the first two principal axes)"
    k = centers[0].shape[0]
    colors = _class_colors(k)
    trails = numpy.stack(centers)  # (T, K, 2)
    both = numpy.concatenate([X, trails.reshape(-1, 2)])
    low, high = both.min(axis=0), both.max(axis=0)
    pad = numpy.maximum(0.05 * (high - low), 0.5)
    limits = (low - pad, high + pad)

    plt = _pyplot()
    last = len(history) - 1
    if ax is None:
        count = min(max_panels, len(history))
        aspect = float(
            numpy.clip((limits[1][1] - limits[0][1]) / (limits[1][0] - limits[0][0]), 0.4, 2.5)
        )
        ncols = count if count <= 4 else 3
        nrows = math.ceil(count / ncols)
        fig, grid = plt.subplots(
            nrows,
            ncols,
            figsize=(3.6 * ncols, (3.25 * aspect + 0.35) * nrows + 0.45),
            layout="constrained",
            sharex=True,
            sharey=True,
            squeeze=False,
        )
        axes = list(grid.ravel())
        for extra in axes[count:]:
            extra.set_visible(False)
        axes = axes[:count]
    else:
        axes = given_axes
        fig = _figure_of(axes[0])
        count = min(len(axes), len(history))
        axes = axes[:count]
    steps = _spread(len(history), count)
    if len(axes) == 1 and ax is not None:
        steps = [last]
    for panel, t in zip(axes, steps, strict=True):
        _kmeans_panel(panel, X, labels[t], trails, t, colors, limits)
    if ax is None:
        fig.suptitle(f"k-means, K={k}: {last} iteration{'s' * (last != 1)}{projected}")
    elif projected:
        axes[0].set_title(axes[0].get_title() + projected, fontsize=9)

    if path is not None and path.suffix.lower() == ".gif":
        _kmeans_gif(plt, path, X, labels, trails, colors, limits, fps, k, projected)
    else:
        _save(fig, path)
    return fig


def _spread(total: int, count: int) -> list[int]:
    """``count`` indices evenly spread over range(total), first and last included."""
    if count >= total:
        return list(range(total))
    if count == 1:
        return [total - 1]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


def _kmeans_panel(ax, X, labels, trails, t, colors, limits) -> None:
    """One k-means panel: iteration t's assignments, the centers' paths and their last move."""
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=[colors[label] for label in labels],
        s=max(4.0, min(18.0, 4000.0 / len(X))),
        alpha=0.55,
        linewidths=0,
    )
    for j, color in enumerate(colors):
        path = trails[: t + 1, j]
        if t > 0:
            ax.plot(
                path[:-1, 0], path[:-1, 1], ":o", color=_EDGE, lw=1.0, ms=2.5, alpha=0.6, zorder=4
            )
            start, end = path[-2], path[-1]
            if numpy.hypot(*(end - start)) > 1e-12:  # the last move, ending at the cross's edge
                ax.annotate(
                    "",
                    xy=end,
                    xytext=start,
                    arrowprops={
                        "arrowstyle": "-|>,head_width=0.3,head_length=0.6",
                        "color": _EDGE,
                        "lw": 1.6,
                        "shrinkA": 0,
                        "shrinkB": 8,
                    },
                    zorder=5,
                )
        ax.scatter(
            path[-1, 0],
            path[-1, 1],
            marker="X",
            s=190,
            color=color,
            edgecolors=_EDGE,
            linewidths=1.3,
            zorder=6,
        )
    ax.set_title("initial centers" if t == 0 else f"iteration {t}")
    ax.set_xlim(limits[0][0], limits[1][0])
    ax.set_ylim(limits[0][1], limits[1][1])
    ax.set_aspect("equal", adjustable="box")
    ax.tick_params(labelsize=8)


def _kmeans_gif(plt, path, X, labels, trails, colors, limits, fps, k, projected) -> None:
    """Write the k-means animation, one frame per history entry."""
    from matplotlib.animation import PillowWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
    try:
        writer = PillowWriter(fps=fps)
        with writer.saving(fig, str(path), dpi=90):
            for t in range(len(labels)):
                ax.clear()
                _kmeans_panel(ax, X, labels[t], trails, t, colors, limits)
                ax.set_title(f"k-means, K={k}: " + ax.get_title() + projected, fontsize=10)
                writer.grab_frame(facecolor="white")
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- class_templates


def class_templates(
    W: Any,
    image_shape: Sequence[int] = (28, 28),
    class_names: Sequence[str] | None = None,
    ax: Any = None,
    path: str | os.PathLike | None = None,
) -> Any:
    """The rows of a linear classifier's weight matrix as images: one template per class.

    Each template is drawn with a diverging colormap centred at 0 (red:
    positive weight, the class "likes" ink there; blue: negative), scaled
    symmetrically to its own largest absolute weight.

    Parameters
    ----------
    W : Tensor, array or nn.Linear
        Shape (C, prod(image_shape)); an ``nn.Linear``'s ``weight`` is used.
    image_shape : tuple of int
        (H, W) for grey images; (3, H, W) or (H, W, 3) for colour images,
        which are shown as RGB (each template min-max scaled).
    class_names : sequence of str, optional
        One name per row (default "0", "1", ...).
    ax : matplotlib Axes or sequence of Axes, optional
        A sequence of at least C Axes: one template each. A single Axes: all
        templates tiled into one image. Default: a new figure, one panel each.
    path : str or path, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure
    """
    who = "class_templates"
    given_axes = _check_axes(ax, who, several=True)
    W = _array(W, who, "W")
    if isinstance(image_shape, str) or not all(
        isinstance(size, numbers.Integral) and not isinstance(size, bool)
        for size in (image_shape if isinstance(image_shape, (Sequence, numpy.ndarray)) else [None])
    ):  # "28" would read as (2, 8), 28.5 as 28
        raise TypeError(f"{who}: image_shape must be a tuple of ints, got {image_shape!r}")
    image_shape = tuple(int(size) for size in image_shape)
    if len(image_shape) not in (2, 3) or min(image_shape) < 1:
        raise ValueError(
            f"{who}: image_shape must be (H, W), (3, H, W) or (H, W, 3), got {image_shape}"
        )
    rgb_first = len(image_shape) == 3 and image_shape[0] == 3
    if len(image_shape) == 3 and not rgb_first and image_shape[2] != 3:
        raise ValueError(
            f"{who}: a 3-D image_shape must have 3 channels first or last, got {image_shape}"
        )
    if W.ndim == 1:
        W = W[None]
    size = math.prod(image_shape)
    if W.ndim != 2 or W.shape[1] != size or W.shape[0] == 0:
        raise ValueError(
            f"{who}: W must have shape (C, {size}) for image_shape {image_shape} "
            f"(rows of {size} weights), got {W.shape}"
        )
    c = W.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(c)]
    else:
        class_names = [str(name) for name in class_names]
        if len(class_names) != c:
            raise ValueError(f"{who}: {len(class_names)} class_names for {c} rows of W")
    path = _check_path(path, who)

    images = W.reshape(c, *image_shape)
    if rgb_first:
        images = images.transpose(0, 2, 3, 1)
    plt = _pyplot()
    if ax is None:
        ncols = min(c, 5)
        nrows = math.ceil(c / ncols)
        fig, grid = plt.subplots(
            nrows,
            ncols,
            figsize=(1.9 * ncols, 2.05 * nrows + 0.45),
            layout="constrained",
            squeeze=False,
        )
        axes = list(grid.ravel())
        for extra in axes[c:]:
            extra.set_visible(False)
        fig.suptitle(
            "Class templates: rows of W"
            + ("" if images.ndim == 4 else "  (red: positive weight, blue: negative)"),
            fontsize=11,
        )
    else:
        axes = given_axes
        fig = _figure_of(axes[0])
        if len(axes) == 1:
            _templates_mosaic(axes[0], images, class_names)
            _save(fig, path)
            return fig
        if len(axes) < c:
            raise ValueError(f"{who}: {len(axes)} Axes for {c} templates")
    for panel, image, name in zip(axes, images, class_names, strict=False):
        if image.ndim == 3:  # colour: min-max to [0, 1]
            low, high = image.min(), image.max()
            panel.imshow((image - low) / (high - low) if high > low else image * 0 + 0.5)
        else:
            bound = float(numpy.abs(image).max()) or 1.0
            panel.imshow(image, cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
        panel.set_title(name, fontsize=10)
        panel.set_xticks([])
        panel.set_yticks([])
    _save(fig, path)
    return fig


def _templates_mosaic(ax, images: numpy.ndarray, names: list[str]) -> None:
    """All templates tiled into one image on one Axes, each scaled to [-1, 1] (or [0, 1] RGB)."""
    c = len(images)
    ncols = min(c, 5)
    nrows = math.ceil(c / ncols)
    h, w = images.shape[1:3]
    gap = max(1, h // 10)
    colour = images.ndim == 4
    canvas = numpy.full(
        (nrows * (h + gap) - gap, ncols * (w + gap) - gap, *((3,) if colour else ())),
        1.0 if colour else numpy.nan,
    )
    for i, image in enumerate(images):
        r, q = divmod(i, ncols)
        if colour:
            low, high = image.min(), image.max()
            tile = (image - low) / (high - low) if high > low else image * 0 + 0.5
        else:
            tile = image / (float(numpy.abs(image).max()) or 1.0)
        canvas[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = tile
        ax.text(
            q * (w + gap) + 1,
            r * (h + gap) + 1,
            names[i],
            va="top",
            ha="left",
            fontsize=8,
            color="black",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0},
        )
    if colour:
        ax.imshow(canvas)
    else:
        ax.imshow(canvas, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Class templates: rows of W")


# --------------------------------------------------------------------------- neuron_function

_NEURON_ACTIVATIONS: dict[str, tuple[Callable[[numpy.ndarray], numpy.ndarray], str]] = {
    "sigmoid": (lambda z: 0.5 * (1 + numpy.tanh(0.5 * z)), r"\sigma"),
    "tanh": (numpy.tanh, r"\tanh"),
    "relu": (lambda z: numpy.maximum(z, 0), r"\mathrm{relu}"),
    "identity": (lambda z: z, ""),
}


def neuron_function(
    w: Any,
    b: Any,
    ax: Any = None,
    path: str | os.PathLike | None = None,
    activation: str | Callable[[numpy.ndarray], numpy.ndarray] | None = "sigmoid",
    limits: tuple[float, float] = (-4, 4),
) -> Any:
    """The single neuron's output y = act(w . x + b) over the plane of inputs, as a surface.

    The decision line ``w . x + b = 0`` is drawn on the base plane (where the
    output's contours are also projected) and on the surface itself, with the
    weight vector w as an arrow: the surface rises in w's direction.

    Parameters
    ----------
    w : Tensor, array or sequence of 2 numbers
        The weights.
    b : number or 0-d / 1-element Tensor or array
        The bias.
    ax : matplotlib 3-D Axes, optional
        Made with ``projection="3d"``; default: a new figure.
    path : str or path, optional
        Save the figure there.
    activation : "sigmoid", "tanh", "relu", "identity" (or None) or callable
        A callable maps a NumPy array of pre-activations to outputs.
    limits : (low, high)
        Range of both inputs x1 and x2.

    Returns
    -------
    matplotlib.figure.Figure
    """
    who = "neuron_function"
    w = _array(w, who, "w").ravel()
    if w.shape != (2,):
        raise ValueError(f"{who}: w must hold 2 weights (a neuron with 2 inputs), got {w.size}")
    b_array = _array(b, who, "b").ravel()
    if b_array.size != 1:
        raise ValueError(f"{who}: b must be a single number, got shape {b_array.shape}")
    b = float(b_array[0])
    if callable(activation):
        act, symbol = activation, getattr(activation, "__name__", "f")
        symbol = r"\mathrm{" + symbol.replace("_", r"\_") + "}" if symbol != "<lambda>" else "f"
    else:
        if activation is not None and not isinstance(activation, str):
            raise TypeError(
                f"{who}: activation must be a name, None or a function, got {activation!r}"
            )
        key = "identity" if activation is None else activation.lower()
        if key not in _NEURON_ACTIVATIONS:
            raise ValueError(
                f"{who}: unknown activation {activation!r}; choose from "
                f"{sorted(_NEURON_ACTIVATIONS)} or pass a function"
            )
        act, symbol = _NEURON_ACTIVATIONS[key]
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: limits must be (low, high), got {limits!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{who}: limits must be finite with low < high, got {limits!r}")
    _check_axes(ax, who, projection="3d")
    path = _check_path(path, who)

    xs = numpy.linspace(low, high, 61)
    g1, g2 = numpy.meshgrid(xs, xs)
    out = numpy.asarray(act(w[0] * g1 + w[1] * g2 + b), dtype=numpy.float64)
    if out.shape != g1.shape:
        raise ValueError(f"{who}: the activation must keep the shape of its input")
    z_low, z_high = float(out.min()), float(out.max())
    span = (z_high - z_low) or 1.0
    base = z_low - 0.35 * span  # the floor the contours and the decision line are drawn on

    plt = _pyplot()
    top = None
    if ax is None:  # the surface, and beside it the same function seen from above
        fig = plt.figure(figsize=(11, 4.9), layout="constrained")
        ax = fig.add_subplot(1, 2, 1, projection="3d")
        top = fig.add_subplot(1, 2, 2)
    fig = _figure_of(ax)
    ax.plot_surface(
        g1,
        g2,
        out,
        cmap="coolwarm",
        rstride=2,
        cstride=2,
        linewidth=0.2,
        edgecolor=(0, 0, 0, 0.12),
        antialiased=True,
        alpha=0.8,
    )
    ax.contourf(g1, g2, out, zdir="z", offset=base, levels=14, cmap="coolwarm", alpha=0.6)
    line = _line_in_box(w, b, low, high)
    if line is not None:
        ax.plot(
            line[:, 0],
            line[:, 1],
            base,
            color="black",
            lw=2.4,
            zorder=10,
            label=r"decision line $w \cdot x + b = 0$",
        )
        on_surface = numpy.full(len(line), float(numpy.asarray(act(numpy.zeros(1))).ravel()[0]))
        ax.plot(line[:, 0], line[:, 1], on_surface, color="black", lw=1.6, ls="--", zorder=11)
        anchor, arrow = _normal_arrow(w, b, low, high)
        ax.legend(loc="upper left", fontsize=9)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_zlim(base, z_high + 0.05 * span)
    ticks = ax.get_zticks()  # no tick labels on the floor's stretch below the surface
    ax.set_zticks(ticks[(ticks >= z_low - 0.02 * span) & (ticks <= z_high + 0.05 * span)])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("$y$")
    ax.view_init(elev=26, azim=-130)
    formula = _neuron_formula(w, b, symbol)
    if top is None:
        ax.set_title("Single neuron:  " + formula, fontsize=12)
    else:
        ax.set_title("output surface", fontsize=11)
        fig.suptitle("Single neuron:  " + formula, fontsize=13)
        shade = top.contourf(g1, g2, out, levels=20, cmap="coolwarm")
        fig.colorbar(shade, ax=top, label="$y$", shrink=0.9)
        if line is not None:
            top.plot(line[:, 0], line[:, 1], color="black", lw=2.2, label=r"$w \cdot x + b = 0$")
            top.annotate(
                "",
                xy=anchor + arrow,
                xytext=anchor,
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 2},
            )
            top.text(*(anchor + 1.2 * arrow), "$w$", fontsize=13, ha="center", va="center")
            top.legend(loc="lower left", fontsize=9, framealpha=0.9)
        top.set_xlim(low, high)
        top.set_ylim(low, high)
        top.set_aspect("equal")
        top.set_xlabel("$x_1$")
        top.set_ylabel("$x_2$")
        top.set_title("seen from above: the output rises along $w$", fontsize=11)
    _save(fig, path)
    return fig


def _normal_arrow(w, b, low, high) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Start and extent of an arrow along w from the decision line, kept inside the square."""
    norm = float(numpy.hypot(*w))
    anchor = -b * w / norm**2  # the point of the line closest to the origin
    line = _line_in_box(w, b, low, high)
    if not ((anchor >= low) & (anchor <= high)).all() and line is not None:
        anchor = line[len(line) // 2]
    arrow = w / norm * 0.18 * (high - low)
    return anchor, arrow


def _neuron_formula(w: numpy.ndarray, b: float, symbol: str) -> str:
    """ "$y = \\sigma(x_1 + 2x_2 - 1)$" for w = (1, 2), b = -1."""
    terms = []
    for value, name in ((w[0], "x_1"), (w[1], "x_2"), (b, "")):
        if value == 0 and (name or terms):
            continue
        magnitude = f"{abs(value):.3g}"
        if name and magnitude == "1":
            magnitude = ""
        sign = "-" if value < 0 else "+"
        if not terms:
            terms.append(("-" if value < 0 else "") + magnitude + name)
        else:
            terms.append(f" {sign} {magnitude}{name}")
    inner = "".join(terms) or "0"
    return rf"$y = {symbol}({inner})$" if symbol else rf"$y = {inner}$"


def _line_in_box(w: numpy.ndarray, b: float, low: float, high: float) -> numpy.ndarray | None:
    """Points of the line w . x + b = 0 inside the square [low, high]^2 (None if it misses)."""
    norm2 = float(w @ w)
    if norm2 == 0:
        return None
    anchor = -b * w / norm2
    direction = numpy.array([-w[1], w[0]]) / math.sqrt(norm2)
    reach = 2 * max(abs(low), abs(high)) + float(numpy.hypot(*anchor))
    points = anchor + numpy.linspace(-reach, reach, 2001)[:, None] * direction
    inside = ((points >= low) & (points <= high)).all(axis=1)
    return points[inside] if inside.sum() >= 2 else None


# --------------------------------------------------------------------------- weight_trajectory


def weight_trajectory(
    ws: Any,
    ax: Any = None,
    path: str | os.PathLike | None = None,
    loss_fn: Callable[[numpy.ndarray], float] | None = None,
    resolution: int = 60,
) -> Any:
    """A neuron's weights in weight space during training, over the loss landscape if given.

    Parameters
    ----------
    ws : sequence of weight vectors, array (T, D), or dict of them
        The weights after each step (D >= 2; the first two components are
        drawn). A dict ``{label: ws}`` draws several runs (e.g. with and
        without weight decay) with a legend.
    ax : matplotlib Axes, optional
        Draw into it; default: a new figure.
    path : str or path, optional
        Save the figure there.
    loss_fn : callable, optional
        ``loss_fn(w) -> float`` for a NumPy array w of the 2 drawn components;
        its contours are drawn underneath.
    resolution : int
        Grid points per axis for ``loss_fn``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    who = "weight_trajectory"
    axes = _check_axes(ax, who)
    runs = ws if isinstance(ws, Mapping) else {None: ws}
    if not runs:
        raise ValueError(f"{who}: ws is an empty dict")
    paths: dict[Any, numpy.ndarray] = {}
    for label, run in runs.items():
        name = "ws" if label is None else f"ws[{label!r}]"
        try:
            vectors = list(run) if not isinstance(run, (str, bytes)) else None
        except TypeError:
            vectors = None
        if vectors is None:
            raise TypeError(
                f"{who}: {name} must be a sequence of weight vectors, got {type(run).__name__}"
            )
        steps = [_array(v, who, name).ravel() for v in vectors]
        if not steps:
            raise ValueError(f"{who}: {name} is empty; give at least one weight vector")
        sizes = {s.size for s in steps}
        if len(sizes) != 1 or min(sizes) < 2:
            raise ValueError(
                f"{who}: every weight vector in {name} must have the same length >= 2, "
                f"got lengths {sorted(sizes)}"
            )
        paths[label] = numpy.stack(steps)[:, :2]
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"{who}: loss_fn must be callable (w -> float), got {loss_fn!r}")
    resolution = check_int(resolution, "resolution", who, 2)
    path = _check_path(path, who)

    every = numpy.concatenate(list(paths.values()))
    low, high = every.min(axis=0), every.max(axis=0)
    pad = numpy.maximum(0.25 * (high - low), 0.25 * numpy.abs(every).max() + 0.1)
    low, high = low - pad, high + pad

    plt = _pyplot()
    fig, ax = (
        (_figure_of(axes[0]), axes[0])
        if axes is not None
        else plt.subplots(figsize=(6.4, 5.2), layout="constrained")
    )
    if loss_fn is not None:
        g1, g2 = numpy.meshgrid(
            numpy.linspace(low[0], high[0], resolution), numpy.linspace(low[1], high[1], resolution)
        )
        loss = numpy.array(
            [
                float(loss_fn(numpy.array([a, c])))
                for a, c in zip(g1.ravel(), g2.ravel(), strict=True)
            ]
        ).reshape(g1.shape)
        # levels at quantiles of the loss: as much detail near the minimum as on the slopes
        levels = numpy.unique(numpy.quantile(loss, numpy.linspace(0, 1, 21)))
        if len(levels) < 3:
            levels = 20
        filled = ax.contourf(g1, g2, loss, levels=levels, cmap="viridis", alpha=0.85)
        ax.contour(g1, g2, loss, levels=filled.levels, colors="white", linewidths=0.4, alpha=0.5)
        bar = fig.colorbar(filled, ax=ax, label="loss", shrink=0.9)
        bar.ax.yaxis.set_major_formatter("{x:.3g}")
    ax.axhline(0, color="grey", lw=0.7, zorder=1)
    ax.axvline(0, color="grey", lw=0.7, zorder=1)
    line_colors = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#e377c2"]
    if loss_fn is None:
        line_colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#e377c2"]
    for i, (label, steps) in enumerate(paths.items()):
        color = line_colors[i % len(line_colors)]
        every_n = max(1, len(steps) // 40)
        ax.plot(
            steps[:, 0],
            steps[:, 1],
            "-o",
            color=color,
            lw=1.8,
            ms=3.5,
            markevery=every_n,
            label=label if label is not None else "weights",
            zorder=3,
        )
        ax.scatter(
            *steps[0],
            s=70,
            marker="o",
            facecolors="white",
            edgecolors=color,
            linewidths=2,
            zorder=5,
        )
        ax.scatter(
            *steps[-1], s=200, marker="*", color=color, edgecolors=_EDGE, linewidths=0.8, zorder=5
        )
    from matplotlib.lines import Line2D

    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markerfacecolor="white",
            markeredgecolor=_EDGE,
            markeredgewidth=1.5,
            markersize=8,
            label="start",
        ),
        Line2D([], [], marker="*", ls="", color=_EDGE, markersize=12, label="end"),
    ]
    ax.legend(handles=handles, loc="best", fontsize=9, framealpha=0.9)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    n_steps = max(len(s) for s in paths.values()) - 1
    ax.set_title(f"Weights during training ({n_steps} steps)")
    _save(fig, path)
    return fig


# --------------------------------------------------------------------------- training_curves

_CURVES = (
    ("loss", ("loss", "val_loss")),
    ("accuracy", ("accuracy", "val_accuracy")),
)


_TWIN_COLORS = {"accuracy": "#2ca02c", "val_accuracy": "#d62728"}


def training_curves(
    history: Mapping[str, Sequence[float]], ax: Any = None, path: str | os.PathLike | None = None
) -> Any:
    """Loss and accuracy per epoch, training and validation.

    Parameters
    ----------
    history : dict of lists
        Any of the keys ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``
        (one value per epoch; other keys are ignored). One panel for the
        losses and one for the accuracies, each only when its keys are there.
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per panel; a single Axes when two panels are needed puts the
        accuracy on a twin y axis. Default: a new figure.
    path : str or path, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A run that diverged can still be drawn: NaN and infinite values leave a
    gap in their curve, and the legend says how many epochs have none.
    """
    who = "training_curves"
    if not isinstance(history, Mapping):
        raise TypeError(f"{who}: history must be a dict of lists, got {type(history).__name__}")
    given_axes = _check_axes(ax, who, several=True)
    panels: list[tuple[str, dict[str, numpy.ndarray]]] = []
    for quantity, keys in _CURVES:
        series = {}
        for key in keys:
            if key in history and history[key] is not None:
                values = _array(history[key], who, f"history[{key!r}]", finite=False)
                # A list of lists is no curve (flattening it would lie); (N, 1) is one a row.
                if values.ndim > 1 and values.size != values.shape[0]:
                    raise ValueError(
                        f"{who}: history[{key!r}] must be a flat list of numbers (one per "
                        f"epoch), got shape {values.shape}"
                    )
                values = values.ravel()
                if values.size:
                    # inf as well as nan leaves a gap (an inf would stretch the y axis away)
                    series[key] = numpy.where(numpy.isfinite(values), values, numpy.nan)
        if series:
            panels.append((quantity, series))
    if not panels:
        raise ValueError(
            f"{who}: history is empty: give at least one non-empty list under "
            "'loss', 'val_loss', 'accuracy' or 'val_accuracy'"
        )
    path = _check_path(path, who)

    plt = _pyplot()
    twin = False
    if ax is None:
        fig, grid = plt.subplots(
            1, len(panels), figsize=(5.2 * len(panels), 3.9), layout="constrained", squeeze=False
        )
        axes = list(grid.ravel())
    else:
        axes = given_axes
        fig = _figure_of(axes[0])
        if len(axes) < len(panels):  # one Axes, two panels: accuracy on a twin y axis
            axes = [axes[0], axes[0].twinx()]
            twin = True
    styles = {
        "loss": ("#1f77b4", "-", "train"),
        "val_loss": ("#ff7f0e", "--", "validation"),
        "accuracy": ("#1f77b4", "-", "train"),
        "val_accuracy": ("#ff7f0e", "--", "validation"),
    }
    for panel, (quantity, series) in zip(axes, panels, strict=False):
        for key, values in series.items():
            color, ls, label = styles[key]
            if twin:  # one Axes for both: the accuracies in other colours
                label = f"{label} {quantity}"
                color = _TWIN_COLORS.get(key, color)
            missing = int(numpy.isnan(values).sum())
            if missing:
                label += f" ({missing} epoch{'s' * (missing != 1)} nan/inf, not drawn)"
            epochs = numpy.arange(1, len(values) + 1)
            marker = "o" if len(values) <= 30 else None
            panel.plot(epochs, values, ls=ls, color=color, marker=marker, ms=4, lw=1.8, label=label)
        best_values = series.get("val_" + quantity)
        if best_values is not None and numpy.isfinite(best_values).sum() > 1:
            pick = numpy.nanargmin if quantity == "loss" else numpy.nanargmax
            best = int(pick(best_values))
            mark = color  # the validation line's colour (the last drawn)
            panel.scatter(
                best + 1,
                best_values[best],
                s=110,
                facecolors="none",
                edgecolors=mark,
                linewidths=1.6,
                zorder=5,
            )
            right_half = best + 1 > (len(best_values) + 1) / 2
            panel.annotate(
                f"best {best_values[best]:.3g}",
                (best + 1, best_values[best]),
                textcoords="offset points",
                xytext=(-8, 8) if right_half else (8, 8),
                ha="right" if right_half else "left",
                fontsize=8,
                color=mark,
            )
        panel.set_xlabel("epoch")
        panel.set_ylabel(quantity)
        panel.grid(True, alpha=0.3)
        if not twin:
            panel.set_title(quantity.capitalize())
            panel.legend(fontsize=9)
        longest = max(len(v) for v in series.values())
        if longest <= 20:
            panel.set_xticks(numpy.arange(1, longest + 1, max(1, longest // 10)))
    if twin:
        lines = axes[0].get_lines() + axes[1].get_lines()
        axes[1].legend(lines, [line.get_label() for line in lines], fontsize=8, loc="center right")
        axes[0].set_title("Training curves")
    _save(fig, path)
    return fig
