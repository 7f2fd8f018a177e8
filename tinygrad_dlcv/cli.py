"""The ``tinygrad-dlcv`` command.

Each subcommand is two small pieces: an ``_add_<name>(subparsers)`` function that
declares its arguments and a ``_cmd_<name>(args) -> int`` function that runs it.
Both are listed once in ``_COMMANDS``. The engine is imported inside the command
functions, so ``import tinygrad_dlcv.cli`` and ``--help`` stay cheap.

Exit codes: 0 success, 1 a failure while running (one line on stderr), 2 bad
arguments (argparse's usage line and one-line error).

Pictures need matplotlib (plots, GIFs), the graphviz package and graphviz's
``dot`` program (graphs). Without them the commands still train and print their
results; they skip what they cannot draw (graphs are written as ``.gv`` source
when only ``dot`` is missing) and say so in one line.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

PROG = "tinygrad-dlcv"
INITS = ("k-means++", "random", "uniform")
DATASETS_2D = ("blobs", "moons", "spirals", "xor")
GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".gv", ".dot")


class _Parser(argparse.ArgumentParser):
    """argparse, but every error line starts with ``tinygrad-dlcv: error:``, subcommands too."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


# ---------------------------------------------------------------------------
# argument types (argparse turns their ArgumentTypeError into exit 2, one line)
# ---------------------------------------------------------------------------


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def _float_above(low: float, inclusive: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            sign = ">=" if inclusive else ">"
            raise argparse.ArgumentTypeError(f"must be a finite number {sign} {low:g}, got {text}")
        return value

    return parse


_positive_int = _int_at_least(1)


def _folder(text: str) -> str:
    """A folder argument: not empty (an empty string would quietly mean "not given")."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty path")
    return text


_folder.__name__ = "folder"
_nonnegative_int = _int_at_least(0)
_positive_float = _float_above(0.0)
_nonnegative_float = _float_above(0.0, inclusive=True)


def _hidden_sizes(text: str) -> list[int]:
    """``"32,32"`` -> ``[32, 32]``: the widths of an MLP's hidden layers."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers like 32,32, got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be >= 1, got {text!r}")
    return sizes


# The largest p --metric takes. Beyond it the p-norm is numerically the max norm, while the
# inertia (a sum of d^p) overflows even float64 for distances of a few tens.
MAX_P = 100


def _metric(text: str) -> str | float:
    """``euclidean``, ``manhattan`` or a number p in [1, MAX_P] (the p-norm)."""
    if text in ("euclidean", "manhattan"):
        return text
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'euclidean', 'manhattan' or a number p in [1, {MAX_P:g}], got {text!r}"
        ) from None
    if not 1 <= p <= MAX_P:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"the p of a p-norm must lie in [1, {MAX_P}], got {text} (a larger p is "
            "numerically the max norm, and the inertia, a sum of d^p, overflows)"
        )
    return p


def _graph_file(text: str) -> Path:
    """A file name whose suffix is a format the graph can be written in."""
    path = Path(text)
    if path.suffix.lower() not in GRAPH_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the suffix must be one of {', '.join(GRAPH_SUFFIXES)}"
        )
    return path


def _add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        default="cpu",
        help="where the tensors live (default: %(default)s)",
    )


def _add_seed_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seed", type=_nonnegative_int, default=0, help="random seed (default: %(default)s)"
    )


# ---------------------------------------------------------------------------
# output: progress bars, tables, pictures
# ---------------------------------------------------------------------------


class _NoBar:
    """What ``_progress`` returns when tqdm is not installed: iterates, draws nothing."""

    def __init__(self, iterable: Iterable | None = None) -> None:
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(iterable: Iterable, desc: str, total: int | None = None):
    """A tqdm progress bar on stderr (drawn only on a terminal); a plain iterator without tqdm."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar(iterable)
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        file=sys.stderr,
        disable=None,
        leave=False,
        dynamic_ncols=True,
    )


def _say(text: str = "") -> None:
    """Print a line without breaking a progress bar that is being drawn."""
    try:
        from tqdm import tqdm
    except ImportError:
        print(text, flush=True)
    else:
        tqdm.write(text, file=sys.stdout)
        sys.stdout.flush()


def _fmt(a) -> str:
    """Format a host array (or scalar) compactly on one line."""
    import numpy as np

    return np.array2string(np.asarray(a), precision=4, suppress_small=True, separator=", ")


def _fmt_grad(t) -> str:
    return "-" if t.grad is None else _fmt(t.grad.numpy())


def _unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order, each once."""
    return list(dict.fromkeys(items))


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt_row(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt_row(header), rule, *map(fmt_row, rows)])


# The pip package of each optional module the pictures import (by its import name).
_PIP_PACKAGES = {"matplotlib": "matplotlib", "graphviz": "graphviz", "PIL": "pillow"}
_INSTALL_DOT = "Graphviz's dot program (apt-get install graphviz, brew install graphviz)"


