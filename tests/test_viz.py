"""Graph pictures: node and edge counts, labels, module boxes, collapsing, rendering, the movie."""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_dlcv as tg
import tinygrad_dlcv.nn.functional as F
from tinygrad_dlcv import Tensor, nn
from tinygrad_dlcv.tensor import backward_steps

graphviz = pytest.importorskip("graphviz")

from tinygrad_dlcv import viz  # noqa: E402  (after the skip: needs graphviz)
from tinygrad_dlcv.viz import animate_backward, draw_graph, render  # noqa: E402

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot program is not installed"
)

_NODE = re.compile(r"^\t+(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^\t+(\w+) -> (\w+)")


def nodes(digraph):
    """Node id -> its attribute text, from the DOT source."""
    found = {}
    for line in digraph.source.splitlines():
        match = _NODE.match(line)
        if match and match.group(1) not in ("graph", "node", "edge"):
            found[match.group(1)] = match.group(2)
    return found


def edges(digraph):
    return [match.groups() for match in map(_EDGE.match, digraph.source.splitlines()) if match]


def kinds(digraph):
    """Counts of tensor nodes, op nodes, collapsed module nodes and inline constants."""
    ids = list(nodes(digraph))
    return {
        "tensor": sum(i.startswith("t") for i in ids),
        "op": sum(i.startswith("op") for i in ids),
        "module": sum(i.startswith("m") for i in ids),
        "constant": sum(i.startswith("c") for i in ids),
    }


def node(tensor):
    return f"t{id(tensor)}"


def op_node(tensor):
    return f"op{id(tensor.grad_fn)}"


def small_expression():
    a = Tensor([1.5, -2.0], requires_grad=True, name="a")
    b = Tensor([0.25, 3.0], requires_grad=True, name="b")
    ab = a * b
    c = ab + a
    return a, b, ab, c


def neuron_step():
    """The lecture's single neuron y = sigmoid(w . x + b) with a BCE loss."""
    x = Tensor([0.5, -1.2, 2.0], name="x")
    w = Tensor([0.8, 0.3, -0.5], requires_grad=True, name="w")
    b = Tensor(0.1, requires_grad=True, name="b")
    y = (x @ w + b).sigmoid()
    loss = F.binary_cross_entropy(y, Tensor(1.0))
    return loss, w, b


def mlp_step(sizes=(20, [16, 16], 5)):
    """A 3-layer MLP training step (forward, cross-entropy, backward)."""
    tg.manual_seed(0)
    model = nn.MLP(*sizes)
    x = tg.randn(8, sizes[0])
    x.name = "x"
    loss = nn.CrossEntropyLoss()(model(x), np.arange(8) % sizes[2])
    loss.backward()
    return model, loss


class HandLinear(nn.Module):
    """A layer written in several ops, so collapsing has something to merge."""

    def __init__(self, fan_in, fan_out):
        super().__init__()
        self.weight = nn.Parameter(tg.randn(fan_in, fan_out) * 0.1)
        self.bias = nn.Parameter(tg.zeros(fan_out))

    def forward(self, x):
        return (x @ self.weight + self.bias).relu()


def _grad_fns(root):
    """Every op recorded in the graph of ``root``."""
    found, stack, seen = [], [root], set()
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen or tensor.grad_fn is None:
            continue
        seen.add(id(tensor))
        found.append(tensor.grad_fn)
        stack.extend(tensor.grad_fn.inputs)
    return found


# ----------------------------------------------------------------------------- structure


def _fill(digraph, node_id):
    return re.search(r'fillcolor="([^"]+)"', nodes(digraph)[node_id]).group(1)


@pytest.mark.parametrize(
    "loss_fn, scores, target",
    [
        (F.cross_entropy, lambda x: x, [0, 1, 2, 0]),
        (F.binary_cross_entropy, lambda x: x.sigmoid(), np.eye(4, 3)),
        (F.binary_cross_entropy_with_logits, lambda x: x, np.eye(4, 3)),
        (F.cross_entropy, lambda x: x, np.full((4, 3), 1 / 3)),  # class probabilities
    ],
    ids=["cross_entropy", "bce", "bce_with_logits", "soft_cross_entropy"],
)
def test_a_loss_target_is_drawn_as_a_grey_box_into_its_op(loss_fn, scores, target):
    x = Tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True, name="x")
    y = Tensor(target, name="target")
    loss = loss_fn(scores(x), y)
    digraph = draw_graph(loss)
    assert "target" in digraph.source
    assert _fill(digraph, node(y)) == viz._CONSTANT_FILL
    assert any(source == node(y) for source, _ in edges(digraph))
    loss.backward()
    assert y.grad is None and not y.requires_grad
    assert x.grad is not None


