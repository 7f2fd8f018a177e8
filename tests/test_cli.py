"""The ``tinygrad-dlcv`` command and the examples: outputs, pictures, exit codes, error lines."""

import importlib.util
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_dlcv as tg
from tinygrad_dlcv import cli
from tinygrad_dlcv.cli import main

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
HAVE_MNIST = (MNIST / "t10k-images-idx3-ubyte.gz").exists() or (
    MNIST / "t10k-images-idx3-ubyte"
).exists()
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
HAVE_GRAPHS = importlib.util.find_spec("graphviz") is not None and shutil.which("dot") is not None
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")
MNIST_ARGS = ["--mnist", str(MNIST)] if HAVE_MNIST else []


def _row(out: str, name: str) -> tuple[list[float], list[float]]:
    """(value, grad) numbers of the neuron table's row ``name``; grad is [] for '-'."""
    lines = out.splitlines()
    header = next(line for line in lines if line.split()[:2] == ["name", "shape"])
    value_at, grad_at = header.index("value"), header.index("grad")
    for line in lines:
        if line.split() and line.split()[0] == name:
            value = [float(v) for v in NUMBER.findall(line[value_at:grad_at])]
            grad = [float(v) for v in NUMBER.findall(line[grad_at:])]
            return value, grad
    raise AssertionError(f"no row {name!r} in:\n{out}")


