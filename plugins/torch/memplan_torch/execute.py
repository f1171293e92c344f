"""Execute a plan: one training step that follows the schedule literally.

compute runs the node's ATen operator on the values the schedule holds (views are
re-derived from the tensor that owns the storage), free drops the value, swapOut copies
it to host memory (pinned, on a side stream, on CUDA) and swapIn copies it back. Node
options (options.py): compute with "alt" runs that implementation, encode makes a form,
decode turns it back into the value, free / swapOut / swapIn with "encoding" act on the
form, and a reader of an encoding whose input is on the device as that form runs the
same kernel on it (threshold_backward on the sign bits). Live
device bytes are tracked at every step with the simulator's accounting: bytes of live
values, plus the computing node's workspace (outputs it does not hold and the temporaries
capture measured), plus residentBytes.

Independently, the allocator's own figure: on the CPU every allocation and free of the
step from torch.profiler (allocator.py), on CUDA the caching allocator's peak statistics,
per step. residentBytes plus the most bytes the step had allocated at once is the
allocator-level peak, which the prediction must match.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.fx

from .allocator import AllocationTrace, marker
from .graph import replay_memory
from .options import Form, alternative_context, decode, encode, read_encoded
from .program import Constant, Held, Program, Resident, View, run_operator
from .storage import storage_key, tensors_of

__all__ = ["execute", "run_schedule", "ExecutionResult", "StepRun"]

# Allocator-trace regions: one per schedule step, and the host copies of CPU swaps.
STEP_REGION = "step."
HOST_REGION = "host"


@dataclass
class StepRun:
    """What one literal run of a schedule measured."""

    env: Dict[str, Any]
    step_bytes: List[int]
    peak_bytes: int
    seconds: float
    cuda_max_allocated: Optional[int] = None
    # The allocator's bytes at every step (residentBytes + what the step allocated and
    # had not freed, at its most during that step), when traced.
    allocator_step_bytes: Optional[List[int]] = None
    cuda_max_reserved: Optional[int] = None


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
    budget_bytes: Optional[int] = None
    # The allocator-level peak: residentBytes + the most bytes the step allocated at once
    # (CPU: the profiler's allocation events; CUDA: max_memory_allocated). None when the
    # step ran without the allocator trace.
    allocator_peak_bytes: Optional[int] = None
    allocator_step_bytes: Optional[List[int]] = None
    # The step where the allocator and the prediction differ most: {"step", "op", "node",
    # "predictedBytes", "allocatorBytes"}.
    largest_difference: Optional[Dict[str, Any]] = None
    # CUDA: the caching allocator's reserved peak and reserved minus allocated (fragmentation).
    cuda_max_reserved: Optional[int] = None
    cuda_fragmentation_bytes: Optional[int] = None

    def report(self) -> str:
        """One line: the allocator's peak next to the prediction and the budget."""
        def mb(value: Optional[int]) -> str:
            return "-" if value is None else f"{value / 2**20:.2f} MiB"

        text = (
            f"allocator peak {mb(self.allocator_peak_bytes)}, predicted {mb(self.predicted_peak_bytes)}, "
            f"budget {mb(self.budget_bytes)}"
        )
        if self.largest_difference:
            gap = self.largest_difference
            text += (
                f"; largest difference at step {gap['step']} ({gap['op']} {gap['node']}): allocator {mb(gap['allocatorBytes'])}"
                f" against {mb(gap['predictedBytes'])}"
            )
        return text


class _LiveBytes:
    """Bytes of the distinct storages held by live values, kept incrementally."""

    def __init__(self) -> None:
        self.counts: Dict[Any, List[int]] = {}
        self.total = 0

    def add(self, value: Any) -> None:
        for tensor in tensors_of(value):
            key = storage_key(tensor)
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
        for tensor in tensors_of(value):
            key = storage_key(tensor)
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


