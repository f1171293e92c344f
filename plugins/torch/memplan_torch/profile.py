"""Measure each contract node of a traced step on real tensors: the bytes it holds, the
transient bytes of outputs it makes but does not hold, and its cost (the median of several
timed runs, in microseconds)."""

from __future__ import annotations

import statistics
import time
from typing import Any, Dict

import torch
import torch.fx

from .graph import NodeMeasure
from .program import Program, held_indices, run_operator
from .storage import storage_bytes

__all__ = ["measure"]


def measure(program: Program, values: Dict[torch.fx.Node, Any], repeats: int) -> Dict[str, NodeMeasure]:
    """Every node's measures, computed from the traced run's values (every fx node's value)."""
    measures: Dict[str, NodeMeasure] = {}
    for cid in program.order:
        spec = program.specs[cid]
        value = values[spec.fx_node]
        if spec.kind == "input":
            measures[cid] = NodeMeasure(bytes=storage_bytes(value))
            continue
        held = held_indices(spec)
        nbytes = storage_bytes(value) if spec.select is None else sum(storage_bytes(value[index]) for index in held)
        seconds, transient = _time(program, spec, values, repeats)
        measures[cid] = NodeMeasure(bytes=nbytes, workspace=transient, cost=round(seconds * 1e6, 3))
    return measures


def _time(program: Program, spec, values: Dict[torch.fx.Node, Any], repeats: int):
    """Median seconds of a node's operator over `repeats` runs after one warm-up, and the
    transient bytes of the outputs the node does not hold."""
    resolve = lambda node: values[node] if isinstance(node, torch.fx.Node) else node  # noqa: E731
    args = torch.fx.node.map_aggregate(spec.fx_node.args, resolve)
    kwargs = torch.fx.node.map_aggregate(spec.fx_node.kwargs, resolve)
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