def _summary(out: str) -> dict[str, dict[str, str]]:
    """The demo's closing table as {what: {accuracy, loss, time, notes}}."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["what", "accuracy"])
    header = lines[start]
    cuts = [header.index(c) for c in ("accuracy", "loss", "time", "notes")]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip() or line.startswith("("):
            break
        cells = [line[a:b].strip() for a, b in zip([0, *cuts], [*cuts, None], strict=True)]
        rows[cells[0]] = dict(zip(("accuracy", "loss", "time", "notes"), cells[1:], strict=True))
    return rows


def _one_error_line(err: str, prefix: str = "tinygrad-dlcv: error: ") -> None:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), err


# --------------------------------------------------------------------------- demo


def test_demo_quick_trains_everything_and_draws_every_picture(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out_dir), *MNIST_ARGS]) == 0
    captured = capsys.readouterr()
    out = captured.out

    # Part 0: every value and gradient of the neuron z = w.x + b, y = sigmoid(z), loss = -log y.
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
    m = re.search(r"loss (\S+) -> (\S+) after (\d+) steps", out)
    assert m is not None, out
    assert float(m[1]) == pytest.approx(-np.log(y), abs=1e-4)
    assert float(m[2]) < float(m[1])
    assert "prediction error x feature" in (out_dir / "neuron.txt").read_text()

    # The summary table: what was trained, and how well.
    rows = _summary(out)
    accuracy = {what: float(row["accuracy"]) for what, row in rows.items()}
    norm = {
        what: float(row["notes"].split()[2].rstrip(","))
        for what, row in rows.items()
        if "|w|" in row["notes"]
    }
    assert accuracy["single neuron, blobs"] == 1.0
    assert norm["single neuron, blobs, weight decay 0.1"] < 0.7 * norm["single neuron, blobs"]
    assert accuracy["linear classifier, blobs"] >= 0.95
    assert accuracy["MLP 2-32-32-3, spirals"] >= 0.9
    assert accuracy["MLP 2-32-32-3, spirals"] > accuracy["linear classifier, spirals"] + 0.3
    kmeans = {what: row for what, row in rows.items() if what.startswith("k-means")}
    assert len(kmeans) == 9  # each init with each metric
    for init in ("k-means++", "random", "uniform"):
        for metric in ("euclidean", "manhattan", "3"):
            assert f"k-means, init={init}, metric={metric}" in kmeans
    assert accuracy["k-means, init=k-means++, metric=euclidean"] >= 0.95
    if HAVE_MNIST:
        assert accuracy["linear classifier, MNIST"] >= 0.85
        assert accuracy["MLP 784-128-10, MNIST"] >= 0.85
    for row in rows.values():
        assert row["time"].endswith(("ms", " s")) and np.isfinite(float(row["loss"]))

    # The pictures (each picture's content is checked in the plot and viz tests).
    pictures = []
    if HAVE_MATPLOTLIB:
        pictures += [
            "neuron_function.png",
            "weight_trajectory.png",
            "decision_boundary_neuron.png",
            "decision_boundary_linear_blobs.png",
            "decision_boundary_mlp_spirals.png",
            "training_curves_mlp_spirals.png",
            "kmeans_history.png",
            "kmeans_history.gif",
        ]
        if HAVE_MNIST:
            pictures += ["class_templates.png", "training_curves_linear_mnist.png"]
    if HAVE_GRAPHS:
        pictures += ["graph_neuron.svg", "graph_mlp_step.svg", "backward_neuron.gif"]
    for name in pictures:
        path = out_dir / name
        assert path.is_file() and path.stat().st_size > 1000, name
        assert name in out
    if HAVE_GRAPHS:
        neuron_svg = (out_dir / "graph_neuron.svg").read_text()
        assert "d sigmoid(a)/da" in neuron_svg  # show_formulas
        assert "0.weight" in (out_dir / "graph_mlp_step.svg").read_text()  # parameter names
        from PIL import Image

        from tinygrad_dlcv.tensor import backward_steps

        steps = len(backward_steps(cli._neuron_expression("cpu")[-1]))
        assert Image.open(out_dir / "backward_neuron.gif").n_frames == steps
    if HAVE_MATPLOTLIB and HAVE_GRAPHS:
        assert "note:" not in captured.err


def test_demo_without_matplotlib_graphviz_dot_or_tqdm_still_trains(tmp_path, capsys, monkeypatch):
    for module in ("matplotlib", "matplotlib.pyplot", "graphviz", "tqdm"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "MLP 2-32-32-3, spirals" in captured.out
    rows = _summary(captured.out)
    assert len(rows) == 15  # with the glyph classifier that stands in for MNIST
    assert float(rows["linear classifier, 10x10 glyphs"]["accuracy"]) >= 0.9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.txt"]
    _one_error_line(captured.err, prefix="tinygrad-dlcv: note: skipped ")
    for hint in ("pip install matplotlib graphviz;", "dot program"):
        assert hint in captured.err


def test_demo_without_pillow_gives_a_clean_install_hint(tmp_path):
    if not HAVE_GRAPHS:
        pytest.skip("the movie is skipped for the missing dot program before Pillow is needed")
    code = (
        "import sys; sys.modules['PIL'] = None; from tinygrad_dlcv.cli import main; "
        f"sys.exit(main(['demo', '--quick', '--out', {str(tmp_path)!r}]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    _one_error_line(proc.stderr, prefix="tinygrad-dlcv: note: skipped ")
    assert "backward_neuron.gif" in proc.stderr
    assert proc.stderr.rstrip().endswith("; for pictures install: pip install matplotlib pillow")


def test_pictures_note_names_a_module_python_named_and_quotes_an_unnamed_error(tmp_path):
    pictures = cli._Pictures(tmp_path)

    def needs(module):
        def draw(path):
            raise ImportError(f"no {module} here", name=module)

        return draw

    pictures.plot("a.png", needs("PIL.Image"))
    pictures.plot("b.png", needs("seaborn"))
    pictures.plot("c.png", needs("PIL"))
    pictures.plot("d.png", lambda path: (_ for _ in ()).throw(ImportError("a plain failure")))
    note = pictures.note()
    assert note.startswith("tinygrad-dlcv: note: skipped 4 picture(s) (a.png, b.png, c.png, d.png)")
    assert note.endswith("; for pictures install: pip install pillow seaborn; a plain failure")
    assert list(tmp_path.iterdir()) == []


def test_demo_glyphs_train_a_linear_classifier_and_draw_its_templates(tmp_path):
    X, y, names = cli._glyphs(20, seed=0)
    assert X.shape == (80, cli.GLYPH_SIZE**2) and X.dtype == np.float32
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [20] * 4 and len(names) == 4
    pictures, summary = cli._Pictures(tmp_path), cli._Summary()
    cli._demo_glyphs("cpu", True, 0, pictures, summary)
    (row,) = summary.rows
    assert row[0] == "linear classifier, 10x10 glyphs" and float(row[1]) >= 0.9
    if HAVE_MATPLOTLIB:
        assert (tmp_path / "class_templates.png").stat().st_size > 1000


def test_demo_on_cuda_without_cuda_fails_with_one_line(tmp_path, capsys):
    if tg.cuda_available():
        pytest.skip("CUDA is available here")
    assert main(["demo", "--quick", "--device", "cuda", "--out", str(tmp_path)]) == 1
    _one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------- train


@pytest.mark.parametrize(
    "argv, epochs, least",
    [
        (["--model", "neuron", "--data", "blobs"], 3, 0.95),
        (
            [
                "--model",
                "linear",
                "--data",
                "blobs",
                "--optimizer",
                "adam",
                "--weight-decay",
                "0.01",
            ],
            5,
            0.9,
        ),
        (["--model", "mlp", "--data", "moons", "--hidden", "16", "--lr", "0.1"], 20, 0.85),
    ],
)
def test_train_prints_each_epoch_and_writes_its_pictures(argv, epochs, least, tmp_path, capsys):
    args = ["train", "--n-samples", "200", "--epochs", str(epochs), "--out", str(tmp_path)]
    assert main([*args, *argv]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == [f"{i}/{epochs}" for i in range(1, epochs + 1)]
    assert all("val_accuracy" in line for line in lines)
    m = re.search(r"test: loss (\S+)  accuracy (\S+)", out)
    assert m is not None and float(m[2]) >= least, out
    if HAVE_MATPLOTLIB:
        for name in ("training_curves.png", "decision_boundary.png"):
            assert (tmp_path / name).stat().st_size > 1000


@pytest.mark.parametrize(
    "argv",
    [
        ["--model", "mlp", "--data", "spirals", "--lr", "1e30"],
        ["--model", "neuron", "--data", "moons", "--lr", "1e300"],  # BCE refuses NaN input
    ],
    ids=["mlp", "neuron"],
)
def test_a_diverged_run_stops_with_one_line_and_draws_its_curves(argv, tmp_path, capsys):
    args = ["train", "--n-samples", "200", "--epochs", "3", "--out", str(tmp_path), *argv]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's overflow warnings must not leak
        assert main(args) == 1
    captured = capsys.readouterr()
    _one_error_line(captured.err)
    assert "training diverged: loss is nan at epoch 1; try a smaller learning rate" in captured.err
    assert "epoch 1/3" not in captured.out
    if HAVE_MATPLOTLIB:
        assert (tmp_path / "training_curves.png").stat().st_size > 1000
        assert "the curves so far" in captured.err


@pytest.mark.skipif(not HAVE_MNIST, reason=f"MNIST not found in {MNIST}")
def test_train_linear_on_mnist_draws_the_class_templates(tmp_path, capsys):
    argv = ["train", "--model", "linear", "--data", "mnist", "--mnist", str(MNIST)]
    assert main([*argv, "--epochs", "1", "--batch-size", "64", "--out", str(tmp_path)]) == 0
    m = re.search(r"test: loss (\S+)  accuracy (\S+)", capsys.readouterr().out)
    assert float(m[2]) >= 0.85
    if HAVE_MATPLOTLIB:
        assert (tmp_path / "class_templates.png").stat().st_size > 1000


def test_a_train_run_that_fails_leaves_no_empty_folder(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["train", "--data", "mnist", "--mnist", str(tmp_path / "absent"), "--out", str(out)]
    assert main(argv) == 1
    assert "load_mnist" in capsys.readouterr().err
    assert not out.exists()


def test_a_demo_whose_mnist_is_missing_leaves_no_empty_folder(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["demo", "--quick", "--mnist", str(tmp_path / "absent"), "--out", str(out)]
    assert main(argv) == 1
    assert "load_mnist" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--quick", "--mnist", ""],
        ["train", "--data", "mnist", "--mnist", " "],
        ["kmeans", "--data", "mnist", "--mnist", ""],
    ],
)
def test_an_empty_mnist_folder_argument_is_a_usage_error(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == "tinygrad-dlcv: error: argument --mnist: expected a folder, got an empty path"
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- kmeans


def test_kmeans_prints_the_best_runs_inertia_and_draws_its_iterations(tmp_path, capsys):
    from tinygrad_dlcv.cluster import KMeans
    from tinygrad_dlcv.data import make_blobs

    argv = ["kmeans", "--n-samples", "200", "--k", "4", "--init", "random", "--n-init", "3"]
    argv += ["--metric", "3", "--center", "median", "--seed", "5", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    # The same fits by hand: n_init runs from seeds drawn from --seed, the lowest inertia wins.
    X, y = make_blobs(200, centers=4, cluster_std=1.0, seed=5)
    seeds = np.random.default_rng(5).integers(2**31, size=3)
    fits = [
        KMeans(4, init="random", metric=3.0, center="median", random_state=int(s)).fit(X)
        for s in seeds
    ]
    best = min(fits, key=lambda km: km.inertia_)
    m = re.search(r"inertia (\S+), n_iter (\d+), time", out)
    assert m is not None, out
    assert float(m[1]) == pytest.approx(best.inertia_, rel=1e-5)
    assert int(m[2]) == best.n_iter_
    assert float(re.search(r"purity (\S+)", out)[1]) == pytest.approx(cli._purity(best.labels_, y))
    assert out.count("run ") == 3
    if HAVE_MATPLOTLIB:
        from PIL import Image

        assert (tmp_path / "kmeans_history.png").stat().st_size > 1000
        assert Image.open(tmp_path / "kmeans_history.gif").n_frames == best.n_iter_ + 1


@pytest.mark.skipif(not HAVE_MNIST, reason=f"MNIST not found in {MNIST}")
def test_kmeans_on_mnist_reports_purity(tmp_path, capsys):
    argv = ["kmeans", "--data", "mnist", "--mnist", str(MNIST), "--max-iter", "20"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "k=10" in out and "784" in out
    assert float(re.search(r"purity (\S+)", out)[1]) >= 0.5
    assert not list(tmp_path.iterdir())  # no 2-D pictures of 784-D data


def test_kmeans_takes_the_largest_p_without_warnings(tmp_path, capsys):
    argv = ["kmeans", "--n-samples", "100", "--metric", str(cli.MAX_P), "--out", str(tmp_path)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(argv) == 0
    out = capsys.readouterr().out
    inertia = float(re.search(r"inertia (\S+),", out)[1])
    assert np.isfinite(inertia)


def test_purity_counts_the_majority_class_of_each_cluster():
    assert cli._purity(np.array([0, 0, 1, 1, 1]), np.array([2, 2, 0, 1, 1])) == pytest.approx(0.8)


# --------------------------------------------------------------------------- graph


def test_graph_collapsed_and_not_as_graphviz_source(tmp_path, capsys):
    pytest.importorskip("graphviz")
    gv = {}
    for flag in ([], ["--no-collapse"]):
        path = tmp_path / f"mlp{len(flag)}.gv"
        assert main(["graph", "--what", "mlp", "--out", str(path), *flag]) == 0
        gv[bool(flag)] = path.read_text()
    assert gv[False].startswith("digraph") and "0.weight" in gv[True]
    # Collapsed, each layer call is one module node named after its layer; else its ops.
    assert "Linear(2→16)" in gv[False] and "1: ReLU()" in gv[False]
    assert "Linear(2→16)" not in gv[True] and "label=ReLU" in gv[True]
    assert "wrote" in capsys.readouterr().out


def test_graph_with_formulas_renders_svg(tmp_path):
    if not HAVE_GRAPHS:
        pytest.skip("needs the graphviz package and the dot program")
    path = tmp_path / "neuron.svg"
    assert main(["graph", "--formulas", "--out", str(path)]) == 0
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert "d sigmoid(a)/da" in svg and "loss" in svg


def test_graph_without_dot_writes_the_source_and_one_note(tmp_path, capsys, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    assert main(["graph", "--out", str(tmp_path / "neuron.svg")]) == 0
    assert (tmp_path / "neuron.gv").read_text().startswith("digraph")
    assert not (tmp_path / "neuron.svg").exists()
    err = capsys.readouterr().err
    _one_error_line(err, prefix="tinygrad-dlcv: note: wrote neuron.gv as graphviz source")
    assert "apt-get install graphviz" in err


# --------------------------------------------------------------------------- bench


def test_bench_runs_tools_bench(capsys):
    assert main(["bench", "--quick", "--only", "chain200 (8,)"]) == 0
    out = capsys.readouterr().out
    assert "chain200 (8,)" in out and "engine size:" in out


def test_bench_only_matching_nothing_exits_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--quick", "--only", "no workload has this name"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            "tinygrad-dlcv: error: --only 'no workload has this name' matches no workload on cpu"
        )
    )
    assert "'chain200 (8,)'" in err


def test_bench_on_cuda_without_cuda_fails_with_one_line(capsys):
    if tg.cuda_available():
        pytest.skip("CUDA is available here")
    assert main(["bench", "--quick", "--device", "cuda"]) == 1
    captured = capsys.readouterr()
    _one_error_line(captured.err)
    assert "CUDA" in captured.err and captured.out == ""


def test_bench_without_tools_bench_fails_with_one_line(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_find_bench", lambda: None)
    assert main(["bench", "--quick"]) == 1
    _one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nope"],
        ["demo", "--device", "tpu"],
        ["demo", "--bogus"],
        ["demo", "--out"],
        ["demo", "--seed", "-1"],
        ["train", "--epochs", "-1"],
        ["train", "--epochs", "0"],
        ["train", "--epochs", "2.5"],
        ["train", "--lr", "0"],
        ["train", "--lr", "-0.1"],
        ["train", "--lr", "nan"],
        ["train", "--model", "cnn"],
        ["train", "--data", "cifar"],
        ["train", "--data", "mnist"],
        ["train", "--model", "neuron", "--data", "mnist", "--mnist", "somewhere"],
        ["train", "--hidden", "32,x"],
        ["train", "--hidden", "0"],
        ["train", "--batch-size", "0"],
        ["train", "--weight-decay", "-1"],
        ["train", "--optimizer", "rmsprop"],
        ["kmeans", "--k", "2.5"],
        ["kmeans", "--k", "0"],
        ["kmeans", "--k", "1000", "--n-samples", "100"],
        ["kmeans", "--init", "best"],
        ["kmeans", "--metric", "0.5"],
        ["kmeans", "--metric", "1e300"],
        ["kmeans", "--metric", "101"],
        ["kmeans", "--metric", "nan"],
        ["kmeans", "--metric", "cosine"],
        ["kmeans", "--center", "mode"],
        ["kmeans", "--n-init", "0"],
        ["kmeans", "--max-iter", "0"],
        ["kmeans", "--tol", "-1"],
        ["kmeans", "--data", "mnist"],
        ["graph", "--what", "cnn"],
        ["graph", "--out", "graph.txt"],
        ["bench", "--device", "tpu"],
        ["bench", "--bogus"],
    ],
)
def test_bad_arguments_exit_2_with_one_line_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("usage: tinygrad-dlcv")
    assert lines[-1].startswith("tinygrad-dlcv: error: ")
    assert sum(line.startswith("tinygrad-dlcv: error") for line in lines) == 1


def test_a_missing_mnist_folder_fails_with_one_line(tmp_path, capsys):
    argv = ["kmeans", "--data", "mnist", "--mnist", str(tmp_path / "nowhere")]
    assert main([*argv, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    _one_error_line(err)
    assert "nowhere" in err


@pytest.mark.parametrize(
    "command, options",
    [
        ("demo", ["--out", "--device", "--quick", "--mnist", "--seed", "glyphs"]),
        ("train", ["--model", "--data", "--epochs", "--lr", "--hidden", "--weight-decay"]),
        ("kmeans", ["--k", "--init", "--metric", "--center", "--n-init", "--max-iter", "--tol"]),
        ("graph", ["--out", "--formulas", "--no-collapse", "--what"]),
        ("bench", ["--quick", "--device", "--only"]),
    ],
)
def test_help_exits_0_and_lists_the_options(command, options, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in options:
        assert option in out


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
        "heavy = {'cupy', 'graphviz', 'matplotlib', 'torch', 'tqdm'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- examples


def _run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    "name, extra, pictures",
    [
        ("kmeans_options.py", [], ["kmeans_history.png", "kmeans_history.gif"]),
        ("single_neuron.py", [], ["neuron_surfaces.png", "weight_trajectory.png"]),
        (
            "linear_classifier.py",
            MNIST_ARGS,
            ["class_templates.png" if HAVE_MNIST else "linear_boundary.png"],
        ),
        ("mlp_backprop.py", [], ["mlp_training_curves.png", "mlp_decision_boundary.png"]),
    ],
)
def test_example_runs_and_writes_its_pictures(name, extra, pictures, tmp_path):
    if not HAVE_MATPLOTLIB:
        pytest.skip("the examples draw with matplotlib")
    proc = _run_example(name, "--quick", "--out", str(tmp_path), *extra)
    assert proc.returncode == 0, proc.stderr
    for picture in pictures:
        assert (tmp_path / picture).stat().st_size > 1000, picture
    if name == "mlp_backprop.py":
        assert "dloss/dW1 by hand equals backward(): True" in proc.stdout
        if HAVE_GRAPHS:
            assert (tmp_path / "mlp_graph.svg").is_file() and (
                tmp_path / "mlp_backward.gif"
            ).is_file()
    if name == "linear_classifier.py":
        m = re.search(r"(\d+) of (\d+) rows of W point", proc.stdout)
        assert int(m[1]) >= int(m[2]) - 2  # rows of W resemble their class's mean


def test_cuda_example_says_in_one_line_when_cuda_is_missing(tmp_path):
    if tg.cuda_available():
        pytest.skip("CUDA is available here")
    proc = _run_example("mlp_cuda.py", "--quick", "--out", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "mlp_cuda.py: CUDA is not available (needs CuPy and an NVIDIA GPU); nothing run"
    ]


def test_train_needs_ten_samples_and_builds_the_classes_of_the_data(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--n-samples", "3", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("must be >= 10, got 3")
    # Ten samples and seed 3: a class may be missing from a split; the model still has 3.
    args = ["--model", "linear", "--data", "blobs", "--epochs", "1", "--n-samples", "10"]
    assert main(["train", *args, "--seed", "3", "--out", str(tmp_path)]) == 0
    assert "out_features=3" in capsys.readouterr().out


def test_train_on_a_two_class_set_builds_two_outputs(tmp_path, capsys):
    args = ["--model", "linear", "--data", "moons", "--epochs", "1", "--n-samples", "100"]
    assert main(["train", *args, "--out", str(tmp_path)]) == 0
    assert "out_features=2" in capsys.readouterr().out
