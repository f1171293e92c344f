"""Capture one training step of a PyTorch model as a memplan Graph (the contract JSON).

The joint forward + backward graph comes from AOTAutograd (``aot_export_module`` with
``trace_joint=True``): ATen operators, functionalized, with a signature that names the
parameters, buffers, buffer updates and parameter gradients. Every operator is then run
on real tensors once to learn which outputs alias an existing storage (views and aliases
are folded into the tensor that owns the storage) and how many bytes each output holds.
Multi-output operators are split so that outputs with different lifetimes are separate
nodes. Costs are the median of several timed runs of each node, in microseconds.
"""

from __future__ import annotations

import operator
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.fx
from torch.utils._pytree import tree_flatten, tree_map

__all__ = ["capture", "CapturedStep", "NodeSpec"]


@dataclass
class NodeSpec:
    """How to (re)compute one contract node from the traced program."""

    id: str
    kind: str
    fx_node: Optional[torch.fx.Node]
    # For kind "input": the position among the step's data inputs.
    input_index: Optional[int] = None
    # Which outputs of the operator this node holds: None (the single output), an int (one
    # output of a tuple), or a tuple of ints (a group of small outputs kept together).
    select: Union[None, int, Tuple[int, ...]] = None
    # For operators with an output_mask argument: compute only these outputs.
    mask: Optional[Tuple[int, ...]] = None
    inputs: List[str] = field(default_factory=list)
    recomputable: bool = True


def _storage_key(tensor: torch.Tensor) -> Optional[Tuple[str, int]]:
    """Identifies the storage a tensor lives in; None for an empty storage."""
    storage = tensor.untyped_storage()
    if storage.nbytes() == 0:
        return None
    return (str(tensor.device), storage.data_ptr())


def storage_bytes(value: Any) -> int:
    """Bytes of the storages a value (tensor or tuple of tensors) holds."""
    if isinstance(value, torch.Tensor):
        return value.untyped_storage().nbytes()
    if isinstance(value, (tuple, list)):
        return sum(storage_bytes(item) for item in value if item is not None)
    return 0


def _is_random(target: Any) -> bool:
    """RNG operators cannot be recomputed: a second run would draw different numbers."""
    tags = getattr(target, "tags", ())
    return torch.Tag.nondeterministic_seeded in tags


def _output_mask_position(target: Any) -> Optional[int]:
    """Position of an operator's output_mask argument, if it has one."""
    schema = getattr(target, "_schema", None)
    if schema is None:
        return None
    for position, argument in enumerate(schema.arguments):
        if argument.name == "output_mask":
            return position
    return None


def _op_name(target: Any) -> str:
    """A short operator name such as "convolution" or "native_batch_norm_backward"."""
    name = getattr(target, "__name__", str(target))
    packet = getattr(target, "_overloadpacket", None)
    if packet is not None:
        name = getattr(packet, "__name__", name)
    return name.split(".")[0]


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


