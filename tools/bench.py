"""Speed of the engine next to the same computation hand-written in NumPy, and PyTorch.

Run ``python tools/bench.py [--quick] [--device cpu|cuda] [--repeat N]``.

Each workload is a small function that builds up to four implementations of
one computation: the engine's, a hand-written NumPy (CuPy on ``cuda``) one,
PyTorch's (when torch is importable) and scikit-learn's (for the estimators,
when it is importable). Every implementation returns its results (gradients,
or centers and labels); before timing, the engine's are checked against the
reference (NumPy, else scikit-learn), so a fast wrong answer cannot pass. Each
is then timed with ``time.perf_counter`` after warm-up runs (synchronising the
GPU before the timer stops) and the median is reported. To add a workload,
write a ``build(ctx) -> Impls`` function and decorate it with ``@workload(name)``.
"""

from __future__ import annotations

import argparse
import contextlib
import operator
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENGINE_FILES = ("tensor.py", "ops.py", "backend.py")


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------


@dataclass
class Context:
    """What a workload needs to build its implementations."""

    tg: Any  # the tinygrad_dlcv module
    device: str  # "cpu" or "cuda"
    xp: Any  # numpy or cupy: the hand-written baseline's array module
    torch: Any  # the torch module, or None
    torch_device: str | None  # device for torch tensors, or None when torch is not used
    quick: bool = False  # smaller problem sizes for --quick
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def host(self, *shape: int, scale: float = 1.0) -> np.ndarray:
        """Standard-normal float32 host data of ``shape``, times ``scale``."""
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)


@dataclass
class Impls:
    """One workload's implementations; each call runs forward + backward once and
    returns the gradients (arrays or tensors of any of the three libraries)."""

    engine: Callable[[], list]
    numpy: Callable[[], list] | None = None
    torch: Callable[[], list] | None = None
    sklearn: Callable[[], list] | None = None
    n_ops: int | None = None  # elementwise ops in the chain, for a per-op figure
    all_threads: bool = False  # estimators use every core (scikit-learn does, with OpenMP)
    max_repeat: int | None = None  # cap for workloads whose one run takes seconds


class SkipWorkload(Exception):
    """Raised by a workload's build when it cannot run here (its data is missing)."""


@dataclass
class Workload:
    name: str
    build: Callable[[Context], Impls]
    devices: tuple[str, ...] = ("cpu", "cuda")


WORKLOADS: list[Workload] = []


def workload(
    name: str, devices: tuple[str, ...] = ("cpu", "cuda")
) -> Callable[[Callable[[Context], Impls]], Callable[[Context], Impls]]:
    """Register ``build(ctx) -> Impls`` under ``name``, for the given devices."""

    def register(build: Callable[[Context], Impls]) -> Callable[[Context], Impls]:
        WORKLOADS.append(Workload(name, build, devices))
        return build

    return register


# ---------------------------------------------------------------------------
# workloads
# ---------------------------------------------------------------------------

CHAIN_LEN = 200
# (op, constant): cheap elementwise ops that keep values near where they start.
CHAIN_OPS = [
    (operator.mul, 1.0001),
    (operator.add, 0.001),
    (operator.sub, 0.0005),
    (operator.truediv, 1.0002),
]


def _chain_forward(x):
    """200 elementwise ops; the same code for engine, torch and NumPy arrays."""
    for i in range(CHAIN_LEN):
        op, c = CHAIN_OPS[i % len(CHAIN_OPS)]
        x = op(x, c)
    return x


def _chain(shape: tuple[int, ...]) -> Callable[[Context], Impls]:
    def build(ctx: Context) -> Impls:
        tg, xp = ctx.tg, ctx.xp
        data = ctx.host(*shape)
        x = tg.Tensor(data, requires_grad=True, device=ctx.device)
        x_np = xp.asarray(data)

        def engine():
            x.grad = None
            _chain_forward(x).sum().backward()
            return [x.grad]

        def numpy():
            # Forward: the constants are all the backward needs, so nothing is stored.
            _chain_forward(x_np).sum()
            # Backward of sum, then the chain in reverse: add/sub pass the gradient on.
            g = xp.ones_like(x_np)
            for i in reversed(range(CHAIN_LEN)):
                op, c = CHAIN_OPS[i % len(CHAIN_OPS)]
                if op is operator.mul:
                    g = g * c
                elif op is operator.truediv:
                    g = g / c
            return [g]

        impl_torch = None
        if ctx.torch is not None:
            xt = ctx.torch.tensor(data, device=ctx.torch_device, requires_grad=True)

            def impl_torch():
                xt.grad = None
                _chain_forward(xt).sum().backward()
                return [xt.grad]

        return Impls(engine, numpy, impl_torch, n_ops=CHAIN_LEN)

    return build


