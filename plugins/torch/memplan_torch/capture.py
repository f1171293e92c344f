"""Capture one training step of a PyTorch model as a memplan Graph (the contract JSON).

The joint forward + backward graph comes from AOTAutograd (what ``aot_export_module`` with
``trace_joint=True`` returns, traced once: _export_joint_once): ATen operators,
functionalized, with a signature that names the
parameters, buffers, buffer updates and parameter gradients. Every operator is then run
on real tensors once to learn which outputs alias an existing storage (views and aliases
are folded into the tensor that owns the storage) and how many bytes each output holds;
a call that repeats an earlier one is not run again (repeats.py).
Multi-output operators are split so that outputs with different lifetimes are separate
nodes. profile.py measures each node; graph.py writes the contract JSON.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import operator
import os
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

import torch
import torch.fx
import torch.fx.config
from torch._functorch.aot_autograd import aot_export_module
from torch._subclasses.fake_tensor import DataDependentOutputException, DynamicOutputShapeException, FakeTensorMode
from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode
from torch.nn.utils.stateless import _reparametrize_module
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

from .graph import to_graph
from .options import discover
from .profile import measure
from .program import Constant, Held, NodeSpec, Program, Resident, Unused, View, output_mask_position
from .repeats import RepeatedCalls
from .storage import storage_bytes, storage_key

__all__ = ["capture", "CapturedStep"]

try:
    # The pieces aot_export_module is made of (torch 2.13 and 2.14 alike): _export_joint_once.
    # Where they are missing, aot_export_module itself runs, with its second trace.
    import torch.utils._pytree as _pytree
    from torch._functorch.aot_autograd import _aot_export_function, create_functional_call, create_graph_signature

    _joint_export: Optional[Tuple[Callable[..., Any], ...]] = (_aot_export_function, create_functional_call, create_graph_signature)
except ImportError:  # pragma: no cover - another torch
    _joint_export = None

Tensors = Union[None, torch.Tensor, Sequence[torch.Tensor]]
# A group of a producer's outputs: contract id, the outputs it holds, its output mask.
Group = Tuple[str, Union[None, int, Tuple[int, ...]], Optional[Tuple[int, ...]]]


@dataclass
class CapturedStep:
    """A captured training step: the contract Graph and the traced program behind it."""

    graph: Dict[str, Any]
    program: Program
    fx_seconds: float = 0.0
    profile_seconds: float = 0.0
    capture_seconds: float = 0.0
    # Operator runs saved because a repeated call reused its first run's outputs.
    reused_calls: int = 0

    @property
    def model(self) -> torch.nn.Module:
        return self.program.model

    @property
    def example_inputs(self) -> Tuple[torch.Tensor, ...]:
        """The inputs then the targets the step was captured with."""
        return self.program.example_inputs

    def to_json(self) -> Dict[str, Any]:
        """The contract Graph as a JSON-ready dict."""
        return self.graph


def _without_cyclic_gc(function: Callable) -> Callable:
    """Runs a function with Python's cycle collector paused. A capture builds large fx
    graphs and many small objects; each full collection walks them all, so with the
    collector on the time grows faster than the depth (a 32-layer decoder spent more
    than a tenth of its capture in three full collections). It also keeps collections
    out of the timed operator runs. Reference counting still frees everything else."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


