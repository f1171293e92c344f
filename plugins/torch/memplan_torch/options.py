"""Node options of a captured step (the contract's "Node options"): compact forms of an
output (Gist, cDMA) and other implementations of an operator, each measured on the
captured step, and the kernels execute() runs for encode, decode, alt and for a reader of
an encoding.

Encodings, only where they are exact:
- ``bits``: the sign of a ReLU output, one bit per element. Its readers are the backward
  nodes that need only the sign: ``threshold_backward(grad, relu_output, 0)``, which the
  reader then runs on the unpacked bits, bit for bit the same result.
- ``zvc``: a lossless sparse form (zero-value compression: one bit per element saying
  "nonzero", then the nonzero values packed), for an activation with enough zeros. It
  decodes back to the exact tensor; for a ReLU output its bits are the sign, so the same
  readers read it. Its room for values is fixed at capture (the captured step's nonzeros
  plus SPARSE_MARGIN), so its bytes are what the plan predicts; a step with more nonzeros
  than that raises instead of running over the prediction.
Every kernel works in chunks of CHUNK elements so that its temporaries stay small: an
encode allocates its form and a few chunk-sized scratch tensors, a decode the value, a
reader its output. A form's bytes are those of the captured step (a sparse form's size
follows the number of nonzeros of the data it was captured on).

Alternatives, measured: a convolution (forward and backward) with oneDNN disabled,
``native``, ATen's own kernel (im2col and matrix products), with its own time and the
temporaries the allocator trace sees.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.fx

from .allocator import AllocationTrace, marker
from .profile import Call, call_signature
from .program import NodeSpec, Program, run_operator
from .storage import storage_bytes

__all__ = [
    "Alternative",
    "Encoding",
    "Form",
    "NodeOptions",
    "alternative_context",
    "decode",
    "discover",
    "encode",
    "read_encoded",
]

# Elements per chunk of the encode, decode and reader kernels (their scratch is a few
# bytes per element of one chunk).
CHUNK = 1 << 15
# A sparse form is offered when it takes at most this share of the dense value's bytes.
SPARSE_SHARE = 0.8
# A sparse form has room for this many more nonzeros than the captured step had, so that
# its bytes are fixed (what the plan predicts) while the data varies a little.
SPARSE_MARGIN = 0.05

ATEN = torch.ops.aten
RELU = {ATEN.relu.default}
THRESHOLD_BACKWARD = ATEN.threshold_backward.default
CONVOLUTIONS = {ATEN.convolution.default, ATEN.convolution_backward.default}


@dataclass
class Encoding:
    """One encoding of a node's output, as the contract lists it."""

    name: str
    bytes: int
    encode_cost: float
    decode_cost: Optional[float] = None
    readers: List[str] = field(default_factory=list)
    # zvc: the room for nonzero values (elements).
    capacity: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {"name": self.name, "bytes": self.bytes, "encodeCost": self.encode_cost}
        if self.decode_cost is not None:
            entry["decodeCost"] = self.decode_cost
        if self.readers:
            entry["readers"] = list(self.readers)
        return entry


