"""An MLP learns the spirals by back-propagation: the chain rule by hand, as a graph, as a movie.

Run: python examples/mlp_backprop.py [--out DIR]
The graph and the movie need Graphviz's dot program (apt-get install graphviz).
"""

import argparse
from pathlib import Path

import numpy as np

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, optim, plot, viz
from tinygrad_dlcv.data import DataLoader, make_spirals, train_val_test_split
from tinygrad_dlcv.nn import functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="examples_out", help="folder for the pictures")
parser.add_argument("--quick", action="store_true", help="fewer epochs")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# 1. Train a 2-32-32-3 MLP with minibatch SGD; a linear model cannot separate the arms.
X, y = make_spirals(600, n_classes=3, noise=0.1, seed=0)
X_train, X_val, _, y_train, y_val, _ = train_val_test_split(X, y, val=0.2, test=0.0, seed=0)
tg.manual_seed(0)
model = nn.MLP(2, [32, 32], 3)
opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loader = DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=0)
history = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
for _ in range(40 if args.quick else 200):
    for xb, yb in loader:
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()  # back-propagation through all layers
        opt.step()
    with tg.no_grad():
        for prefix, (Xs, ys) in (("", (X_train, y_train)), ("val_", (X_val, y_val))):
            scores = model(tg.tensor(Xs))
            history[prefix + "loss"].append(F.cross_entropy(scores, ys).item())
            history[prefix + "accuracy"].append(float((scores.argmax(axis=1).numpy() == ys).mean()))
print(f"validation accuracy {history['val_accuracy'][-1]:.3f}")
plot.training_curves(history, path=out / "mlp_training_curves.png")
plot.decision_boundary(model, X, y, path=out / "mlp_decision_boundary.png")

# 2. Back-propagation by hand for a tiny 2-3-3 net: each layer's gradient from the next one's.
tg.manual_seed(1)
tiny = nn.MLP(2, [3], 3)
x, t = tg.Tensor(X[:4], name="x"), y[:4]
loss = F.cross_entropy(tiny(x), t)
loss.name = "loss"
loss.backward()
W1, b1, W2, b2 = (p.numpy() for p in tiny.parameters())
a = X[:4] @ W1.T + b1  # pre-activations of the hidden layer
h = np.maximum(a, 0)
s = h @ W2.T + b2
p = np.exp(s - s.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
d_s = (p - np.eye(3)[t]) / len(t)  # softmax cross-entropy: (probabilities - one-hot) / N
d_a = (d_s @ W2) * (a > 0)  # back through W2, then through the ReLU
print(
    "dloss/dW1 by hand equals backward():",
    np.allclose(d_a.T @ X[:4], tiny[0].weight.grad.numpy(), atol=1e-6),
)

# 3. The same step as a graph: values and gradients on every tensor, a box per layer.
graph = viz.draw_graph(loss, params=tiny, collapse=False, show_formulas=True)
try:
    print("wrote", viz.render(graph, out / "mlp_graph.svg"))
    # 4. The backward pass as a movie: one frame per tensor, in the order backward() visits them.
    frames = viz.animate_backward(loss, out / "mlp_backward.gif", params=tiny)
    print(f"wrote {out / 'mlp_backward.gif'}: {frames} frames")
except RuntimeError as exc:  # no dot: keep the graph's source
    (out / "mlp_graph.gv").write_text(graph.source)
    print(f"wrote {out / 'mlp_graph.gv'} ({exc})")