@_without_cyclic_gc
def capture(
    model: torch.nn.Module,
    example_inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
    loss_fn: Callable[..., torch.Tensor],
    targets: Tensors = None,
    *,
    optimizer: Optional[torch.optim.Optimizer] = None,
    repeats: int = 5,
    name: Optional[str] = None,
    temporaries: bool = True,
    options: bool = False,
    reuse_repeats: bool = True,
) -> CapturedStep:
    """Traces model + loss_fn(output, *targets) + gradients w.r.t. the parameters at ATen
    level and returns the CapturedStep whose ``graph`` is the contract JSON. With
    temporaries (the default) each node's workspaceBytes includes what its operator
    allocates inside itself, from the allocator trace. With options, nodes also carry the
    encodings and alternatives options.py measures (the contract's node options). With
    reuse_repeats (the default) a call that repeats an earlier one reuses its outputs
    instead of running again; False runs every operator (the same graph, slower: for
    comparison). Options read the real outputs (signs, nonzeros), so they run every operator."""
    started = time.perf_counter()
    _refuse_sparse_gradients(model)
    inputs, target_tuple = _as_tuple(example_inputs), _as_tuple(targets)
    gm, signature = _trace(model, loss_fn, inputs, target_tuple)
    traced = time.perf_counter()
    names = _Names(signature)

    def run(reuse: bool) -> Tuple[Program, "_Tracer", Dict[torch.fx.Node, Any]]:
        program = Program(
            model=model,
            gm=gm,
            device=_device(model, (*inputs, *target_tuple)),
            example_inputs=(*inputs, *target_tuple),
            num_inputs=len(inputs),
            optimizer_bytes=_optimizer_state_bytes(optimizer),
        )
        tracer = _Tracer(program, names, RepeatedCalls(reuse))
        return program, tracer, tracer.run()

    reuse = reuse_repeats and not options
    try:
        program, tracer, values = run(reuse)
    except _Unsupported:
        raise
    except Exception:
        if not reuse:
            raise
        # A stand-in's contents reached an operator that checks them (an index out of
        # range) by a path _exact_nodes does not see: run every operator instead.
        program, tracer, values = run(False)
    _name_outputs(program, names)
    keep = _keep_nodes(program)
    _assign_kinds(program)
    built = time.perf_counter()
    measures = measure(program, values, repeats, temporaries)
    if options:
        program.options = discover(program, values, repeats)
    del values
    graph = to_graph(program, measures, keep, name or type(model).__name__)
    done = time.perf_counter()
    return CapturedStep(
        graph=graph,
        program=program,
        fx_seconds=traced - started,
        profile_seconds=done - built,
        capture_seconds=done - started,
        reused_calls=tracer.repeats.reused,
    )


class _Unsupported(NotImplementedError):
    """A value memplan cannot size or schedule: running every operator again would not help."""


_SPARSE_ADVICE = (
    "nn.Embedding and nn.EmbeddingBag with sparse=True make one; build them with sparse=False "
    "(the gradient is then the dense table, which the plan counts) or freeze their weight"
)


def _refuse_sparse_gradients(model: torch.nn.Module) -> None:
    """Refuses, by module name, an embedding whose weight would get a sparse gradient."""
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Embedding, torch.nn.EmbeddingBag)) and module.sparse and module.weight.requires_grad:
            raise _Unsupported(
                f"memplan capture: {name or type(module).__name__} ({type(module).__name__} with sparse=True) "
                f"would get a sparse gradient; memplan sizes and schedules strided tensors only. {_SPARSE_ADVICE}"
            )


def _as_tuple(value: Tensors) -> Tuple[torch.Tensor, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, torch.Tensor) else tuple(value)


def _device(model: torch.nn.Module, tensors: Sequence[torch.Tensor]) -> torch.device:
    """The step's device: the one every input and parameter is on (else the CPU)."""
    devices = {tensor.device for tensor in tensors} | {param.device for param in model.parameters()}
    return next(iter(devices)) if len(devices) == 1 else torch.device("cpu")


def _optimizer_state_bytes(optimizer: Optional[torch.optim.Optimizer]) -> int:
    if optimizer is None:
        return 0
    return sum(
        storage_bytes(value) for state in optimizer.state.values() for value in state.values() if isinstance(value, torch.Tensor)
    )


class _StepModule(torch.nn.Module):
    """Wraps model + loss so that AOTAutograd sees one module returning (loss, output)."""

    def __init__(self, model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], num_inputs: int):
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn
        self.num_inputs = num_inputs

    def forward(self, *args: torch.Tensor):
        inputs = args[: self.num_inputs]
        targets = args[self.num_inputs :]
        output = self.model(*inputs)
        loss = self.loss_fn(output, *targets)
        # The detached output marks where the forward part ends (node kinds).
        marker = tree_map(lambda value: value.detach() if isinstance(value, torch.Tensor) else value, output)
        return (loss, *tree_flatten(marker)[0])


def _trace(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], inputs: Tuple, targets: Tuple):
    """The joint forward + backward fx program and its signature.

    The step is traced on fake tensors (shapes, no data), so tracing runs no operator on
    real data; the model's own tensors are untouched.
    No stack traces are recorded on the fx nodes: nothing reads them, and extracting one
    per node is a tenth of the tracing time.

    AOTAutograd refuses a parameter name that the loss does not reach: a head left unused,
    or one name of a tied pair that the forward never reads (BERT's masked-LM bias is
    read as cls.predictions.decoder.bias, never as cls.predictions.bias). Such names are
    traced as frozen parameters are; eager autograd gives them no gradient either.

    A model that branches on a tensor's values (HF's attention masks ask whether any
    position is padded) cannot be traced on fake tensors. It is traced again with
    torch.compiler.is_compiling() reading True, where libraries take the branch that does
    not read values, as they must under torch.compile. Where it still reads a value for a
    branch or a number (not for a shape), the trace follows an eager run's values
    (_branch_values), with a warning naming the lines."""
    wrapper = _StepModule(model, loss_fn, len(inputs))
    with _reentrant_checkpoints_as_calls():
        try:
            return _export_branch_free(wrapper, inputs, targets, unused=set())
        except AssertionError as error:
            if "did not receive a gradient" not in str(error):
                raise
            unused = _names_without_gradient(wrapper, inputs, targets)
            if not unused:
                raise
            return _export_branch_free(wrapper, inputs, targets, unused=unused)


