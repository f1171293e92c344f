"""Checks shared by the tests: eager reference gradients and the plan-vs-measurement checks."""

from __future__ import annotations

import contextlib
import copy
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch
import torch.nn as nn

import memplan_torch as mt
from memplan_torch.options import alternative_context
from memplan_torch.planning import find_repo_root

loss_fn = nn.functional.cross_entropy


def eager_step(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor):
    """Loss, parameter gradients and updated buffers of one eager step on a copy of model."""
    twin = copy.deepcopy(model)
    twin.zero_grad(set_to_none=True)
    loss = loss_fn(twin(inputs), targets)
    loss.backward()
    grads = {name: param.grad.detach().clone() for name, param in twin.named_parameters()}
    buffers = {name: buffer.detach().clone() for name, buffer in twin.named_buffers()}
    return loss.detach(), grads, buffers


def check_execution(
    planned: mt.Plan, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, alternative: Optional[str] = None
) -> mt.ExecutionResult:
    """Executes the plan and checks gradients, loss, buffers and the memory prediction.
    With alternative (a plan whose every convolution runs that implementation), the eager
    reference runs the same kernels: another kernel sums in another order, and through a
    deep network's batch norms that alone moves gradients far beyond rtol 1e-5."""
    assert planned.feasible, planned.json.get("message")
    with alternative_context(alternative) if alternative else contextlib.nullcontext():
        loss, grads, buffers = eager_step(model, inputs, targets)
    result = mt.execute(planned, (inputs, targets))
    torch.testing.assert_close(result.loss, loss, rtol=1e-5, atol=0)
    assert set(result.grads) == set(grads)
    for name, grad in grads.items():
        assert torch.allclose(result.grads[name], grad, rtol=1e-5, atol=1e-8), name
    for name, buffer in buffers.items():
        assert torch.allclose(result.buffers[name].to(buffer.dtype), buffer, rtol=1e-5), name
    # The executor measures real storages at every step; the contract replays the schedule.
    assert result.step_bytes == mt.replay_memory(planned.captured.graph, planned.schedule)
    assert result.measured_peak_bytes == planned.predicted["peakBytes"]
    assert result.measured_peak_bytes <= planned.budget_bytes
    check_allocator(result, planned)
    return result


def allocator_tolerance(predicted: int) -> int:
    """[truth] acceptance: the allocator's peak within 2 % of the prediction, or 1 MiB."""
    return max(int(0.02 * predicted), 2**20)


def check_allocator(result: mt.ExecutionResult, planned: mt.Plan) -> None:
    """The allocator-level peak matches the prediction and the budget within the tolerance."""
    predicted = planned.predicted["peakBytes"]
    assert result.allocator_peak_bytes is not None
    assert abs(result.allocator_peak_bytes - predicted) <= allocator_tolerance(predicted), result.report()
    assert result.allocator_peak_bytes <= planned.budget_bytes + allocator_tolerance(predicted), result.report()
    assert result.budget_bytes == planned.budget_bytes and result.predicted_peak_bytes == predicted


def tightest_plan(captured: mt.CapturedStep, time_limit: float, steps: int = 5) -> mt.Plan:
    """The plan auto finds at the tightest budget it plans within `steps` bisections
    between the floor and the no-remat peak (the floor itself when it plans there)."""
    best = mt.plan(captured, 1.0, strategy="auto", time_limit=time_limit)
    low, high = best.json["floorBytes"], best.budget_bytes
    attempt = mt.plan(captured, {"bytes": low}, strategy="auto", time_limit=time_limit)
    if attempt.feasible:
        return attempt
    for _ in range(steps):
        middle = (low + high) // 2
        attempt = mt.plan(captured, {"bytes": middle}, strategy="auto", time_limit=time_limit)
        if attempt.feasible:
            best, high = attempt, attempt.predicted["peakBytes"]
        else:
            low = middle
    return best


def replayed_plan(captured: mt.CapturedStep, schedule: List[Dict[str, Any]]) -> mt.Plan:
    """A Plan for a schedule written by hand: memplan's simulator (the CLI) replays it and
    gives its figures; the budget is its own peak."""
    root = find_repo_root()
    with tempfile.TemporaryDirectory(prefix="memplan-") as folder:
        graph_path, schedule_path = Path(folder) / "graph.json", Path(folder) / "schedule.json"
        graph_path.write_text(json.dumps(captured.graph))
        schedule_path.write_text(json.dumps(schedule))
        done = subprocess.run(
            ["node", str(root / "bin" / "memplan.mjs"), "simulate", str(graph_path), str(schedule_path), "--json"],
            cwd=str(root),
            capture_output=True,
            text=True,
        )
    replay = json.loads(done.stdout)
    assert replay.get("legal"), replay
    figures = replay["figures"]
    data = {"status": "feasible", "strategy": "by hand", "budgetBytes": figures["peakBytes"], "predicted": figures, "schedule": schedule}
    return mt.Plan(data, captured)