class CapturedStep:
    """A captured training step: the contract Graph plus what the executor needs."""

    def __init__(self) -> None:
        self.graph: Dict[str, Any] = {}
        self.model: Optional[torch.nn.Module] = None
        self.gm: Optional[torch.fx.GraphModule] = None
        self.device = torch.device("cpu")
        self.specs: Dict[str, NodeSpec] = {}
        self.order: List[str] = []
        # Per fx node: ("resident", name) | ("view",) | ("node", cid, index-or-None) | ("input", i)
        self.source: Dict[torch.fx.Node, Tuple[Any, ...]] = {}
        self.placeholder_names: Dict[torch.fx.Node, str] = {}
        self.param_names: List[str] = []
        self.buffer_names: List[str] = []
        self.loss_node: Optional[torch.fx.Node] = None
        self.grad_nodes: Dict[str, torch.fx.Node] = {}
        self.buffer_updates: Dict[str, torch.fx.Node] = {}
        self.num_inputs = 0
        self.num_targets = 0
        self.example_inputs: Tuple[torch.Tensor, ...] = ()
        self.optimizer_bytes = 0
        self.capture_seconds = 0.0
        self.fx_seconds = 0.0
        self._bytes: Dict[str, int] = {}
        self._workspace: Dict[str, int] = {}

    # ----------------------------------------------------------------------------------
    # Residents and values.

    def resident_values(self) -> Dict[str, torch.Tensor]:
        """The model's current parameters and buffers, detached, by name."""
        assert self.model is not None
        values: Dict[str, torch.Tensor] = {}
        # Tied weights (an LM head sharing the embedding) appear under every name the
        # traced program may use; resident_bytes counts their storage once.
        for name, param in self.model.named_parameters(remove_duplicate=False):
            values[name] = param.detach()
        for name, buffer in self.model.named_buffers(remove_duplicate=False):
            values[name] = buffer
        return values

    def resident_bytes(self) -> int:
        """Bytes always on the device: distinct parameter and buffer storages, optimizer state."""
        seen = set()
        total = 0
        for tensor in self.resident_values().values():
            key = _storage_key(tensor)
            if key is None or key in seen:
                continue
            seen.add(key)
            total += tensor.untyped_storage().nbytes()
        return total + self.optimizer_bytes

    def resolve(self, node: torch.fx.Node, env: Dict[str, Any], residents: Dict[str, torch.Tensor]) -> Any:
        """The value of an fx node given the executor's live values (views are re-derived)."""
        source = self.source[node]
        kind = source[0]
        if kind == "resident":
            return residents[source[1]]
        if kind == "constant":
            return source[1]
        if kind == "node":
            cid, index = source[1], source[2]
            if cid not in env:
                raise RuntimeError(f"memplan executor: {node.name} needs node {cid}, which is not on the device")
            value = env[cid]
            return value if index is None else value[index]
        if kind == "view":
            args, kwargs = self._resolve_args(node, env, residents)
            return node.target(*args, **kwargs)
        raise RuntimeError(f"memplan executor: no source for {node.name}")

    def _resolve_args(self, node: torch.fx.Node, env: Dict[str, Any], residents: Dict[str, torch.Tensor]):
        def one(value: Any) -> Any:
            if isinstance(value, torch.fx.Node):
                return self.resolve(value, env, residents)
            return value

        args = torch.fx.node.map_aggregate(node.args, one)
        kwargs = torch.fx.node.map_aggregate(node.kwargs, one)
        return args, kwargs

    def compute(
        self, cid: str, env: Dict[str, Any], residents: Dict[str, torch.Tensor], inputs: Sequence[torch.Tensor]
    ) -> Tuple[Any, int]:
        """Computes node cid from live values; returns its value and the transient bytes of
        outputs the operator produced but the node does not hold (its workspace)."""
        spec = self.specs[cid]
        if spec.kind == "input":
            tensor = inputs[spec.input_index]
            if tensor.device != self.device:
                tensor = tensor.to(self.device)
            return tensor, 0
        node = spec.fx_node
        args, kwargs = self._resolve_args(node, env, residents)
        if spec.mask is not None:
            position = _output_mask_position(node.target)
            args = list(args)
            args[position] = [index in spec.mask for index in range(len(args[position]))]
        with torch.no_grad():
            out = node.target(*args, **kwargs)
        if spec.select is None:
            return out, 0
        if isinstance(spec.select, int):
            value = out[spec.select]
            held = {spec.select}
        else:
            value = tuple(out[index] for index in spec.select)
            held = set(spec.select)
        transient = sum(
            storage_bytes(item) for index, item in enumerate(out) if index not in held and isinstance(item, torch.Tensor)
        )
        return value, transient

    def outputs(self, env: Dict[str, Any], residents: Dict[str, torch.Tensor]):
        """The loss, the parameter gradients and the new buffer values from the final live values."""
        loss = self.resolve(self.loss_node, env, residents)
        grads = {name: self.resolve(node, env, residents) for name, node in self.grad_nodes.items()}
        buffers = {name: self.resolve(node, env, residents) for name, node in self.buffer_updates.items()}
        return loss, grads, buffers

    def to_json(self) -> Dict[str, Any]:
        """The contract Graph as a JSON-ready dict."""
        return self.graph


def _optimizer_state_bytes(optimizer: Optional[torch.optim.Optimizer]) -> int:
    if optimizer is None:
        return 0
    total = 0
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor):
                total += value.untyped_storage().nbytes()
    return total