class _CallThrough:
    """Stands in for torch.utils.checkpoint.CheckpointFunction while tracing: the function is called."""

    @staticmethod
    def apply(function: Callable[..., Any], preserve_rng_state: bool, *args: Any) -> Any:
        return function(*args)


@contextlib.contextmanager
def _reentrant_checkpoints_as_calls():
    """torch.utils.checkpoint's reentrant form (its default where use_reentrant is not given)
    runs the function under no_grad and refuses autograd.grad, which tracing the joint graph
    calls. While tracing, it calls the function plainly: the step computes the same values and
    gradients, and the plan decides what is recomputed (the non-reentrant form is traced
    through as it is)."""
    import torch.utils.checkpoint as checkpointing

    previous = checkpointing.CheckpointFunction
    checkpointing.CheckpointFunction = _CallThrough
    try:
        yield
    finally:
        checkpointing.CheckpointFunction = previous


# What fake tensors raise where a value decides a shape or a branch.
_DATA_DEPENDENT = (DataDependentOutputException, GuardOnDataDependentSymNode, DynamicOutputShapeException)


def _export_branch_free(wrapper: torch.nn.Module, inputs: Tuple, targets: Tuple, unused: Set[str]):
    """_export, again as if compiling when the model reads a tensor's values (see _trace).
    A model that still reads them gets an error naming its line: the raw exception names
    only an ATen operator (aten.nonzero, aten._local_scalar_dense) deep in fake tensors."""
    try:
        return _export(wrapper, inputs, targets, unused)
    except _DATA_DEPENDENT:
        pass
    try:
        with _as_if_compiling():
            return _export(wrapper, inputs, targets, unused)
    except _DATA_DEPENDENT as error:
        refused = error
    if isinstance(refused, DataDependentOutputException):
        try:
            with _following_eager(wrapper, inputs, targets) as lines:
                exported = _export(wrapper, inputs, targets, unused)
            warnings.warn(
                "memplan capture: the step reads tensor values at "
                + "; ".join(lines)
                + ". The capture follows the path an eager run of the step took there (the same path with two "
                "random seeds); its plans hold for steps that take that path",
                stacklevel=5,
            )
            return exported
        except _DATA_DEPENDENT as error:
            refused = error
        except _RandomPath as error:
            raise NotImplementedError(
                f"memplan capture: the step's path depends on a random draw ({error}), so no one graph describes "
                "its steps (LayerDrop with a drop probability above 0: set it to 0 for the capture, or use a "
                "variant without it)"
            ) from None
        except _PathMismatch:
            pass
    operator_name = getattr(refused, "func", None) or str(refused).splitlines()[0]
    line = _model_line(refused)
    raise NotImplementedError(
        f"memplan capture: the step reads tensor values to decide a shape or a branch ({operator_name}, at "
        f"{line}), also as under torch.compile; a captured step has fixed shapes and one path ({_routing_hint(line)})"
    ) from refused


def _routing_hint(line: str) -> str:
    """What to change where a step's shapes follow its values: Hugging Face's mixture-of-experts
    layers have a fixed-shape form that only their float32 fallback lacks."""
    path = line.split(":", 1)[0]
    if "transformers" in path and "moe" in os.path.basename(path):
        # Found on HF Mixtral and Qwen2-MoE (transformers 5.18): in bfloat16 their experts run
        # as one grouped_mm, whose shapes do not depend on the routing, and the capture holds
        # (executed plans match eager); float32 weights take a loop over each expert's tokens.
        return (
            "Hugging Face's mixture-of-experts layers run their experts as one grouped_mm with fixed "
            "shapes in bfloat16: capture the model in bfloat16 (model.to(torch.bfloat16)); in float32 "
            "they loop over each expert's tokens"
        )
    return "mixture-of-experts routing by nonzero: turn it off or use a static-shape variant"


def _model_line(error: BaseException) -> str:
    """The innermost frame of the traceback outside torch and this package: the model's line."""
    return _innermost_model_line(traceback.extract_tb(error.__traceback__))