def test_targets_are_kept_beside_the_graph_not_in_the_backward_walk():
    from tinygrad_dlcv.tensor import topological_order

    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = Tensor([2], name="target")
    loss = F.cross_entropy(x, y)
    assert loss.grad_fn.constants == (y,)
    assert all(parent is not y for parent in loss.grad_fn.inputs)
    assert all(t is not y for t in topological_order([loss], constants=True))
    # A list target is drawn too, as the array the op was given.
    listed = F.cross_entropy(x, [2])
    (shown,) = listed.grad_fn.constants
    assert shown.dtype == np.int64 and shown.tolist() == [2]
    assert node(shown) in nodes(draw_graph(listed))
    # Nothing is kept when nothing is recorded.
    with tg.no_grad():
        assert F.cross_entropy(x, y).grad_fn is None


def test_an_unbatched_target_is_the_users_tensor():
    logits = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    target = Tensor(2, name="target")
    for reduction in ("mean", "none"):
        digraph = draw_graph(F.cross_entropy(logits, target, reduction=reduction))
        assert node(target) in nodes(digraph) and "target" in digraph.source


def test_loss_modules_draw_their_target_when_collapsed():
    model, loss = mlp_step()
    (target,) = loss.grad_fn.constants
    digraph = draw_graph(loss, params=model)
    module_nodes = [i for i in nodes(digraph) if i.startswith("m")]
    assert any(edge[0] == node(target) and edge[1] in module_nodes for edge in edges(digraph))


def test_a_constant_with_a_graph_of_its_own_is_drawn_with_it():
    from tinygrad_dlcv import ops

    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    other = Tensor([3.0, 4.0], requires_grad=True, name="other")
    made = other * 2.0
    root = ops.keep_constants(a * 1.5, (made, "not a tensor"))
    assert root.grad_fn.constants == (made,)
    digraph = draw_graph(root)
    assert {node(made), node(other)} <= set(nodes(digraph))
    assert (node(made), op_node(root)) in edges(digraph)
    root.sum().backward()
    assert other.grad is None  # a constant is never walked


def test_small_expression_has_one_node_per_tensor_and_op():
    a, b, ab, c = small_expression()
    digraph = draw_graph(c)
    assert kinds(digraph) == {"tensor": 4, "op": 2, "module": 0, "constant": 0}
    mul, add = op_node(ab), op_node(c)
    assert sorted(edges(digraph)) == sorted(
        [
            (node(a), mul),
            (node(b), mul),
            (mul, node(ab)),
            (node(ab), add),
            (node(a), add),
            (add, node(c)),
        ]
    )
    labels = nodes(digraph)
    assert "label=Mul " in labels[mul] and "label=Add " in labels[add]


def test_repeated_operand_draws_both_edges():
    a = Tensor([2.0], requires_grad=True)
    square = a * a
    assert edges(draw_graph(square)).count((node(a), op_node(square))) == 2


def test_a_leaf_root_is_one_node():
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    digraph = draw_graph(a)
    assert list(nodes(digraph)) == [node(a)] and edges(digraph) == []


def test_python_scalars_get_a_node_at_each_use():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 2.0 + (x + 1.0) * 2.0  # the engine shares one cached 2.0 tensor
    counts = kinds(draw_graph(y))
    assert counts["constant"] == 3
    assert counts["tensor"] == 5  # x, x * 2, x + 1, (x + 1) * 2, y


# ----------------------------------------------------------------------------- labels


def test_labels_show_names_shapes_values_and_grads():
    a, b, ab, c = small_expression()
    c.sum().backward()
    labels = nodes(draw_graph(c))
    assert 'label="a\\n(2,) float32\\n[1.5, -2]\\ngrad [1.25, 4]"' in labels[node(a)]
    assert "grad [1.5, -2]" in labels[node(b)]
    assert 'label="(2,) float32\\n[0.375, -6]"' in labels[node(ab)]  # unnamed: its shape
    bare = nodes(draw_graph(c, show_data=False, show_grad=False))
    assert 'label="a\\n(2,) float32"' in bare[node(a)]