class _Values:
    """The executor's view of the traced program: an fx node's value from the live
    contract values (views re-derived from the tensor that owns the storage)."""

    def __init__(self, program: Program, env: Dict[str, Any], inputs: Sequence[torch.Tensor]):
        self.program = program
        self.env = env
        self.inputs = inputs
        self.residents = program.resident_values()

    def resolve(self, node: torch.fx.Node) -> Any:
        source = self.program.sources.get(node)
        if isinstance(source, Resident):
            return self.residents[source.name]
        if isinstance(source, Constant):
            return source.value
        if isinstance(source, Held):
            if source.node not in self.env:
                raise RuntimeError(f"memplan executor: {node.name} needs node {source.node}, which is not on the device")
            value = self.env[source.node]
            return value if source.index is None else value[source.index]
        if isinstance(source, View):
            args, kwargs = self.arguments(node)
            return node.target(*args, **kwargs)
        raise RuntimeError(f"memplan executor: no source for {node.name} ({source})")

    def arguments(self, node: torch.fx.Node) -> Tuple[Any, Dict[str, Any]]:
        one = lambda value: self.resolve(value) if isinstance(value, torch.fx.Node) else value  # noqa: E731
        return torch.fx.node.map_aggregate(node.args, one), torch.fx.node.map_aggregate(node.kwargs, one)

    def compute(self, cid: str) -> Tuple[Any, int]:
        """Computes node cid from live values; returns its value and the transient bytes of
        outputs the operator produced but the node does not hold."""
        spec = self.program.specs[cid]
        if spec.kind == "input":
            # The step's own copy on the device (on CUDA, the host-to-device copy): it lives
            # from this compute to the node's free, as the plan says; the caller's tensor
            # is the caller's.
            tensor = self.inputs[spec.input_index]
            return tensor.to(self.program.device, copy=True), 0
        args, kwargs = self.arguments(spec.fx_node)
        return run_operator(spec, args, kwargs)

    def outputs(self) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
        """The loss, the parameter gradients and the new buffer values."""
        program = self.program
        loss = self.resolve(program.loss_node)
        grads = {name: self.resolve(node) for name, node in program.grad_nodes.items()}
        buffers = {name: self.resolve(node) for name, node in program.buffer_updates.items()}
        return loss, grads, buffers


