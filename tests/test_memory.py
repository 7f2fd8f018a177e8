"""Training does not leak: memory after many steps equals memory after the first few."""

import tracemalloc

import numpy as np

import tinygrad_dlcv as tg
from tinygrad_dlcv import nn, optim
from tinygrad_dlcv.nn import functional as F


def test_memory_stays_flat_over_many_training_steps():
    tg.manual_seed(0)
    model = nn.MLP(64, [128], 10)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    inputs, targets = tg.tensor(rng.standard_normal((32, 64))), rng.integers(0, 10, 32)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), targets).backward()
        optimizer.step()

    # Momentum buffers, cached constants, and the free lists of the interpreter
    # (2,000 tuples) and of NumPy (dimension caches) fill up during the first
    # couple of thousand steps; after that, nothing may grow.
    tracemalloc.start()
    try:
        for _ in range(2500):
            step()
        after_warm_up, _ = tracemalloc.get_traced_memory()
        for _ in range(500):
            step()
        after_many, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_many - after_warm_up < 16 * 1024  # bytes: nothing accumulates per step
    assert peak < 4 * 1024 * 1024  # one step's activations and gradients, not 3,000 steps'