class _Pictures:
    """Writes pictures into one folder; what cannot be drawn here is skipped, and noted once.

    ``plot(name, draw)`` calls ``draw(path)`` (a matplotlib picture); ``graph(name, build)``
    renders ``build()`` (a graphviz Digraph) with ``dot``, or writes its source as ``.gv``
    when ``dot`` is missing. An ImportError of an optional package skips the picture.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []
        self.skipped: list[str] = []
        self.sources: list[str] = []  # graphs written as .gv source because dot is missing
        self.packages: dict[str, None] = {}  # pip packages to install, in first-seen order
        self.needs_dot = False
        self.other_reasons: list[str] = []  # ImportErrors that name no module
        self.has_dot = shutil.which("dot") is not None

    def _skip(self, name: str, exc: BaseException) -> None:
        self.skipped.append(name)
        module = getattr(exc, "name", None)
        text = f"{module or ''} {exc}"
        found = [key for key in _PIP_PACKAGES if key in text]
        if not found and module:  # some other optional module: name it as Python did
            found = [module.split(".")[0]]
        for key in found:
            self.packages.setdefault(_PIP_PACKAGES.get(key, key))
        if not found:  # no module to name: say what the error said
            self.other_reasons.append(" ".join(str(exc).split()))

    def _close(self, figure: Any) -> None:
        if figure is None or "matplotlib.pyplot" not in sys.modules:
            return
        sys.modules["matplotlib.pyplot"].close(figure)

    def plot(self, name: str, draw: Callable[[Path], Any]) -> Path | None:
        """Write the matplotlib picture ``draw(path)`` makes to ``out/name``."""
        path = self.out / name
        try:
            figure = draw(path)
            if not path.exists() and figure is not None:
                figure.savefig(path, dpi=110, bbox_inches="tight")
        except ImportError as exc:
            self._skip(name, exc)
            return None
        self._close(figure)
        self.written.append(path)
        return path

    def graph(self, name: str, build: Callable[[], Any]) -> Path | None:
        """Render the graphviz Digraph ``build()`` to ``out/name`` (``.gv`` source without dot)."""
        path = self.out / name
        try:
            digraph = build()
        except ImportError as exc:
            self._skip(name, exc)
            return None
        return self.write_graph(digraph, path)

    def write_graph(self, digraph: Any, path: Path) -> Path:
        """Render ``digraph`` to ``path`` (format from the suffix), or write ``.gv`` without dot."""
        if path.suffix in (".gv", ".dot") or not self.has_dot:
            if path.suffix not in (".gv", ".dot"):
                path = path.with_suffix(".gv")
                self.sources.append(path.name)
                self.needs_dot = True
            path.write_text(digraph.source, encoding="utf-8")
        else:
            from tinygrad_dlcv.viz import render

            render(digraph, path)
        self.written.append(path)
        return path

    def movie(self, name: str, animate: Callable[[Path], Any]) -> Path | None:
        """Write the frames ``animate(path)`` renders with ``dot`` (skipped without dot)."""
        if not self.has_dot:
            self.skipped.append(name)
            self.needs_dot = True
            return None
        return self.plot(name, animate)

    def note(self) -> str | None:
        """One line saying what was skipped and how to install it, or None."""
        if not (self.skipped or self.sources):
            return None
        parts = []
        if self.skipped:
            names = ", ".join(self.skipped)
            parts.append(f"skipped {len(self.skipped)} picture(s) ({names})")
        if self.sources:
            parts.append(f"wrote {', '.join(self.sources)} as graphviz source (no dot to render)")
        hints = [f"pip install {' '.join(self.packages)}"] if self.packages else []
        hints += [_INSTALL_DOT] if self.needs_dot else []
        note = f"{PROG}: note: {' and '.join(parts)}"
        if hints:
            note += f"; for pictures install: {'; '.join(hints)}"
        return "; ".join([note, *_unique(self.other_reasons)])

    def report(self) -> None:
        """Print the files written (stdout) and the note on what was skipped (stderr)."""
        if self.written:
            print(f"wrote {', '.join(str(p) for p in self.written)}")
        note = self.note()
        if note:
            print(note, file=sys.stderr)


# ---------------------------------------------------------------------------
# training and data helpers shared by demo, train and kmeans
# ---------------------------------------------------------------------------


def _check_device(device: str) -> None:
    """Fail early, with the backend's one-line reason, when ``device`` cannot be used."""
    import tinygrad_dlcv as tg

    tg.zeros(1, device=device)


def _dataset(name: str, n_samples: int, n_classes: int, seed: int):
    """One of the built-in 2-D sets as (X float32 (N, 2), y int64 (N,))."""
    from tinygrad_dlcv import data

    if name == "blobs":
        return data.make_blobs(n_samples, centers=n_classes, cluster_std=1.0, seed=seed)
    if name == "moons":
        return data.make_moons(n_samples, noise=0.15, seed=seed)
    if name == "spirals":
        return data.make_spirals(n_samples, n_classes=n_classes, noise=0.1, seed=seed)
    return data.make_xor(n_samples, noise=0.1, seed=seed)


GLYPH_SIZE = 10  # the synthetic glyph images are GLYPH_SIZE x GLYPH_SIZE


def _glyphs(n_per_class: int, seed: int):
    """Small grey images of four strokes, an image set that needs no download.

    A vertical bar, a horizontal bar, a diagonal and a ring, each shifted by up to
    a pixel, at a random brightness, with Gaussian noise: like digits, one class
    varies around a shape, so a linear classifier's rows of W come out as that
    shape (the lecture's templates) when MNIST is not at hand. Returns
    (X float32 (N, GLYPH_SIZE**2), y int64 (N,), class names), shuffled.
    """
    import numpy as np

    rows, cols = np.mgrid[:GLYPH_SIZE, :GLYPH_SIZE]
    middle = (GLYPH_SIZE - 1) / 2
    strokes = {
        "vertical bar": np.abs(cols - middle) < 1,
        "horizontal bar": np.abs(rows - middle) < 1,
        "diagonal": np.abs(rows + cols - 2 * middle) <= 1,
        "ring": np.abs(np.hypot(rows - middle, cols - middle) - 0.35 * GLYPH_SIZE) < 0.8,
    }
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, stroke in enumerate(strokes.values()):
        for _ in range(n_per_class):
            shift = tuple(int(step) for step in rng.integers(-1, 2, size=2))
            image = np.roll(stroke, shift, axis=(0, 1)) * rng.uniform(0.6, 1.0)
            images.append(image + rng.normal(0.0, 0.2, image.shape))
            labels.append(label)
    order = rng.permutation(len(labels))
    X = np.stack(images).reshape(len(labels), -1).astype(np.float32)[order]
    return X, np.asarray(labels, dtype=np.int64)[order], list(strokes)


