"""The export of a remat-only plan to a selective-checkpoint policy reproduces eager
gradients, and the policy recomputes what the plan recomputes."""

from __future__ import annotations

import copy

import pytest
import torch

import memplan_torch as mt
from conftest import TIME_LIMIT
from helpers import eager_step, loss_fn


@pytest.fixture(scope="module")
def cnn_plan(cnn_case):
    model, inputs, targets = cnn_case
    captured = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    planned = mt.plan(captured, 0.5, strategy="auto", time_limit=TIME_LIMIT)
    assert planned.feasible and not planned.swapped()
    return planned


def test_selective_checkpoint_reproduces_eager_gradients(cnn_case, cnn_plan):
    model, inputs, targets = cnn_case
    loss, grads, buffers = eager_step(model, inputs, targets)
    twin = copy.deepcopy(model)
    wrapped = mt.selective_checkpoint(twin, cnn_plan)
    checkpointed_loss = loss_fn(wrapped(inputs), targets)
    checkpointed_loss.backward()
    torch.testing.assert_close(checkpointed_loss.detach(), loss, rtol=1e-5, atol=0)
    for name, param in twin.named_parameters():
        assert torch.allclose(param.grad, grads[name], rtol=1e-5, atol=1e-8), name
    for name, buffer in twin.named_buffers():
        assert torch.allclose(buffer.to(buffers[name].dtype), buffers[name], rtol=1e-5), name
    # The policy followed the plan: every forward operator matched, some recomputed.
    stats = wrapped.context_fn.stats
    decisions = wrapped.context_fn.decisions
    planned_recomputes = sum(flag for flags in decisions.values() for flag in flags)
    assert planned_recomputes > 0
    assert stats["recompute"] > 0
    assert stats["recompute"] + stats["sideEffect"] == planned_recomputes
    assert stats["recompute"] + stats["sideEffect"] + stats["save"] == sum(len(flags) for flags in decisions.values())


def test_swap_plans_do_not_export(cnn_case):
    model, inputs, targets = cnn_case
    captured = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    planned = mt.plan(captured, 1.0, strategy="vdnn-all", transfer="pcie4", time_limit=TIME_LIMIT)
    assert planned.swapped()
    with pytest.raises(ValueError, match="remat-only"):
        mt.checkpoint_policy(planned)


def test_an_infeasible_plan_does_not_export(cnn_case):
    """Without a schedule the policy would save every operator: eager autograd's memory, silently."""
    model, inputs, targets = cnn_case
    captured = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    planned = mt.plan(captured, 0.05, strategy="auto", time_limit=TIME_LIMIT)
    assert not planned.feasible
    with pytest.raises(mt.MemplanError, match="nothing to export"):
        mt.selective_checkpoint(model, planned)
