"""The single neuron y = sigmoid(w . x + b): its surface, its gradient, training, weight decay.

Run: python examples/single_neuron.py [--out DIR]
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # a figure without pyplot: no window, just files

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, optim, plot
from tinygrad_dlcv.data import make_blobs
from tinygrad_dlcv.nn import functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="examples_out", help="folder for the pictures")
parser.add_argument("--quick", action="store_true", help="fewer training steps")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# 1. The input-output surface: w sets the direction and steepness, b shifts the line w.x+b=0.
fig = Figure(figsize=(15, 4.8))
for i, (w, b) in enumerate([((1, 1), 0), ((4, 4), 0), ((1, -2), 2)]):
    plot.neuron_function(w, b, ax=fig.add_subplot(1, 3, i + 1, projection="3d"))
fig.savefig(out / "neuron_surfaces.png", dpi=90, bbox_inches="tight")

# 2. The gradient of the summed cross-entropy is "prediction error x feature": -(t - y) x.
X, t = make_blobs(200, centers=[(-1.5, -1.5), (1.5, 1.5)], cluster_std=0.8, seed=0)
tg.manual_seed(0)
neuron = nn.Neuron(2)
y = neuron(tg.tensor(X))
F.binary_cross_entropy(y, t.astype(np.float32), reduction="sum").backward()
by_hand = -((t - y.numpy()) @ X)
print(f"dE/dw by backward(): {neuron.w.grad.numpy()}, by hand -(t - y) x: {by_hand}")

# 3. Training in weight space, without and with weight decay E(w) + alpha/2 |w|^2.
steps, runs, neurons = (60 if args.quick else 300), {}, {}
for alpha in (0.0, 0.05):
    tg.manual_seed(0)
    neuron = nn.Neuron(2)
    opt = optim.SGD(neuron.parameters(), lr=0.5)
    ws = [neuron.w.numpy()]
    for _ in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy(neuron(tg.tensor(X)), t.astype(np.float32))
        (loss + alpha * F.l2_penalty([neuron.w])).backward()
        opt.step()
        ws.append(neuron.w.numpy())
    runs[f"weight decay {alpha:g}"], neurons[alpha] = ws, neuron
    print(f"alpha = {alpha:g}: loss {loss.item():.4f}, |w| = {np.linalg.norm(ws[-1]):.3f}")


b_fit = float(neurons[0.0].b.item())


def data_loss(w, b=b_fit):  # the loss over (w1, w2), b held fixed
    p = np.clip(1 / (1 + np.exp(-(X @ w + b))), 1e-7, 1 - 1e-7)
    return float(-(t * np.log(p) + (1 - t) * np.log(1 - p)).mean())


plot.weight_trajectory(runs, loss_fn=data_loss, path=out / "weight_trajectory.png")

# 4. Weight decay keeps |w| small: the same boundary, a softer (less overconfident) surface.
fig = Figure(figsize=(15, 4.8))
plot.decision_boundary(neurons[0.0], X, t, ax=fig.add_subplot(1, 3, 1), title="no weight decay")
for i, (alpha, neuron) in enumerate(neurons.items()):
    ax = fig.add_subplot(1, 3, i + 2, projection="3d")
    plot.neuron_function(neuron.w, neuron.b, ax=ax)
    ax.set_title(f"weight decay {alpha:g}: |w| = {np.linalg.norm(neuron.w.numpy()):.2f}")
fig.savefig(out / "neuron_weight_decay.png", dpi=90, bbox_inches="tight")
print(f"wrote neuron_surfaces.png, weight_trajectory.png, neuron_weight_decay.png to {out}")
