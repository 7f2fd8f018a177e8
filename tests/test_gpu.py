"""The same code on a GPU: results equal the CPU's, nothing round-trips to the host.

Every test here is marked ``cuda`` and skips cleanly without CuPy and a GPU.
"""

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import backend, nn, ops, optim
from tinygrad_dlcv.nn import functional as F

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not tg.cuda_available(), reason="CUDA not available (CuPy or a GPU)"),
]


def mlp_pair(seed=0):
    """The same MLP (same weights) on the CPU and on the GPU."""
    tg.manual_seed(seed)
    cpu = nn.MLP(20, [32, 16], 5, dtype="float64")
    gpu = nn.MLP(20, [32, 16], 5, dtype="float64").to("cuda")
    gpu.load_state_dict(cpu.state_dict())
    return cpu, gpu


def test_training_on_cuda_equals_the_cpu():
    cpu, gpu = mlp_pair()
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 20)), rng.integers(0, 5, 64)
    for model, device in ((cpu, "cpu"), (gpu, "cuda")):
        optimizer = optim.Adam(model.parameters(), lr=1e-2)
        inputs = tg.tensor(X, dtype="float64", device=device)
        targets = tg.tensor(y, device=device)
        for _ in range(5):
            optimizer.zero_grad()
            F.cross_entropy(model(inputs), targets).backward()
            optimizer.step()
    for (name, a), (_, b) in zip(cpu.state_dict().items(), gpu.state_dict().items(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=name)
    assert all(p.device.startswith("cuda") for p in gpu.parameters())


def test_kmeans_and_pca_on_cuda_equal_the_cpu():
    import cupy

    from tinygrad_dlcv.cluster import KMeans
    from tinygrad_dlcv.decomposition import PCA

    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 4)) + rng.integers(0, 3, 500)[:, None] * 5
    init = X[:3].copy()
    cpu = KMeans(3, init=init, tol=0).fit(X)
    gpu = KMeans(3, init=cupy.asarray(init), tol=0).fit(cupy.asarray(X))
    assert isinstance(gpu.cluster_centers_, cupy.ndarray)
    np.testing.assert_allclose(cpu.cluster_centers_, gpu.cluster_centers_.get(), rtol=1e-9)
    np.testing.assert_array_equal(cpu.labels_, gpu.labels_.get())
    pca_cpu, pca_gpu = PCA(2).fit(X), PCA(2).fit(cupy.asarray(X))
    np.testing.assert_allclose(
        pca_cpu.explained_variance_ratio_, pca_gpu.explained_variance_ratio_.get(), rtol=1e-8
    )


def test_dataloader_feeds_cuda_tensors():
    from tinygrad_dlcv.data import DataLoader

    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    batches = list(DataLoader(X, y, batch_size=4, device="cuda", seed=0))
    assert all(xb.device.startswith("cuda") and yb.device.startswith("cuda") for xb, yb in batches)
    seen = np.sort(np.concatenate([yb.numpy() for _, yb in batches]))
    np.testing.assert_array_equal(seen, np.arange(10))


def test_moves_and_dlpack_share_memory_without_copies():
    import cupy

    t = tg.randn(3, 4, device="cuda")
    assert t.cpu().device == "cpu" and t.cpu().cuda().device.startswith("cuda")
    np.testing.assert_array_equal(t.cpu().numpy(), t.numpy())
    raw = cupy.arange(6.0)
    assert tg.from_dlpack(raw).data.data.ptr == raw.data.ptr
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():  # a CPU-only PyTorch cannot take a CUDA capsule
        pytest.skip("PyTorch has no CUDA")
    as_torch = torch.from_dlpack(t)
    assert as_torch.data_ptr() == t.data.data.ptr
    back = tg.from_dlpack(as_torch)
    assert back.data.data.ptr == t.data.data.ptr


def test_a_cupy_array_left_of_an_operator_yields_a_cuda_tensor():
    import cupy

    t = tg.tensor([1.0, 2.0, 3.0], device="cuda", requires_grad=True)
    left = cupy.asarray(np.ones(3, np.float32))
    y = left * t + left  # CuPy defers to Tensor.__rmul__: __array_ufunc__ is None
    assert isinstance(y, tg.Tensor) and y.device.startswith("cuda")
    y.sum().backward()
    assert t.grad.tolist() == [1.0, 1.0, 1.0]
    assert (left < t).tolist() == [False, True, True]