def _innermost_model_line(frames: traceback.StackSummary) -> str:
    """The innermost of `frames` outside torch and this package, as "file:line code"."""
    skip = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(__file__) + os.sep)
    outside = [frame for frame in frames if not frame.filename.startswith(skip)]
    if not outside:
        return "an unknown line"
    frame = outside[-1]
    return f"{frame.filename}:{frame.lineno} {(frame.line or '').strip()}"


class _RandomPath(Exception):
    """The values a step reads differ between two eager runs with different random seeds."""


class _PathMismatch(Exception):
    """The trace read values where the eager run read none, or read other ones."""


def _reading_line() -> str:
    """The model's line that is running now (see _innermost_model_line)."""
    return _innermost_model_line(traceback.extract_stack())


class _ScalarReads(TorchDispatchMode):
    """Records each value the step reads from a tensor, and the model's line that reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.values: List[Any] = []
        self.lines: List[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.aten._local_scalar_dense.default:
            self.values.append(out)
            self.lines.append(_reading_line())
        return out


def _eager_reads(wrapper: torch.nn.Module, inputs: Tuple, targets: Tuple, seed: int) -> _ScalarReads:
    """The values one eager forward of the step reads, with the random generators seeded with
    `seed` and restored after, and the buffers (batch norm statistics) put back as they were."""
    buffers = [(buffer, buffer.detach().clone()) for buffer in wrapper.buffers()]
    devices = sorted({tensor.device.index or 0 for tensor in (*inputs, *targets) if tensor.is_cuda})
    reads = _ScalarReads()
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            with reads:
                wrapper(*inputs, *targets)
    finally:
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
    return reads


@contextlib.contextmanager
def _branch_values(wrapper: torch.nn.Module, inputs: Tuple, targets: Tuple):
    """Fake tensors answer each value read with what an eager run of the step read at the same
    point (checked by the reading line; every trace pass reads them again, in the same order).
    Two eager runs with different seeds must read the same values at the same lines (floats
    aside): a path that a random draw decides (LayerDrop above 0) is refused. Yields the lines
    that read values."""
    from torch._subclasses import fake_impls

    try:
        first = _eager_reads(wrapper, inputs, targets, seed=0)
        second = _eager_reads(wrapper, inputs, targets, seed=1)
    except Exception as error:
        # An eager run that fails (out of memory, a model that needs gradients on) leaves the
        # refusal as it was.
        raise _PathMismatch() from error
    if not first.values:
        raise _PathMismatch()
    for at, line in enumerate(first.lines):
        if at >= len(second.lines) or second.lines[at] != line:
            raise _RandomPath(line)
        # A float read (a loss printed for the log) may differ with the draw of a dropout;
        # a truth value or a count decides a branch or a shape and may not.
        if not isinstance(first.values[at], float) and second.values[at] != first.values[at]:
            raise _RandomPath(line)
    if len(second.lines) != len(first.lines):
        raise _RandomPath(second.lines[len(first.lines)])
    count = len(first.values)
    reads = [0]

    def replay(fake_mode, func, arg):
        at = reads[0] % count
        reads[0] += 1
        if _reading_line() != first.lines[at]:
            raise _PathMismatch()
        return first.values[at]

    table = fake_impls.op_implementations_dict
    patched = {op: table[op] for op in (torch.ops.aten._local_scalar_dense.default, torch.ops.aten.item.default) if op in table}
    for op in patched:
        table[op] = replay
    try:
        yield list(dict.fromkeys(first.lines))
    finally:
        table.update(patched)
    if reads[0] == 0 or reads[0] % count:
        raise _PathMismatch()


@contextlib.contextmanager
def _as_if_compiling():
    previous = torch.compiler.is_compiling
    torch.compiler.is_compiling = lambda: True
    try:
        yield
    finally:
        torch.compiler.is_compiling = previous


def _state_items(wrapper: torch.nn.Module) -> List[Tuple[str, torch.Tensor]]:
    return [*wrapper.named_parameters(remove_duplicate=False), *wrapper.named_buffers(remove_duplicate=False)]


def _export(wrapper: torch.nn.Module, inputs: Tuple, targets: Tuple, unused: Set[str]):
    """aot_export_module on fake tensors; the parameter names in `unused` get a fake without
    requires_grad of their own (so a tied pair is no longer one tensor there)."""
    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    fake = lambda tensor: fake_mode.from_tensor(tensor, static_shapes=True)  # noqa: E731
    state = {name: fake(tensor).detach() if name in unused else fake(tensor) for name, tensor in _state_items(wrapper)}
    fake_args = tuple(fake(tensor) for tensor in (*inputs, *targets))
    with _reparametrize_module(wrapper, state, tie_weights=not unused), _without_stack_traces(), _lazy_code():
        if _joint_export is not None:
            return _export_joint_once(wrapper, fake_args)
        return aot_export_module(wrapper, fake_args, trace_joint=True, output_loss_index=0)


def _export_joint_once(wrapper: torch.nn.Module, fake_args: Tuple):
    """What aot_export_module(trace_joint=True, output_loss_index=0) returns, from one trace
    of the joint graph instead of two. aot_export_module traces the joint graph, whose inputs
    are (primals, tangents) and whose outputs are (forward outputs, a gradient or None per
    primal), then traces it again through make_fx only to flatten that calling convention:
    on a 32-layer Llama-style decoder that second trace took 6.3 of 18.1 s. Here the
    traced graph is flattened in place (its unused tangent inputs and None gradients dropped)
    and given the same signature."""
    export_function, functional_call_of, graph_signature = _joint_export
    named_parameters = dict(wrapper.named_parameters(remove_duplicate=False))
    named_buffers = dict(wrapper.named_buffers(remove_duplicate=False))
    state_flat, state_spec = _pytree.tree_flatten({**named_parameters, **named_buffers})
    functional_call = functional_call_of(wrapper, state_spec, len(state_flat), store_orig_mod=True)
    outputs_count = []

    def step(*args: Any) -> Any:
        out = functional_call(*args)
        # The loss is output 0; the detached model output follows (_StepModule).
        if not out[0].requires_grad or out[0].numel() != 1:
            raise RuntimeError("memplan capture: the loss is not a scalar that requires a gradient")
        outputs_count.append(len(out))
        return out

    full_args = (*state_flat, *fake_args)
    gm, metadata, in_spec, out_spec = export_function(
        step, full_args, num_params_buffers=len(state_flat), no_tangents=True, trace_joint=True
    )
    # The forward outputs come first: the updated buffers, then the step's own outputs.
    _flatten_joint(gm, full_args, metadata.num_mutated_inp_runtime_indices + outputs_count[-1])
    signature = graph_signature(
        gm,
        metadata,
        in_spec,
        out_spec,
        user_args_flat=_pytree.arg_tree_leaves(*fake_args),
        params_and_buffers_flat=list(state_flat),
        param_names=list(named_parameters),
        buffer_names=list(named_buffers),
        trace_joint=True,
        num_user_fw_outs=outputs_count[-1],
        loss_index=0,
    )
    return gm, signature


def _flatten_joint(gm: torch.fx.GraphModule, full_args: Tuple, forward_count: int) -> None:
    """The joint graph's inputs made the primals alone and its outputs the forward outputs
    then the gradients of the primals that require one, as aot_export_module's second trace
    makes them."""
    graph = gm.graph
    placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    if len(placeholders) < len(full_args):
        raise AssertionError("memplan capture: the joint graph has fewer inputs than primals")
    for tangent in placeholders[len(full_args) :]:
        if tangent.users:
            raise AssertionError(f"memplan capture: the joint graph reads its tangent {tangent.name}")
        graph.erase_node(tangent)
    output = next(node for node in reversed(graph.nodes) if node.op == "output")
    results = list(output.args[0])
    if len(results) != forward_count + len(full_args):
        raise AssertionError(f"memplan capture: the joint graph has {len(results)} outputs, not {forward_count} and a gradient per primal")
    forward, gradients = results[:forward_count], results[forward_count:]
    kept = []
    for arg, gradient in zip(full_args, gradients):
        if isinstance(arg, torch.Tensor) and arg.requires_grad:
            if gradient is None:
                # The message aot_export_module gives, which _trace looks for.
                raise AssertionError("Found a parameter that did not receive a gradient.")
            kept.append(gradient)
        elif gradient is not None:
            raise AssertionError("memplan capture: a gradient for an input that requires none")
    output.args = ((*forward, *kept),)
    graph._codegen = torch.fx.graph.CodeGen()
    graph.lint()
    gm.recompile()


def _names_without_gradient(wrapper: torch.nn.Module, inputs: Tuple, targets: Tuple) -> Set[str]:
    """The trainable parameter names (each name of a tied pair on its own) that the loss
    does not reach, from one forward and backward on fake tensors; a step that reads tensor
    values is run as _export_branch_free exports it (none found where it cannot be)."""
    attempts = (contextlib.nullcontext, _as_if_compiling, lambda: _following_eager(wrapper, inputs, targets))
    for attempt in attempts:
        try:
            with attempt():
                return _unreached_names(wrapper, inputs, targets)
        except _DATA_DEPENDENT:
            continue
        except (_PathMismatch, _RandomPath):
            break
    return set()


@contextlib.contextmanager
def _following_eager(wrapper: torch.nn.Module, inputs: Tuple, targets: Tuple):
    """As if compiling, with the values an eager run read (_branch_values)."""
    with _as_if_compiling(), _branch_values(wrapper, inputs, targets) as lines:
        yield lines


def _unreached_names(wrapper: torch.nn.Module, inputs: Tuple, targets: Tuple) -> Set[str]:
    """_names_without_gradient's one forward and backward on fake tensors."""
    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    fake = lambda tensor: fake_mode.from_tensor(tensor, static_shapes=True)  # noqa: E731
    state = {name: fake(tensor) for name, tensor in _state_items(wrapper)}
    trainable = [name for name, param in wrapper.named_parameters(remove_duplicate=False) if param.requires_grad]
    for name in trainable:
        state[name] = state[name].detach().requires_grad_(True)
    fake_args = tuple(fake(tensor) for tensor in (*inputs, *targets))
    with _reparametrize_module(wrapper, state, tie_weights=False), fake_mode:
        loss = wrapper(*fake_args)[0]
        grads = torch.autograd.grad(loss, [state[name] for name in trainable], allow_unused=True)
    return {name for name, grad in zip(trainable, grads) if grad is None}