def test_colours_follow_the_legend():
    x = Tensor([1.0, 2.0], name="x")
    a, _, ab, c = small_expression()
    root = (c * x).sum()
    labels = nodes(draw_graph(root))
    assert viz._PARAM_FILL in labels[node(a)]
    assert viz._CONSTANT_FILL in labels[node(x)]
    assert viz._INNER_FILL in labels[node(ab)]
    assert viz._ROOT_FILL in labels[node(root)]
    assert viz._OP_FILL in labels[op_node(ab)]
    assert "Colour legend" in viz.__doc__


def test_small_values_have_four_significant_digits_large_ones_statistics():
    small = Tensor([3.14159265, 123456.0, -0.000123456], requires_grad=True, name="small")
    large = Tensor(np.arange(100.0), requires_grad=True, name="large")
    labels = nodes(draw_graph(small.sum() + large.sum()))
    assert "[3.142, 1.235e+05, -0.0001235]" in labels[node(small)]
    assert "mean 49.5  std 28.87\\nmin 0  max 99" in labels[node(large)]
    assert "0, 1, 2" not in labels[node(large)]


def test_a_small_matrix_shows_a_line_per_row():
    m = Tensor([[1.0, 2.5, -3.0], [4.0, 5.0, 6.25]], requires_grad=True, name="m")
    root = m.sum()
    root.backward()
    label = nodes(draw_graph(root))[node(m)]
    assert "m\\n(2, 3) float32\\n[[1, 2.5, -3],\\n[4, 5, 6.25]]\\ngrad [[1, 1, 1]," in label
    assert viz._describe(np.array([True, False]), "") == ["[True, False]"]


def test_large_gradient_shows_statistics():
    w = Tensor(np.ones((4, 5)), requires_grad=True, name="w")
    loss = (w * Tensor(np.arange(20.0).reshape(4, 5))).sum()
    loss.backward()
    label = nodes(draw_graph(loss))[node(w)]
    assert "grad mean 9.5  std 5.766\\ngrad min 0  max 19" in label


def test_names_with_backslashes_and_angle_brackets_stay_plain_text():
    a = Tensor([1.0], requires_grad=True, name="<a\\b>")
    digraph = draw_graph(a * 2.0)
    assert 'label="<a\\\\b>' in nodes(digraph)[node(a)]


# ----------------------------------------------------------------------------- parameters


def test_module_parameters_are_named_and_boxed_per_module():
    model, loss = mlp_step()
    digraph = draw_graph(loss, params=model)
    source = digraph.source
    for name, _ in model.named_parameters():
        assert f'label="{name}\\n' in source
    assert source.count("subgraph cluster") == 3  # the three Linear layers
    for path in ("0", "2", "4"):
        assert f'label="{path}: Linear"' in source
    # Without names, parameters are labelled by their shape and nothing is boxed.
    plain = draw_graph(loss).source
    assert "0.weight" not in plain and "subgraph cluster" not in plain


def test_mapping_params_name_nodes_and_box_dotted_prefixes():
    w = Tensor([1.0, 2.0], requires_grad=True)
    v = Tensor([3.0, 4.0], requires_grad=True)
    b = Tensor([0.5, 0.5], requires_grad=True)
    out = (w * v + b).sum()
    digraph = draw_graph(out, params={"w": w, "fc.v": v, "fc.b": b})
    labels = nodes(digraph)
    assert 'label="w\\n' in labels[node(w)] and 'label="fc.v\\n' in labels[node(v)]
    assert digraph.source.count("subgraph cluster") == 1
    assert "label=fc" in digraph.source


def test_root_module_parameters_box_uses_the_class_name():
    neuron = nn.Neuron(3)
    out = neuron(tg.randn(4, 3)).sum()
    source = draw_graph(out, params=neuron).source
    assert 'label="w\\n' in source and 'label="b\\n' in source
    assert "label=Neuron" in source and source.count("subgraph cluster") == 1


def test_show_formulas_puts_each_local_derivative_on_its_op():
    loss, _, _ = neuron_step()
    relu_root = (loss.reshape(1).relu() + loss.reshape(1).maximum(Tensor([0.5]))).sum()
    functions = _grad_fns(relu_root)
    formulas = {type(f).derivative() for f in functions}
    assert len(formulas) >= 8 and any(">" in formula for formula in formulas)
    source = draw_graph(relu_root, show_formulas=True).source
    for formula in formulas:
        assert formula in source
    plain = draw_graph(relu_root).source
    assert not any(formula in plain for formula in formulas)