def _mnist(root: str, n_train: int | None = None):
    """MNIST as (X_train, y_train, X_test, y_test), flattened, in [0, 1].

    The train split when it is in ``root`` (tested on t10k); otherwise the first
    8000 test images train and the last 2000 test. ``n_train`` keeps that many.
    """
    from tinygrad_dlcv.data import load_mnist

    X_test, y_test = load_mnist(root, split="test", flatten=True, normalize=True)
    try:
        X_train, y_train = load_mnist(root, split="train", flatten=True, normalize=True)
    except FileNotFoundError:  # the test split alone: its first 8000 train, the rest test
        X_train, y_train = X_test[:8000], y_test[:8000]
        X_test, y_test = X_test[8000:], y_test[8000:]
    if n_train is not None:
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    return X_train, y_train, X_test, y_test


def _evaluate(model, X, y, binary: bool, device: str) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on all of X, without recording a graph."""
    import numpy as np

    import tinygrad_dlcv as tg
    from tinygrad_dlcv.nn import functional as F

    losses, correct = 0.0, 0
    with tg.no_grad():
        for start in range(0, len(X), 8192):
            xb = tg.tensor(X[start : start + 8192], device=device)
            yb = y[start : start + 8192]
            out = model(xb)
            if binary:
                loss = F.binary_cross_entropy(out, yb.astype(np.float32), reduction="sum")
                predicted = (out.numpy() > 0.5).astype(np.int64)
            else:
                loss = F.cross_entropy(out, yb, reduction="sum")
                predicted = out.argmax(axis=1).numpy()
            losses += float(loss.item())
            correct += int((predicted == yb).sum())
    return losses / len(X), correct / len(X)


class _Diverged(RuntimeError):
    """Training stopped: the loss became NaN or infinite. ``history`` has the epochs run."""

    def __init__(self, message: str, history: dict[str, list[float]]) -> None:
        super().__init__(message)
        self.history = history


def _finite_parameters(model) -> bool:
    """Whether every parameter of ``model`` is finite (those of a diverged run are not)."""
    import numpy as np

    return all(np.isfinite(parameter.numpy()).all() for parameter in model.parameters())


def _train(
    model,
    X,
    y,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    device: str = "cpu",
    validation: tuple | None = None,
    seed: int = 0,
    desc: str = "train",
    verbose: bool = False,
    cosine: bool = False,
) -> dict[str, list[float]]:
    """Minibatch training of ``model`` on (X, y); returns the per-epoch history.

    A model whose output has one axis (the single neuron) is trained with binary
    cross-entropy on 0/1 targets, any other with softmax cross-entropy. With
    ``cosine`` the learning rate decays to 0 along a half cosine over the epochs.
    A run whose loss becomes NaN or infinite stops at the end of that epoch with
    :class:`_Diverged`.
    """
    import numpy as np

    import tinygrad_dlcv as tg
    from tinygrad_dlcv import optim
    from tinygrad_dlcv.data import DataLoader
    from tinygrad_dlcv.nn import functional as F

    with tg.no_grad():
        binary = model(tg.tensor(X[:1], device=device)).ndim == 1
    targets = y.astype(np.float32) if binary else y
    if optimizer == "adam":
        opt = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if cosine else None
    loss_fn = F.binary_cross_entropy if binary else F.cross_entropy
    loader = DataLoader(X, targets, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    bar = _progress(range(epochs), desc=desc)
    # A diverging run overflows in NumPy well before its loss is looked at: the check
    # after each epoch says so in one line instead of a screenful of RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            for epoch in bar:
                try:
                    model.train()
                    for xb, yb in loader:
                        opt.zero_grad()
                        loss_fn(model(xb), yb).backward()
                        opt.step()
                    if schedule is not None:
                        schedule.step()
                    model.eval()
                    loss, accuracy = _evaluate(model, X, y, binary, device)
                except ValueError:
                    # binary_cross_entropy refuses the NaN probabilities of a diverged neuron
                    if _finite_parameters(model):
                        raise
                    loss, accuracy = math.nan, math.nan
                history["loss"].append(loss)
                history["accuracy"].append(accuracy)
                if not math.isfinite(loss):
                    raise _Diverged(
                        f"training diverged: loss is {loss} at epoch {epoch + 1}; "
                        f"try a smaller learning rate (--lr, now {lr:g})",
                        history,
                    )
                line = f"epoch {epoch + 1}/{epochs}  loss {loss:.4f}  accuracy {accuracy:.3f}"
                if validation is not None:
                    val_loss, val_accuracy = _evaluate(model, *validation, binary, device)
                    history["val_loss"].append(val_loss)
                    history["val_accuracy"].append(val_accuracy)
                    line += f"  val_loss {val_loss:.4f}  val_accuracy {val_accuracy:.3f}"
                bar.set_postfix_str(f"loss {loss:.3f} acc {accuracy:.3f}")
                if verbose:
                    _say(line)
        finally:
            bar.close()
    return history


def _purity(labels, y) -> float:
    """Fraction of samples whose cluster's most common true class is their own."""
    import numpy as np

    labels, y = np.asarray(labels), np.asarray(y)
    return sum(int(np.bincount(y[labels == k]).max()) for k in np.unique(labels)) / len(y)


def _numpy(a):
    """A host copy of a NumPy or CuPy array."""
    import numpy as np

    return a.get() if hasattr(a, "get") else np.asarray(a)