class _Runner:
    """Runs schedule steps one by one and records live device bytes after each. A value is
    held under its node id, an encoded form under (node id, encoding name): a slot."""

    def __init__(self, program: Program, inputs: Sequence[torch.Tensor], workspace: Dict[Tuple[str, Optional[str]], int]):
        self.program = program
        self.workspace = workspace
        self.env: Dict[str, Any] = {}
        self.forms: Dict[Tuple[str, str], Form] = {}
        self.values = _Values(program, self.env, inputs)
        self.host: Dict[Slot, Any] = {}
        self.live = _LiveBytes()
        self.resident_bytes = program.resident_bytes()
        self.step_bytes: List[int] = []
        self.cuda = program.device.type == "cuda"
        self.compute_stream = torch.cuda.current_stream(program.device) if self.cuda else None
        self.copy_stream = torch.cuda.Stream(program.device) if self.cuda else None
        # Two-stream bookkeeping (CUDA): events marking a device copy made on the copy
        # stream, a host copy completed, and the latest free.
        self.device_ready: Dict[Slot, Any] = {}
        self.host_ready: Dict[Slot, Any] = {}
        self.last_free = None

    def record(self, extra: int = 0) -> None:
        self.step_bytes.append(self.resident_bytes + self.live.total + extra)

    # Slots: a value or an encoded form.

    def _held(self, slot: Slot) -> Any:
        return self.forms.get(slot) if isinstance(slot, tuple) else self.env.get(slot)

    def _hold(self, slot: Slot, value: Any) -> None:
        if isinstance(slot, tuple):
            self.forms[slot] = value
        else:
            self.env[slot] = value
        self.live.add(_payload(value))

    def _drop(self, slot: Slot) -> Any:
        value = self.forms.pop(slot) if isinstance(slot, tuple) else self.env.pop(slot)
        self.live.remove(_payload(value))
        return value

    def _wait(self, slot: Slot) -> None:
        if self.cuda and slot in self.device_ready:
            self.compute_stream.wait_event(self.device_ready.pop(slot))

    def _read_form(self, source: str, reader: str) -> Optional[Tuple[str, str]]:
        """The encoded form of input `source` that node `reader` reads, when one is on the
        device (the simulator's rule: a reader takes the form, the first such one listed)."""
        options = self.program.options.get(source)
        for encoding in options.encodings if options is not None else []:
            if reader in encoding.readers and (source, encoding.name) in self.forms:
                return (source, encoding.name)
        return None

    def compute(self, position: int, entry: Dict[str, str]) -> None:
        cid, alt = entry["node"], entry.get("alt")
        if cid in self.env:
            raise RuntimeError(f"step {position}: compute {cid}, which is already on the device")
        spec = self.program.specs[cid]
        read: Optional[Tuple[str, str]] = None
        for source in spec.inputs:
            form = self._read_form(source, cid)
            if form is not None:
                read = form
                self._wait(form)
                continue
            if source not in self.env:
                raise RuntimeError(f"step {position}: compute {cid} needs {source}, which is not on the device")
            self._wait(source)
        if read is not None:
            # A reader of an encoding: the same kernel on the encoded form.
            value, transient = read_encoded(spec, self.forms[read], self.values.resolve(spec.fx_node.args[0])), 0
        elif alt not in (None, "default"):
            with alternative_context(alt):
                value, transient = self.values.compute(cid)
        else:
            value, transient = self.values.compute(cid)
        self._hold(cid, value)
        # The operator's temporaries are gone when it returns; capture measured them.
        self.record(max(transient, self.workspace.get((cid, None if alt == "default" else alt), 0)))

    def encode(self, position: int, entry: Dict[str, str]) -> None:
        cid, name = entry["node"], entry["encoding"]
        if cid not in self.env or (cid, name) in self.forms:
            raise RuntimeError(f"step {position}: illegal encode of {cid} as {name}")
        self._wait(cid)
        options = self.program.options.get(cid)
        form = next((item for item in options.encodings if item.name == name), None) if options is not None else None
        self._hold((cid, name), encode(name, self.env[cid], form.capacity if form is not None else None))
        self.record()

    def decode(self, position: int, entry: Dict[str, str]) -> None:
        cid, name = entry["node"], entry["encoding"]
        if (cid, name) not in self.forms or cid in self.env:
            raise RuntimeError(f"step {position}: illegal decode of {cid} from {name}")
        self._wait((cid, name))
        self._hold(cid, decode(self.forms[(cid, name)]))
        self.record()

    def free(self, position: int, entry: Dict[str, str]) -> None:
        slot = _slot(entry)
        if self._held(slot) is None:
            raise RuntimeError(f"step {position}: free {_label(slot)}, which is not on the device")
        self.record()
        self.device_ready.pop(slot, None)
        if self.cuda:
            # The free happens once its swapOut (if any) has read the value; later computes
            # and swapIns wait for it.
            pending = self.host_ready.get(slot)
            if pending is not None:
                self.compute_stream.wait_event(pending)
            self.last_free = torch.cuda.Event()
            self.last_free.record(self.compute_stream)
        self._drop(slot)

    def swap_out(self, position: int, entry: Dict[str, str]) -> None:
        slot = _slot(entry)
        if self._held(slot) is None or slot in self.host:
            raise RuntimeError(f"step {position}: illegal swapOut of {_label(slot)}")
        self.record()
        value = self._held(slot)
        if not self.cuda:
            # Host memory is the CPU's too: the allocator trace leaves this region out.
            with marker(HOST_REGION):
                self.host[slot] = _map_payload(value, lambda tensor: _rebuild(_storage_bytes_view(tensor).clone(), tensor))
            return
        ready = self.device_ready.get(slot)
        made = torch.cuda.Event()
        made.record(self.compute_stream)
        with torch.cuda.stream(self.copy_stream):
            self.copy_stream.wait_event(ready if ready is not None else made)

            def to_host(tensor: torch.Tensor) -> torch.Tensor:
                raw = _storage_bytes_view(tensor)
                target = torch.empty(raw.shape, dtype=torch.uint8, pin_memory=True)
                target.copy_(raw, non_blocking=True)
                tensor.record_stream(self.copy_stream)
                return _rebuild(target, tensor)

            self.host[slot] = _map_payload(value, to_host)
            done = torch.cuda.Event()
            done.record(self.copy_stream)
        self.host_ready[slot] = done

    def swap_in(self, position: int, entry: Dict[str, str]) -> None:
        slot = _slot(entry)
        if slot not in self.host or self._held(slot) is not None:
            raise RuntimeError(f"step {position}: illegal swapIn of {_label(slot)}")
        if self.cuda:
            device = self.program.device
            with torch.cuda.stream(self.copy_stream):
                if slot in self.host_ready:
                    self.copy_stream.wait_event(self.host_ready[slot])
                if self.last_free is not None:
                    self.copy_stream.wait_event(self.last_free)
                value = _map_payload(
                    self.host[slot], lambda tensor: _rebuild(_storage_bytes_view(tensor).to(device, non_blocking=True), tensor)
                )
                ready = torch.cuda.Event()
                ready.record(self.copy_stream)
            _map_tensors(_payload(value), lambda tensor: tensor.record_stream(self.compute_stream))
            self.device_ready[slot] = ready
        else:
            value = _map_payload(self.host[slot], lambda tensor: _rebuild(_storage_bytes_view(tensor).clone(), tensor))
        self._hold(slot, value)
        self.record()