def _lazy_code():
    """Graph modules made while exporting write their Python code when it is first read, not
    each time they are made or changed: the capture reads their nodes only, and the code of a
    32-layer decoder's joint graph took half a second each time (torch's own switch, as
    inductor uses it; where it is missing, nothing changes)."""
    try:
        from torch.fx._lazy_graph_module import _use_lazy_graph_module
    except ImportError:  # pragma: no cover - another torch
        return contextlib.nullcontext()
    return _use_lazy_graph_module(True)


@contextlib.contextmanager
def _without_stack_traces():
    previous = torch.fx.config.do_not_emit_stack_traces
    torch.fx.config.do_not_emit_stack_traces = True
    try:
        yield
    finally:
        torch.fx.config.do_not_emit_stack_traces = previous


class _Names:
    """The export signature with the wrapper's "model." prefix taken off resident names."""

    PREFIX = "model."

    def __init__(self, signature: Any):
        self.signature = signature
        self.parameters = {node: self.strip(text) for node, text in signature.inputs_to_parameters.items()}
        self.buffers = {node: self.strip(text) for node, text in signature.inputs_to_buffers.items()}
        self.input_position = {text: index for index, text in enumerate(signature.user_inputs)}

    def strip(self, text: str) -> str:
        return text[len(self.PREFIX) :] if text.startswith(self.PREFIX) else text


