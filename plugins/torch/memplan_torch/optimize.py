"""optimize(): a planned training step a loop calls in place of loss.backward(), and the
export of a remat-only plan to a selective-checkpoint policy for eager autograd. The export
expresses recomputation only: a plan's encodings (Gist, cDMA) and operator alternatives
have no counterpart in torch.utils.checkpoint, so it ignores them and says so."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Union

import warnings

import torch
from torch.utils.checkpoint import CheckpointPolicy, checkpoint, create_selective_checkpoint_contexts

from .capture import CapturedStep, capture
from .execute import ExecutionResult, execute
from .planning import MemplanError, Plan, plan

__all__ = ["optimize", "MemplanStep", "checkpoint_policy", "ignored_options", "selective_checkpoint", "SelectiveCheckpoint"]


class MemplanStep:
    """A training step that runs the planned schedule; call it with the step's inputs and
    targets (same shapes as captured). It fills each parameter's .grad like backward()
    does (accumulating), updates the buffers and returns the loss."""

    def __init__(self, captured: CapturedStep, planned: Plan):
        self.captured = captured
        self.plan = planned
        self.last: Optional[ExecutionResult] = None
        # The first call runs with the allocator trace (execute(allocator=True)); later
        # calls do not pay for the profiler.
        self.first: Optional[ExecutionResult] = None

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        expected = self.captured.example_inputs
        if len(tensors) != len(expected):
            raise TypeError(f"memplan step: expected {len(expected)} tensors (inputs then targets), got {len(tensors)}")
        for index, (given, example) in enumerate(zip(tensors, expected)):
            if given.shape != example.shape or given.dtype != example.dtype:
                raise ValueError(
                    f"memplan step: tensor {index} has shape {tuple(given.shape)} {given.dtype}; the plan was captured for "
                    f"{tuple(example.shape)} {example.dtype} (capture again for another shape)"
                )
        result = execute(self.plan, tensors, allocator=self.first is None)
        self.last = result
        if self.first is None:
            self.first = result
        params = dict(self.captured.model.named_parameters(remove_duplicate=False))
        with torch.no_grad():
            for name, grad in result.grads.items():
                if grad is None:
                    continue
                param = params[name]
                if param.grad is None:
                    param.grad = grad.detach().clone()
                else:
                    param.grad.add_(grad)
        return result.loss.detach()


def optimize(
    model: torch.nn.Module,
    example_inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
    loss_fn: Callable[..., torch.Tensor],
    budget: Union[str, float, int, Dict[str, Any]] = "60%",
    *,
    targets: Union[None, torch.Tensor, Sequence[torch.Tensor]] = None,
    server: Optional[str] = None,
    strategy: str = "auto",
    time_limit: Optional[float] = None,
    transfer: Union[None, str, Dict[str, float]] = None,
    optimizer: Optional[torch.optim.Optimizer] = None,
) -> MemplanStep:
    """Captures the step, plans it under the budget and returns the step function."""
    captured = capture(model, example_inputs, loss_fn, targets, optimizer=optimizer)
    planned = plan(captured, budget, server=server, strategy=strategy, time_limit=time_limit, transfer=transfer)
    if not planned.feasible:
        raise MemplanError(infeasible_message(planned, transfer), body=planned.json)
    return MemplanStep(captured, planned)


def infeasible_message(planned: Plan, transfer: Union[None, str, Dict[str, float]], hint: bool = True) -> str:
    """Why no plan fits, and (with hint) what to try: a host link when the budget is above the floor."""
    text = f"memplan: no plan within the budget ({planned.status}): {planned.json.get('message', '')}"
    floor = planned.json.get("floorBytes")
    if hint and transfer is None and floor is not None and planned.budget_bytes >= floor:
        # Recomputation cannot move keep nodes (parameter gradients); a host link can.
        text += (
            "; only recomputation was allowed: with transfer=\"pcie4\" (or your link's bandwidth "
            "and latency) gradients and activations may also wait in host memory"
        )
    return text


def _normalize(name: str) -> str:
    """One name for an operator's eager, in-place and functionalized variants."""
    text = name.split(".")[0]
    if text.endswith("_functional"):
        text = text[: -len("_functional")]
    text = text.rstrip("_").lstrip("_")
    if "batch_norm" in text and "backward" not in text:
        return "batch_norm"
    return text


def _is_view(op: Any) -> bool:
    schema = getattr(op, "_schema", None)
    return schema is not None and any(ret.alias_info is not None and not ret.alias_info.is_write for ret in schema.returns)


def _mutates(op: Any) -> bool:
    """Operators that write an argument (batch norm's running statistics) must not run twice.
    That holds for in-place operators on the step's own values too: recomputed on a saved
    value, one writes it again (a residual `out += x` adds x twice; letting resnet18's
    in-place ReLUs and additions recompute gave wrong gradients), and an in-place output
    shares its input's storage, so saving it holds nothing more than the input."""
    if _normalize(str(op).replace("aten.", "")) == "batch_norm":
        # native_batch_norm's schema does not annotate the running statistics it writes.
        return True
    schema = getattr(op, "_schema", None)
    return schema is not None and any(arg.alias_info is not None and arg.alias_info.is_write for arg in schema.arguments)


