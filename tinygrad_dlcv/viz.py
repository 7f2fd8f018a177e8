"""Pictures of the computation graph, and of the backward pass walking it.

``draw_graph(loss)`` returns a ``graphviz.Digraph``: one box per tensor, one
node per op, edges from each op's inputs to the op and from the op to its
output. ``animate_backward(loss, "backward.gif")`` draws the same graph once
per step of the backward walk, so the chain rule plays as a movie.

Colour legend
-------------
- light blue box: a leaf that requires grad (a parameter, or an input you
  differentiate with respect to); ``backward()`` fills its ``.grad``.
- grey box: a constant or an input that needs no gradient (data, targets, the
  0.5 of ``x * 0.5``; a Python scalar gets its own small node at each use).
- white box: an intermediate tensor, computed by an op.
- green box: the root, the tensor the graph was drawn from (usually the loss).
- light orange ellipse: an op (``Mul``, ``Sigmoid``, ...); with
  ``show_formulas`` a rounded box that also carries the op's local derivative.
- orange rounded box: one call of a layer whose ops were collapsed into one
  node (``collapse=True``), e.g. ``0: Linear(784→256)``.
- dashed blue frame: a module and its parameters (named as in
  ``named_parameters()``, e.g. ``0.weight``).
- in ``animate_backward``: the tensor whose gradient is being processed is
  red and bold; tensors already processed have a red outline.

Text in a tensor's box: its name (``Tensor(..., name="x")``, else the
parameter's name from ``params``, else its shape), shape and dtype, then its
values when it has at most 6 elements (4 significant digits) or mean, std, min
and max when larger, then its gradient the same way once it has one.

Building a graph needs only the ``graphviz`` Python package (imported here,
on first use, never by ``import tinygrad_dlcv``); writing SVG or PNG also
needs Graphviz's ``dot`` program. Without it, ``render``, the returned graph's
``.render()`` / ``.pipe()`` and ``animate_backward`` raise a RuntimeError that
says how to install it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy

from .arguments import check_bool, check_path
from .tensor import Tensor, backward_steps, ones_like, topological_order

__all__ = ["draw_graph", "animate_backward", "render"]

# ----------------------------------------------------------------------------- colours

_PARAM_FILL = "#cfe6fb"
_CONSTANT_FILL = "#e4e4e4"
_INNER_FILL = "#ffffff"
_ROOT_FILL = "#bfe8b0"
_OP_FILL = "#ffe1b3"
_MODULE_FILL = "#ffbf75"
_CLUSTER_COLOR = "#4f81bd"
_CURRENT_FILL = "#ff9c9c"
_CURRENT_COLOR = "#d62020"
_TEXT_COLOR = "#222222"
_EDGE_COLOR = "#666666"

_SMALL = 6  # tensors with at most this many elements show their values
_WRAP = 40  # formulas longer than this break at their top-level commas

_INSTALL_DOT = (
    "rendering the graph needs Graphviz's 'dot' program, which is not on PATH. "
    "Install Graphviz: apt-get install graphviz (Debian/Ubuntu), brew install graphviz "
    "(macOS), conda install graphviz, or see https://graphviz.org/download/"
)
_INSTALL_GRAPHVIZ = (
    "drawing the graph needs the graphviz Python package: pip install graphviz "
    "(rendering also needs Graphviz's 'dot' program: apt-get install graphviz, "
    "brew install graphviz or conda install graphviz)"
)


# ----------------------------------------------------------------------------- public API


def draw_graph(
    root: Tensor,
    params: Any = None,
    show_data: bool = True,
    show_grad: bool = True,
    show_formulas: bool = False,
    rankdir: str = "LR",
    collapse: bool = True,
) -> Any:
    """Draw the computation graph that produced ``root``.

    Parameters
    ----------
    root : Tensor
        The output to draw the graph of (usually a loss). Every tensor it was
        computed from is drawn, constants and inputs included, and so are the
        Tensors an op was handed as arguments rather than inputs (a loss's
        target; ``Function.constants``), as grey boxes with an edge into that op.
    params : Module or mapping of str to Tensor, optional
        Names for parameter nodes. A Module gives ``named_parameters()``'s
        names and a dashed box per module (``0: Linear``) around its
        parameters and ops; with a mapping, names with a dot (``fc.weight``)
        are boxed by their prefix.
    show_data : bool
        Show values (at most 6 elements) or mean/std/min/max (more) of each tensor.
    show_grad : bool
        Show ``.grad`` the same way, on tensors that have one.
    show_formulas : bool
        Put each op's local derivative (the first line of its docstring, e.g.
        ``d(a * b)/da = b, d(a * b)/db = a``) on its node.
    rankdir : {"LR", "TB", "RL", "BT"}
        Direction of the layout: "LR" reads left to right.
    collapse : bool
        Draw the ops of one call of a module without submodules (a Linear, a
        ReLU, a loss module) as one node, hiding the tensors that stay inside
        the call; its parameters stay drawn. False draws every op.

    Returns
    -------
    graphviz.Digraph
        ``.source`` is the DOT text; ``.render(outfile="g.svg")``, ``.pipe()``
        or :func:`render` write pictures (those need the ``dot`` program).

    Raises
    ------
    ImportError
        When the graphviz Python package is missing (the message says how to install it).
    TypeError
        When ``root`` is not a Tensor or ``params`` is neither a Module nor a mapping of Tensors.

    Examples
    --------
    >>> w = tg.Tensor([0.5, -1.0], requires_grad=True, name="w")
    >>> loss = ((w * w).sum() - 1) ** 2
    >>> loss.backward()
    >>> draw_graph(loss, show_formulas=True).render(outfile="loss.svg")  # doctest: +SKIP
    """
    graphviz = _import_graphviz()
    _check_rankdir(rankdir, "draw_graph")
    flags = {"show_data": show_data, "show_grad": show_grad, "show_formulas": show_formulas}
    for flag, value in {**flags, "collapse": collapse}.items():
        check_bool(value, flag, "draw_graph")
    graph = _Graph(root, params, collapse, "draw_graph")
    grads = graph.stored_grads() if show_grad else {}
    return graph.to_digraph(graphviz, grads, show_data, show_grad, show_formulas, rankdir)


def render(digraph: Any, path: str | os.PathLike, format: str | None = None) -> str:
    """Write a graph from :func:`draw_graph` to ``path`` as SVG, PNG, PDF, ...

    Parameters
    ----------
    digraph : graphviz.Digraph
    path : str or path-like
        The file to write. Its suffix picks the format unless ``format`` is
        given; without either the picture is SVG (and ``.svg`` is appended).
    format : str, optional
        Any output format of ``dot`` ("svg", "png", "pdf").

    Returns
    -------
    str
        The path of the written file.

    Raises
    ------
    RuntimeError
        When Graphviz's ``dot`` program is not installed (the message says how to install it).
    """
    _require_dot()
    path = os.fspath(check_path(path, "path", "render"))
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    format = (format or suffix or "svg").lower()
    if suffix != format:
        path = f"{path}.{format}"
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    # dot's output written here: graphviz's render() would write (and with cleanup
    # delete) a .gv file beside it, destroying a file of that name that was there.
    picture = digraph.pipe(format=format)
    with open(path, "wb") as file:
        file.write(picture)
    return path


def animate_backward(
    root: Tensor,
    path: str | os.PathLike,
    params: Any = None,
    fps: float = 2,
    collapse: bool = False,
    show_data: bool = True,
    show_formulas: bool = False,
    rankdir: str = "LR",
) -> int:
    """Draw the backward pass from ``root`` as frames: the chain rule as a movie.

    Frame k shows the graph as the backward walk reaches its k-th tensor (in
    the order ``backward()`` processes them: the root first, then each
    tensor once every consumer has sent its share). That tensor is drawn red
    and bold with its total gradient; the gradients that arrived before it
    stay on their tensors. Nothing is stored in any ``.grad``.

    Parameters
    ----------
    root : Tensor
        A tensor that requires grad (usually the loss; a non-scalar root is
        seeded with ones).
    path : str or path-like
        A ``.gif`` file (assembled with Pillow, looping), or otherwise a
        folder that receives ``frame_000.png``, ``frame_001.png``, ... Frames
        an earlier, longer movie left in that folder (files named exactly
        ``frame_NNN.png`` past this movie's last) are deleted once the new
        frames are written, so the folder holds this movie alone; other files
        stay untouched.
    params : Module or mapping of str to Tensor, optional
        Parameter names and module boxes, as in :func:`draw_graph`.
    fps : float
        Frames per second of the GIF.
    collapse : bool
        Collapse module calls as in :func:`draw_graph` (off by default: the
        movie is about single ops). A step at a hidden tensor lights up its module node.
    show_data, show_formulas, rankdir
        As in :func:`draw_graph`.

    Returns
    -------
    int
        The number of frames written: one per backward step.

    Raises
    ------
    RuntimeError
        When ``root`` does not require grad, or ``dot`` is not installed.
    ImportError
        When the graphviz package (or, for a GIF, Pillow) is missing; its
        ``name`` is the missing module's.
    """
    graphviz = _import_graphviz()
    _check_rankdir(rankdir, "animate_backward")
    flags = {"collapse": collapse, "show_data": show_data, "show_formulas": show_formulas}
    for flag, value in flags.items():
        check_bool(value, flag, "animate_backward")
    fps = check_frame_rate(fps, "animate_backward")
    graph = _Graph(root, params, collapse, "animate_backward")
    if not root.requires_grad:
        raise RuntimeError(
            f"animate_backward: the root {graph.title(root)} does not require grad, so there "
            "is no backward pass to draw"
        )
    _require_dot()
    # backward() takes no default gradient for a non-scalar; the movie starts from ones.
    steps = backward_steps(root, None if root.size == 1 else ones_like(root))
    path = check_path(path, "path", "animate_backward")
    as_gif = path.name.lower().endswith(".gif")  # ".gif" alone too (Path's suffix is "")
    if as_gif and path.is_dir():  # found now, not after every frame was drawn
        raise IsADirectoryError(
            f"animate_backward: {str(path)!r} is a folder; give a .gif file name, or a "
            "folder name without .gif for PNG frames"
        )
    image_module = _import_pillow() if as_gif else None
    folder = path if not as_gif else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file in the way, a folder that cannot be made
        raise type(error)(
            f"animate_backward: cannot use {str(folder)!r} as a folder of frames "
            f"({error.strerror or error})"
        ) from None

    arrived: dict[int, Tensor] = {}
    pngs = []
    for index, (tensor, gradient) in enumerate(steps):
        arrived[id(tensor)] = gradient
        caption = _step_caption(graph, tensor, index, len(steps))
        digraph = graph.to_digraph(
            graphviz,
            arrived,
            show_data,
            True,
            show_formulas,
            rankdir,
            current=tensor,
            caption=caption,
        )
        png = digraph.pipe(format="png")
        if as_gif:
            pngs.append(png)
        else:
            (path / _frame_name(index)).write_bytes(png)
    if as_gif:
        _write_gif(image_module, pngs, path, fps)
    else:
        _remove_stale_frames(path, len(steps))
    return len(steps)


def _frame_name(index: int) -> str:
    return f"frame_{index:03d}.png"


def _remove_stale_frames(folder: Path, count: int) -> None:
    """Delete the frames past ``count`` that an earlier call left, and nothing else:
    only names this function writes (``frame_007.png``, not ``frame_7.png``)."""
    for entry in folder.iterdir():
        match = re.fullmatch(r"frame_(\d{3,})\.png", entry.name)
        if match is None:
            continue
        index = int(match[1])
        if index >= count and entry.name == _frame_name(index) and entry.is_file():
            entry.unlink()


# ----------------------------------------------------------------------------- the graph


class _Unit:
    """One op node of the picture: a single op, or the ops of one module call."""

    __slots__ = ("node_id", "functions", "produced", "module", "inputs", "outputs", "cluster")

    def __init__(self, node_id: str, module: Any) -> None:
        self.node_id = node_id
        self.functions: list[Any] = []
        self.produced: list[Tensor] = []
        self.module = module
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.cluster: str | None = None


class _Graph:
    """The tensors and ops reachable from a root, arranged for drawing.

    Built once (linear in the size of the graph); ``to_digraph`` then writes
    the graphviz picture, with whatever gradients a frame should show.
    """

    def __init__(self, root: Tensor, params: Any, collapse: bool, caller: str) -> None:
        if not isinstance(root, Tensor):
            raise TypeError(f"{caller}: root must be a Tensor, got {type(root).__name__}")
        self.root = root
        self.tensors = _drawn_tensors(root)
        self.names = names = _ParameterNames(params, caller)

        # Which op node ("unit") each op belongs to, and which tensors stay inside a module call.
        self.units: dict[str, _Unit] = {}
        produced_by: dict[int, _Unit] = {}
        call_of_output: dict[int, tuple] = {}
        consumers: dict[int, list[Any]] = {}
        for tensor in self.tensors:
            function = tensor.grad_fn
            if function is None:
                continue
            call = function.module_call
            module = call[0] if call is not None else None
            if collapse and call is not None:
                node_id = f"m{id(module)}_{call[1]}"
            else:
                node_id = f"op{id(function)}"
            unit = self.units.get(node_id)
            if unit is None:
                unit = self.units[node_id] = _Unit(node_id, module)
            unit.functions.append(function)
            unit.produced.append(tensor)
            produced_by[id(tensor)] = unit
            if call is not None:
                call_of_output[id(tensor)] = (id(module), call[1])
            for parent in (*function.inputs, *function.constants):
                consumers.setdefault(id(parent), []).append(function)

        # A tensor is internal to a module call when that call made it and only that call uses it.
        self.internal: set[int] = set()
        for tensor in self.tensors:
            call = call_of_output.get(id(tensor))
            if call is None or tensor is root:
                continue
            if all(_call_key(function) == call for function in consumers.get(id(tensor), ())):
                self.internal.add(id(tensor))
        self.hidden = self.internal if collapse else set()

        for unit in self.units.values():
            made_here = {id(tensor) for tensor in unit.produced}
            seen: set[int] = set()
            for function in unit.functions:
                # Constants (a loss's target, an index) are drawn as inputs of their op.
                for parent in (*function.inputs, *function.constants):
                    if id(parent) in made_here:
                        continue
                    # A collapsed call lists each outside input once; a single op keeps
                    # repeats, so a * a shows both of its operands.
                    if len(unit.functions) > 1 and id(parent) in seen:
                        continue
                    seen.add(id(parent))
                    unit.inputs.append(parent)
            unit.outputs = [tensor for tensor in unit.produced if id(tensor) not in self.hidden]
            unit.cluster = names.box_of_module(unit.module)
        self.produced_by = produced_by

    def stored_grads(self) -> dict[int, Tensor]:
        """The ``.grad`` of every tensor that has one."""
        return {id(t): t.grad for t in self.tensors if t.grad is not None}

    def title(self, tensor: Tensor) -> str:
        """What a tensor is called in the picture: its name, parameter name, or shape."""
        return tensor.name or self.names.by_id.get(id(tensor)) or _shape_text(tensor.shape)

    def node_of(self, key: int) -> str:
        """The node drawn for the tensor with ``id() == key`` (its call's node when hidden)."""
        if key in self.hidden:
            return self.produced_by[key].node_id
        return f"t{key}"

    def to_digraph(
        self,
        graphviz: Any,
        grads: Mapping[int, Tensor],
        show_data: bool,
        show_grad: bool,
        show_formulas: bool,
        rankdir: str,
        current: Tensor | None = None,
        caption: str | None = None,
    ) -> Any:
        """Write the graphviz picture; ``current`` (a frame of the movie) is highlighted."""
        digraph_class = _digraph_class(graphviz)
        graph_attr = {
            "rankdir": rankdir,
            "nodesep": "0.25",
            "ranksep": "0.4",
            "bgcolor": "white",
            "fontname": "Helvetica",
            "fontsize": "12",
        }
        if caption:
            graph_attr.update(label=caption, labelloc="t", labeljust="l", fontsize="14")
        dot = digraph_class(
            name="tinygrad_dlcv",
            format="svg",  # what .render() writes unless told otherwise (graphviz says PDF)
            graph_attr=graph_attr,
            node_attr={
                "fontname": "Helvetica",
                "fontsize": "10",
                "fontcolor": _TEXT_COLOR,
                "style": "filled",
                "penwidth": "1",
                "color": "#555555",
            },
            edge_attr={"color": _EDGE_COLOR, "arrowsize": "0.7"},
        )
        animating = caption is not None
        current_node = self.node_of(id(current)) if current is not None else None
        processed = {self.node_of(key) for key in grads} if animating else set()
        clusters: dict[str, list[tuple[str, dict[str, str]]]] = {}
        main: list[tuple[str, dict[str, str]]] = []

        def place(cluster: str | None, node_id: str, attributes: dict[str, str]) -> None:
            if node_id == current_node:
                attributes.update(
                    fillcolor=_CURRENT_FILL,
                    color=_CURRENT_COLOR,
                    penwidth="3",
                    fontname="Helvetica-Bold",
                )
            elif node_id in processed:
                attributes.update(color=_CURRENT_COLOR, penwidth="2")
            (main if cluster is None else clusters.setdefault(cluster, [])).append(
                (node_id, attributes)
            )

        for tensor in self.tensors:
            if id(tensor) in self.hidden or (
                _is_inline_constant(tensor) and tensor is not self.root
            ):
                continue
            cluster = self._cluster_of_tensor(tensor)
            label = self._tensor_label(
                tensor, grads, show_data, show_grad, animating, tensor is current
            )
            place(cluster, f"t{id(tensor)}", {**self._tensor_style(tensor), "label": label})
        for unit in self.units.values():
            place(unit.cluster, unit.node_id, self._unit_attributes(unit, show_formulas))

        for node_id, attributes in main:
            dot.node(node_id, **_no_html(attributes, graphviz))
        for path, members in clusters.items():
            box = digraph_class(
                name=f"cluster_{len(dot.body)}_{_dot_safe(path)}",
                graph_attr={
                    # Plain text, as node labels: a name such as "<fc>.weight" would
                    # otherwise be read as an HTML label or a record field.
                    "label": graphviz.nohtml(_escape(self.names.box_labels[path])),
                    "style": "rounded,dashed",
                    "color": _CLUSTER_COLOR,
                    "fontcolor": _CLUSTER_COLOR,
                    "fontname": "Helvetica",
                    "fontsize": "11",
                    "labeljust": "l",
                    "margin": "10",
                },
            )
            for node_id, attributes in members:
                box.node(node_id, **_no_html(attributes, graphviz))
            dot.subgraph(box)

        constant_count = 0
        for unit in self.units.values():
            # Which operand is which (a - b, x W^T + b, where(c, a, b)): the names the
            # op's derivative uses; a module's node takes its inputs unlabelled.
            single = len(unit.inputs) > 1 and not unit.node_id.startswith("m")  # m: a module
            operand_names = _operand_names(unit.functions[0], len(unit.inputs)) if single else []
            for position, parent in enumerate(unit.inputs):
                edge_label = {"label": operand_names[position]} if operand_names else {}
                if _is_inline_constant(parent) and parent is not self.root:
                    if unit.node_id.startswith("m"):
                        continue  # a module's own numbers (x * 2.0 in its forward) stay inside
                    # Python scalars are cached and shared; one node per use reads better.
                    constant_count += 1
                    source = f"c{constant_count}"
                    label = self._tensor_label(parent, {}, show_data, False, False, False)
                    dot.node(
                        source, label=graphviz.nohtml(label), fillcolor=_CONSTANT_FILL, shape="box"
                    )
                else:
                    source = f"t{id(parent)}"
                dot.edge(source, unit.node_id, **edge_label)
            for output in unit.outputs:
                dot.edge(unit.node_id, f"t{id(output)}")
        return dot

    # ----------------------------------------------------------------- labels and styles

    def _cluster_of_tensor(self, tensor: Tensor) -> str | None:
        parameter_cluster = self.names.box_of_param.get(id(tensor))
        if parameter_cluster is not None:
            return parameter_cluster
        if id(tensor) in self.internal:  # only drawn when not collapsed
            return self.produced_by[id(tensor)].cluster
        return None

    def _tensor_style(self, tensor: Tensor) -> dict[str, str]:
        if tensor is self.root:
            fill = _ROOT_FILL
        elif tensor.grad_fn is not None:
            fill = _INNER_FILL
        elif tensor.requires_grad:
            fill = _PARAM_FILL
        else:
            fill = _CONSTANT_FILL
        return {"shape": "box", "fillcolor": fill}

    def _tensor_label(
        self,
        tensor: Tensor,
        grads: Mapping[int, Tensor],
        show_data: bool,
        show_grad: bool,
        animating: bool,
        is_current: bool,
    ) -> str:
        named = tensor.name or self.names.by_id.get(id(tensor))
        details = f"{_shape_text(tensor.shape)} {tensor.dtype}"
        if tensor.device != "cpu":
            details += f" {tensor.device}"
        lines = [_escape(named), details] if named else [details]
        if show_data:
            lines.extend(_describe(tensor.numpy(), ""))
        if show_grad:
            gradient = grads.get(id(tensor))
            if gradient is not None:
                described = _describe(gradient.numpy(), "grad ")
                if is_current:
                    described = [f"▶ {line}" for line in described]
                lines.extend(described)
            elif animating and tensor.requires_grad:
                # Keep room for the gradient, so nodes move less from frame to frame.
                lines.append("grad …")
        return "\\n".join(lines)

    def _unit_attributes(self, unit: _Unit, show_formulas: bool) -> dict[str, str]:
        op_names = _unique(type(function).__name__ for function in unit.functions)
        collapsed = unit.node_id.startswith("m")
        if collapsed:
            title = _module_title(unit.module)
            path = self.names.module_path.get(id(unit.module))
            # Inside its box the box's label already names the path.
            lines = [f"{path}: {title}" if path and unit.cluster is None else title]
            if op_names != [type(unit.module).__name__]:
                lines.append("ops: " + ", ".join(op_names))
            attributes = {
                "shape": "box",
                "style": "filled,rounded,bold",
                "fillcolor": _MODULE_FILL,
            }
        else:
            lines = [op_names[0], *_op_parameters(unit.functions[0])]
            attributes = {"shape": "ellipse", "fillcolor": _OP_FILL}
            if show_formulas:  # an ellipse around a line of math wastes half the picture
                attributes.update(shape="box", style="filled,rounded")
        if show_formulas:
            formulas = _unique(type(function).derivative() for function in unit.functions)
            for formula in formulas:
                lines.extend(_wrap_formula(_escape(formula)))
            attributes["tooltip"] = _escape(" ;  ".join(formulas))
        attributes["label"] = "\\n".join(lines)
        return attributes


class _ParameterNames:
    """Parameter names and module boxes from ``params`` (a Module or a mapping).

    A box is keyed by the dotted path of the module that owns the parameters
    ("0" for "0.weight", "" for the root module's own).
    """

    def __init__(self, params: Any, caller: str) -> None:
        self.by_id: dict[int, str] = {}
        self.box_of_param: dict[int, str] = {}
        self.box_labels: dict[str, str] = {}
        self.module_path: dict[int, str] = {}
        if params is None:
            return
        if hasattr(params, "named_parameters") and hasattr(params, "named_modules"):
            modules = {path: module for path, module in params.named_modules()}
            self.module_path = {id(module): path for path, module in modules.items()}
            named = list(params.named_parameters())
        elif isinstance(params, Mapping):
            modules = None
            named = list(params.items())
        else:
            raise TypeError(
                f"{caller}: params must be a Module or a mapping of names to Tensors, "
                f"got {type(params).__name__}"
            )
        for name, tensor in named:
            if not isinstance(name, str):
                raise TypeError(f"{caller}: params names must be str, got {name!r}")
            if not isinstance(tensor, Tensor):
                raise TypeError(
                    f"{caller}: params[{name!r}] is a {type(tensor).__name__}, not a Tensor"
                )
            name = str(name)
            self.by_id.setdefault(id(tensor), name)
            path = name.rpartition(".")[0]
            if modules is not None and path in modules:
                kind = type(modules[path]).__name__
                label = f"{path}: {kind}" if path else kind
            elif path:  # a mapping: the prefix is all we know
                label = path
            else:
                continue
            self.box_of_param.setdefault(id(tensor), path)
            self.box_labels.setdefault(path, label)

    def box_of_module(self, module: Any) -> str | None:
        """The box a call of ``module`` goes into: its own, when it owns named parameters."""
        if module is None:
            return None
        path = self.module_path.get(id(module))
        return path if path in self.box_labels else None


# ----------------------------------------------------------------------------- helpers


def _drawn_tensors(root: Tensor) -> list[Tensor]:
    """Every tensor of the picture: the graph's, the constants its ops keep
    (``Function.constants``: targets, indices, conditions) and what those were
    computed from, each after the tensors it was computed from."""
    roots = [root]
    while True:
        tensors = topological_order(roots, constants=True)
        seen = {id(tensor) for tensor in tensors}
        missing = {
            id(constant): constant
            for tensor in tensors
            if tensor.grad_fn is not None
            for constant in tensor.grad_fn.constants
            if id(constant) not in seen
        }
        if not missing:
            return tensors
        roots = [*missing.values(), *roots]  # each round adds tensors, so this ends


def _call_key(function: Any) -> tuple | None:
    call = function.module_call
    return None if call is None else (id(call[0]), call[1])


def _is_inline_constant(tensor: Tensor) -> bool:
    """A bare 0-d constant (what ``x * 0.5`` makes of 0.5): drawn once per use."""
    return (
        tensor.grad_fn is None
        and not tensor.requires_grad
        and tensor.name is None
        and tensor.shape == ()
    )


def _describe(values: numpy.ndarray, prefix: str) -> list[str]:
    """Values of a small array, or statistics of a large one, as label lines."""
    if values.size == 0:
        return [f"{prefix}(empty)"]
    if values.size <= _SMALL:
        if values.ndim == 0:
            return [prefix + _number(values.item())]
        text = numpy.array2string(
            values,
            separator=", ",
            formatter={"float_kind": _number, "complex_kind": _number},
        )
        # A matrix gets a line per row; NumPy's padding (``[ True``) and the blank
        # lines it puts between the blocks of a 3-D array are dropped.
        rows = [" ".join(row.split()).replace("[ ", "[") for row in text.splitlines()]
        rows = [row for row in rows if row]
        return [prefix + rows[0], *rows[1:]]
    numbers = values.astype(numpy.float64, copy=False)
    missing = int(numpy.isnan(numbers).sum())
    if missing == numbers.size:
        return [f"{prefix}all {missing} NaN"]
    # The statistics of the numbers there are; the NaNs are counted, not let spoil them.
    with numpy.errstate(all="ignore"):
        mean, std = numpy.nanmean(numbers), numpy.nanstd(numbers)
        low, high = numpy.nanmin(numbers), numpy.nanmax(numbers)
    lines = [
        f"{prefix}mean {_number(mean)}  std {_number(std)}",
        f"{prefix}min {_number(low)}  max {_number(high)}",
    ]
    return lines + ([f"{prefix}{missing} NaN"] if missing else [])


def _number(value: Any) -> str:
    """Four significant digits: 0.1235, 1.5, -2, 1.235e+05."""
    if isinstance(value, (bool, numpy.bool_)):
        return str(bool(value))
    if isinstance(value, (int, numpy.integer)):
        return str(int(value))
    return f"{value:.4g}"


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _module_title(module: Any) -> str:
    """A short name for a layer: ``Linear(784→256)``, else its repr's first line."""
    name = type(module).__name__
    fan_in, fan_out = getattr(module, "in_features", None), getattr(module, "out_features", None)
    if isinstance(fan_in, int) and isinstance(fan_out, int):
        return f"{name}({fan_in}→{fan_out})"
    lines = repr(module).splitlines() or [name]
    first = lines[0][:-1] if len(lines) > 1 and lines[0].endswith("(") else lines[0]
    return _escape(first if len(first) <= 40 else first[:39] + "…")


# The op arguments worth a line in an op's node: what changes the op's meaning.
_OP_PARAMETERS = (
    "exponent",
    "slope",
    "low",
    "high",
    "axis",
    "keepdims",
    "correction",
    "axes",
    "shape",
    "dtype",
    "reduction",
)


# Operand names of the ops whose derivatives do not call them a, b, c.
_OPERAND_NAMES = {
    "Linear": ("x", "W", "b"),
    "CrossEntropy": ("z", "t"),
    "BinaryCrossEntropyWithLogits": ("z", "t"),
    "BinaryCrossEntropy": ("p", "t"),
    "GetItem": ("a", "index"),
}


def _operand_names(function: Any, count: int) -> list[str]:
    """The names of an op's ``count`` operands (its inputs, then its constants), as
    its derivative's docstring writes them."""
    name = type(function).__name__
    if name in ("Cat", "Stack"):
        return [f"a_{position + 1}" for position in range(count)]
    if name == "GetItem" and count > 2:  # x[i, j] with Tensor indices
        return ["a", *(f"index_{position}" for position in range(1, count))]
    names = list(_OPERAND_NAMES.get(name, "abcdefgh"))
    return names[:count] + [str(position) for position in range(len(names), count)]


def _op_parameters(function: Any) -> list[str]:
    """Lines such as ``axis=(1,), keepdims=True`` for an op's node (``x ** 3`` and
    ``x.sum(axis=1)`` read differently from ``x ** 2`` and ``x.sum()``)."""
    parts = []
    for name in _OP_PARAMETERS:
        value = getattr(function, name, None)
        if name in vars(function) and (
            value is None or isinstance(value, (bool, int, float, str, tuple, numpy.dtype))
        ):
            if name in ("axis", "axes") and value is None:
                continue  # every axis: the default, said by no line
            if (value is None and name in ("slope", "low", "high")) or (
                name == "keepdims" and not value
            ):
                continue  # relu's slope, an open clip bound; keepdims off, the default
            parts.append(
                f"{name}={_escape(str(value) if not isinstance(value, float) else _number(value))}"
            )
    return [", ".join(parts)] if parts else []


def _wrap_formula(formula: str) -> list[str]:
    """Break a long derivative into lines at its top-level ", " and before a note "  (...)"."""
    if len(formula) <= _WRAP:
        return [formula]
    pieces, depth, start = [], 0, 0
    index = 0
    while index < len(formula):
        char = formula[index]
        if char in "([{":
            if depth == 0 and index >= 2 and formula.startswith("  (", index - 2):
                pieces.append(formula[start : index - 2])
                start = index
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif depth == 0 and formula.startswith(", ", index):
            pieces.append(formula[start:index])
            start = index + 2
            index += 1
        index += 1
    pieces.append(formula[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def _unique(items: Any) -> list:
    """Items in first-seen order, each once."""
    return list(dict.fromkeys(items))


def _escape(text: str) -> str:
    """Keep backslashes literal in a DOT label (``\\n`` there means a line break)."""
    return str(text).replace("\\", "\\\\")


def _dot_safe(text: str) -> str:
    return "".join(char if char.isalnum() else "_" for char in text)


def _no_html(attributes: dict[str, str], graphviz: Any) -> dict[str, str]:
    """Mark labels as plain text: graphviz would read "<...>" as an HTML label."""
    label = attributes.get("label")
    if label is not None:
        attributes = {**attributes, "label": graphviz.nohtml(label)}
    return attributes


def check_frame_rate(fps: Any, caller: str) -> float:
    """Frames per second for a GIF: a number in [0.01, 100].

    A GIF stores each frame's delay in hundredths of a second as a 16-bit
    number, so slower than one frame per 655 s cannot be written (Pillow
    overflows only after every frame was drawn) and faster than 100 is not shown.
    """
    if isinstance(fps, bool) or not isinstance(fps, (int, float, numpy.integer, numpy.floating)):
        raise TypeError(f"{caller}: fps must be a number, got {fps!r}")
    if not 0.01 <= fps <= 100:
        raise ValueError(f"{caller}: fps must lie in [0.01, 100], got {fps}")
    return float(fps)


def _check_rankdir(rankdir: str, caller: str) -> None:
    if not isinstance(rankdir, str):
        raise TypeError(f"{caller}: rankdir must be a str, got {rankdir!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f'{caller}: rankdir must be "LR", "TB", "RL" or "BT", got {rankdir!r}')


def _step_caption(graph: _Graph, tensor: Tensor, index: int, count: int) -> str:
    name = graph.title(tensor)
    if index == 0 and tensor.size == 1:
        what = f"start at the root {name}, whose gradient with respect to itself is 1"
    elif index == 0:
        what = f"start at the root {name} (not a scalar), with a gradient of ones"
    elif tensor.grad_fn is None:
        what = f"the gradient reaches leaf {name} (backward() stores it in .grad)"
    else:
        what = (
            f"the gradient reaches {name}, then flows back through {type(tensor.grad_fn).__name__}"
        )
    return _escape(f"backward step {index + 1}/{count}: {what}")


# ----------------------------------------------------------------------------- optional packages


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(_INSTALL_GRAPHVIZ, name="graphviz") from None
    return graphviz


def _import_pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        # ``name`` tells callers which package is missing (the CLI's install hint reads it).
        raise ImportError(
            "animate_backward: writing a GIF needs Pillow: pip install pillow "
            "(or give a folder path to get PNG frames)",
            name="PIL",
        ) from None
    return Image


def _require_dot() -> None:
    """Fail early and clearly when Graphviz's ``dot`` program is missing."""
    if shutil.which("dot") is None:
        raise RuntimeError(_INSTALL_DOT)


_DIGRAPH_CLASS: Any = None


def _digraph_class(graphviz: Any) -> type:
    """A ``graphviz.Digraph`` whose rendering first checks that ``dot`` is installed."""
    global _DIGRAPH_CLASS
    if _DIGRAPH_CLASS is None or not issubclass(_DIGRAPH_CLASS, graphviz.Digraph):

        class GraphPicture(graphviz.Digraph):
            """A graphviz.Digraph; ``render`` and ``pipe`` say how to install a missing ``dot``."""

            def render(self, *args: Any, **kwargs: Any) -> Any:
                _require_dot()
                return super().render(*args, **kwargs)

            def pipe(self, *args: Any, **kwargs: Any) -> Any:
                _require_dot()
                return super().pipe(*args, **kwargs)

        _DIGRAPH_CLASS = GraphPicture
    return _DIGRAPH_CLASS


def _write_gif(image_module: Any, pngs: list[bytes], path: Path, fps: float) -> None:
    """Pad the frames to one size (centred on white) and save them as a looping GIF."""
    images = [image_module.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    width = max(image.width for image in images)
    height = max(image.height for image in images)
    frames = []
    for image in images:
        canvas = image_module.new("RGB", (width, height), "white")
        canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
        frames.append(canvas)
    frames[0].save(
        path,
        format="GIF",  # named, not guessed from the suffix (".gif" alone has none)
        save_all=True,
        append_images=frames[1:],
        duration=max(int(round(1000 / fps)), 20),
        loop=0,
        disposal=1,
    )