def test_long_formulas_wrap_at_top_level_commas():
    assert viz._wrap_formula("d max(a, b)/da = [a > b] + [a = b]/2 (ties share)") == [
        "d max(a, b)/da = [a > b] + [a = b]/2 (ties share)"
    ]
    assert viz._wrap_formula(
        "d(x W^T + b)/dx = g W, d/dW = g^T x, d/db = sum_n g  (matmul and bias add fused)"
    ) == ["d(x W^T + b)/dx = g W", "d/dW = g^T x", "d/db = sum_n g", "(matmul and bias add fused)"]


# ----------------------------------------------------------------------------- collapsing


def test_collapse_draws_one_node_per_layer_call():
    model, loss = mlp_step()
    digraph = draw_graph(loss, params=model)
    counts = kinds(digraph)
    assert counts["op"] == 0
    assert counts["module"] == 6  # Linear, ReLU, Linear, ReLU, Linear, CrossEntropyLoss
    # x, six parameters, five layer outputs, the loss and its target
    assert counts["tensor"] == 14
    assert len(nodes(digraph)) < 40
    source = digraph.source
    for title in ("Linear(20→16)", "Linear(16→16)", "Linear(16→5)", "1: ReLU()"):
        assert title in source
    # The loss's mean is fused into its op (one node, as PyTorch's NllLossBackward).
    assert 'CrossEntropyLoss()\\nops: CrossEntropy"' in source

    full = draw_graph(loss, params=model, collapse=False)
    assert kinds(full)["op"] == len(_grad_fns(loss)) == 6
    assert kinds(full)["module"] == 0
    assert kinds(full)["tensor"] == 14


def test_collapse_hides_tensors_inside_a_call_and_keeps_parameters():
    tg.manual_seed(0)
    first, second = HandLinear(3, 4), HandLinear(4, 2)
    model = nn.Sequential(first, second)
    x = tg.randn(5, 3)
    out = model(x).sum()
    collapsed = draw_graph(out, params=model)
    counts = kinds(collapsed)
    # x, four parameters, each layer's output and the sum; not x @ W nor x @ W + b
    assert counts == {"tensor": 8, "op": 1, "module": 2, "constant": 0}
    calls = {}
    for source, target in edges(collapsed):
        if target.startswith("m"):
            calls.setdefault(target, set()).add(source)
    first_inputs = next(v for v in calls.values() if node(first.weight) in v)
    second_inputs = next(v for v in calls.values() if node(second.weight) in v)
    assert first_inputs == {node(x), node(first.weight), node(first.bias)}
    # The second layer's input is the first one's output: drawn, since it leaves the call.
    (h,) = second_inputs - {node(second.weight), node(second.bias)}
    first_call = next(call for call, inputs in calls.items() if inputs == first_inputs)
    assert h in nodes(collapsed) and (first_call, h) in edges(collapsed)

    full = draw_graph(out, params=model, collapse=False)
    assert kinds(full)["op"] == len(_grad_fns(out)) == 7  # 2 x (matmul, add, relu) + sum
    # The tensors made inside each call sit in that module's box.
    assert full.source.count("subgraph cluster") == 2


def test_a_module_called_twice_gives_two_nodes():
    layer = nn.Linear(3, 3)
    out = layer(layer(tg.randn(2, 3))).sum()
    digraph = draw_graph(out, params=layer)
    assert kinds(digraph)["module"] == 2


def test_thousands_of_ops_build_quickly_without_recursion():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x
    for _ in range(3000):
        y = y * 0.5 + x
    start = time.perf_counter()
    digraph = draw_graph(y, show_data=False)
    elapsed = time.perf_counter() - start
    assert kinds(digraph)["op"] == 6000
    assert elapsed < 10


def test_bad_arguments_are_clear_errors():
    a = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="root must be a Tensor"):
        draw_graph([a])
    with pytest.raises(TypeError, match="params must be a Module or a mapping"):
        draw_graph(a * 2.0, params=[a])
    with pytest.raises(TypeError, match="not a Tensor"):
        draw_graph(a * 2.0, params={"a": 1.0})
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(a * 2.0, rankdir="sideways")


def test_the_result_is_a_graphviz_digraph():
    _, _, _, c = small_expression()
    assert isinstance(draw_graph(c), graphviz.Digraph)