@dataclass
class Alternative:
    """Another implementation of a node's operator."""

    name: str
    cost: float
    workspace: int

    def to_json(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {"name": self.name, "cost": self.cost}
        if self.workspace:
            entry["workspaceBytes"] = self.workspace
        return entry


@dataclass
class NodeOptions:
    """The options of one contract node."""

    encodings: List[Encoding] = field(default_factory=list)
    alternatives: List[Alternative] = field(default_factory=list)


@dataclass
class Form:
    """An encoded value on the device: its tensors and what decoding needs."""

    name: str
    tensors: Tuple[torch.Tensor, ...]
    shape: Tuple[int, ...]
    dtype: torch.dtype


# ---- kernels ---------------------------------------------------------------------------


def _chunks(count: int) -> Iterator[Tuple[int, int]]:
    for start in range(0, count, CHUNK):
        yield start, min(count, start + CHUNK)


# Gathers the lowest bit of each of a little-endian int64's eight bytes into its top byte.
_GATHER = 0x0102040810204080


def _pack(flags: torch.Tensor) -> torch.Tensor:
    """Packs a flat bool tensor into bytes, eight flags per byte, first flag in the lowest
    bit (the last byte padded): each group of eight flags, read as one int64, times
    _GATHER has the packed byte on top (a wrapping multiply, as integer tensors do)."""
    if flags.numel() % 8:
        flags = torch.cat([flags, flags.new_zeros(8 - flags.numel() % 8)])
    groups = flags.view(torch.uint8).view(torch.int64)
    return ((groups * _GATHER) >> 56).to(torch.uint8)


# Spreads a byte into all eight bytes of an int64; then each byte keeps its own bit.
_SPREAD = 0x0101010101010101
_OWN_BIT = 0x8040201008040201 - (1 << 64)  # as a signed int64


def _unpack(packed: torch.Tensor, count: int) -> torch.Tensor:
    """The first `count` flags of packed bytes, as a flat bool tensor (the inverse of _pack)."""
    spread = (packed.to(torch.int64) * _SPREAD) & _OWN_BIT
    return spread.view(torch.uint8).bool()[:count]


def _flat(value: torch.Tensor) -> torch.Tensor:
    return value.view(-1)


def encode(name: str, value: torch.Tensor, capacity: Optional[int] = None) -> Form:
    """Makes the form `name` of a value (contiguous, dense storage). Flags are "nonzero";
    bits is made only for ReLU outputs, where nonzero is the sign. zvc keeps its values in
    room for `capacity` elements (default: exactly the nonzeros)."""
    flat = _flat(value)
    count = flat.numel()
    bits = torch.empty((count + 7) // 8, dtype=torch.uint8, device=value.device)
    taken: List[int] = []
    for start, end in _chunks(count):
        flags = flat[start:end].bool()
        bits[start // 8 : (end + 7) // 8] = _pack(flags)
        if name == "zvc":
            taken.append(int(flags.sum()))
    if name == "bits":
        return Form(name, (bits,), tuple(value.shape), value.dtype)
    nonzero = sum(taken)
    room = nonzero if capacity is None else capacity
    if nonzero > room:
        raise RuntimeError(
            f"memplan executor: a sparse form has room for {room} nonzero values and this step has {nonzero}; "
            "capture the step again (or plan without its zvc forms)"
        )
    values = torch.empty(room, dtype=value.dtype, device=value.device)
    offset = 0
    for (start, end), size in zip(_chunks(count), taken):
        chunk = flat[start:end]
        torch.masked_select(chunk, chunk.bool(), out=values[offset : offset + size])
        offset += size
    return Form(name, (bits, values), tuple(value.shape), value.dtype)


def decode(form: Form) -> torch.Tensor:
    """The value a decodable form stands for (zvc), exactly."""
    if form.name != "zvc":
        raise RuntimeError(f"memplan executor: the form {form.name} cannot be decoded")
    bits, values = form.tensors
    out = torch.zeros(form.shape, dtype=form.dtype, device=bits.device)
    flat = _flat(out)
    offset = 0
    for start, end in _chunks(flat.numel()):
        flags = _unpack(bits[start // 8 : (end + 7) // 8], end - start)
        taken = int(flags.sum())
        flat[start:end].masked_scatter_(flags, values[offset : offset + taken])
        offset += taken
    return out


def read_encoded(spec: NodeSpec, form: Form, grad: torch.Tensor) -> torch.Tensor:
    """A reader of a sign form: threshold_backward(grad, relu_output, 0) computed as
    threshold_backward(grad, flags, 0) on the unpacked flags (0 or 1 as uint8), chunk by
    chunk into one output; the same values bit for bit."""
    bits = form.tensors[0]
    out = torch.empty_like(grad)
    source, target = _flat(grad), _flat(out)
    for start, end in _chunks(target.numel()):
        flags = _unpack(bits[start // 8 : (end + 7) // 8], end - start).view(torch.uint8)
        ATEN.threshold_backward.grad_input(source[start:end], flags, 0, grad_input=target[start:end])
    return out


@contextlib.contextmanager
def alternative_context(name: str) -> Iterator[None]:
    """Runs the code inside with the named implementation ("native": oneDNN off)."""
    if name != "native":
        raise RuntimeError(f"memplan: unknown alternative {name!r}")
    enabled = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(False)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(enabled)


# ---- discovery at capture --------------------------------------------------------------


def _dense(value: Any) -> bool:
    """A single floating tensor, contiguous, whose storage is exactly its elements."""
    return (
        isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and value.is_contiguous()
        and value.numel() > 0
        and storage_bytes(value) == value.numel() * value.element_size()
    )


def _median_seconds(run: Callable[[], Any], repeats: int) -> float:
    samples = []
    for attempt in range(max(1, repeats) + 1):
        tick = time.perf_counter()
        result = run()
        if attempt > 0:
            samples.append(time.perf_counter() - tick)
        del result
    return statistics.median(samples)


def _sign_readers(program: Program, cid: str, values: Dict[torch.fx.Node, Any]) -> List[str]:
    """The backward nodes that read node cid only as threshold_backward's input (threshold 0, a dense gradient)."""
    readers = []
    for other in program.order:
        spec = program.specs[other]
        node = spec.fx_node
        if spec.kind != "backward" or node is None or node.target is not THRESHOLD_BACKWARD or cid not in spec.inputs:
            continue
        grad, result, threshold = node.args[:3]
        owners = program.owners(result) if isinstance(result, torch.fx.Node) else []
        grad_owners = program.owners(grad) if isinstance(grad, torch.fx.Node) else []
        if owners != [cid] or cid in grad_owners or threshold != 0 or not _dense(values.get(grad)):
            continue
        if program.sources.get(result) is None or values.get(result) is None or not _dense(values[result]):
            continue
        readers.append(other)
    return readers


def discover(program: Program, values: Dict[torch.fx.Node, Any], repeats: int) -> Dict[str, NodeOptions]:
    """The options of every node of a captured step, measured on the captured values."""
    found: Dict[str, NodeOptions] = {}
    for cid in program.order:
        spec = program.specs[cid]
        if spec.kind != "forward" or spec.fx_node is None or spec.select is not None:
            continue
        value = values.get(spec.fx_node)
        if not _dense(value):
            continue
        options = NodeOptions()
        readers = _sign_readers(program, cid, values) if spec.fx_node.target in RELU else []
        dense = storage_bytes(value)
        if readers:
            cost = _median_seconds(lambda: encode("bits", value), repeats)
            form = encode("bits", value)
            options.encodings.append(Encoding("bits", storage_bytes(form.tensors), round(cost * 1e6, 3), readers=readers))
        sparse = encode("zvc", value)
        capacity = min(value.numel(), math.ceil(sparse.tensors[1].numel() * (1 + SPARSE_MARGIN)))
        sparse = encode("zvc", value, capacity)
        if storage_bytes(sparse.tensors) <= SPARSE_SHARE * dense:
            encode_cost = _median_seconds(lambda: encode("zvc", value, capacity), repeats)
            decode_cost = _median_seconds(lambda: decode(sparse), repeats)
            options.encodings.append(
                Encoding(
                    "zvc",
                    storage_bytes(sparse.tensors),
                    round(encode_cost * 1e6, 3),
                    round(decode_cost * 1e6, 3),
                    readers,
                    capacity=capacity,
                )
            )
        if options.encodings:
            found[cid] = options
    _discover_alternatives(program, values, repeats, found)
    return found


def _discover_alternatives(program: Program, values: Dict[torch.fx.Node, Any], repeats: int, found: Dict[str, NodeOptions]) -> None:
    """The native convolution of every convolution node, timed and traced once per distinct call."""
    resolve = lambda node: values[node] if isinstance(node, torch.fx.Node) else node  # noqa: E731
    calls: Dict[Any, Call] = {}
    keys: Dict[str, Any] = {}
    for cid in program.order:
        spec = program.specs[cid]
        if spec.fx_node is None or spec.fx_node.target not in CONVOLUTIONS:
            continue
        call = Call(
            spec, torch.fx.node.map_aggregate(spec.fx_node.args, resolve), torch.fx.node.map_aggregate(spec.fx_node.kwargs, resolve)
        )
        keys[cid] = call_signature(call)
        calls.setdefault(keys[cid], call)
    measured: Dict[Any, Tuple[float, int]] = {}
    for key, call in calls.items():
        with alternative_context("native"):
            seconds = _median_seconds(lambda: run_operator(call.spec, call.args, call.kwargs), repeats)
            with AllocationTrace() as trace:
                with marker("native"):
                    result, transient = run_operator(call.spec, call.args, call.kwargs)
            held = storage_bytes(result)
            del result
        start, peak = trace.region_peaks(program.device.type).get("native", (0, 0))
        measured[key] = (seconds, max(transient, peak - start - held))
    for cid, key in keys.items():
        seconds, workspace = measured[key]
        found.setdefault(cid, NodeOptions()).alternatives.append(Alternative("native", round(seconds * 1e6, 3), int(workspace)))