def capture(
    model: torch.nn.Module,
    example_inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
    loss_fn: Callable[..., torch.Tensor],
    targets: Union[None, torch.Tensor, Sequence[torch.Tensor]] = None,
    *,
    optimizer: Optional[torch.optim.Optimizer] = None,
    repeats: int = 5,
    name: Optional[str] = None,
) -> CapturedStep:
    """Traces model + loss_fn(output, *targets) + gradients w.r.t. the parameters at ATen
    level and returns the CapturedStep whose ``graph`` is the contract JSON."""
    started = time.perf_counter()
    inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else tuple(example_inputs)
    target_tuple: Tuple[torch.Tensor, ...] = ()
    if targets is not None:
        target_tuple = (targets,) if isinstance(targets, torch.Tensor) else tuple(targets)
    from torch._functorch.aot_autograd import aot_export_module

    wrapper = _StepModule(model, loss_fn, len(inputs))
    # Tracing runs the step once; keep the model's buffers (running statistics) unchanged.
    saved = {key: value.clone() for key, value in model.state_dict().items()}
    gm, signature = aot_export_module(wrapper, (*inputs, *target_tuple), trace_joint=True, output_loss_index=0)
    model.load_state_dict(saved)
    fx_done = time.perf_counter()

    step = CapturedStep()
    step.model = model
    step.gm = gm
    step.num_inputs = len(inputs)
    step.num_targets = len(target_tuple)
    step.example_inputs = (*inputs, *target_tuple)
    step.optimizer_bytes = _optimizer_state_bytes(optimizer)
    devices = {tensor.device for tensor in step.example_inputs} | {p.device for p in model.parameters()}
    step.device = next(iter(devices)) if len(devices) == 1 else torch.device("cpu")
    prefix = "model."
    strip = lambda text: text[len(prefix) :] if text.startswith(prefix) else text  # noqa: E731
    step.param_names = [strip(text) for text in signature.parameters]
    step.buffer_names = [strip(text) for text in signature.buffers]

    _build(step, gm, signature, strip)
    step.fx_seconds = fx_done - started
    _measure_costs(step, repeats)
    step.graph["name"] = name or type(model).__name__
    step.capture_seconds = time.perf_counter() - started
    return step


def _build(step: CapturedStep, gm: torch.fx.GraphModule, signature: Any, strip: Callable[[str], str]) -> None:
    """Runs the traced program once on real tensors, folds aliases, splits multi-output
    operators and writes the contract nodes (costs come later)."""
    residents = step.resident_values()
    node_by_name = {node.name: node for node in gm.graph.nodes}
    input_position = {text: index for index, text in enumerate(signature.user_inputs)}

    values: Dict[torch.fx.Node, Any] = {}
    owner: Dict[Tuple[str, int], Tuple[Any, ...]] = {}  # storage -> source that owns it
    producers: List[torch.fx.Node] = []
    producer_outputs: Dict[torch.fx.Node, List[Any]] = {}

    def register(tensor: Any, source: Tuple[Any, ...]) -> None:
        if isinstance(tensor, torch.Tensor):
            key = _storage_key(tensor)
            if key is not None and key not in owner:
                owner[key] = source

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if node.name in signature.inputs_to_parameters:
                resident = strip(signature.inputs_to_parameters[node.name])
                step.source[node] = ("resident", resident)
                values[node] = residents[resident]
                register(values[node], ("resident", resident))
            elif node.name in signature.inputs_to_buffers:
                resident = strip(signature.inputs_to_buffers[node.name])
                step.source[node] = ("resident", resident)
                values[node] = residents[resident]
                register(values[node], ("resident", resident))
            else:
                index = input_position[node.name]
                cid = f"input.{index}"
                step.source[node] = ("node", cid, None)
                values[node] = step.example_inputs[index]
                register(values[node], ("node", cid, None))
                step._bytes[cid] = storage_bytes(values[node])
                step.specs[cid] = NodeSpec(id=cid, kind="input", fx_node=None, input_index=index, recomputable=False)
                step.order.append(cid)
        elif node.op == "get_attr":
            value = getattr(gm, node.target)
            step.source[node] = ("constant", value)
            values[node] = value
            # Views of a constant hold no memory of their own.
            register(value, ("constant",))
        elif node.op == "call_function":
            args = torch.fx.node.map_aggregate(node.args, lambda v: values[v] if isinstance(v, torch.fx.Node) else v)
            kwargs = torch.fx.node.map_aggregate(node.kwargs, lambda v: values[v] if isinstance(v, torch.fx.Node) else v)
            with torch.no_grad():
                out = node.target(*args, **kwargs)
            values[node] = out
            if node.target is operator.getitem:
                parent = node.args[0]
                if step.source[parent][0] == "producer":
                    step.source[node] = ("pending", parent, node.args[1])
                else:
                    step.source[node] = ("view",)
                continue
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            tensors = [item for item in outs if isinstance(item, torch.Tensor)]
            aliased = [t for t in tensors if _storage_key(t) is not None and _storage_key(t) in owner]
            if tensors and len(aliased) == len(tensors):
                step.source[node] = ("view",)
                continue
            if aliased:
                raise NotImplementedError(f"memplan capture: {node.name} returns both fresh and aliased tensors")
            step.source[node] = ("producer",)
            producers.append(node)
            producer_outputs[node] = (outs, isinstance(out, (tuple, list)))
            for index, item in enumerate(outs):
                register(item, ("out", node, index if isinstance(out, (tuple, list)) else None))

    _make_nodes(step, gm, producers, producer_outputs)

    # Graph outputs: loss, model output marker, parameter gradients, buffer updates.
    step.loss_node = node_by_name[signature.user_outputs[0]]
    marker_nodes = [node_by_name[text] for text in signature.user_outputs[1:] if text in node_by_name]
    step.grad_nodes = {
        strip(param): node_by_name[text] for text, param in signature.backward_signature.gradients_to_parameters.items()
    }
    step.buffer_updates = {strip(buffer): node_by_name[text] for text, buffer in signature.buffers_to_mutate.items()}

    keep = set()
    for node in [step.loss_node, *step.grad_nodes.values(), *step.buffer_updates.values()]:
        keep.update(_owners(step, node))

    # Kinds by execution order: up to the model output's owners forward, up to the loss the
    # loss function, after it the backward pass.
    position = {cid: index for index, cid in enumerate(step.order)}
    forward_end = max((position[c] for n in marker_nodes for c in _owners(step, n)), default=-1)
    loss_end = max((position[c] for c in _owners(step, step.loss_node)), default=forward_end)
    for cid in step.order:
        spec = step.specs[cid]
        if spec.kind == "input":
            continue
        index = position[cid]
        spec.kind = "forward" if index <= forward_end else "loss" if index <= loss_end else "backward"

    # A group of secondary outputs has the kind of its operator's primary output.
    for cid in step.order:
        spec = step.specs[cid]
        if isinstance(spec.select, tuple):
            primary = next(other for other in step.order if step.specs[other].fx_node is spec.fx_node)
            spec.kind = step.specs[primary].kind

    nodes = []
    for cid in step.order:
        spec = step.specs[cid]
        entry: Dict[str, Any] = {
            "id": cid,
            "op": "input" if spec.kind == "input" else _op_name(spec.fx_node.target),
            "kind": spec.kind,
            "inputs": spec.inputs,
            "bytes": int(step._bytes[cid]),
            "cost": 0.0,
        }
        if step._workspace.get(cid):
            entry["workspaceBytes"] = int(step._workspace[cid])
        if not spec.recomputable:
            entry["recomputable"] = False
        if cid in keep:
            entry["keep"] = True
        nodes.append(entry)
    step.graph = {"residentBytes": step.resident_bytes(), "nodes": nodes}