# A value's slot is its node id; an encoded form's is (node id, encoding name).
Slot = Union[str, Tuple[str, str]]


def _slot(entry: Dict[str, str]) -> Slot:
    return entry["node"] if entry.get("encoding") is None else (entry["node"], entry["encoding"])


def _label(slot: Slot) -> str:
    return slot if isinstance(slot, str) else f"{slot[0]}#{slot[1]}"


def _payload(value: Any) -> Any:
    """The tensors of a held value or form (what live bytes and copies see)."""
    return value.tensors if isinstance(value, Form) else value


def _map_payload(value: Any, fn) -> Any:
    """Maps fn over the tensors of a value, or of a form (keeping what decoding needs)."""
    if isinstance(value, Form):
        return Form(value.name, tuple(fn(tensor) for tensor in value.tensors), value.shape, value.dtype)
    return _map_tensors(value, fn)


def _program(step: Any) -> Program:
    """The traced program of a CapturedStep (or the program itself)."""
    return step if isinstance(step, Program) else step.program


def _workspace(step: Any) -> Dict[Tuple[str, Optional[str]], int]:
    """workspaceBytes per (node, alternative or None) of a CapturedStep's graph (none for a bare program)."""
    graph = getattr(step, "graph", None) or {}
    workspace: Dict[Tuple[str, Optional[str]], int] = {}
    for node in graph.get("nodes", []):
        workspace[(node["id"], None)] = int(node.get("workspaceBytes", 0))
        for alternative in node.get("alternatives", []):
            workspace[(node["id"], alternative["name"])] = int(alternative.get("workspaceBytes", 0))
    return workspace


def run_schedule(
    step: Union[Program, Any], schedule: Sequence[Dict[str, str]], inputs: Sequence[torch.Tensor], *, allocator: bool = False
) -> StepRun:
    """Replays a schedule on real tensors (step: a CapturedStep or its program) and
    measures live device bytes at every step; with allocator, also the allocator's bytes
    at every step (see allocator.py)."""
    program = _program(step)
    runner = _Runner(program, inputs, _workspace(step))
    handlers = {
        "compute": runner.compute,
        "free": runner.free,
        "swapOut": runner.swap_out,
        "swapIn": runner.swap_in,
        "encode": runner.encode,
        "decode": runner.decode,
    }
    for position, entry in enumerate(schedule):
        if entry["op"] not in handlers:
            raise RuntimeError(f"step {position}: unknown op {entry['op']!r}")
    if runner.cuda:
        torch.cuda.synchronize(program.device)
        torch.cuda.reset_peak_memory_stats(program.device)
    cuda_steps: List[int] = []
    trace = AllocationTrace() if allocator and not runner.cuda else contextlib.nullcontext()
    started = time.perf_counter()
    with trace:
        base = torch.cuda.memory_allocated(program.device) if runner.cuda else 0
        for position, entry in enumerate(schedule):
            if allocator and runner.cuda:
                torch.cuda.reset_peak_memory_stats(program.device)
                handlers[entry["op"]](position, entry)
                cuda_steps.append(torch.cuda.max_memory_allocated(program.device) - base)
            elif allocator:
                with marker(f"{STEP_REGION}{position}"):
                    handlers[entry["op"]](position, entry)
            else:
                handlers[entry["op"]](position, entry)
        if runner.cuda:
            torch.cuda.synchronize(program.device)
    seconds = time.perf_counter() - started
    allocator_steps = None
    if allocator:
        allocated = cuda_steps if runner.cuda else _allocated_per_step(trace, len(schedule), program.device.type)
        allocator_steps = [runner.resident_bytes + value for value in allocated]
    return StepRun(
        env=runner.env,
        step_bytes=runner.step_bytes,
        peak_bytes=max(runner.step_bytes) if runner.step_bytes else runner.resident_bytes,
        seconds=seconds,
        cuda_max_allocated=torch.cuda.max_memory_allocated(program.device) if runner.cuda else None,
        allocator_step_bytes=allocator_steps,
        cuda_max_reserved=torch.cuda.max_memory_reserved(program.device) if runner.cuda else None,
    )