def _secs(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def _add_demo(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="run the lecture's examples on built-in data and draw them",
        description=(
            "The lecture in one run, on built-in data (no download): the single sigmoid "
            "neuron (values and gradients of one step, then training with and without "
            "weight decay), a linear classifier and an MLP trained by minibatch SGD, "
            "MNIST when --mnist is given, k-means with each init and metric, and the "
            "graph of a training step. Writes every picture into --out and prints a "
            "summary table. The class templates (rows of a linear classifier's W as "
            "images) are MNIST's digits with --mnist; without it a linear classifier "
            f"learns {GLYPH_SIZE}x{GLYPH_SIZE} synthetic glyphs (bars, a diagonal, a "
            "ring) and its templates are drawn instead."
        ),
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default="tinygrad_dlcv_demo",
        help="folder for the pictures (default: %(default)s)",
    )
    _add_device_option(p)
    p.add_argument("--quick", action="store_true", help="smaller sets, fewer epochs (< 1 min)")
    p.add_argument(
        "--mnist",
        metavar="DIR",
        type=_folder,
        default=None,
        help="folder with MNIST's IDX files: also train on the digits",
    )
    _add_seed_option(p)
    return p


class _Summary:
    """The rows of the demo's closing table: what | accuracy | loss | time | notes."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []

    def add(self, what: str, accuracy: float | None, loss: float, seconds: float, notes=""):
        acc = "-" if accuracy is None else f"{accuracy:.3f}"
        self.rows.append([what, acc, f"{loss:.4g}", _secs(seconds), notes])

    def __str__(self) -> str:
        return _table(["what", "accuracy", "loss", "time", "notes"], self.rows)


def _cmd_demo(args: argparse.Namespace) -> int:
    device, quick, seed = args.device, args.quick, args.seed
    _check_device(device)
    # MNIST is read before the output folder is made: a missing MNIST leaves no empty folder.
    mnist = _mnist(args.mnist, n_train=8000 if quick else None) if args.mnist else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    pictures, summary = _Pictures(out), _Summary()
    expression = _demo_neuron_by_hand(device, quick, out)
    _demo_single_neuron(device, quick, seed, pictures, summary)
    _demo_classifiers(device, quick, seed, pictures, summary)
    if mnist is not None:
        _demo_mnist(mnist, device, quick, seed, pictures, summary)
    else:  # the class templates all the same, from images that need no download
        _demo_glyphs(device, quick, seed, pictures, summary)
    _demo_kmeans(device, quick, seed, pictures, summary)
    _demo_graphs(expression, device, seed, pictures)

    _say()
    _say(str(summary))
    _say("(k-means rows: accuracy = purity against the blobs' labels, loss = inertia)")
    _say()
    names = ", ".join(p.name for p in pictures.written)
    _say(f"wrote {len(pictures.written)} pictures to {out}: {names}")
    _say(f"total {_secs(time.perf_counter() - started)}")
    note = pictures.note()
    if note:
        print(note, file=sys.stderr)
    return 0


def _neuron_expression(device: str):
    """The lecture's neuron on one input of class t = 1: z = w . x + b, y = sigmoid(z).

    The loss is the binary cross-entropy -(t log y + (1 - t) log(1 - y)), which for
    t = 1 is -log y. Returns (x, w, b, z, y, loss).
    """
    import tinygrad_dlcv as tg

    x = tg.Tensor([1.0, -2.0], device=device, name="x")
    w = tg.Tensor([0.5, -0.3], requires_grad=True, device=device, name="w")
    b = tg.Tensor(0.1, requires_grad=True, device=device, name="b")
    z = w @ x + b
    y = z.sigmoid()
    loss = -y.log()
    z.name, y.name, loss.name = "z", "y", "loss"
    return x, w, b, z, y, loss


def _demo_neuron_by_hand(device: str, quick: bool, out: Path):
    """Part 0: every value and gradient of the neuron's expression, then a few GD steps."""
    import numpy as np

    import tinygrad_dlcv as tg

    x, w, b, z, y, loss = _neuron_expression(device)
    loss.backward(retain_grad=True)  # keep the intermediates' grads to show them
    lines = [
        f"single sigmoid neuron on {device}: z = w . x + b, y = sigmoid(z), "
        "loss = -(t log y + (1 - t) log(1 - y)) = -log y for the target t = 1",
        "",
        _table(
            ["name", "shape", "value", "grad"],
            [[t.name, str(t.shape), _fmt(t.numpy()), _fmt_grad(t)] for t in (x, w, b, z, y, loss)],
        ),
        "",
    ]
    # The chain rule by hand: dloss/dz = y - t (the prediction error), dloss/dw = (y - t) x.
    err = float(y.item()) - 1.0
    lines.append(
        f"check: dloss/dw = (y - t) * x = {_fmt(err * x.numpy())}, "
        f"dloss/db = y - t = {_fmt(np.asarray(err))}  (prediction error x feature)"
    )
    steps, lr = (5, 1.0) if quick else (25, 1.0)
    weights, bias, losses = w.detach().requires_grad_(True), b.detach().requires_grad_(True), []
    for _ in range(steps):
        step_loss = -(weights @ x + bias).sigmoid().log()
        step_loss.backward()
        losses.append(float(step_loss.item()))
        with tg.no_grad():  # w <- w - lr * dloss/dw, recorded nowhere
            weights, bias = weights - lr * weights.grad, bias - lr * bias.grad
        weights.requires_grad_(True)
        bias.requires_grad_(True)
    with tg.no_grad():
        final = float((-(weights @ x + bias).sigmoid().log()).item())
    lines.append(
        f"gradient descent, lr = {lr:g}: loss {losses[0]:.4f} -> {final:.4f} "
        f"after {steps} steps; w = {_fmt(weights.numpy())}, b = {_fmt(bias.numpy())}"
    )
    report = out / "neuron.txt"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _say("\n".join(lines))
    return loss


def _demo_single_neuron(device, quick, seed, pictures: _Pictures, summary: _Summary) -> None:
    """Part 1: the neuron on two separable blobs, with and without weight decay."""
    import numpy as np

    import tinygrad_dlcv as tg
    from tinygrad_dlcv import nn, optim
    from tinygrad_dlcv.data import make_blobs
    from tinygrad_dlcv.nn import functional as F

    X, y = make_blobs(200, centers=[(-2.0, -2.0), (2.0, 2.0)], cluster_std=0.8, seed=seed)
    inputs, targets = tg.tensor(X, device=device), y.astype(np.float32)
    steps, alpha = (100 if quick else 300), 0.1
    runs = {}
    for decay in (0.0, alpha):
        tg.manual_seed(seed)
        neuron = nn.Neuron(2, device=device)
        opt = optim.SGD(neuron.parameters(), lr=0.5)
        trajectory = [neuron.w.numpy()]
        began = time.perf_counter()
        label = "single neuron, blobs" + (f", weight decay {decay:g}" if decay else "")
        for _ in _progress(range(steps), desc=label):
            opt.zero_grad()
            loss = F.binary_cross_entropy(neuron(inputs), targets)
            if decay:  # the lecture's E(w) + alpha * 1/2 sum w^2
                loss = loss + decay * F.l2_penalty([neuron.w])
            loss.backward()
            opt.step()
            trajectory.append(neuron.w.numpy())
        seconds = time.perf_counter() - began
        loss_value, accuracy = _evaluate(neuron, X, y, True, device)
        norm = float(np.linalg.norm(neuron.w.numpy()))
        summary.add(label, accuracy, loss_value, seconds, f"|w| = {norm:.3f}, {steps} GD steps")
        runs[decay] = (neuron.to("cpu"), np.stack(trajectory))
    neuron, _ = runs[0.0]

    from tinygrad_dlcv import plot

    w, b = neuron.w.numpy(), float(neuron.b.item())
    pictures.plot("neuron_function.png", lambda path: plot.neuron_function(w, b, path=path))
    trajectories = {
        "no weight decay": runs[0.0][1],
        f"weight decay {alpha:g}": runs[alpha][1],
    }

    def data_loss(w2):  # the loss over (w1, w2) at the trained bias, for the contours
        p = 1.0 / (1.0 + np.exp(-(X @ w2 + b)))
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    pictures.plot(
        "weight_trajectory.png",
        lambda path: plot.weight_trajectory(trajectories, path=path, loss_fn=data_loss),
    )
    pictures.plot(
        "decision_boundary_neuron.png",
        lambda path: plot.decision_boundary(neuron, X, y, path=path),
    )


def _timed_training(
    model,
    label: str,
    train: tuple,
    validation: tuple,
    epochs: int,
    lr: float,
    batch_size: int,
    device: str,
    seed: int,
) -> tuple[dict, float]:
    """``_train`` as every demo part runs it (minibatch SGD with a cosine lr, a progress
    bar named ``label``); returns the history and the seconds it took."""
    began = time.perf_counter()
    history = _train(
        model,
        *train,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        device=device,
        validation=validation,
        seed=seed,
        desc=label,
        cosine=True,
    )
    return history, time.perf_counter() - began


def _demo_classifiers(device, quick, seed, pictures: _Pictures, summary: _Summary) -> None:
    """Part 2: a linear classifier and an MLP, minibatch SGD, on blobs and spirals."""
    import tinygrad_dlcv as tg
    from tinygrad_dlcv import nn, plot
    from tinygrad_dlcv.data import train_val_test_split

    mlp_epochs = 100 if quick else 200
    jobs = [  # (kind, data, model, epochs, lr)
        ("linear", "blobs", lambda: nn.Linear(2, 3, device=device), 10 if quick else 30, 0.05),
        ("linear", "spirals", lambda: nn.Linear(2, 3, device=device), 20 if quick else 50, 0.05),
        ("mlp", "spirals", lambda: nn.MLP(2, [32, 32], 3, device=device), mlp_epochs, 0.05),
    ]
    for kind, data_name, build, epochs, lr in jobs:
        X, y = _dataset(data_name, 300 if data_name == "blobs" else 600, 3, seed)
        X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
            X, y, val=0.15, test=0.15, seed=seed
        )
        tg.manual_seed(seed)
        model = build()
        name = "linear classifier" if kind == "linear" else "MLP 2-32-32-3"
        label = f"{name}, {data_name}"
        history, seconds = _timed_training(
            model, label, (X_train, y_train), (X_val, y_val), epochs, lr, 32, device, seed
        )
        test_loss, test_accuracy = _evaluate(model, X_test, y_test, False, device)
        notes = f"test set; {epochs} epochs of SGD, batches of 32, cosine lr"
        summary.add(label, test_accuracy, test_loss, seconds, notes)
        model.to("cpu")
        stem = f"{kind}_{data_name}"
        pictures.plot(
            f"decision_boundary_{stem}.png",
            lambda path, m=model, X=X, y=y: plot.decision_boundary(m, X, y, path=path),
        )
        if data_name == "spirals":
            pictures.plot(
                f"training_curves_{stem}.png",
                lambda path, h=history: plot.training_curves(h, path=path),
            )


