"""Device selection: device strings, the missing-CUDA error, the environment variable,
what `import tinygrad_dlcv` imports, and a CUDA run checked against the CPU."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import Tensor

ROOT = Path(__file__).resolve().parents[1]
HAS_CUDA = tg.cuda_available()
HAS_CUPY = importlib.util.find_spec("cupy") is not None
no_cuda_only = pytest.mark.skipif(HAS_CUDA, reason="checks the error raised without CUDA")


def _run_python(code, **env_extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("TINYGRAD_DLCV_DEVICE", None)
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def _assert_says_what_is_missing(exc):
    assert isinstance(exc, RuntimeError) and not isinstance(exc, ImportError), type(exc)
    msg = str(exc).lower()
    if not HAS_CUPY:
        assert "cupy" in msg, msg
    else:
        assert "gpu" in msg or "cuda" in msg or "device" in msg, msg


def test_cuda_available_is_bool():
    assert isinstance(tg.cuda_available(), bool)
    if not HAS_CUPY:
        assert tg.cuda_available() is False


def test_cpu_device_accepted():
    assert Tensor([1.0], device="cpu").device == "cpu"
    assert tg.zeros(2, device="cpu").device == "cpu"
    assert Tensor([1.0]).to("cpu").device == "cpu"


@pytest.mark.parametrize("dev", ["tpu", "gpu", "metal"])
def test_unknown_device_string_is_value_error(dev):
    with pytest.raises(ValueError):
        Tensor([1.0], device=dev)
    with pytest.raises(ValueError):
        tg.zeros(2, device=dev)


def test_to_unknown_device_is_value_error():
    with pytest.raises(ValueError):
        Tensor([1.0]).to("tpu")


@no_cuda_only
@pytest.mark.parametrize("dev", ["cuda", "cuda:0"])
def test_cuda_without_gpu_is_runtime_error(dev):
    with pytest.raises(RuntimeError) as exc:
        Tensor([1.0], device=dev)
    _assert_says_what_is_missing(exc.value)
    with pytest.raises(RuntimeError) as exc:
        tg.ones(3, device=dev)
    _assert_says_what_is_missing(exc.value)


@no_cuda_only
def test_moving_to_cuda_without_gpu_is_runtime_error():
    t = Tensor([1.0])
    with pytest.raises(RuntimeError) as exc:
        t.cuda()
    _assert_says_what_is_missing(exc.value)
    with pytest.raises(RuntimeError) as exc:
        t.to("cuda")
    _assert_says_what_is_missing(exc.value)


@no_cuda_only
def test_set_default_device_cuda_raises_at_once():
    with pytest.raises(RuntimeError) as exc:
        tg.set_default_device("cuda")
    _assert_says_what_is_missing(exc.value)
    assert Tensor([1.0]).device == "cpu"  # the failed call changed nothing


def test_set_default_device_cpu_and_unknown():
    tg.set_default_device("cpu")
    assert tg.zeros(1).device == "cpu"
    with pytest.raises(ValueError):
        tg.set_default_device("tpu")
    assert tg.zeros(1).device == "cpu"


def test_import_pulls_in_numpy_only():
    code = (
        "import sys, tinygrad_dlcv\n"
        "names = ('cupy', 'torch', 'graphviz', 'matplotlib', 'jax')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = _run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_submodules_are_attributes_of_the_package_loaded_on_first_use():
    # tg.data.load_mnist after a plain `import tinygrad_dlcv as tg`, as the contract's
    # dotted names read; still no graphviz or matplotlib until a picture is made.
    code = (
        "import sys, tinygrad_dlcv as tg\n"
        "assert 'tinygrad_dlcv.data' not in sys.modules\n"
        "assert callable(tg.data.load_mnist) and callable(tg.cluster.KMeans)\n"
        "assert callable(tg.decomposition.PCA) and callable(tg.gradcheck.gradcheck)\n"
        "assert callable(tg.viz.draw_graph) and callable(tg.plot.training_curves)\n"
        "heavy = [m for m in ('graphviz', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert 'data' in dir(tg)\n"
        "try:\n"
        "    tg.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_name' in str(error)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    proc = _run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_env_device_read_at_import_without_cupy():
    proc = _run_python(
        "import tinygrad_dlcv, sys; assert 'cupy' not in sys.modules",
        TINYGRAD_DLCV_DEVICE="cuda",
    )
    assert proc.returncode == 0, proc.stderr


@no_cuda_only
def test_env_device_cuda_fails_at_first_use():
    code = (
        "import tinygrad_dlcv as tg\n"
        "assert tg.cuda_available() is False\n"
        "assert tg.Tensor([1.0], device='cpu').device == 'cpu'\n"
        "try:\n"
        "    tg.Tensor([1.0])\n"
        "except ImportError as e:\n"
        "    raise SystemExit('ImportError: %s' % e)\n"
        "except RuntimeError as e:\n"
        "    print('RuntimeError:', e)\n"
        "else:\n"
        "    raise SystemExit('no error for a CUDA tensor without CUDA')\n"
    )
    proc = _run_python(code, TINYGRAD_DLCV_DEVICE="cuda")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("RuntimeError:")
    if not HAS_CUPY:
        assert "cupy" in proc.stdout.lower(), proc.stdout
        # The user may have forgotten the variable: the error says where "cuda" came from.
        assert "TINYGRAD_DLCV_DEVICE='cuda'" in proc.stdout, proc.stdout


def test_env_device_cpu():
    proc = _run_python(
        "import tinygrad_dlcv as tg; assert tg.zeros(1).device == 'cpu'",
        TINYGRAD_DLCV_DEVICE="cpu",
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason="CUDA not available")
def test_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    xa = rng.normal(size=(4, 5))
    wa = rng.normal(size=(5, 3))
    results = {}
    for dev in ("cpu", "cuda"):
        x = Tensor(xa, dtype="float64", device=dev, requires_grad=True)
        w = Tensor(wa, dtype="float64", device=dev, requires_grad=True)
        assert x.device.startswith(dev)
        h = (x @ w).relu() + (x[:, :3] * 0.5).exp()
        out = h.log_softmax(axis=1).sum() + h.max(axis=0).sum() + x.tanh().mean()
        out.backward()
        assert out.device.startswith(dev) and x.grad.device.startswith(dev)
        results[dev] = (out.item(), x.grad.numpy(), w.grad.numpy(), h.numpy())
    for cpu_val, gpu_val in zip(results["cpu"], results["cuda"], strict=True):
        np.testing.assert_allclose(gpu_val, cpu_val, rtol=1e-10, atol=1e-12)
    t = Tensor([1.0, 2.0]).cuda()
    assert t.device.startswith("cuda")
    back = t.cpu()
    assert back.device == "cpu" and isinstance(back.numpy(), np.ndarray)
    assert back.tolist() == [1.0, 2.0]


# --- dtypes ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["complex64", "U5", "S2", object, "M8[ns]", "m8", "V4"])
def test_to_dtype_refuses_what_a_tensor_cannot_hold(dtype):
    """The one place dtypes are normalised: bool, int, uint and float only (TypeError)."""
    with pytest.raises(TypeError) as exc:
        tg.backend.to_dtype(dtype, "astype")
    msg = str(exc.value)
    assert "astype" in msg and str(np.dtype(dtype)) in msg, msg


@pytest.mark.parametrize("dtype", [bool, "int8", np.uint16, "int64", "float16", np.float32, "f8"])
def test_to_dtype_accepts_numeric_dtypes(dtype):
    assert tg.backend.to_dtype(dtype) == np.dtype(dtype)


def test_to_dtype_of_a_non_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="not a dtype"):
        tg.backend.to_dtype("floaty32")


_GLIBC = (os.confstr("CS_GNU_LIBC_VERSION") or "") if hasattr(os, "confstr") else ""

# A graph of 200 ops on (256, 256) keeps 51 MB of values; it is built and dropped
# four times and the page faults of the last two steps are printed.
_PAGE_FAULTS_OF_REPEATED_GRAPHS = """
import resource
import numpy as np
import tinygrad_dlcv as tg

