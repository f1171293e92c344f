"""The traced training step as data: the fx program, the contract node each operator output
belongs to, and where every fx value comes from. capture builds it, profile measures it,
graph writes it as contract JSON and execute runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.fx

from .storage import storage_bytes, storage_key

__all__ = [
    "Constant",
    "Held",
    "NodeSpec",
    "Program",
    "Resident",
    "Source",
    "Unused",
    "View",
    "output_mask_position",
    "run_operator",
]


# Where the value of an fx node comes from when the step runs.


@dataclass(frozen=True)
class Resident:
    """A parameter or buffer of the model, always on the device."""

    name: str


@dataclass(frozen=True)
class Constant:
    """A value fixed at trace time (a lifted constant tensor, a non-tensor result)."""

    value: Any


@dataclass(frozen=True)
class Held:
    """The value of contract node `node`, or item `index` of it when the node holds a group
    of an operator's outputs."""

    node: str
    index: Optional[int] = None


@dataclass(frozen=True)
class View:
    """A view or alias of other values: re-derived from its arguments at each use, it holds
    no memory of its own."""


@dataclass(frozen=True)
class Unused:
    """An operator output that nothing reads; asking for it is a bug."""


Source = Union[Resident, Constant, Held, View, Unused]


@dataclass
class NodeSpec:
    """How to (re)compute one contract node from the traced program."""

    id: str
    kind: str
    fx_node: Optional[torch.fx.Node]
    # For kind "input": the position among the step's data inputs and targets.
    input_index: Optional[int] = None
    # Which outputs of the operator this node holds: None (the single output), an int (one
    # output of a tuple), or a tuple of ints (a group of small outputs kept together).
    select: Union[None, int, Tuple[int, ...]] = None
    # For operators with an output_mask argument: compute only these outputs.
    mask: Optional[Tuple[int, ...]] = None
    inputs: List[str] = field(default_factory=list)
    recomputable: bool = True


@dataclass
class Program:
    """The traced step: fx program, contract nodes in execution order, value sources."""

    model: torch.nn.Module
    gm: torch.fx.GraphModule
    device: torch.device
    example_inputs: Tuple[torch.Tensor, ...]
    num_inputs: int
    optimizer_bytes: int = 0
    specs: Dict[str, NodeSpec] = field(default_factory=dict)
    order: List[str] = field(default_factory=list)
    sources: Dict[torch.fx.Node, Source] = field(default_factory=dict)
    loss_node: Optional[torch.fx.Node] = None
    grad_nodes: Dict[str, torch.fx.Node] = field(default_factory=dict)
    buffer_updates: Dict[str, torch.fx.Node] = field(default_factory=dict)
    # Fx nodes of the model's output (detached): where the forward part ends.
    marker_nodes: List[torch.fx.Node] = field(default_factory=list)
    # Node options by contract id (options.NodeOptions), when captured with options.
    options: Dict[str, Any] = field(default_factory=dict)

    def add(self, spec: NodeSpec) -> None:
        """Appends a contract node in execution order."""
        self.specs[spec.id] = spec
        self.order.append(spec.id)

    def resident_values(self) -> Dict[str, torch.Tensor]:
        """The model's current parameters and buffers, detached, by every name they have."""
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
            key = storage_key(tensor)
            if key is None or key in seen:
                continue
            seen.add(key)
            total += storage_bytes(tensor)
        return total + self.optimizer_bytes

    def owners(self, node: torch.fx.Node) -> List[str]:
        """Contract nodes whose storage an fx node's value lives in (through views)."""
        source = self.sources[node]
        if isinstance(source, Held):
            return [source.node]
        if isinstance(source, View):
            return self.arg_owners(node)
        return []

    def arg_owners(self, node: torch.fx.Node) -> List[str]:
        """Contract nodes an fx node reads, in first-use order, without repeats."""
        found: List[str] = []

        def visit(value: Any) -> Any:
            if isinstance(value, torch.fx.Node):
                for cid in self.owners(value):
                    if cid not in found:
                        found.append(cid)
            return value

        torch.fx.node.map_aggregate(node.args, visit)
        torch.fx.node.map_aggregate(node.kwargs, visit)
        return found


def output_mask_position(target: Any) -> Optional[int]:
    """Position of an operator's output_mask argument, if it has one."""
    schema = getattr(target, "_schema", None)
    if schema is None:
        return None
    for position, argument in enumerate(schema.arguments):
        if argument.name == "output_mask":
            return position
    return None


def held_indices(spec: NodeSpec) -> List[int]:
    """The operator outputs a node holds (empty for a single-output operator)."""
    if spec.select is None:
        return []
    return [spec.select] if isinstance(spec.select, int) else list(spec.select)


def run_operator(spec: NodeSpec, args: Any, kwargs: Dict[str, Any]) -> Tuple[Any, int]:
    """Runs a node's operator on resolved arguments (with its output mask); returns the
    node's value and the bytes of outputs the operator made that the node does not hold."""
    node = spec.fx_node
    if spec.mask is not None:
        position = output_mask_position(node.target)
        args = list(args)
        args[position] = [index in spec.mask for index in range(len(args[position]))]
    with torch.no_grad():
        out = node.target(*args, **kwargs)
    if spec.select is None:
        return out, 0
    held = held_indices(spec)
    value = out[spec.select] if isinstance(spec.select, int) else tuple(out[index] for index in held)
    transient = sum(
        storage_bytes(item) for index, item in enumerate(out) if index not in held and isinstance(item, torch.Tensor)
    )
    return value, transient