def _demo_mnist(mnist, device, quick, seed, pictures: _Pictures, summary: _Summary) -> None:
    """Part 3: a linear softmax classifier and an MLP on MNIST; W's rows as templates."""
    import tinygrad_dlcv as tg
    from tinygrad_dlcv import nn, plot

    X_train, y_train, X_test, y_test = mnist
    epochs = 2 if quick else 5
    for kind, build, lr in [
        ("linear", lambda: nn.Linear(784, 10, device=device), 0.1),
        ("mlp", lambda: nn.MLP(784, [128], 10, device=device), 0.05),
    ]:
        tg.manual_seed(seed)
        model = build()
        label = "linear classifier, MNIST" if kind == "linear" else "MLP 784-128-10, MNIST"
        history, seconds = _timed_training(
            model, label, (X_train, y_train), (X_test, y_test), epochs, lr, 64, device, seed
        )
        summary.add(
            label,
            history["val_accuracy"][-1],
            history["val_loss"][-1],
            seconds,
            f"{len(X_train)} train / {len(X_test)} test digits; {epochs} epochs of SGD, cosine lr",
        )
        model.to("cpu")
        pictures.plot(
            f"training_curves_{kind}_mnist.png",
            lambda path, h=history: plot.training_curves(h, path=path),
        )
        if kind == "linear":
            W = model.weight.numpy()
            names = [str(digit) for digit in range(10)]
            pictures.plot(
                "class_templates.png",
                lambda path, W=W, names=names: plot.class_templates(W, (28, 28), names, path=path),
            )


