"""The shared argument checks, and public functions that take a path refusing non-paths."""

from pathlib import Path

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import data
from tinygrad_dlcv.arguments import InvalidParameterError, check_int, check_path, check_real


def test_check_path_accepts_str_and_path_like(tmp_path):
    assert check_path("a/b.npz", "path", "save") == Path("a/b.npz")
    assert check_path(tmp_path, "path", "save") == tmp_path


@pytest.mark.parametrize("value", [None, 3, b"bytes.npz", ["a"]])
def test_check_path_refuses_what_is_not_a_text_path(value):
    with pytest.raises(TypeError, match=r"save: path must be a str or os.PathLike"):
        check_path(value, "path", "save")


def test_an_empty_path_is_a_value_error_not_the_working_folder(tmp_path, monkeypatch):
    # Path("") is ".": animate_backward(y, "") wrote (and cleared) frames in the working folder.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="save: path is empty"):
        check_path("", "path", "save")
    with pytest.raises(ValueError, match="save: path is empty"):
        tg.save({"w": np.ones(2)}, "")
    assert list(tmp_path.iterdir()) == []


def test_check_int_and_check_real_name_the_function():
    with pytest.raises(InvalidParameterError, match="fit: n must be an int"):
        check_int(2.0, "n", "fit", 1)
    with pytest.raises(ValueError, match=r"fit: lr must be a finite number >= 0"):
        check_real(float("nan"), "lr", "fit")


@pytest.mark.parametrize(
    "call, who",
    [
        (lambda: tg.save({"w": np.ones(2)}, None), "save"),
        (lambda: tg.load(None), "load"),
        (lambda: data.load_mnist(None), "load_mnist"),
        (lambda: data.load_cifar10(7), "load_cifar10"),
    ],
)
def test_public_functions_refuse_a_path_that_is_not_one(call, who):
    # Python's own "expected str, bytes or os.PathLike object" would not say which call.
    with pytest.raises(TypeError, match=rf"^{who}: (path|root) must be a str"):
        call()


def test_plot_and_render_refuse_a_path_that_is_not_one():
    pytest.importorskip("matplotlib")
    from tinygrad_dlcv import plot, viz

    with pytest.raises(TypeError, match=r"^training_curves: path must be a str"):
        plot.training_curves({"loss": [1.0, 0.5]}, path=3)
    pytest.importorskip("graphviz")
    x = tg.Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^render: path must be a str"):
        viz.render(viz.draw_graph((x * 2).sum()), None)