x = tg.Tensor(np.ones((256, 256), np.float32), requires_grad=True)

def step():
    y = x
    for _ in range(50):
        y = ((y * 1.0001 + 0.001) - 0.0005) / 1.0002
    y.sum().backward()
    x.grad = None

step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
step(); step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not _GLIBC.startswith("glibc"), reason="glibc's malloc only")
def test_freed_graph_memory_is_reused_without_page_faults():
    tuned = _run_python(_PAGE_FAULTS_OF_REPEATED_GRAPHS)
    untuned = _run_python(_PAGE_FAULTS_OF_REPEATED_GRAPHS, TINYGRAD_DLCV_SYSTEM_MALLOC="1")
    assert tuned.returncode == 0 and untuned.returncode == 0, tuned.stderr + untuned.stderr
    # Each step's 200 values are 12,800 pages; faulting them back in is what the
    # tuning removes (glibc would otherwise trim the freed graph to the OS).
    assert int(tuned.stdout) < 2_000
    assert int(untuned.stdout) > 20_000


@pytest.mark.skipif(not _GLIBC.startswith("glibc"), reason="glibc's malloc only")
def test_malloc_tuning_is_on_by_default_and_can_be_turned_off():
    ask = "from tinygrad_dlcv.backend import keep_freed_host_memory as k; print(k())"
    assert _run_python(ask).stdout.strip() == "True"
    assert _run_python(ask, TINYGRAD_DLCV_SYSTEM_MALLOC="1").stdout.strip() == "False"


