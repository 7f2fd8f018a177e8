"""The same MLP on the GPU: device="cuda" is the only change (CuPy arrays underneath).

Run: python examples/mlp_cuda.py [--out DIR]
Needs CuPy and an NVIDIA GPU (pip install cupy-cuda12x); without them it says so and exits.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, optim, plot
from tinygrad_dlcv.data import DataLoader, make_spirals
from tinygrad_dlcv.nn import functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="examples_out", help="folder for the pictures")
parser.add_argument("--quick", action="store_true", help="fewer epochs and steps")
args = parser.parse_args()
if not tg.cuda_available():
    sys.exit("mlp_cuda.py: CUDA is not available (needs CuPy and an NVIDIA GPU); nothing run")
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)


def train_spirals(device, epochs):
    """The MLP of mlp_backprop.py, trained on `device`; returns the model and the seconds."""
    X, y = make_spirals(600, n_classes=3, noise=0.1, seed=0)
    tg.manual_seed(0)
    model = nn.MLP(2, [32, 32], 3, device=device)  # parameters created on the device
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(X, y, batch_size=32, seed=0, device=device)  # batches on the device
    began = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
    loss.item()  # wait for the GPU to finish
    return model, time.perf_counter() - began


epochs = 20 if args.quick else 100
X, y = make_spirals(600, n_classes=3, noise=0.1, seed=0)
for device in ("cuda", "cpu"):
    model, seconds = train_spirals(device, epochs)
    with tg.no_grad():
        predicted = model(tg.tensor(X, device=device)).argmax(axis=1).numpy()  # to the host
    print(f"{device}: {epochs} epochs in {seconds:.2f} s, accuracy {(predicted == y).mean():.3f}")
    if device == "cuda":  # plot evaluates the model on its own device
        plot.decision_boundary(model, X, y, path=out / "mlp_cuda_boundary.png")

# Where the GPU pays: a wide MLP on MNIST-sized batches (784-1024-1024-10, batch 512).
for device in ("cuda", "cpu"):
    tg.manual_seed(0)
    model = nn.MLP(784, [1024, 1024], 10, device=device)
    opt = optim.SGD(model.parameters(), lr=0.01)
    xb = tg.randn(512, 784, device=device)
    yb = tg.tensor(np.arange(512) % 10, device=device)
    steps = 5 if args.quick else 20
    for step in range(steps + 1):
        if step == 1:  # the first step warms up (CuPy compiles its kernels)
            began = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
    loss.item()
    print(f"{device}: {(time.perf_counter() - began) / steps * 1e3:.1f} ms per training step")
print(f"wrote {out / 'mlp_cuda_boundary.png'}")
