"""Redraw the two graph pictures of the README (docs/graph_neuron.svg, docs/graph_mlp_step.svg).

Run from the repository root after a change to what the graph records or how it
is drawn: ``python tools/docs_graphs.py``. Needs graphviz's ``dot``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, viz
from tinygrad_dlcv.nn import functional as F

DOCS = Path(__file__).resolve().parent.parent / "docs"


def neuron_graph():
    """The lecture's single neuron y = sigmoid(w . x + b) with its BCE loss for target 1."""
    x = tg.Tensor([0.5, -1.2, 2.0], name="x")
    w = tg.Tensor([0.8, 0.3, -0.5], requires_grad=True, name="w")
    b = tg.Tensor(0.1, requires_grad=True, name="b")
    product = x @ w
    product.name = "w·x"
    z = product + b
    z.name = "z = w·x + b"
    y = z.sigmoid()
    y.name = "y = sigmoid(z)"
    loss = F.binary_cross_entropy(y, tg.Tensor(1.0, name="target t"))
    loss.name = "loss (BCE)"
    loss.backward()
    return viz.draw_graph(loss, show_formulas=True)


def mlp_step_graph():
    """One training step of a 784-256-64-10 MLP on a batch of 32, layers collapsed."""
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.MLP(784, [256, 64], 10)
    x = tg.Tensor(rng.random((32, 784)), name="x (batch of 32)")
    y = tg.Tensor(rng.integers(0, 10, size=32), name="y (class labels)")
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.name = "loss"
    loss.backward()
    return viz.draw_graph(loss, params=model)


if __name__ == "__main__":
    for name, draw in (("graph_neuron", neuron_graph), ("graph_mlp_step", mlp_step_graph)):
        path = viz.render(draw(), DOCS / f"{name}.svg")
        print("wrote", path)
