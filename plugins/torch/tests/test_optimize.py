"""optimize(): a step function a training loop calls in place of loss.backward()."""

from __future__ import annotations

import copy

import pytest
import torch

import memplan_torch as mt
from conftest import TIME_LIMIT
from helpers import loss_fn


def test_training_loop_matches_eager(cnn_case):
    model, inputs, targets = cnn_case
    planned_model = copy.deepcopy(model)
    eager_model = copy.deepcopy(model)
    step = mt.optimize(planned_model, inputs, loss_fn, budget="60%", targets=targets, time_limit=TIME_LIMIT)
    assert step.plan.predicted["peakBytes"] <= step.plan.budget_bytes
    planned_opt = torch.optim.SGD(planned_model.parameters(), lr=0.1, momentum=0.9)
    eager_opt = torch.optim.SGD(eager_model.parameters(), lr=0.1, momentum=0.9)
    generator = torch.Generator().manual_seed(5)
    for _ in range(3):
        batch = torch.randn(inputs.shape, generator=generator)
        labels = torch.randint(0, 10, targets.shape, generator=generator)
        planned_opt.zero_grad()
        loss = step(batch, labels)
        planned_opt.step()
        eager_opt.zero_grad()
        eager_loss = loss_fn(eager_model(batch), labels)
        eager_loss.backward()
        eager_opt.step()
        torch.testing.assert_close(loss, eager_loss.detach(), rtol=1e-5, atol=0)
        assert step.last.measured_peak_bytes == step.plan.predicted["peakBytes"]
    # Three updates later the weights and running statistics still agree.
    for (name, planned), (_, eager) in zip(planned_model.state_dict().items(), eager_model.state_dict().items()):
        assert torch.allclose(planned.float(), eager.float(), rtol=1e-4, atol=1e-6), name


def test_grads_accumulate_like_backward(mlp_case):
    model, inputs, targets = mlp_case
    planned_model = copy.deepcopy(model)
    step = mt.optimize(planned_model, inputs, loss_fn, budget=0.7, targets=targets, time_limit=TIME_LIMIT)
    step(inputs, targets)
    once = {name: param.grad.clone() for name, param in planned_model.named_parameters()}
    step(inputs, targets)
    for name, param in planned_model.named_parameters():
        assert torch.allclose(param.grad, 2 * once[name], rtol=1e-5), name


def test_other_shapes_are_refused(mlp_case):
    model, inputs, targets = mlp_case
    step = mt.optimize(copy.deepcopy(model), inputs, loss_fn, budget=1.0, targets=targets, time_limit=TIME_LIMIT)
    with pytest.raises(ValueError, match="capture again"):
        step(inputs[:10], targets[:10])


def test_an_impossible_budget_raises(mlp_case):
    model, inputs, targets = mlp_case
    with pytest.raises(mt.MemplanError, match="no plan within the budget"):
        mt.optimize(copy.deepcopy(model), inputs, loss_fn, budget={"bytes": 1000}, targets=targets, time_limit=TIME_LIMIT)
