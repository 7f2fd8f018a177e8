"""The ``tinygrad-dlcv`` command: output values, exit codes, one-line errors, cheap import."""

import re
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_dlcv.cli import main

NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def _row(out: str, name: str) -> tuple[list[float], list[float]]:
    """(value, grad) numbers of the demo table's row ``name``; grad is [] for '-'."""
    lines = out.splitlines()
    header = next(line for line in lines if line.split()[:2] == ["name", "shape"])
    value_at, grad_at = header.index("value"), header.index("grad")
    for line in lines:
        if line.split() and line.split()[0] == name:
            value = [float(v) for v in NUMBER.findall(line[value_at:grad_at])]
            grad = [float(v) for v in NUMBER.findall(line[grad_at:])]
            return value, grad
    raise AssertionError(f"no row {name!r} in:\n{out}")


def test_demo_prints_the_neurons_values_and_gradients(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out

    # x = (1, -2), w = (0.5, -0.3), b = 0.1, t = 1: z = 1.2, y = sigmoid(z), loss = -log y.
    x, w, b, t = np.array([1.0, -2.0]), np.array([0.5, -0.3]), 0.1, 1.0
    z = w @ x + b
    y = 1.0 / (1.0 + np.exp(-z))
    expected = {
        "x": ([1.0, -2.0], []),
        "w": (w, (y - t) * x),  # prediction error x feature
        "b": ([b], [y - t]),
        "z": ([z], [y - t]),
        "y": ([y], [-1.0 / y]),
        "loss": ([-np.log(y)], [1.0]),
    }
    for name, (value, grad) in expected.items():
        got_value, got_grad = _row(out, name)
        np.testing.assert_allclose(got_value, value, atol=2e-4, err_msg=name)
        np.testing.assert_allclose(got_grad, grad, atol=2e-4, err_msg=name)

    # Gradient descent lowers the loss; the report is written where --out says.
    m = re.search(r"loss (\S+) -> (\S+) after (\d+) steps", out)
    assert m is not None, out
    assert float(m[1]) == pytest.approx(-np.log(y), abs=1e-4)
    assert float(m[2]) < float(m[1])
    report = out_dir / "neuron.txt"
    assert report.is_file()
    assert "prediction error x feature" in report.read_text()


@pytest.mark.parametrize(
    "argv",
    [[], ["nope"], ["demo", "--device", "tpu"], ["demo", "--bogus"], ["demo", "--out"]],
)
def test_bad_arguments_exit_2_with_one_line_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tinygrad-dlcv: error: ")


def test_help_exits_0(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--out" in out and "--device" in out and "--quick" in out


def test_demo_on_cuda_without_cuda_fails_with_one_line(tmp_path, capsys):
    import tinygrad_dlcv as tg

    if tg.cuda_available():
        pytest.skip("CUDA is available here")
    assert main(["demo", "--quick", "--device", "cuda", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("tinygrad-dlcv: error: ")
    assert "Traceback" not in err


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "tinygrad_dlcv", "demo", "--device", "tpu"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("tinygrad-dlcv: error: ")


def test_import_pulls_in_no_optional_dependency():
    code = (
        "import tinygrad_dlcv, tinygrad_dlcv.cli, sys; "
        "heavy = {'cupy', 'graphviz', 'matplotlib', 'torch'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