def _demo_glyphs(device, quick, seed, pictures: _Pictures, summary: _Summary) -> None:
    """Part 3 without MNIST: a linear classifier on synthetic glyphs; W's rows as templates."""
    import tinygrad_dlcv as tg
    from tinygrad_dlcv import nn, plot
    from tinygrad_dlcv.data import train_val_test_split

    X, y, names = _glyphs(100 if quick else 250, seed)
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
        X, y, val=0.15, test=0.15, seed=seed
    )
    tg.manual_seed(seed)
    model = nn.Linear(X.shape[1], len(names), device=device)
    label = f"linear classifier, {GLYPH_SIZE}x{GLYPH_SIZE} glyphs"
    epochs = 10 if quick else 20
    _, seconds = _timed_training(
        model, label, (X_train, y_train), (X_val, y_val), epochs, 0.05, 32, device, seed
    )
    test_loss, test_accuracy = _evaluate(model, X_test, y_test, False, device)
    notes = f"test set; {epochs} epochs of SGD; W's rows in class_templates.png"
    summary.add(label, test_accuracy, test_loss, seconds, notes)
    W = model.weight.numpy()
    shape = (GLYPH_SIZE, GLYPH_SIZE)
    pictures.plot(
        "class_templates.png", lambda path: plot.class_templates(W, shape, names, path=path)
    )


def _demo_kmeans(device, quick, seed, pictures: _Pictures, summary: _Summary) -> None:
    """Part 4: k-means with each init and each metric; the iterations as panels and a GIF."""
    from tinygrad_dlcv import plot
    from tinygrad_dlcv.cluster import KMeans
    from tinygrad_dlcv.data import make_blobs

    k = 5  # five blobs: "random" init often ends in a worse local minimum than k-means++
    X, y = make_blobs(300 if quick else 600, centers=k, cluster_std=1.0, seed=seed)
    runs = [(init, metric) for init in INITS for metric in ("euclidean", "manhattan", 3)]
    euclidean = []
    for init, metric in _progress(runs, desc="k-means"):
        began = time.perf_counter()
        km = KMeans(
            k, init=init, metric=metric, random_state=seed, device=device, track_history=True
        )
        km.fit(X)
        seconds = time.perf_counter() - began
        summary.add(
            f"k-means, init={init}, metric={metric}",
            _purity(_numpy(km.labels_), y),
            km.inertia_,
            seconds,
            f"{km.n_iter_} iterations",
        )
        if metric == "euclidean":
            euclidean.append(km)
    # The picture: of the runs that reach the best inertia, the one that moves the longest.
    lowest = min(km.inertia_ for km in euclidean)
    shown = max((km for km in euclidean if km.inertia_ <= 1.01 * lowest), key=lambda km: km.n_iter_)
    history = [{key: _numpy(value) for key, value in step.items()} for step in shown.history_]
    pictures.plot("kmeans_history.png", lambda path: plot.kmeans_history(X, history, path=path))
    pictures.plot("kmeans_history.gif", lambda path: plot.kmeans_history(X, history, path=path))


def _demo_graphs(expression, device, seed, pictures: _Pictures) -> None:
    """Part 5: the neuron's graph with formulas, an MLP training step, the backward movie."""
    from tinygrad_dlcv import viz

    pictures.graph("graph_neuron.svg", lambda: viz.draw_graph(expression, show_formulas=True))
    pictures.graph("graph_mlp_step.svg", lambda: _mlp_step_graph(device, seed, collapse=True))
    movie_root = _neuron_expression(device)[-1]
    # animate_backward returns its frame count, not a Figure: nothing to close.
    pictures.movie(
        "backward_neuron.gif", lambda path: viz.animate_backward(movie_root, path) and None
    )


def _mlp_step_graph(device: str, seed: int, collapse: bool, formulas: bool = False):
    """The graph of one MLP training step: forward, cross-entropy, backward, with grads."""
    import tinygrad_dlcv as tg
    from tinygrad_dlcv import nn, viz
    from tinygrad_dlcv.nn import functional as F

    X, y = _dataset("spirals", 8, 3, seed)
    tg.manual_seed(seed)
    model = nn.MLP(2, [16, 16], 3, device=device)
    target = tg.Tensor(y, device=device, name="y")
    loss = F.cross_entropy(model(tg.Tensor(X, device=device, name="x")), target)
    loss.name = "loss"
    loss.backward()
    return viz.draw_graph(loss, params=model, show_formulas=formulas, collapse=collapse)


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------


def _add_train(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train one model (neuron, linear, MLP) on one data set",
        description=(
            "Train the single neuron (binary data), a linear softmax classifier or an MLP "
            "with minibatch SGD or Adam; print loss and accuracy per epoch; write the "
            "training curves, the decision boundary (2-D data) and the class templates "
            "(MNIST, linear) into --out."
        ),
    )
    p.add_argument("--model", choices=["neuron", "linear", "mlp"], default="mlp")
    p.add_argument("--data", choices=[*DATASETS_2D, "mnist"], default="spirals")
    p.add_argument(
        "--mnist", metavar="DIR", type=_folder, default=None, help="MNIST folder (for --data mnist)"
    )
    # 10 at least: the 15% validation and test splits then hold a sample each.
    p.add_argument("--n-samples", type=_int_at_least(10), default=600, help="2-D set size (>= 10)")
    p.add_argument("--epochs", type=_positive_int, default=None, help="default: 100, MNIST 5")
    p.add_argument("--lr", type=_positive_float, default=None, help="default: sgd 0.05, adam 0.01")
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument(
        "--hidden", type=_hidden_sizes, default=[32, 32], help="MLP widths (default: 32,32)"
    )
    p.add_argument("--weight-decay", type=_nonnegative_float, default=0.0)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    _add_device_option(p)
    p.add_argument("--out", metavar="DIR", default="tinygrad_dlcv_out")
    _add_seed_option(p)
    p.set_defaults(check=_check_train)
    return p