workload("chain200 (8,)")(_chain((8,)))
workload("chain200 (256,256)")(_chain((256, 256)))


def _mlp_loss(x, target, rows, w1, b1, w2, b2):
    """784-256-10 MLP and its mean NLL; raw tensor ops, the same code for engine and torch."""
    h = (x @ w1.T + b1).relu()
    logits = h @ w2.T + b2
    logp = logits.log_softmax(-1)
    return -logp[rows, target].mean()


@workload("mlp 784-256-10 fwd+bwd")
def _mlp(ctx: Context) -> Impls:
    tg, xp = ctx.tg, ctx.xp
    n, d_in, d_hid, d_out = 128, 784, 256, 10
    x_h = ctx.host(n, d_in)
    t_h = ctx.rng.integers(0, d_out, size=n).astype(np.int64)
    params_h = [
        ctx.host(d_hid, d_in, scale=(2.0 / d_in) ** 0.5),
        ctx.host(d_hid, scale=0.01),
        ctx.host(d_out, d_hid, scale=(1.0 / d_hid) ** 0.5),
        ctx.host(d_out, scale=0.01),
    ]

    # Engine: index arrays live in the device's array module.
    x = tg.Tensor(x_h, device=ctx.device)
    rows, target = xp.arange(n), xp.asarray(t_h)
    params = [tg.Tensor(p, requires_grad=True, device=ctx.device) for p in params_h]

    def engine():
        for p in params:
            p.grad = None
        _mlp_loss(x, target, rows, *params).backward()
        return [p.grad for p in params]

    x_np = xp.asarray(x_h)
    w1, b1, w2, b2 = (xp.asarray(p) for p in params_h)

    def numpy():
        # Forward, keeping what the backward needs.
        z1 = x_np @ w1.T + b1
        h = xp.maximum(z1, 0)
        logits = h @ w2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        _loss = -logp[rows, target].mean()
        # Backward: d(mean NLL)/dlogits = (softmax - onehot) / n.
        g = xp.exp(logp)
        g[rows, target] -= 1.0
        g /= n
        g_w2, g_b2 = g.T @ h, g.sum(axis=0)
        g_z1 = (g @ w2) * (z1 > 0)
        g_w1, g_b1 = g_z1.T @ x_np, g_z1.sum(axis=0)
        return [g_w1, g_b1, g_w2, g_b2]

    impl_torch = None
    if ctx.torch is not None:
        torch, dev = ctx.torch, ctx.torch_device
        xt = torch.tensor(x_h, device=dev)
        tt, rows_t = torch.tensor(t_h, device=dev), torch.arange(n, device=dev)
        params_t = [torch.tensor(p, device=dev, requires_grad=True) for p in params_h]

        def impl_torch():
            for p in params_t:
                p.grad = None
            _mlp_loss(xt, tt, rows_t, *params_t).backward()
            return [p.grad for p in params_t]

    return Impls(engine, numpy, impl_torch)