def _allocated_per_step(trace: AllocationTrace, steps: int, device: str) -> List[int]:
    """Per schedule step: the most bytes the step had allocated (and not freed) at once
    while that step ran; a step without allocator events keeps the level before it."""
    per_step: List[Optional[int]] = [None] * steps
    level = 0
    last = -1  # the latest step with events
    for event, before, after in trace.timeline(device, exclude={HOST_REGION}):
        region = event.region or ""
        if region.startswith(STEP_REGION):
            index = int(region[len(STEP_REGION) :])
            for quiet in range(last + 1, index):
                per_step[quiet] = level
            per_step[index] = max(per_step[index] or 0, before, after)
            last = max(last, index)
        level = after
    return [level if value is None else value for value in per_step]


def _largest_difference(schedule: Sequence[Dict[str, str]], predicted: List[int], allocated: List[int]) -> Optional[Dict[str, Any]]:
    """The step where the allocator's bytes and the prediction differ most (None when
    they agree at every step)."""
    index = max(range(len(schedule)), key=lambda position: abs(allocated[position] - predicted[position]))
    if allocated[index] == predicted[index]:
        return None
    return {
        "step": index,
        "op": schedule[index]["op"],
        "node": schedule[index]["node"],
        "predictedBytes": predicted[index],
        "allocatorBytes": allocated[index],
    }


def execute(
    plan: Any, inputs: Optional[Sequence[torch.Tensor]] = None, *, update_buffers: bool = True, allocator: bool = True
) -> ExecutionResult:
    """Runs one training step following plan.schedule; returns the loss, the parameter
    gradients, the measured peak of live device bytes and (allocator=True) the
    allocator-level peak next to the prediction and the budget."""
    if plan.captured is None:
        raise ValueError("memplan: the plan is not bound to a captured step")
    if plan.schedule is None or not plan.schedule:
        raise ValueError(f"memplan: the plan has no schedule (status {plan.status}): {plan.json.get('message', '')}")
    program = _program(plan.captured)
    values = list(program.example_inputs if inputs is None else inputs)
    run = run_schedule(plan.captured, plan.schedule, values, allocator=allocator)
    loss, grads, buffers = _Values(program, run.env, values).outputs()
    if update_buffers:
        own = dict(program.model.named_buffers(remove_duplicate=False))
        with torch.no_grad():
            for name, value in buffers.items():
                own[name].copy_(value)
    predicted = plan.json.get("predicted") or {}
    largest = None
    if run.allocator_step_bytes is not None and getattr(plan.captured, "graph", None):
        largest = _largest_difference(plan.schedule, replay_memory(plan.captured.graph, plan.schedule), run.allocator_step_bytes)
    fragmentation = None
    if run.cuda_max_reserved is not None and run.cuda_max_allocated is not None:
        fragmentation = run.cuda_max_reserved - run.cuda_max_allocated
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
        budget_bytes=plan.json.get("budgetBytes"),
        allocator_peak_bytes=max(run.allocator_step_bytes) if run.allocator_step_bytes else None,
        allocator_step_bytes=run.allocator_step_bytes,
        largest_difference=largest,
        cuda_max_reserved=run.cuda_max_reserved,
        cuda_fragmentation_bytes=fragmentation,
    )
