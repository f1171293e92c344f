"""Execute a plan: one training step that follows the schedule literally.

compute runs the node's ATen operator on the values the schedule holds (views are
re-derived from the tensor that owns the storage), free drops the value, swapOut copies
it to host memory (pinned, on a side stream, on CUDA) and swapIn copies it back. Live
device bytes are tracked at every step with the simulator's accounting: bytes of live
values, plus the computing node's transient outputs (its workspace), plus residentBytes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import torch

from .capture import CapturedStep, _storage_key

__all__ = ["execute", "run_schedule", "replay_memory", "ExecutionResult", "StepRun"]


@dataclass
class StepRun:
    """What one literal run of a schedule measured."""

    env: Dict[str, Any]
    step_bytes: List[int]
    peak_bytes: int
    seconds: float
    node_seconds: Dict[str, List[float]] = field(default_factory=dict)
    node_transient: Dict[str, int] = field(default_factory=dict)
    cuda_max_allocated: Optional[int] = None


@dataclass
class ExecutionResult:
    """The outcome of execute(plan): the step's results and the memory it measured."""

    loss: torch.Tensor
    grads: Dict[str, torch.Tensor]
    buffers: Dict[str, torch.Tensor]
    measured_peak_bytes: int
    predicted_peak_bytes: Optional[int]
    step_bytes: List[int]
    seconds: float
    predicted_makespan_us: Optional[float]
    cuda_max_allocated: Optional[int] = None


class _LiveBytes:
    """Bytes of the distinct storages held by live values, kept incrementally."""

    def __init__(self) -> None:
        self.counts: Dict[Any, List[int]] = {}
        self.total = 0

    @staticmethod
    def _tensors(value: Any) -> List[torch.Tensor]:
        if isinstance(value, torch.Tensor):
            return [value]
        if isinstance(value, (tuple, list)):
            return [item for item in value if isinstance(item, torch.Tensor)]
        return []

    def add(self, value: Any) -> None:
        for tensor in self._tensors(value):
            key = _storage_key(tensor)
            if key is None:
                continue
            entry = self.counts.get(key)
            if entry is None:
                nbytes = tensor.untyped_storage().nbytes()
                self.counts[key] = [nbytes, 1]
                self.total += nbytes
            else:
                entry[1] += 1

    def remove(self, value: Any) -> None:
        for tensor in self._tensors(value):
            key = _storage_key(tensor)
            if key is None:
                continue
            entry = self.counts[key]
            entry[1] -= 1
            if entry[1] == 0:
                self.total -= entry[0]
                del self.counts[key]


def _storage_bytes_view(tensor: torch.Tensor) -> torch.Tensor:
    """The whole storage behind a tensor as a flat uint8 tensor (swaps move storages, so a
    value comes back with the same bytes, strides and offset)."""
    return torch.empty(0, dtype=torch.uint8, device=tensor.device).set_(tensor.untyped_storage())


