"""Measure each contract node of a traced step on real tensors: the bytes it holds, the
transient bytes of outputs it makes but does not hold, and its cost (the median of several
timed runs, in microseconds).

A node is timed once per distinct call: the same operator on arguments of the same
shapes, strides, dtypes and devices, with the same non-tensor arguments and output mask.
Its repeats (the layers of a transformer, the blocks of a ResNet stage) reuse the timing,
so capture time grows with the number of distinct calls, not with depth."""

from __future__ import annotations

import statistics
import time
from typing import Any, Dict, Hashable, Tuple

import torch
import torch.fx

from .graph import NodeMeasure
from .program import NodeSpec, Program, held_indices, run_operator
from .storage import storage_bytes

__all__ = ["call_signature", "measure"]


def measure(program: Program, values: Dict[torch.fx.Node, Any], repeats: int) -> Dict[str, NodeMeasure]:
    """Every node's measures, computed from the traced run's values (every fx node's value)."""
    measures: Dict[str, NodeMeasure] = {}
    timings: Dict[Hashable, Tuple[float, int]] = {}
    resolve = lambda node: values[node] if isinstance(node, torch.fx.Node) else node  # noqa: E731
    for cid in program.order:
        spec = program.specs[cid]
        value = values[spec.fx_node]
        if spec.kind == "input":
            measures[cid] = NodeMeasure(bytes=storage_bytes(value))
            continue
        held = held_indices(spec)
        nbytes = storage_bytes(value) if spec.select is None else sum(storage_bytes(value[index]) for index in held)
        args = torch.fx.node.map_aggregate(spec.fx_node.args, resolve)
        kwargs = torch.fx.node.map_aggregate(spec.fx_node.kwargs, resolve)
        key = call_signature(spec, args, kwargs)
        if key not in timings:
            timings[key] = _time(program, spec, args, kwargs, repeats)
        seconds, transient = timings[key]
        measures[cid] = NodeMeasure(bytes=nbytes, workspace=transient, cost=round(seconds * 1e6, 3))
    return measures


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


def call_signature(spec: NodeSpec, args: Any, kwargs: Dict[str, Any]) -> Hashable:
    """Nodes with equal signatures run the same computation on equally shaped data."""
    return (str(spec.fx_node.target), spec.select, spec.mask, _describe(args), _describe(kwargs))


def _time(program: Program, spec: NodeSpec, args: Any, kwargs: Dict[str, Any], repeats: int) -> Tuple[float, int]:
    """Median seconds of a node's operator over `repeats` runs after one warm-up, and the
    transient bytes of the outputs the node does not hold."""
    cuda = program.device.type == "cuda"
    samples = []
    transient = 0
    for attempt in range(max(1, repeats) + 1):
        if cuda:
            torch.cuda.synchronize(program.device)
        tick = time.perf_counter()
        result, transient = run_operator(spec, args, kwargs)
        if cuda:
            torch.cuda.synchronize(program.device)
        if attempt > 0:
            samples.append(time.perf_counter() - tick)
        del result
    return statistics.median(samples), transient