def test_mixed_devices_name_both():
    with pytest.raises(RuntimeError, match="cpu.*cuda|cuda.*cpu"):
        tg.ones(2) + tg.ones(2, device="cuda")


def test_one_training_step_makes_no_hidden_host_round_trip(monkeypatch):
    """Inside a step only the class-index check may synchronise, and it does so once."""
    cupyx = pytest.importorskip("cupyx")
    checks = []

    def counting(original):
        def counted(*arrays):
            checks.append([array.shape for array in arrays])
            with cupyx.allow_synchronize(True):
                return original(*arrays)

        return counted

    monkeypatch.setattr(F, "value_range", counting(backend.value_range))
    monkeypatch.setattr(F, "value_ranges", counting(backend.value_ranges))
    _, model = mlp_pair()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    inputs = tg.randn(64, 20, dtype="float64", device="cuda")
    targets = tg.tensor(np.random.default_rng(0).integers(0, 5, 64), device="cuda")
    binary_targets = tg.tensor(np.ones((64, 5)), dtype="float64", device="cuda")
    binary_cross_entropy = lambda logits, target: F.binary_cross_entropy(  # noqa: E731
        logits.sigmoid(), target
    )
    for loss_fn, target, synchronisations in (
        (F.cross_entropy, targets, 1),
        (F.binary_cross_entropy_with_logits, binary_targets, 0),
        (binary_cross_entropy, binary_targets, 1),  # probabilities and targets checked together
    ):
        optimizer.zero_grad()
        loss_fn(model(inputs), target).backward()  # warm-up: kernels compile, memory pools fill
        optimizer.step()
        checks.clear()
        with cupyx.allow_synchronize(False):  # any other device-to-host copy raises here
            optimizer.zero_grad()
            loss_fn(model(inputs), target).backward()
            optimizer.step()
        assert len(checks) == synchronisations


@pytest.mark.parametrize("formula", [ops.sigmoid_formula, ops.bce_with_logits_formula])
def test_fused_kernels_equal_their_plain_fallback(formula):
    import cupy

    rng = np.random.default_rng(2)
    arrays = [cupy.asarray(rng.uniform(-30, 30, 1000))]
    if formula is ops.bce_with_logits_formula:
        arrays.append(cupy.asarray(rng.uniform(0, 1, 1000)))
    fused = formula(*arrays)
    plain = formula.unfused(cupy, *arrays)
    np.testing.assert_allclose(fused.get(), plain.get(), rtol=1e-12, atol=1e-15)
    host = formula(*[a.get() for a in arrays])
    np.testing.assert_allclose(fused.get(), host, rtol=1e-12, atol=1e-15)


def test_one_hot_checks_its_labels_with_one_synchronisation(monkeypatch):
    cupyx = pytest.importorskip("cupyx")
    checks = []
    original = backend.value_range

    def counted(array):
        checks.append(array.shape)
        with cupyx.allow_synchronize(True):
            return original(array)

    monkeypatch.setattr(F, "value_range", counted)
    labels = tg.tensor([2, 0, 1], device="cuda")
    with cupyx.allow_synchronize(False):
        encoded = F.one_hot(labels)  # the number of classes inferred: still one
    assert len(checks) == 1
    assert encoded.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


def test_from_dlpack_refuses_to_copy_to_another_device_when_told_not_to():
    source = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="copy=False"):
        tg.from_dlpack(source, device="cuda", copy=False)
    assert tg.from_dlpack(source, device="cuda").device.startswith("cuda")


def test_a_list_of_gpu_scalars_indexes_and_cached_constants_stay_read_only_through_views():
    import cupy

    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda")
    assert t[[cupy.array(1), cupy.array(0)]].tolist() == [[3.0, 4.0], [1.0, 2.0]]
    x = tg.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    view = (x * 2.0).grad_fn.inputs[1].reshape(1)
    with tg.no_grad(), pytest.raises(ValueError, match="read-only"):
        view += 1
    assert (tg.ones(2, device="cuda") * 2.0).tolist() == [2.0, 2.0]