def _train_step(sizes: list[int], batch: int, loss: str) -> Callable[[Context], Impls]:
    """One SGD training step of an MLP: forward, loss, backward, update (lr 0.01).

    The engine uses nn.MLP, the fused loss of nn.functional and optim.SGD, as a
    user would; torch uses torch.nn and torch.optim; the NumPy baseline is the
    same network written out by hand, forward and backward.
    """
    lr = 0.01

    def build(ctx: Context) -> Impls:
        tg, xp = ctx.tg, ctx.xp
        from tinygrad_dlcv import nn, optim
        from tinygrad_dlcv.nn import functional as F

        x_h = ctx.host(batch, sizes[0])
        if loss == "cross_entropy":
            t_h = ctx.rng.integers(0, sizes[-1], size=batch).astype(np.int64)
        else:
            t_h = ctx.rng.integers(0, 2, size=(batch, 1)).astype(np.float32)
        weights_h = [
            (ctx.host(n_out, n_in, scale=(2.0 / n_in) ** 0.5), ctx.host(n_out, scale=0.01))
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        ]

        model = nn.MLP(sizes[0], sizes[1:-1], sizes[-1], device=ctx.device)
        model.load_state_dict(
            {
                f"{2 * i}.{k}": v
                for i, wb in enumerate(weights_h)
                for k, v in zip(("weight", "bias"), wb, strict=True)
            }
        )
        optimizer = optim.SGD(model.parameters(), lr=lr)
        x, target = tg.Tensor(x_h, device=ctx.device), tg.Tensor(t_h, device=ctx.device)
        loss_fn = F.cross_entropy if loss == "cross_entropy" else F.binary_cross_entropy_with_logits

        parameters = list(model.parameters())

        def engine():
            optimizer.zero_grad()
            loss_fn(model(x), target).backward()
            grads = [p.grad for p in parameters]
            optimizer.step()
            return grads

        x_np, t_np = xp.asarray(x_h), xp.asarray(t_h)
        params_np = [xp.asarray(a) for wb in weights_h for a in wb]
        rows = xp.arange(batch)

        def numpy():
            activations, pre = [x_np], []
            for i in range(0, len(params_np), 2):
                z = activations[-1] @ params_np[i].T + params_np[i + 1]
                pre.append(z)
                activations.append(xp.maximum(z, 0) if i + 2 < len(params_np) else z)
            logits = activations[-1]
            if loss == "cross_entropy":  # d(mean CE)/dlogits = (softmax - onehot) / n
                shifted = logits - logits.max(axis=1, keepdims=True)
                g = xp.exp(shifted)
                g /= g.sum(axis=1, keepdims=True)
                g[rows, t_np] -= 1.0
            else:  # d(mean BCE-with-logits)/dz = (sigmoid(z) - t) / n
                g = 1 / (1 + xp.exp(-logits)) - t_np
            g /= g.size if loss != "cross_entropy" else batch
            grads = [None] * len(params_np)
            for i in reversed(range(0, len(params_np), 2)):
                grads[i], grads[i + 1] = g.T @ activations[i // 2], g.sum(axis=0)
                if i:
                    g = (g @ params_np[i]) * (pre[i // 2 - 1] > 0)
            for p, gp in zip(params_np, grads, strict=True):
                p -= lr * gp
            return grads

        impl_torch = None
        if ctx.torch is not None:
            torch, dev = ctx.torch, ctx.torch_device
            layers = []
            for i, (w, b) in enumerate(weights_h):
                linear = torch.nn.Linear(w.shape[1], w.shape[0]).to(dev)
                with torch.no_grad():
                    linear.weight.copy_(torch.tensor(w))
                    linear.bias.copy_(torch.tensor(b))
                layers += [linear] + ([torch.nn.ReLU()] if i + 1 < len(weights_h) else [])
            model_t = torch.nn.Sequential(*layers)
            optimizer_t = torch.optim.SGD(model_t.parameters(), lr=lr)
            xt, tt = torch.tensor(x_h, device=dev), torch.tensor(t_h, device=dev)
            loss_t = (
                torch.nn.functional.cross_entropy
                if loss == "cross_entropy"
                else torch.nn.functional.binary_cross_entropy_with_logits
            )

            parameters_t = list(model_t.parameters())

            def impl_torch():
                optimizer_t.zero_grad()
                loss_t(model_t(xt), tt).backward()
                grads = [p.grad.clone() for p in parameters_t]
                optimizer_t.step()
                return grads

        return Impls(engine, numpy, impl_torch)

    return build


workload("train step 784-256-10 b128")(_train_step([784, 256, 10], 128, "cross_entropy"))
workload("train step 784-1024-1024-10 b512")(
    _train_step([784, 1024, 1024, 10], 512, "cross_entropy")
)
workload("train step 2-16-16-1 b64 bce")(_train_step([2, 16, 16, 1], 64, "bce_with_logits"))


def _kmeans_data(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """N=100,000 x D=64 float32 points and K=100 initial centers drawn from them."""
    n, d, k = (20_000, 64, 100) if ctx.quick else (100_000, 64, 100)
    X = ctx.rng.standard_normal((n, d)).astype(np.float32)
    return X, X[ctx.rng.choice(n, k, replace=False)].copy()


def _kmeans_result(model) -> list:
    # Inertia, not labels: on structureless float32 data a few borderline points
    # legitimately flip between implementations, the objective agrees to ~1e-4.
    return [np.asarray(model.inertia_)]


def _lloyd_pair(ctx: Context, X_h: np.ndarray, init_h: np.ndarray, max_repeat: int) -> Impls:
    """The engine's KMeans and scikit-learn's lloyd from the same init, 20 iterations, tol 0."""
    from tinygrad_dlcv.cluster import KMeans

    X, init = ctx.xp.asarray(X_h), ctx.xp.asarray(init_h)

    def engine():
        return _kmeans_result(KMeans(len(init_h), init=init, max_iter=20, tol=0).fit(X))

    impl_sklearn = None
    if ctx.device == "cpu":
        try:
            from sklearn.cluster import KMeans as SklearnKMeans
        except ImportError:
            SklearnKMeans = None
        if SklearnKMeans is not None:

            def impl_sklearn():
                model = SklearnKMeans(
                    len(init_h), init=init_h, n_init=1, max_iter=20, tol=0, algorithm="lloyd"
                )
                return _kmeans_result(model.fit(X_h))

    return Impls(engine, sklearn=impl_sklearn, all_threads=True, max_repeat=max_repeat)


@workload("kmeans euclidean 100k x 64, K=100, 20 it")
def _kmeans_euclidean(ctx: Context) -> Impls:
    X_h, init_h = _kmeans_data(ctx)
    return _lloyd_pair(ctx, X_h, init_h, max_repeat=5)


MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"


@workload("kmeans mnist 10k x 784, K=10, 20 it")
def _kmeans_mnist(ctx: Context) -> Impls:
    """Real data with few centers: a narrow (N, 10) distance matrix, long rows."""
    from tinygrad_dlcv.data import load_mnist

    try:
        X_h, _ = load_mnist(MNIST_DIR, "test", flatten=True, normalize=True)
    except FileNotFoundError:
        raise SkipWorkload(f"no MNIST at {MNIST_DIR}") from None
    if ctx.quick:
        X_h = X_h[:2000]
    init_h = X_h[ctx.rng.choice(len(X_h), 10, replace=False)].copy()
    return _lloyd_pair(ctx, X_h, init_h, max_repeat=10)


@workload("kmeans manhattan 100k x 64, K=100, 20 it")
def _kmeans_manhattan(ctx: Context) -> Impls:
    from tinygrad_dlcv.cluster import KMeans

    xp = ctx.xp
    X_h, init_h = _kmeans_data(ctx)
    X, init = xp.asarray(X_h), xp.asarray(init_h)
    n, d = X.shape
    k = len(init_h)

    def engine():
        model = KMeans(k, init=init, max_iter=20, tol=0, metric="manhattan").fit(X)
        return [np.asarray(float(xp.abs(X - model.cluster_centers_[model.labels_]).sum()))]

    def numpy():
        # Chunked baseline: |x - c| summed over (rows, K, D) blocks of at most 2^24 elements.
        centers, rows = init.copy(), max(1, 2**24 // (k * d))
        for _ in range(20):
            labels = xp.concatenate(
                [
                    xp.abs(X[s : s + rows, None, :] - centers[None]).sum(-1).argmin(1)
                    for s in range(0, n, rows)
                ]
            )
            one_hot = (labels[:, None] == xp.arange(k)[None]).astype(X.dtype)
            counts = one_hot.sum(axis=0)
            sums = one_hot.T @ X
            centers = xp.where(counts[:, None] > 0, sums / xp.maximum(counts, 1)[:, None], centers)
        labels = xp.concatenate(
            [
                xp.abs(X[s : s + rows, None, :] - centers[None]).sum(-1).argmin(1)
                for s in range(0, n, rows)
            ]
        )
        return [np.asarray(float(xp.abs(X - centers[labels]).sum()))]

    return Impls(engine, numpy=numpy, all_threads=True, max_repeat=3)


@workload("pca 10,000 x 784 -> 50")
def _pca(ctx: Context) -> Impls:
    from tinygrad_dlcv.decomposition import PCA

    X_h = ctx.rng.random((10_000, 784)).astype(np.float32)
    X = ctx.xp.asarray(X_h)

    def engine():
        model = PCA(50).fit(X)
        return [model.explained_variance_ratio_]

    impl_sklearn = None
    if ctx.device == "cpu":
        try:
            from sklearn.decomposition import PCA as SklearnPCA
        except ImportError:
            SklearnPCA = None
        if SklearnPCA is not None:

            def impl_sklearn():
                return [SklearnPCA(50).fit(X_h).explained_variance_ratio_]

    return Impls(engine, sklearn=impl_sklearn, all_threads=True)


# The GPU set (--device cuda): large steps against PyTorch CUDA, k-means at a
# million points against scikit-learn on this CPU and PyTorch CUDA running the
# same Lloyd iteration.
workload("train step 784-1024-1024-10 b4096", devices=("cuda",))(
    _train_step([784, 1024, 1024, 10], 4096, "cross_entropy")
)


@workload("kmeans euclidean 1M x 64, K=256, 20 it", devices=("cuda",))
def _kmeans_gpu(ctx: Context) -> Impls:
    from tinygrad_dlcv.cluster import KMeans

    n, d, k = (100_000, 64, 256) if ctx.quick else (1_000_000, 64, 256)
    X_h = ctx.rng.standard_normal((n, d)).astype(np.float32)
    init_h = X_h[ctx.rng.choice(n, k, replace=False)].copy()
    X, init = ctx.xp.asarray(X_h), ctx.xp.asarray(init_h)

    def engine():
        return _kmeans_result(KMeans(k, init=init, max_iter=20, tol=0).fit(X))

    impl_sklearn = None
    try:
        from sklearn.cluster import KMeans as SklearnKMeans

        def impl_sklearn():
            model = SklearnKMeans(k, init=init_h, n_init=1, max_iter=20, tol=0, algorithm="lloyd")
            return _kmeans_result(model.fit(X_h))
    except ImportError:
        pass

    impl_torch = None
    if ctx.torch is not None:
        torch = ctx.torch
        Xt = torch.tensor(X_h, device=ctx.torch_device)
        init_t = torch.tensor(init_h, device=ctx.torch_device)

        def impl_torch():
            # Lloyd as scikit-learn runs it: assign by ||c||^2 - 2 x.c, then mean update.
            centers = init_t.clone()
            for _ in range(20):
                scores = (centers * centers).sum(1)[None] - 2 * Xt @ centers.T
                labels = scores.argmin(1)
                sums = torch.zeros_like(centers).index_add_(0, labels, Xt)
                counts = torch.bincount(labels, minlength=k).to(Xt.dtype)[:, None]
                centers = torch.where(counts > 0, sums / counts.clamp(min=1), centers)
            scores = (centers * centers).sum(1)[None] - 2 * Xt @ centers.T
            labels = scores.argmin(1)
            inertia = ((Xt - centers[labels]) ** 2).sum()
            return [np.asarray(inertia.item())]

    return Impls(engine, torch=impl_torch, sklearn=impl_sklearn, max_repeat=3)


# ---------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------


MEMORY_STEPS = 1000


def memory_over_training(tg: Any, device: str, steps: int = MEMORY_STEPS) -> tuple[str, bool]:
    """Peak memory of ``steps`` SGD steps (momentum 0.9) of the 784-256-10 MLP, batch 128.

    On the CPU, tracemalloc sees every NumPy buffer: the peak while the first step
    runs (activations, gradients, the momentum buffers it creates) is compared
    with the peak over all the later steps, which must not exceed it by more than
    the interpreter's own free lists (64 KiB). On CUDA, CuPy's memory pool is
    asked how much it holds (its high-water mark) after the first and the last step.
    Returns the report line and whether memory stayed flat.
    """
    import tracemalloc

    from tinygrad_dlcv import nn, optim
    from tinygrad_dlcv.nn import functional as F

    rng = np.random.default_rng(0)
    tg.manual_seed(0)
    model = nn.MLP(784, [256], 10, device=device)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = tg.Tensor(rng.standard_normal((128, 784)).astype(np.float32), device=device)
    target = tg.Tensor(rng.integers(0, 10, 128), device=device)

    def step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(x), target).backward()
        optimizer.step()

    slack = 64 * 1024
    if device == "cuda":
        import cupy

        pool = cupy.get_default_memory_pool()
        step()
        first = pool.total_bytes()
        for _ in range(steps - 1):
            step()
        cupy.cuda.get_current_stream().synchronize()
        later = pool.total_bytes()
        label = "CuPy pool held"
    else:
        tracemalloc.start()
        try:
            step()
            first = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            for _ in range(steps - 1):
                step()
            later = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        label = "peak traced"
    flat = later <= first + slack
    line = (
        f"memory over {steps} training steps (784-256-10 b128, SGD momentum): {label} "
        f"{first / 2**20:.2f} MiB in step 1, {later / 2**20:.2f} MiB in steps 2-{steps} "
        f"({(later - first) / 1024:+.1f} KiB): {'flat' if flat else 'GROWS'}"
    )
    return line, flat


def to_host(a) -> np.ndarray:
    """A host NumPy copy of an engine Tensor, torch tensor, CuPy or NumPy array."""
    module = type(a).__module__
    if isinstance(a, np.ndarray):
        return a
    if module.startswith("torch"):
        return a.detach().cpu().numpy()
    if module.startswith("cupy"):
        return a.get()
    return a.numpy()  # engine Tensor


def check(name: str, got: list, want: list, label: str) -> bool:
    """True when the results agree to float32 accuracy; else print what differs."""
    ok = True
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if g is None:
            print(f"  MISMATCH {name}: {label} result {i} is None", file=sys.stderr)
            ok = False
            continue
        g, w = to_host(g), to_host(w)
        if g.shape != w.shape or not np.allclose(g, w, rtol=1e-3, atol=1e-5):
            err = np.abs(g - w).max() if g.shape == w.shape else f"shape {g.shape} vs {w.shape}"
            print(f"  MISMATCH {name}: {label} result {i}: max |diff| {err}", file=sys.stderr)
            ok = False
    return ok


def median_times(
    fns: dict[str, Callable[[], Any]], repeat: int, warmup: int, sync: Callable[[], None]
) -> dict[str, float]:
    """Median wall time in seconds of each ``fn()`` over ``repeat`` runs after ``warmup`` runs.

    The implementations take turns in short bursts, so a change in the machine's
    load while measuring (other processes, CPU clock) reaches all of them alike,
    while each run finds the caches as its own previous run left them, as in a
    user's training loop (not as another library left them).
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync()
    times: dict[str, list[float]] = {name: [] for name in fns}
    burst = 5
    for first in range(0, repeat, burst):
        for name, fn in fns.items():
            fn()  # a warm-up run after the other implementations ran: not timed
            sync()
            for _ in range(min(burst, repeat - first)):
                start = time.perf_counter()
                fn()
                sync()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def limit_threads(n: int, torch: Any) -> str:
    """Run NumPy's BLAS and PyTorch on ``n`` threads (0: leave their defaults); say what was set."""
    if n == 0:
        return "library default threads"
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return f"{n} thread(s) for PyTorch; NumPy's BLAS unchanged (no threadpoolctl)"
    threadpool_limits(n)
    return f"{n} thread(s) for BLAS and PyTorch"


def all_cores(wanted: bool) -> Any:
    """Context that lifts --threads for estimator workloads (scikit-learn uses every core)."""
    if not wanted:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(os.cpu_count())


def line_counts(tg) -> list[tuple[str, int]]:
    pkg = Path(tg.__file__).resolve().parent
    out = []
    for name in ENGINE_FILES:
        path = pkg / name
        out.append(
            (name, len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0)
        )
    return out


def _import_torch(device: str):
    try:
        import torch
    except ImportError:
        return None, None
    if device == "cuda":
        return (torch, "cuda") if torch.cuda.is_available() else (None, None)
    return torch, "cpu"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, for a fast check")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--repeat", type=int, default=None, metavar="N", help="timed runs")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="threads for NumPy's BLAS and PyTorch (default 1: stable, like for like; 0: defaults)",
    )
    parser.add_argument(
        "--only", default=None, metavar="TEXT", help="workloads whose name has TEXT"
    )
    args = parser.parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (5 if args.quick else 30)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.threads < 0:
        parser.error("--threads must be 0 or more")
    warmup = 1 if args.quick else 3

    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    import tinygrad_dlcv as tg

    torch, torch_device = _import_torch(args.device)
    if args.device == "cuda":
        if not tg.cuda_available():
            print("bench.py: CUDA is not available (needs CuPy and a GPU); nothing run")
            return 1
        import cupy as xp

        def sync() -> None:
            xp.cuda.get_current_stream().synchronize()
            if torch is not None:
                torch.cuda.synchronize()
    else:
        xp = np

        def sync() -> None:
            pass

    base = "CuPy" if args.device == "cuda" else "NumPy"
    chosen = [
        w
        for w in WORKLOADS
        if args.device in w.devices and (args.only is None or args.only in w.name)
    ]

    threads = limit_threads(args.threads, torch) if args.device == "cpu" else "GPU"
    print(
        f"tinygrad_dlcv bench: device={args.device}, float32, {threads}, "
        f"median of {repeat} runs after {warmup} warm-up, times in ms"
    )
    header = ["workload", "engine ms", f"{base} ms", "PyTorch ms", "sklearn ms"]
    header += [f"eng/{base}", "eng/PyTorch", "eng/sklearn"]
    rows, notes, all_ok = [], [], True
    for wl in chosen:
        try:
            impls = wl.build(Context(tg, args.device, xp, torch, torch_device, quick=args.quick))
        except SkipWorkload as reason:
            notes.append(f"{wl.name}: skipped, {reason}")
            continue
        with all_cores(impls.all_threads):
            others = {"numpy": impls.numpy, "torch": impls.torch, "sklearn": impls.sklearn}
            others = {name: fn for name, fn in others.items() if fn is not None}
            reference_name = "numpy" if "numpy" in others else next(iter(others), None)
            if reference_name is not None:
                reference = others[reference_name]()
                all_ok &= check(wl.name, impls.engine(), reference, f"engine vs {reference_name}")
                if "torch" in others and reference_name != "torch":
                    all_ok &= check(wl.name, others["torch"](), reference, "torch vs numpy")
            runs = min(repeat, impls.max_repeat or repeat)
            times = median_times({"engine": impls.engine, **others}, runs, min(warmup, runs), sync)
        names = ("numpy", "torch", "sklearn")
        cells = ["-" if n not in times else f"{times[n] * 1e3:.3f}" for n in ("engine", *names)]
        ratios = ["-" if n not in times else f"{times['engine'] / times[n]:.2f}x" for n in names]
        rows.append([wl.name, *cells, *ratios])
        if impls.n_ops:
            us = {
                label: "-" if name not in times else f"{times[name] / impls.n_ops * 1e6:.1f} us"
                for label, name in (("engine", "engine"), ("PyTorch", "torch"), (base, "numpy"))
            }
            notes.append(
                f"per op (fwd+bwd, {wl.name}): " + ", ".join(f"{k} {v}" for k, v in us.items())
            )

    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))
    for note in notes:
        print(note)
    if args.only is None or args.only in "memory":
        line, flat = memory_over_training(tg, args.device)
        print(line)
        all_ok &= flat
    if torch is None:
        print("PyTorch: not available on this device, its columns show '-'")
    counts = line_counts(tg)
    parts = " + ".join(f"{name} {n}" for name, n in counts)
    print(f"engine size: {parts} = {sum(n for _, n in counts)} lines")
    if not all_ok:
        print(
            "bench.py: results disagree with the hand-written ones, or memory grew (see above)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