def test_a_movie_frame_highlights_the_current_tensor_and_shows_arrived_gradients():
    loss, w, b = neuron_step()
    steps = backward_steps(loss)
    graph = viz._Graph(loss, None, False, "test")
    arrived = {id(t): g for t, g in steps[:3]}
    current = steps[2][0]
    frame = graph.to_digraph(graphviz, arrived, True, True, False, "LR", current, "step 3")
    labels = nodes(frame)
    assert viz._CURRENT_FILL in labels[node(current)] and "▶ grad" in labels[node(current)]
    assert "grad 1" in labels[node(loss)] and viz._CURRENT_FILL not in labels[node(loss)]
    assert "grad …" in labels[node(w)]  # its gradient has not arrived yet
    assert 'label="step 3"' in frame.source


def test_rankdir_reaches_the_source():
    _, _, _, c = small_expression()
    assert "rankdir=TB" in draw_graph(c, rankdir="TB").source
    assert "rankdir=LR" in draw_graph(c).source


def test_an_op_without_a_docstring_has_an_empty_derivative():
    # python -OO strips docstrings: show_formulas raised IndexError there.
    class Bare(tg.ops.Function):
        pass

    assert Bare.derivative() == ""
    assert tg.ops.Add.derivative() == "d(a + b)/da = 1, d(a + b)/db = 1"


def test_rankdir_of_another_type_is_a_type_error():
    _, _, _, c = small_expression()
    for bad in (1, None):
        with pytest.raises(TypeError, match="draw_graph: rankdir must be a str"):
            draw_graph(c, rankdir=bad)


@pytest.mark.parametrize("name", ["<b>B</b>.w", "<fc>.weight", "x\\l.w", "a\\b.weight"])
def test_module_box_labels_are_plain_text(name):
    # The box title came from the params key raw: "<b>B</b>" broke dot, "<fc>" became a
    # record field, backslashes were DOT escapes.
    w = Tensor([1.0, 2.0], requires_grad=True)
    svg = draw_graph((w * 3).sum(), params={name: w}).pipe(format="svg").decode()
    box = name.rsplit(".", 1)[0]
    shown = box.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f">{shown}</text>" in svg


def test_cuda_tensors_draw(device):
    a = Tensor([1.0, 2.0], requires_grad=True, name="a", device=device)
    loss = (a * a).sum()
    loss.backward()
    label = nodes(draw_graph(loss))[node(a)]
    assert "[1, 2]" in label and "grad [2, 4]" in label
    assert ("cuda" in label) == (device == "cuda")


# ----------------------------------------------------------------------------- rendering


@needs_dot
def test_render_writes_svg_and_png(tmp_path):
    model, loss = mlp_step()
    digraph = draw_graph(loss, params=model)
    svg = render(digraph, tmp_path / "graph.svg")
    text = Path(svg).read_text(encoding="utf-8")
    assert "<svg" in text and "0.weight" in text
    png = render(digraph, tmp_path / "graph", format="png")
    assert png.endswith("graph.png")
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The Digraph's own render works too, and leaves no DOT source file behind.
    out = digraph.render(outfile=tmp_path / "own.svg", cleanup=True)
    assert Path(out).read_text(encoding="utf-8").count("<svg") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.png", "graph.svg", "own.svg"]


@needs_dot
def test_animate_backward_gif_has_one_frame_per_backward_step(tmp_path):
    image = pytest.importorskip("PIL.Image")
    from PIL import ImageSequence

    loss, w, b = neuron_step()
    expected = len(backward_steps(loss))
    assert expected == 6  # loss, y, x.w + b, x.w, w, b (the BCE's mean is fused in)
    path = tmp_path / "backward.gif"
    assert animate_backward(loss, path) == expected
    with image.open(path) as gif:
        frames = list(ImageSequence.Iterator(gif))
        assert len(frames) == expected
        assert gif.info.get("loop") == 0
    assert w.grad is None and b.grad is None  # the movie stores nothing


@needs_dot
def test_animate_backward_png_folder(tmp_path):
    model, loss = mlp_step(sizes=(4, [3], 2))
    model.zero_grad()
    expected = len(backward_steps(loss))
    folder = tmp_path / "frames"
    assert animate_backward(loss, folder, params=model, collapse=True) == expected
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"frame_{k:03d}.png" for k in range(expected)]
    assert all((folder / name).read_bytes()[:4] == b"\x89PNG" for name in files)


