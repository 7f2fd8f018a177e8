"""Shared pytest fixtures: the ``device`` parametrisation and default restoration.

Tests that take the ``device`` fixture run once on "cpu" and once on "cuda"; the
CUDA run carries the ``cuda`` marker (``pytest -m "not cuda"`` deselects it) and
skips cleanly when CuPy or a GPU is missing.

``--fake-cupy`` (or ``TINYGRAD_DLCV_FAKE_CUPY=1``) runs the "cuda" tests on
``tests/fake_cupy.py``, a CuPy over NumPy that refuses what real CuPy refuses
(implicit host conversion, NumPy arrays in device ops, ...), to find bugs in
the CUDA paths on a machine without a GPU. Without it nothing changes.
"""

import os

import pytest

import tinygrad_dlcv as tg

_NO_CUDA = "CUDA not available (CuPy or a GPU is missing)"
_FAKE_CUPY_ENV = "TINYGRAD_DLCV_FAKE_CUPY"


def pytest_addoption(parser):
    parser.addoption(
        "--fake-cupy",
        action="store_true",
        default=False,
        help=f"run the cuda tests on tests/fake_cupy.py (also: {_FAKE_CUPY_ENV}=1)",
    )


def pytest_configure(config):
    """Register the ``cuda`` marker so ``--strict-markers`` accepts it; install the fake CuPy.

    The fake goes into ``sys.modules`` here, before test modules are collected
    (some check ``cuda_available()`` at import) and before the library first
    imports CuPy (lazily, at the first CUDA use). xdist workers get the same
    option and environment, so each installs it too.
    """
    config.addinivalue_line("markers", "cuda: needs CuPy and a CUDA GPU; skipped without one")
    if config.getoption("--fake-cupy") or os.environ.get(_FAKE_CUPY_ENV, "") not in ("", "0"):
        import fake_cupy  # tests/ is on sys.path: pytest put it there for this conftest

        fake_cupy.install()


def _cuda_available():
    try:
        return bool(tg.cuda_available())
    except Exception:  # a broken CuPy install must skip, not error
        return False


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    """Device string to run the test on; the "cuda" run skips without a GPU."""
    if request.param == "cuda" and not _cuda_available():
        pytest.skip(_NO_CUDA)
    return request.param


@pytest.fixture(autouse=True)
def restore_defaults():
    """Put the default dtype and device back after every test that changes them."""
    probe = tg.zeros(1)
    dtype, dev = probe.dtype.name, probe.device
    yield
    tg.set_default_dtype(dtype)
    tg.set_default_device(dev)