class _Tracer:
    """Runs the traced program once on real tensors, sets each fx node's source, folds
    aliases into the storage owner and splits multi-output operators into contract nodes.
    A repeated call that made fresh tensors gets its first run's outputs (RepeatedCalls)."""

    def __init__(self, program: Program, names: _Names, repeats: RepeatedCalls):
        self.program = program
        self.names = names
        self.repeats = repeats
        self.residents = program.resident_values()
        self.values: Dict[torch.fx.Node, Any] = {}
        self.owned: Set[Tuple[str, int]] = set()  # storages that some source owns
        self.producers: List[Tuple[torch.fx.Node, List[Any], bool]] = []
        self.multi_output: Set[torch.fx.Node] = set()
        self.getters: Dict[torch.fx.Node, Dict[int, torch.fx.Node]] = {}
        self.exact = _exact_nodes(program.gm.graph)

    def run(self) -> Dict[torch.fx.Node, Any]:
        """Every fx node's value, after sources and contract nodes are set."""
        for node in self.program.gm.graph.nodes:
            if node.op == "placeholder":
                self._placeholder(node)
            elif node.op == "get_attr":
                value = getattr(self.program.gm, node.target)
                self._set(node, Constant(value), value)
            elif node.op == "call_function":
                self._call(node)
        for producer, outs, is_tuple in self.producers:
            self._make_nodes(producer, outs, is_tuple)
        for node in self.program.gm.graph.nodes:
            if node.op == "call_function" and node not in self.program.sources:
                # Outputs of a multi-output operator that no node holds.
                self.program.sources[node] = Unused()
        return self.values

    def _set(self, node: torch.fx.Node, source: Optional[Any], value: Any) -> None:
        """Records a node's value; the first source of a storage owns it."""
        if source is not None:
            self.program.sources[node] = source
        self.values[node] = value
        for tensor in [value] if isinstance(value, torch.Tensor) else []:
            key = storage_key(tensor)
            if key is not None:
                self.owned.add(key)

    def _placeholder(self, node: torch.fx.Node) -> None:
        resident = self.names.parameters.get(node.name) or self.names.buffers.get(node.name)
        if resident is not None:
            self._set(node, Resident(resident), self.residents[resident])
            return
        index = self.names.input_position[node.name]
        cid = f"input.{index}"
        self._set(node, Held(cid), self.program.example_inputs[index])
        self.program.add(NodeSpec(id=cid, kind="input", fx_node=node, input_index=index, recomputable=False))

    def _call(self, node: torch.fx.Node) -> None:
        resolve = lambda value: self.values[value] if isinstance(value, torch.fx.Node) else value  # noqa: E731
        args = torch.fx.node.map_aggregate(node.args, resolve)
        kwargs = torch.fx.node.map_aggregate(node.kwargs, resolve)
        key = None if node in self.exact else self.repeats.key(node.target, args, kwargs)
        out = self.repeats.stand_in(key)
        # A stand-in is fresh by construction, though its storage is the first run's.
        reused = out is not None
        if not reused:
            with torch.no_grad():
                out = node.target(*args, **kwargs)
        if node.target is operator.getitem and node.args[0] in self.multi_output:
            # Its source is set with the contract node that holds this output.
            self.getters.setdefault(node.args[0], {})[node.args[1]] = node
            self.values[node] = out
            return
        is_tuple = isinstance(out, (tuple, list))
        outs = list(out) if is_tuple else [out]
        tensors = [item for item in outs if isinstance(item, torch.Tensor)]
        if not tensors:
            # No memory (an assertion, a size): the value is fixed at trace time.
            self._set(node, Constant(out), out)
            return
        for tensor in tensors:
            if tensor.layout != torch.strided:
                raise _Unsupported(
                    f"memplan capture: {node.name} ({node.target}) makes a tensor of layout {tensor.layout}; "
                    f"memplan sizes and schedules strided tensors only. {_SPARSE_ADVICE}"
                )
        aliased = [] if reused else [tensor for tensor in tensors if storage_key(tensor) in self.owned]
        if len(aliased) == len(tensors):
            self._set(node, View(), out)
            return
        if aliased:
            raise NotImplementedError(f"memplan capture: {node.name} returns both fresh and aliased tensors")
        self.values[node] = out
        self.repeats.remember(key, out)
        self.producers.append((node, outs, is_tuple))
        if is_tuple:
            self.multi_output.add(node)
        for tensor in tensors:
            key = storage_key(tensor)
            if key is not None:
                self.owned.add(key)

    def _make_nodes(self, producer: torch.fx.Node, outs: List[Any], is_tuple: bool) -> None:
        """One contract node per group of the producer's outputs; sets the sources of the
        producer (single output) or of the getitem nodes each group serves."""
        random = _is_random(producer)
        getters = self.getters.get(producer, {})
        for cid, select, mask in _output_groups(producer, is_tuple, getters, random):
            spec = NodeSpec(id=cid, kind="forward", fx_node=producer, select=select, mask=mask, recomputable=not random)
            spec.inputs = self.program.arg_owners(producer)
            self.program.add(spec)
            if select is None:
                self.program.sources[producer] = Held(cid)
                continue
            held = [select] if isinstance(select, int) else list(select)
            for position, index in enumerate(held):
                if index in getters:
                    self.program.sources[getters[index]] = Held(cid, None if isinstance(select, int) else position)