def _check_train(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.data == "mnist" and not args.mnist:
        parser.error("--data mnist needs --mnist DIR (the folder with MNIST's IDX files)")
    if args.model == "neuron" and args.data == "mnist":
        parser.error("--model neuron needs two classes: use --data blobs, moons, spirals or xor")


def _cmd_train(args: argparse.Namespace) -> int:
    import tinygrad_dlcv as tg
    from tinygrad_dlcv import nn, plot
    from tinygrad_dlcv.data import train_val_test_split

    _check_device(args.device)
    out = Path(args.out)
    if args.data == "mnist":
        n_classes = 10
        X_train, y_train, X_test, y_test = _mnist(args.mnist)
        X_train, X_val, y_train, y_val = (
            X_train[:-1000],
            X_train[-1000:],
            y_train[:-1000],
            y_train[-1000:],
        )
    else:
        n_classes = 2 if args.model == "neuron" else 3
        X, y = _dataset(args.data, args.n_samples, n_classes, args.seed)
        n_classes = int(y.max()) + 1  # moons and xor have 2, whatever was asked
        X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
            X, y, val=0.15, test=0.15, seed=args.seed
        )
    out.mkdir(parents=True, exist_ok=True)  # once the data is there: no empty folder on failure
    # The classes the data has, not those a small split happens to hold.
    n_in = X_train.shape[1]
    tg.manual_seed(args.seed)
    device = args.device
    if args.model == "neuron":
        model = nn.Neuron(n_in, device=device)
    elif args.model == "linear":
        model = nn.Linear(n_in, n_classes, device=device)
    else:
        model = nn.MLP(n_in, args.hidden, n_classes, device=device)
    epochs = args.epochs or (5 if args.data == "mnist" else 100)
    lr = args.lr or (0.01 if args.optimizer == "adam" else 0.05)
    print(f"{model!r}\non {args.data}: {len(X_train)} train, {len(X_val)} validation samples")
    began = time.perf_counter()
    try:
        history = _train(
            model,
            X_train,
            y_train,
            epochs=epochs,
            lr=lr,
            batch_size=args.batch_size,
            optimizer=args.optimizer,
            weight_decay=args.weight_decay,
            device=device,
            validation=(X_val, y_val),
            seed=args.seed,
            desc=f"{args.model} on {args.data}",
            verbose=True,
        )
    except _Diverged as diverged:  # still draw the epochs run, then fail in one line
        so_far = diverged.history
        curves = _Pictures(out).plot(
            "training_curves.png", lambda path: plot.training_curves(so_far, path=path)
        )
        where = f" (the curves so far: {curves})" if curves is not None else ""
        raise RuntimeError(f"{diverged}{where}") from None
    seconds = time.perf_counter() - began
    test_loss, test_accuracy = _evaluate(model, X_test, y_test, args.model == "neuron", device)
    print(f"test: loss {test_loss:.4f}  accuracy {test_accuracy:.3f}  ({_secs(seconds)})")

    model.to("cpu")
    pictures = _Pictures(out)
    pictures.plot("training_curves.png", lambda path: plot.training_curves(history, path=path))
    if args.data != "mnist":
        X_all, y_all = X_train, y_train
        pictures.plot(
            "decision_boundary.png",
            lambda path: plot.decision_boundary(model, X_all, y_all, path=path),
        )
    elif args.model == "linear":
        W, names = model.weight.numpy(), [str(digit) for digit in range(10)]
        pictures.plot(
            "class_templates.png", lambda path: plot.class_templates(W, (28, 28), names, path=path)
        )
    pictures.report()
    return 0


# ---------------------------------------------------------------------------
# kmeans
# ---------------------------------------------------------------------------


def _add_kmeans(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "kmeans",
        help="cluster blobs or MNIST digits with k-means",
        description=(
            "Fit k-means (Lloyd) with the lecture's options; print inertia, iterations "
            "and time (and purity against the true labels); for 2-D data write the "
            "iterations as panels and a GIF into --out."
        ),
    )
    p.add_argument("--data", choices=["blobs", "mnist"], default="blobs")
    p.add_argument(
        "--mnist", metavar="DIR", type=_folder, default=None, help="MNIST folder (for --data mnist)"
    )
    p.add_argument("--n-samples", type=_positive_int, default=600, help="blobs: points")
    p.add_argument("--k", type=_positive_int, default=None, help="clusters (blobs 4, MNIST 10)")
    p.add_argument("--init", choices=INITS, default="k-means++")
    p.add_argument(
        "--metric",
        type=_metric,
        default="euclidean",
        help=f"euclidean, manhattan or a p-norm's p, 1 <= p <= {MAX_P}",
    )
    p.add_argument("--center", choices=["mean", "median"], default="mean")
    p.add_argument("--n-init", type=_positive_int, default=1, help="runs; the best one is kept")
    p.add_argument("--max-iter", type=_positive_int, default=300)
    p.add_argument("--tol", type=_nonnegative_float, default=1e-4)
    _add_device_option(p)
    p.add_argument("--out", metavar="DIR", default="tinygrad_dlcv_out")
    _add_seed_option(p)
    p.set_defaults(check=_check_kmeans)
    return p