def _make_nodes(step: CapturedStep, gm: torch.fx.GraphModule, producers, producer_outputs) -> None:
    """One contract node per producer output group; fills sources, inputs, bytes, workspace."""
    users_of: Dict[torch.fx.Node, Dict[int, torch.fx.Node]] = {}
    for node in gm.graph.nodes:
        if node.op == "call_function" and node.target is operator.getitem and step.source[node][0] == "pending":
            users_of.setdefault(node.args[0], {})[node.args[1]] = node

    for producer in producers:
        outs, is_tuple = producer_outputs[producer]
        random = _is_random(producer.target)
        groups: List[Tuple[str, Union[None, int, Tuple[int, ...]], Optional[Tuple[int, ...]]]] = []
        if not is_tuple:
            groups.append((producer.name, None, None))
        else:
            getters = users_of.get(producer, {})
            used = sorted(index for index, getter in getters.items() if len(getter.users) > 0 or _is_output(getter))
            if not used:
                used = sorted(getters) or [0]
            mask_position = _output_mask_position(producer.target)
            if len(used) == 1:
                groups.append((f"{producer.name}.{used[0]}", used[0], None))
            elif random:
                # One run draws one sample: a random operator's outputs stay together.
                groups.append((f"{producer.name}.all", tuple(used), None))
            elif mask_position is not None:
                # A backward operator with an output mask: the gradient flowing on (output
                # 0) is freed soon, the parameter gradients stay to the end. Each part runs
                # with its own mask, so nothing is computed twice.
                first, rest = [index for index in used if index == 0], [index for index in used if index != 0]
                if first:
                    groups.append((f"{producer.name}.0", 0, (0,)))
                if len(rest) == 1:
                    groups.append((f"{producer.name}.{rest[0]}", rest[0], (rest[0],)))
                elif rest:
                    groups.append((f"{producer.name}.rest", tuple(rest), tuple(rest)))
            else:
                groups.append((f"{producer.name}.{used[0]}", used[0], None))
                groups.append((f"{producer.name}.rest", tuple(used[1:]), None))
        for cid, select, mask in groups:
            spec = NodeSpec(id=cid, kind="forward", fx_node=producer, select=select, mask=mask)
            spec.recomputable = not random
            spec.inputs = _arg_owners(step, producer)
            step.specs[cid] = spec
            step.order.append(cid)
            if select is None:
                step._bytes[cid] = storage_bytes(outs[0])
                step._workspace[cid] = 0
            else:
                held = {select} if isinstance(select, int) else set(select)
                step._bytes[cid] = sum(storage_bytes(outs[index]) for index in held)
                if mask is not None:
                    step._workspace[cid] = 0
                else:
                    step._workspace[cid] = sum(
                        storage_bytes(item) for index, item in enumerate(outs) if index not in held
                    )
            # Sources for the getitem nodes this group serves.
            if select is None:
                step.source[producer] = ("node", cid, None)
            else:
                step.source[producer] = ("producer",)
                held_list = [select] if isinstance(select, int) else list(select)
                for position, index in enumerate(held_list):
                    getter = users_of.get(producer, {}).get(index)
                    if getter is not None:
                        step.source[getter] = ("node", cid, None if isinstance(select, int) else position)
    # Getters of outputs nobody uses stay unresolvable; mark them so a stray use fails loudly.
    for node, source in list(step.source.items()):
        if source[0] == "pending":
            step.source[node] = ("unused",)