def test_animate_backward_needs_a_root_with_grad(tmp_path):
    with pytest.raises(RuntimeError, match="animate_backward: .*does not require grad"):
        animate_backward(Tensor([1.0]) * 2.0, tmp_path / "x.gif")
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_animate_backward_seeds_a_non_scalar_root_with_ones(tmp_path):
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    root = (w * w) * 3.0  # shape (2,): backward() alone would need a gradient
    steps = backward_steps(root, tg.ones(2))
    assert [t is w for t, _ in steps] == [False, False, True]
    np.testing.assert_allclose(steps[-1][1].numpy(), [6.0, 12.0])
    assert animate_backward(root, tmp_path / "frames") == len(steps)
    assert len(list((tmp_path / "frames").iterdir())) == len(steps)
    assert w.grad is None


@needs_dot
def test_animate_backward_into_a_used_folder_removes_only_its_stale_frames(tmp_path):
    w = Tensor([0.5, -1.0], requires_grad=True, name="w")
    long = ((((w * 2.0).exp() + 1.0).log() * 3.0).sum() - 1.0) ** 2
    short = (w * w).sum()
    folder = tmp_path / "frames"
    first = animate_backward(long, folder)
    others = ["frame_7.png", "frame_0100.png", "frame_001.txt", "notes.txt"]  # not its names
    for name in others:
        (folder / name).write_bytes(b"keep")
    second = animate_backward(short, folder)
    assert first > second
    expected = [f"frame_{k:03d}.png" for k in range(second)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected + others)
    assert all((folder / name).read_bytes() == b"keep" for name in others)