def _check_kmeans(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.data == "mnist" and not args.mnist:
        parser.error("--data mnist needs --mnist DIR (the folder with MNIST's IDX files)")
    if args.data == "blobs" and args.k is not None and args.k > args.n_samples:
        parser.error(f"--k {args.k} is more than the {args.n_samples} samples")


def _cmd_kmeans(args: argparse.Namespace) -> int:
    import numpy as np

    from tinygrad_dlcv import plot
    from tinygrad_dlcv.cluster import KMeans

    _check_device(args.device)
    if args.data == "mnist":
        X, y, _, _ = _mnist(args.mnist)
        k = args.k or 10
    else:
        k = args.k or 4
        X, y = _dataset("blobs", args.n_samples, 4, args.seed)
    seeds = np.random.default_rng(args.seed).integers(2**31, size=args.n_init)
    best, best_seconds, total = None, 0.0, 0.0
    flat = X.shape[1] == 2
    for run, run_seed in enumerate(_progress(seeds, desc="k-means", total=args.n_init)):
        began = time.perf_counter()
        km = KMeans(
            k,
            init=args.init,
            max_iter=args.max_iter,
            tol=args.tol,
            metric=args.metric,
            center=args.center,
            random_state=int(run_seed),
            device=args.device,
            track_history=flat,
        ).fit(X)
        seconds = time.perf_counter() - began
        total += seconds
        if args.n_init > 1:
            _say(f"run {run + 1}: inertia {km.inertia_:.6g}, {km.n_iter_} iterations")
        if best is None or km.inertia_ < best.inertia_:
            best, best_seconds = km, seconds
    line = (
        f"k-means k={k} init={args.init} metric={args.metric} center={args.center} on "
        f"{args.data} ({len(X)} x {X.shape[1]}): inertia {best.inertia_:.6g}, "
        f"n_iter {best.n_iter_}, time {_secs(best_seconds)}"
    )
    if args.n_init > 1:
        line += f" (best of {args.n_init} runs, {_secs(total)} in all)"
    print(line)
    print(f"purity {_purity(_numpy(best.labels_), y):.3f} (the true class shared by most)")
    if flat:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        history = [{key: _numpy(value) for key, value in step.items()} for step in best.history_]
        pictures = _Pictures(out)
        for name in ("kmeans_history.png", "kmeans_history.gif"):
            pictures.plot(name, lambda path: plot.kmeans_history(X, history, path=path))
        pictures.report()
    return 0


# ---------------------------------------------------------------------------
# graph
# ---------------------------------------------------------------------------


def _add_graph(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "graph",
        help="draw the computation graph of the neuron or of an MLP training step",
        description=(
            "Draw the forward graph with every value and gradient: the lecture's neuron "
            "(z = w . x + b, y = sigmoid(z), BCE loss) or one MLP training step. The "
            "format follows --out's suffix (.svg, .png, .pdf; .gv for graphviz source, "
            "also written when the dot program is missing)."
        ),
    )
    p.add_argument("--what", choices=["neuron", "mlp"], default="neuron")
    p.add_argument(
        "--out",
        metavar="FILE",
        type=_graph_file,
        default="graph.svg",
        help="picture to write: .svg, .png, .pdf or .gv (default: %(default)s)",
    )
    p.add_argument(
        "--formulas", action="store_true", help="put each op's local derivative on its node"
    )
    p.add_argument(
        "--no-collapse",
        action="store_true",
        help="draw every op inside the layers instead of one node per layer call",
    )
    _add_seed_option(p)
    return p


def _cmd_graph(args: argparse.Namespace) -> int:
    from tinygrad_dlcv import viz

    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    collapse = not args.no_collapse
    if args.what == "neuron":
        root = _neuron_expression("cpu")[-1]
        root.backward(retain_grad=True)
        digraph = viz.draw_graph(root, show_formulas=args.formulas, collapse=collapse)
    else:
        digraph = _mlp_step_graph("cpu", args.seed, collapse, formulas=args.formulas)
    pictures = _Pictures(out.parent)
    path = pictures.write_graph(digraph, out)
    print(f"wrote {path}")
    note = pictures.note()
    if note:
        print(note, file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------


def _add_bench(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "bench",
        help="time the engine against hand-written NumPy, PyTorch and scikit-learn",
        description=(
            "Run tools/bench.py from the source checkout: each workload in the engine, "
            "in hand-written NumPy (CuPy on cuda), PyTorch and scikit-learn, checked "
            "against each other, with the median times and ratios."
        ),
    )
    p.add_argument("--quick", action="store_true", help="few repeats, for a fast check")
    _add_device_option(p)
    p.add_argument("--only", metavar="TEXT", default=None, help="workloads whose name has TEXT")
    return p


def _find_bench() -> Path | None:
    """tools/bench.py of the source checkout this package runs from, or of the current folder."""
    for root in (Path(__file__).resolve().parents[1], Path.cwd()):
        path = root / "tools" / "bench.py"
        if path.is_file():
            return path
    return None


def _cmd_bench(args: argparse.Namespace) -> int:
    _check_device(args.device)  # the same one-line error as every other subcommand
    path = _find_bench()
    if path is None:
        raise FileNotFoundError(
            "tools/bench.py not found: run `tinygrad-dlcv bench` from a source checkout "
            "of tinygrad-dlcv (it is not part of the installed package)"
        )
    spec = importlib.util.spec_from_file_location("tinygrad_dlcv_bench", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    if args.only is not None:
        names = [w.name for w in getattr(module, "WORKLOADS", ()) if args.device in w.devices]
        if names and not any(args.only in name for name in names):
            args.command_parser.error(
                f"--only {args.only!r} matches no workload on {args.device}; "
                f"the workloads are: {', '.join(map(repr, names))}"
            )
    argv = ["--device", args.device]
    if args.quick:
        argv.append("--quick")
    if args.only is not None:
        argv += ["--only", args.only]
    return int(module.main(argv) or 0)


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------

_COMMANDS: list[tuple[Callable, Callable[[argparse.Namespace], int]]] = [
    (_add_demo, _cmd_demo),
    (_add_train, _cmd_train),
    (_add_kmeans, _cmd_kmeans),
    (_add_graph, _cmd_graph),
    (_add_bench, _cmd_bench),
]


def build_parser() -> argparse.ArgumentParser:
    """Return the ``tinygrad-dlcv`` argument parser with every subcommand."""
    parser = _Parser(
        prog=PROG,
        description="A small autodiff engine over NumPy / CuPy, and the lecture's examples on it.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add, run in _COMMANDS:
        command = add(sub)
        command.set_defaults(run=run, command_parser=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tinygrad-dlcv`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 1 when the command failed (a one-line message on stderr).
        Bad arguments raise ``SystemExit(2)`` through argparse.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None:  # checks that span several arguments; exit 2 like argparse's own
        check(args.command_parser, args)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, no traceback; TINYGRAD_DLCV_DEBUG=1 shows it
        if os.environ.get("TINYGRAD_DLCV_DEBUG"):
            raise
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 1
