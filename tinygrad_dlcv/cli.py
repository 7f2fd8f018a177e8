"""The ``tinygrad-dlcv`` command.

Each subcommand is two small pieces: an ``_add_<name>(subparsers)`` function that
declares its arguments and a ``_cmd_<name>(args) -> int`` function that runs it.
Both are listed once in ``_COMMANDS``. The engine is imported inside the command
functions, so ``import tinygrad_dlcv.cli`` and ``--help`` stay cheap.

Exit codes: 0 success, 1 a failure while running (one line on stderr), 2 bad
arguments (argparse's usage line and one-line error).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

PROG = "tinygrad-dlcv"


class _Parser(argparse.ArgumentParser):
    """argparse, but every error line starts with ``tinygrad-dlcv: error:``, subcommands too."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def _add_demo(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="run the lecture's examples on built-in data",
        description=(
            "Build the lecture's single sigmoid neuron y = sigmoid(w . x + b) with a "
            "binary cross-entropy loss, back-propagate, print every value and "
            "gradient, then take a few gradient-descent steps."
        ),
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default="tinygrad_dlcv_demo",
        help="folder for the demo's output files (default: %(default)s)",
    )
    _add_device_option(p)
    p.add_argument("--quick", action="store_true", help="fewer steps, for a fast check")
    return p


def _cmd_demo(args: argparse.Namespace) -> int:
    import numpy as np

    import tinygrad_dlcv as tg

    device = args.device
    x_val, w_val, b_val, target = [1.0, -2.0], [0.5, -0.3], 0.1, 1.0

    # The lecture's neuron: z = w . x + b, y = sigmoid(z), loss = BCE(y, t).
    x = tg.Tensor(x_val, device=device, name="x")
    w = tg.Tensor(w_val, requires_grad=True, device=device, name="w")
    b = tg.Tensor(b_val, requires_grad=True, device=device, name="b")
    z = w @ x + b
    y = z.sigmoid()
    loss = -(target * y.log() + (1.0 - target) * (1.0 - y).log())
    z.name, y.name, loss.name = "z", "y", "loss"
    loss.backward(retain_grad=True)  # keep the intermediates' grads to show them

    lines = [
        f"single sigmoid neuron on {device}: z = w . x + b, y = sigmoid(z), "
        f"loss = -(t log y + (1 - t) log(1 - y)), t = {target:g}",
        "",
        _table(
            ["name", "shape", "value", "grad"],
            [[t.name, str(t.shape), _fmt(t.numpy()), _fmt_grad(t)] for t in (x, w, b, z, y, loss)],
        ),
        "",
    ]
    # The chain rule by hand: dloss/dz = y - t (the prediction error), dloss/dw = (y - t) x.
    err = float(y.item()) - target
    lines.append(
        f"check: dloss/dw = (y - t) * x = {_fmt(err * np.asarray(x_val))}, "
        f"dloss/db = y - t = {_fmt(np.asarray(err))}  (prediction error x feature)"
    )

    steps, lr = (5, 1.0) if args.quick else (25, 1.0)
    losses = []
    for _ in range(steps):
        loss = _neuron_loss(tg, w, b, x, target)
        loss.backward()
        losses.append(float(loss.item()))
        with tg.no_grad():  # w <- w - lr * dloss/dw, recorded nowhere
            w, b = w - lr * w.grad, b - lr * b.grad
        w.requires_grad_(True)
        b.requires_grad_(True)
    final = float(_neuron_loss(tg, w, b, x, target).item())
    lines.append(
        f"gradient descent, lr = {lr:g}: loss {losses[0]:.4f} -> {final:.4f} "
        f"after {steps} steps; w = {_fmt(w.numpy())}, b = {_fmt(b.numpy())}"
    )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = out / "neuron.txt"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines.append(f"wrote {report}")
    print("\n".join(lines))
    return 0


def _neuron_loss(tg, w, b, x, target):
    y = (w @ x + b).sigmoid()
    return -(target * y.log() + (1.0 - target) * (1.0 - y).log())


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        default="cpu",
        help="where the tensors live (default: %(default)s)",
    )


def _fmt(a) -> str:
    """Format a host array (or scalar) compactly on one line."""
    import numpy as np

    return np.array2string(np.asarray(a), precision=4, suppress_small=True, separator=", ")


def _fmt_grad(t) -> str:
    return "-" if t.grad is None else _fmt(t.grad.numpy())


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt_row(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt_row(header), rule, *map(fmt_row, rows)])


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------

_COMMANDS: list[tuple[Callable, Callable[[argparse.Namespace], int]]] = [
    (_add_demo, _cmd_demo),
]


def build_parser() -> argparse.ArgumentParser:
    """Return the ``tinygrad-dlcv`` argument parser with every subcommand."""
    parser = _Parser(
        prog=PROG,
        description="A small autodiff engine over NumPy / CuPy, and the lecture's examples on it.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add, run in _COMMANDS:
        add(sub).set_defaults(run=run)
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
    args = build_parser().parse_args(argv)
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