@needs_dot
def test_missing_pillow_is_an_import_error_that_names_pil(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    loss, _, _ = neuron_step()
    with pytest.raises(ImportError, match="pip install pillow") as error:
        animate_backward(loss, tmp_path / "movie.gif")
    assert error.value.name == "PIL"


def test_missing_dot_is_a_clear_error(monkeypatch, tmp_path):
    _, _, _, c = small_expression()
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    digraph = draw_graph(c)  # building needs no dot
    assert "digraph" in digraph.source
    for attempt in (
        lambda: render(digraph, tmp_path / "g.svg"),
        lambda: digraph.render(outfile=tmp_path / "g.svg"),
        lambda: digraph.pipe(format="png"),
        lambda: animate_backward(c.sum(), tmp_path / "g.gif"),
    ):
        with pytest.raises(RuntimeError, match="apt-get install graphviz") as error:
            attempt()
        assert "brew install graphviz" in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_missing_graphviz_package_says_pip_install(monkeypatch):
    _, _, _, c = small_expression()
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        draw_graph(c)


def test_importing_the_package_does_not_import_graphviz():
    code = (
        "import sys, tinygrad_dlcv, tinygrad_dlcv.viz; "
        "assert 'graphviz' not in sys.modules and 'PIL' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_index_tensors_and_where_conditions_are_drawn():
    weights = tg.randn(5, requires_grad=True)
    index = Tensor([0, 2], name="chosen rows")
    condition = Tensor([True, False, True, True, False], name="mask")
    assert "chosen rows" in draw_graph(weights[index].sum()).source
    assert "mask" in draw_graph(tg.where(condition, weights, 0.0).sum()).source
    weights[index].sum().backward()  # drawn, yet not part of the backward walk
    np.testing.assert_array_equal(weights.grad.numpy(), [1, 0, 1, 0, 0])
    assert index.grad is None and condition.grad is None


@pytest.mark.parametrize("fps, error", [(1e-9, ValueError), (1000, ValueError), ("2", TypeError)])
def test_animate_backward_frame_rate_is_checked_before_drawing(tmp_path, fps, error):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(error, match="animate_backward: fps"):
        animate_backward((x * x).sum(), tmp_path / "frames.gif", fps=fps)
    assert not (tmp_path / "frames.gif").exists()


def test_draw_graph_refuses_flags_that_are_not_bools_and_names_that_are_not_str():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    for flag in ("show_data", "show_grad", "show_formulas", "collapse"):
        with pytest.raises(TypeError, match=f"draw_graph: {flag} must be True or False"):
            draw_graph(loss, **{flag: "yes"})
    with pytest.raises(TypeError, match="params names must be str"):
        draw_graph(loss, params={3: w})


@needs_dot
def test_render_of_a_drawn_graph_writes_svg_by_default(tmp_path):
    w = Tensor([1.0, 2.0], requires_grad=True)
    digraph = draw_graph((w * w).sum())
    assert digraph.format == "svg"  # graphviz's own default would be PDF
    written = Path(digraph.render(tmp_path / "graph"))
    assert written.suffix == ".svg" and written.read_text().lstrip().startswith("<?xml")


@needs_dot
def test_render_writes_only_the_file_asked_for(tmp_path):
    # graphviz's render(cleanup=True) wrote and then deleted a .gv of the same name.
    notes = tmp_path / "graph.gv"
    notes.write_text("my notes")
    x = Tensor([1.0, 2.0], requires_grad=True)
    written = render(draw_graph((x * x).sum()), tmp_path / "graph.svg")
    assert Path(written).read_text().lstrip().startswith(("<?xml", "<svg"))
    assert notes.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.gv", "graph.svg"]


def test_op_nodes_show_their_arguments_and_edges_name_the_operands():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    layer = nn.Linear(2, 3)
    total = (x**3).sum(axis=1, keepdims=True).clip(0, 5).sum() + F.linear(x, layer.weight).sum()
    source = draw_graph(total - x.sum(), collapse=False).source
    assert "exponent=3" in source  # x ** 3 and x ** 2 were both a bare PowScalar
    assert "axis=(1,), keepdims=True" in source
    assert "low=0, high=5" in source
    assert "keepdims=False" not in source  # a default says nothing
    labels = re.findall(r"-> \S+ \[label=(\w+)\]", source)
    assert labels.count("x") == 1 and labels.count("W") == 1  # x W^T, not a and b
    assert labels.count("a") >= 2 and labels.count("b") >= 2  # the + and the -


def test_animate_backward_names_itself_when_the_folder_cannot_be_made(tmp_path):
    in_the_way = tmp_path / "frames"
    in_the_way.write_text("a file, not a folder")
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(FileExistsError, match="animate_backward.*folder of frames"):
        animate_backward((x * x).sum(), in_the_way)


@needs_dot
def test_animate_backward_refuses_a_folder_named_like_a_gif_before_drawing(tmp_path):
    (tmp_path / "movie.gif").mkdir()
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(IsADirectoryError, match="animate_backward.*is a folder"):
        animate_backward((x * x).sum(), tmp_path / "movie.gif")


@needs_dot
def test_animate_backward_writes_a_gif_named_dot_gif(tmp_path):
    pytest.importorskip("PIL.Image")
    x = Tensor([1.0, 2.0], requires_grad=True)
    path = tmp_path / ".gif"
    assert animate_backward((x * x).sum(), path) == 3
    assert path.is_file() and path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")


def test_module_nodes_have_unlabelled_inputs_and_several_indices_are_numbered():
    model = nn.MLP(2, [3], 1)
    source = draw_graph(model(Tensor(np.ones((4, 2)))).sum()).source  # collapsed modules
    assert not re.findall(r"-> \S+ \[label=", source)
    x = Tensor(np.ones((3, 3)), requires_grad=True)
    source = draw_graph(x[Tensor([0, 0]), Tensor([1, 2])].sum()).source
    assert sorted(re.findall(r"-> \S+ \[label=(\w+)\]", source)) == ["a", "index_1", "index_2"]


def test_a_collapsed_module_keeps_its_own_numbers_inside():
    class Scale(nn.Module):
        def forward(self, x):
            return x * 2.0 + 1.0

    model = nn.Sequential(nn.Linear(2, 2), Scale())
    loss = model(Tensor(np.ones((3, 2)))).sum()
    collapsed = draw_graph(loss).source
    assert not re.search(r"\bc\d+ ", collapsed)  # no constant nodes: 2.0 and 1.0 stay inside
    expanded = draw_graph(loss, collapse=False).source
    assert len(re.findall(r"\bc\d+ \[", expanded)) == 2  # drawn at their ops when expanded


def test_labels_of_small_3d_tensors_have_no_blank_lines_and_nan_is_counted():
    small = draw_graph(Tensor(np.arange(4.0).reshape(2, 1, 2), name="cube")).source
    assert "\\n\\n" not in small and "[[[0, 1]]," in small
    values = np.arange(100.0)
    values[3] = np.nan
    large = draw_graph(Tensor(values, name="big")).source
    assert "mean 49.97" in large and "1 NaN" in large