def _is_output(node: torch.fx.Node) -> bool:
    return any(user.op == "output" for user in node.users)


def _owners(step: CapturedStep, node: torch.fx.Node) -> List[str]:
    """Contract nodes whose storage an fx node's value lives in (through views)."""
    source = step.source[node]
    if source[0] == "node":
        return [source[1]]
    if source[0] == "view":
        return _arg_owners(step, node)
    return []


def _arg_owners(step: CapturedStep, node: torch.fx.Node) -> List[str]:
    """Contract nodes an fx node reads, in first-use order, without repeats."""
    found: List[str] = []

    def visit(value: Any) -> Any:
        if isinstance(value, torch.fx.Node):
            for cid in _owners(step, value):
                if cid not in found:
                    found.append(cid)
        return value

    torch.fx.node.map_aggregate(node.args, visit)
    torch.fx.node.map_aggregate(node.kwargs, visit)
    return found


def no_remat_schedule(graph: Dict[str, Any]) -> List[Dict[str, str]]:
    """Computes every node once in order and frees each value after its last use (keep
    nodes never): the schedule whose peak is the no-remat peak."""
    nodes = graph["nodes"]
    last_use: Dict[str, int] = {}
    for index, node in enumerate(nodes):
        last_use.setdefault(node["id"], index)
        for source in node.get("inputs", []):
            last_use[source] = index
    frees_at: Dict[int, List[str]] = {}
    for node in nodes:
        if not node.get("keep"):
            frees_at.setdefault(last_use[node["id"]], []).append(node["id"])
    schedule: List[Dict[str, str]] = []
    for index, node in enumerate(nodes):
        schedule.append({"op": "compute", "node": node["id"]})
        for cid in frees_at.get(index, []):
            schedule.append({"op": "free", "node": cid})
    return schedule


def _measure_costs(step: CapturedStep, repeats: int) -> None:
    """Times every node over several no-remat runs; cost = median microseconds."""
    from .execute import run_schedule

    schedule = no_remat_schedule(step.graph)
    samples: Dict[str, List[float]] = {node["id"]: [] for node in step.graph["nodes"]}
    # One warm-up run, then the timed ones.
    for attempt in range(max(1, repeats) + 1):
        result = run_schedule(step, schedule, list(step.example_inputs), timed=True)
        if attempt == 0:
            # The operators' transient outputs, as run per node, are the workspace.
            for node in step.graph["nodes"]:
                transient = result.node_transient.get(node["id"], 0)
                if transient:
                    node["workspaceBytes"] = int(transient)
                else:
                    node.pop("workspaceBytes", None)
            continue
        for cid, seconds in result.node_seconds.items():
            samples[cid].extend(seconds)
    for node in step.graph["nodes"]:
        node["cost"] = round(statistics.median(samples[node["id"]]) * 1e6, 3) if samples[node["id"]] else 0.0