def _exact_nodes(graph: torch.fx.Graph) -> Set[torch.fx.Node]:
    """The nodes whose values decide an integer or boolean tensor, and those tensors: they
    run on their own data, never on a stand-in. A stand-in has realistic contents for what
    reads floats, but an index computed from another call's floats (T5's relative-position
    buckets: a logarithm cast to integers) can fall outside its table. A call that also
    returns floats (max pooling's indices, dropout's mask) is not a root: the first run of
    the same call made indices that are valid for it."""
    exact: Set[torch.fx.Node] = set()
    for node in reversed(graph.nodes):
        value = node.meta.get("val")
        tensors = [item for item in (value if isinstance(value, (tuple, list)) else [value]) if isinstance(item, torch.Tensor)]
        integral = bool(tensors) and not any(tensor.is_floating_point() or tensor.is_complex() for tensor in tensors)
        if node in exact or (node.op == "call_function" and integral):
            exact.add(node)
            exact.update(node.all_input_nodes)
    return exact


def _is_random(node: torch.fx.Node) -> bool:
    """RNG operators cannot be recomputed: a second run would draw different numbers.
    The attention kernels carry the RNG tag for their dropout: with dropout_p 0 (every
    decoder without attention dropout) they draw nothing and a second run is exact."""
    if torch.Tag.nondeterministic_seeded not in getattr(node.target, "tags", ()):
        return False
    return _argument(node, "dropout_p") != 0