def _decisions(planned: Plan) -> Dict[str, List[bool]]:
    """Per normalized operator name, in forward order: recompute (True) or save (False)."""
    captured = planned.captured
    if captured is None:
        raise ValueError("memplan: the plan is not bound to a captured step")
    if not planned.feasible:
        # Without a schedule every operator would be saved: eager autograd's own memory, silently.
        # No host-link hint: a plan that swaps does not export either.
        raise MemplanError(f"{infeasible_message(planned, None, hint=False)}; there is nothing to export", body=planned.json)
    if planned.swapped():
        raise ValueError("memplan: only remat-only plans export to a checkpoint policy (this plan swaps)")
    recomputed = set(planned.recomputed())
    by_name: Dict[str, List[bool]] = defaultdict(list)
    seen = set()
    program = captured.program
    for cid in program.order:
        spec = program.specs[cid]
        if spec.kind != "forward" or spec.fx_node is None or spec.fx_node in seen:
            continue
        seen.add(spec.fx_node)
        # A multi-output operator follows its primary output, the first node it has.
        by_name[_normalize(spec.fx_node.target.__name__)].append(cid in recomputed)
    return dict(by_name)


def ignored_options(planned: Plan) -> Dict[str, int]:
    """What of a plan the checkpoint export cannot express: its encode and decode steps and
    the computes that use an alternative implementation."""
    schedule = planned.schedule
    return {
        "encodes": sum(1 for step in schedule if step["op"] == "encode"),
        "decodes": sum(1 for step in schedule if step["op"] == "decode"),
        "alternatives": sum(1 for step in schedule if step["op"] == "compute" and step.get("alt") not in (None, "default")),
    }


def checkpoint_policy(planned: Plan) -> Callable[[], Any]:
    """A context_fn for torch.utils.checkpoint: operators the plan recomputes are
    PREFER_RECOMPUTE, the rest MUST_SAVE (views are always recomputed, they hold no memory;
    operators that update state in place, such as batch norm's running statistics, are
    always saved so the state is updated once). Node options are ignored with a warning:
    an encoded value is saved whole, an alternative runs as the default kernel
    (context_fn.ignored counts them)."""
    decisions = _decisions(planned)
    ignored = ignored_options(planned)
    if any(ignored.values()):
        warnings.warn(
            f"memplan: the selective-checkpoint export ignores the plan's node options ({ignored['encodes']} encodes, "
            f"{ignored['decodes']} decodes, {ignored['alternatives']} alternative kernels): eager autograd saves those values "
            "whole and runs the default kernels, so its memory is not the plan's; execute() runs them",
            stacklevel=2,
        )
    # Decisions taken in the latest original (not recompute) forward, for inspection.
    stats = {"recompute": 0, "save": 0, "sideEffect": 0, "unmatched": 0}

    def context_fn():
        for key in stats:
            stats[key] = 0
        queues: Dict[bool, Dict[str, Deque[bool]]] = {
            flag: {name: deque(values) for name, values in decisions.items()} for flag in (False, True)
        }

        def policy(ctx, op, *args, **kwargs):
            if _is_view(op):
                return CheckpointPolicy.PREFER_RECOMPUTE
            queue = queues[bool(ctx.is_recompute)].get(_normalize(str(op).replace("aten.", "")))
            counting = not ctx.is_recompute
            if not queue:
                if counting:
                    stats["unmatched"] += 1
                return CheckpointPolicy.MUST_SAVE
            recompute = queue.popleft()
            if recompute and _mutates(op):
                # Recomputing would update the running statistics a second time.
                if counting:
                    stats["sideEffect"] += 1
                return CheckpointPolicy.MUST_SAVE
            if counting:
                stats["recompute" if recompute else "save"] += 1
            return CheckpointPolicy.PREFER_RECOMPUTE if recompute else CheckpointPolicy.MUST_SAVE

        # Saved outputs of in-place updates (num_batches_tracked += 1) are mutated by design.
        return create_selective_checkpoint_contexts(policy, allow_cache_entry_mutation=True)

    context_fn.decisions = decisions  # type: ignore[attr-defined]
    context_fn.stats = stats  # type: ignore[attr-defined]
    context_fn.ignored = ignored  # type: ignore[attr-defined]
    return context_fn


class SelectiveCheckpoint(torch.nn.Module):
    """Runs a model under torch.utils.checkpoint with a plan's selective policy."""

    def __init__(self, model: torch.nn.Module, context_fn: Callable[[], Any]):
        super().__init__()
        self.model = model
        self.context_fn = context_fn

    def forward(self, *args: Any) -> Any:
        return checkpoint(self.model, *args, use_reentrant=False, context_fn=self.context_fn)


def selective_checkpoint(model: torch.nn.Module, planned: Plan) -> SelectiveCheckpoint:
    """Wraps model so eager autograd recomputes what the remat-only plan recomputes."""
    return SelectiveCheckpoint(model, checkpoint_policy(planned))
