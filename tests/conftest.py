"""Shared pytest fixtures: the ``device`` parametrisation and default restoration.

Tests that take the ``device`` fixture run once on "cpu" and once on "cuda"; the
CUDA run carries the ``cuda`` marker (``pytest -m "not cuda"`` deselects it) and
skips cleanly when CuPy or a GPU is missing.
"""

import pytest

import tinygrad_dlcv as tg

_NO_CUDA = "CUDA not available (CuPy or a GPU is missing)"


def pytest_configure(config):
    """Register the ``cuda`` marker so ``--strict-markers`` accepts it."""
    config.addinivalue_line("markers", "cuda: needs CuPy and a CUDA GPU; skipped without one")


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