@pytest.mark.parametrize(
    "shape, make_index",
    [
        ((50, 7), lambda rng: (rng.integers(-50, 50, 300),)),  # negative rows too
        ((7, 50), lambda rng: (slice(None), rng.integers(0, 50, 300))),
        ((5, 6, 7), lambda rng: (slice(None), rng.integers(0, 6, 40), slice(None))),
        ((4, 4), lambda rng: (np.array([0, 0, 0, 0, 0, 0, 0, 3]),)),  # one row many times
        ((3, 8), lambda rng: (np.zeros(1000, dtype=np.int64),)),  # past the rounds: add.at
        ((5,), lambda rng: (np.array([], dtype=np.int64),)),
        ((6, 5), lambda rng: (rng.integers(0, 6, 9), rng.integers(0, 5, 9))),  # add.at path
        ((6, 5), lambda rng: (2, rng.integers(0, 5, 9))),
        ((1000,), lambda rng: (rng.integers(-1000, 1000, 5000),)),  # 1-D: add.at's fast loop
        ((10, 3, 4), lambda rng: (rng.integers(-10, 10, 2000),)),  # heavy repeats, flat add.at
        ((3, 10, 4), lambda rng: (slice(None), rng.integers(0, 10, 2000))),  # ... not contiguous
    ],
)
def test_scatter_add_equals_numpy_add_at_bit_for_bit(shape, make_index):
    from tinygrad_dlcv import backend

    rng = np.random.default_rng(0)
    index = make_index(rng)
    target = rng.standard_normal(shape).astype(np.float32)
    values = rng.standard_normal(target[index].shape).astype(np.float32)
    expected = target.copy()
    np.add.at(expected, index, values)
    backend.scatter_add(np, target, index, values)
    np.testing.assert_array_equal(target, expected)  # the same additions, in the same order


def test_import_works_without_docstrings():
    code = "import tinygrad_dlcv as tg; print(tg.exp(tg.ones(1)).item())"
    proc = subprocess.run(
        [sys.executable, "-OO", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("2.71828")
