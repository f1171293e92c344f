"""Checks shared by the tests: eager reference gradients and the plan-vs-measurement checks."""

from __future__ import annotations

import copy
import torch
import torch.nn as nn

import memplan_torch as mt

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


def check_execution(planned: mt.Plan, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> mt.ExecutionResult:
    """Executes the plan and checks gradients, loss, buffers and the memory prediction."""
    assert planned.feasible, planned.json.get("message")
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
    return result