def _argument(node: torch.fx.Node, name: str) -> Any:
    """The value of a named argument of an ATen call (its default when not passed), or
    None when the operator has no such argument."""
    for index, argument in enumerate(node.target._schema.arguments):
        if argument.name != name:
            continue
        if name in node.kwargs:
            return node.kwargs[name]
        if index < len(node.args) and not argument.kwarg_only:
            return node.args[index]
        return argument.default_value if argument.has_default_value() else None
    return None


def _is_output(node: torch.fx.Node) -> bool:
    return any(user.op == "output" for user in node.users)


def _output_groups(producer: torch.fx.Node, is_tuple: bool, getters: Dict[int, torch.fx.Node], random: bool) -> List[Group]:
    """How a producer's outputs split into contract nodes."""
    if not is_tuple:
        return [(producer.name, None, None)]
    used = sorted(index for index, getter in getters.items() if len(getter.users) > 0 or _is_output(getter))
    if not used:
        used = sorted(getters) or [0]
    if len(used) == 1:
        return [(f"{producer.name}.{used[0]}", used[0], None)]
    if random:
        # One run draws one sample: a random operator's outputs stay together.
        return [(f"{producer.name}.all", tuple(used), None)]
    if output_mask_position(producer.target) is not None:
        # A backward operator with an output mask: the gradient flowing on (output 0) is
        # freed soon, the parameter gradients stay to the end. Each part runs with its own
        # mask, so nothing is computed twice.
        groups: List[Group] = []
        rest = [index for index in used if index != 0]
        if 0 in used:
            groups.append((f"{producer.name}.0", 0, (0,)))
        if len(rest) == 1:
            groups.append((f"{producer.name}.{rest[0]}", rest[0], (rest[0],)))
        elif rest:
            groups.append((f"{producer.name}.rest", tuple(rest), tuple(rest)))
        return groups
    # A forward operator: the main output apart from its small saved outputs.
    return [(f"{producer.name}.{used[0]}", used[0], None), (f"{producer.name}.rest", tuple(used[1:]), None)]


def _name_outputs(program: Program, names: _Names) -> None:
    """The fx nodes of the loss, the model output, the parameter gradients and the buffer updates."""
    signature = names.signature
    by_name = {node.name: node for node in program.gm.graph.nodes}
    program.loss_node = by_name[signature.user_outputs[0]]
    program.marker_nodes = [by_name[text] for text in signature.user_outputs[1:] if text in by_name]
    gradients = signature.backward_signature.gradients_to_parameters
    program.grad_nodes = {names.strip(param): by_name[text] for text, param in gradients.items()}
    program.buffer_updates = {names.strip(buffer): by_name[text] for text, buffer in signature.buffers_to_mutate.items()}


def _keep_nodes(program: Program) -> Set[str]:
    """Contract nodes that must be on the device when the step ends."""
    keep: Set[str] = set()
    for node in [program.loss_node, *program.grad_nodes.values(), *program.buffer_updates.values()]:
        keep.update(program.owners(node))
    return keep


def _assign_kinds(program: Program) -> None:
    """Kinds by execution order: up to the model output's owners forward, up to the loss
    the loss function, after it the backward pass. A group of secondary outputs has the
    kind of its operator's primary output."""
    position = {cid: index for index, cid in enumerate(program.order)}
    forward_end = max((position[cid] for node in program.marker_nodes for cid in program.owners(node)), default=-1)
    loss_end = max((position[cid] for cid in program.owners(program.loss_node)), default=forward_end)
    primary: Dict[torch.fx.Node, str] = {}
    for cid in program.order:
        spec = program.specs[cid]
        if spec.kind == "input":
            continue
        index = position[cid]
        spec.kind = "forward" if index <= forward_end else "loss" if index <= loss_end else "backward"
        primary.setdefault(spec.fx_node, cid)
        if isinstance(spec.select, tuple):
            spec.kind = program.specs[primary[spec.fx_node]].kind
