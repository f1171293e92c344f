"""Measure each contract node of a traced step on real tensors: the bytes it holds, its
workspace (the outputs it makes but does not hold, and the temporaries its operator
allocates inside itself, from the allocator trace of one run) and its cost (the median of
several timed runs, in microseconds).

A node is timed once per distinct call: the same operator on arguments of the same
shapes, strides, dtypes and devices, with the same non-tensor arguments and output mask.
Its repeats (the layers of a transformer, the blocks of a ResNet stage) reuse the timing,
so capture time grows with the number of distinct calls, not with depth."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Dict, Hashable, Tuple

import torch
import torch.fx

from .allocator import AllocationTrace, marker
from .graph import NodeMeasure
from .program import NodeSpec, Program, held_indices, run_operator
from .storage import storage_bytes

__all__ = ["call_signature", "measure", "operator_signature"]


def measure(program: Program, values: Dict[torch.fx.Node, Any], repeats: int, temporaries: bool = True) -> Dict[str, NodeMeasure]:
    """Every node's measures, computed from the traced run's values (every fx node's value).
    With temporaries, a node's workspace is what its operator allocates beyond the outputs
    it holds, measured with the allocator trace; otherwise only the outputs it does not hold."""
    resolve = lambda node: values[node] if isinstance(node, torch.fx.Node) else node  # noqa: E731
    calls: Dict[Hashable, Call] = {}
    keys: Dict[str, Hashable] = {}
    held_bytes: Dict[str, int] = {}
    for cid in program.order:
        spec = program.specs[cid]
        value = values[spec.fx_node]
        if spec.kind == "input":
            held_bytes[cid] = storage_bytes(value)
            continue
        held_bytes[cid] = storage_bytes(value) if spec.select is None else sum(storage_bytes(value[i]) for i in held_indices(spec))
        args = torch.fx.node.map_aggregate(spec.fx_node.args, resolve)
        call = Call(spec, args, torch.fx.node.map_aggregate(spec.fx_node.kwargs, resolve))
        keys[cid] = call_signature(call)
        calls.setdefault(keys[cid], call)
    timings = {key: _time(program, call, repeats) for key, call in calls.items()}
    peaks = _operator_peaks(program, calls) if temporaries else {}
    measures: Dict[str, NodeMeasure] = {}
    for cid in program.order:
        if cid not in keys:
            measures[cid] = NodeMeasure(bytes=held_bytes[cid])
            continue
        seconds, transient = timings[keys[cid]]
        # The operator's peak holds the node's own outputs; the rest is its workspace.
        workspace = max(transient, peaks[keys[cid]] - held_bytes[cid]) if keys[cid] in peaks else transient
        measures[cid] = NodeMeasure(bytes=held_bytes[cid], workspace=workspace, cost=round(seconds * 1e6, 3))
    return measures


@dataclass
class Call:
    """One node's operator call on the traced run's values."""

    spec: NodeSpec
    args: Any
    kwargs: Dict[str, Any]


def _operator_peaks(program: Program, calls: Dict[Hashable, Call]) -> Dict[Hashable, int]:
    """Per distinct call: the most bytes its operator has allocated at once while it runs
    (outputs and internal temporaries), from one run after the timed ones."""
    peaks: Dict[Hashable, int] = {}
    if program.device.type == "cuda":
        for key, call in calls.items():
            torch.cuda.synchronize(program.device)
            before = torch.cuda.memory_allocated(program.device)
            torch.cuda.reset_peak_memory_stats(program.device)
            value, _ = run_operator(call.spec, call.args, call.kwargs)
            torch.cuda.synchronize(program.device)
            peaks[key] = torch.cuda.max_memory_allocated(program.device) - before
            del value
        return peaks
    regions = {}
    with AllocationTrace() as trace:
        for index, (key, call) in enumerate(calls.items()):
            regions[f"call.{index}"] = key
            with marker(f"call.{index}"):
                value, _ = run_operator(call.spec, call.args, call.kwargs)
            del value
    for region, (start, peak) in trace.region_peaks(program.device.type).items():
        peaks[regions[region]] = peak - start
    for key in calls:
        # A call that allocated nothing (a view-like copy elided, a scalar) has no events.
        peaks.setdefault(key, 0)
    return peaks


def _describe(value: Any) -> Hashable:
    """What of an argument decides an operator's time and memory: a tensor's layout, not
    its values; a non-tensor argument as it is."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), tuple(value.stride()), value.dtype, value.device.type, value.device.index)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_describe(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((key, _describe(item)) for key, item in value.items())))
    if isinstance(value, (int, float, bool, str, type(None), torch.dtype, torch.device, torch.layout, torch.memory_format)):
        return value
    return repr(value)


def call_signature(call: Call) -> Hashable:
    """Calls with equal signatures run the same computation on equally shaped data."""
    spec = call.spec
    return (str(spec.fx_node.target), spec.select, spec.mask, _describe(call.args), _describe(call.kwargs))


def operator_signature(target: Any, args: Any, kwargs: Dict[str, Any]) -> Hashable:
    """Operator calls with equal signatures make outputs of equal layouts and storage bytes,
    fresh or aliasing the same arguments."""
    return (str(target), _describe(args), _describe(kwargs))


def _time(program: Program, call: Call, repeats: int) -> Tuple[float, int]:
    """Median seconds of a node's operator over `repeats` runs after one warm-up, and the
    transient bytes of the outputs the node does not hold."""
    cuda = program.device.type == "cuda"
    samples = []
    transient = 0
    for attempt in range(max(1, repeats) + 1):
        if cuda:
            torch.cuda.synchronize(program.device)
        tick = time.perf_counter()
        result, transient = run_operator(call.spec, call.args, call.kwargs)
        if cuda:
            torch.cuda.synchronize(program.device)
        if attempt > 0:
            samples.append(time.perf_counter() - tick)
        del result
    return statistics.median(samples), transient