def _rebuild(raw: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A tensor shaped like `like` over the storage of the flat uint8 tensor raw."""
    return torch.empty(0, dtype=like.dtype, device=raw.device).set_(
        raw.untyped_storage(), like.storage_offset(), like.shape, like.stride()
    )


def _map_tensors(value: Any, fn) -> Any:
    if isinstance(value, torch.Tensor):
        return fn(value)
    return tuple(fn(item) if isinstance(item, torch.Tensor) else item for item in value)


def run_schedule(
    step: CapturedStep,
    schedule: Sequence[Dict[str, str]],
    inputs: Sequence[torch.Tensor],
    *,
    timed: bool = False,
) -> StepRun:
    """Replays a schedule on real tensors and measures live device bytes at every step."""
    residents = step.resident_values()
    resident_bytes = step.resident_bytes()
    cuda = step.device.type == "cuda"
    env: Dict[str, Any] = {}
    host: Dict[str, Any] = {}
    live = _LiveBytes()
    step_bytes: List[int] = []
    node_seconds: Dict[str, List[float]] = {}
    node_transient: Dict[str, int] = {}
    compute_stream = torch.cuda.current_stream(step.device) if cuda else None
    copy_stream = torch.cuda.Stream(step.device) if cuda else None
    # Two-stream bookkeeping (CUDA): events marking a device copy made on the copy stream,
    # a host copy completed, and the latest free.
    device_ready: Dict[str, Any] = {}
    host_ready: Dict[str, Any] = {}
    last_free = None
    if cuda:
        torch.cuda.synchronize(step.device)
        torch.cuda.reset_peak_memory_stats(step.device)
    started = time.perf_counter()
    for position, entry in enumerate(schedule):
        op, cid = entry["op"], entry["node"]
        if op == "compute":
            spec = step.specs[cid]
            if cid in env:
                raise RuntimeError(f"step {position}: compute {cid}, which is already on the device")
            for source in spec.inputs:
                if source not in env:
                    raise RuntimeError(f"step {position}: compute {cid} needs {source}, which is not on the device")
                if cuda and source in device_ready:
                    compute_stream.wait_event(device_ready.pop(source))
            if timed and cuda:
                torch.cuda.synchronize(step.device)
            tick = time.perf_counter()
            value, transient = step.compute(cid, env, residents, inputs)
            if timed:
                if cuda:
                    torch.cuda.synchronize(step.device)
                node_seconds.setdefault(cid, []).append(time.perf_counter() - tick)
            node_transient[cid] = max(transient, node_transient.get(cid, 0))
            env[cid] = value
            live.add(value)
            step_bytes.append(resident_bytes + live.total + transient)
        elif op == "free":
            if cid not in env:
                raise RuntimeError(f"step {position}: free {cid}, which is not on the device")
            step_bytes.append(resident_bytes + live.total)
            value = env.pop(cid)
            device_ready.pop(cid, None)
            if cuda:
                # The free happens once its swapOut (if any) has read the value; later
                # computes and swapIns wait for it.
                pending = host_ready.get(cid)
                if pending is not None:
                    compute_stream.wait_event(pending)
                last_free = torch.cuda.Event()
                last_free.record(compute_stream)
            live.remove(value)
            del value
        elif op == "swapOut":
            if cid not in env or cid in host:
                raise RuntimeError(f"step {position}: illegal swapOut of {cid}")
            step_bytes.append(resident_bytes + live.total)
            value = env[cid]
            if cuda:
                ready = device_ready.get(cid)
                made = torch.cuda.Event()
                made.record(compute_stream)
                with torch.cuda.stream(copy_stream):
                    copy_stream.wait_event(ready if ready is not None else made)

                    def to_host(tensor: torch.Tensor) -> torch.Tensor:
                        raw = _storage_bytes_view(tensor)
                        target = torch.empty(raw.shape, dtype=torch.uint8, pin_memory=True)
                        target.copy_(raw, non_blocking=True)
                        tensor.record_stream(copy_stream)
                        return _rebuild(target, tensor)

                    host[cid] = _map_tensors(value, to_host)
                    done = torch.cuda.Event()
                    done.record(copy_stream)
                host_ready[cid] = done
            else:
                host[cid] = _map_tensors(value, lambda tensor: _rebuild(_storage_bytes_view(tensor).clone(), tensor))
        elif op == "swapIn":
            if cid not in host or cid in env:
                raise RuntimeError(f"step {position}: illegal swapIn of {cid}")
            if cuda:
                with torch.cuda.stream(copy_stream):
                    if cid in host_ready:
                        copy_stream.wait_event(host_ready[cid])
                    if last_free is not None:
                        copy_stream.wait_event(last_free)
                    value = _map_tensors(
                        host[cid],
                        lambda tensor: _rebuild(_storage_bytes_view(tensor).to(step.device, non_blocking=True), tensor),
                    )
                    ready = torch.cuda.Event()
                    ready.record(copy_stream)
                _map_tensors(value, lambda tensor: tensor.record_stream(compute_stream))
                device_ready[cid] = ready
            else:
                value = _map_tensors(host[cid], lambda tensor: _rebuild(_storage_bytes_view(tensor).clone(), tensor))
            env[cid] = value
            live.add(value)
            step_bytes.append(resident_bytes + live.total)
        else:
            raise RuntimeError(f"step {position}: unknown op {op!r}")
    cuda_max = None
    if cuda:
        torch.cuda.synchronize(step.device)
        cuda_max = torch.cuda.max_memory_allocated(step.device)
    seconds = time.perf_counter() - started
    return StepRun(
        env=env,
        step_bytes=step_bytes,
        peak_bytes=max(step_bytes) if step_bytes else resident_bytes,
        seconds=seconds,
        node_seconds=node_seconds,
        node_transient=node_transient,
        cuda_max_allocated=cuda_max,
    )


def replay_memory(graph: Dict[str, Any], schedule: Sequence[Dict[str, str]]) -> List[int]:
    """Device bytes at every step as the contract defines them (residentBytes included)."""
    nodes = {node["id"]: node for node in graph["nodes"]}
    resident = int(graph.get("residentBytes", 0))
    on_device = set()
    live = 0
    out: List[int] = []
    for entry in schedule:
        op, cid = entry["op"], entry["node"]
        node = nodes[cid]
        during = live
        if op == "compute":
            during = live + node["bytes"] + node.get("workspaceBytes", 0)
            live += node["bytes"]
            on_device.add(cid)
        elif op == "free":
            live -= node["bytes"]
            on_device.discard(cid)
        elif op == "swapIn":
            live += node["bytes"]
            during = live
            on_device.add(cid)
        out.append(resident + during)
    return out


def execute(plan: Any, inputs: Optional[Sequence[torch.Tensor]] = None, *, update_buffers: bool = True) -> ExecutionResult:
    """Runs one training step following plan.schedule; returns the loss, the parameter
    gradients and the measured peak of live device bytes."""
    step: CapturedStep = plan.captured
    if plan.schedule is None or not plan.schedule:
        raise ValueError(f"memplan: the plan has no schedule (status {plan.status}): {plan.json.get('message', '')}")
    values = list(step.example_inputs if inputs is None else inputs)
    run = run_schedule(step, plan.schedule, values)
    residents = step.resident_values()
    loss, grads, buffers = step.outputs(run.env, residents)
    if update_buffers and step.model is not None:
        own = dict(step.model.named_buffers())
        with torch.no_grad():
            for name, value in buffers.items():
                own[name].copy_(value)
    predicted = plan.json.get("predicted") or {}
    return ExecutionResult(
        loss=loss,
        grads=grads,
        buffers=buffers,
        measured_peak_bytes=run.peak_bytes,
        predicted_peak_bytes=predicted.get("peakBytes"),
        step_bytes=run.step_bytes,
        seconds=run.seconds,
        predicted_makespan_us=predicted.get("makespan"),
        cuda_max_allocated=run.cuda_max_allocated,
    )
