"""mt.max_batch and mt.max_seq_len (memplan_torch/sizing.py): the size model recovers
polynomial bytes and costs and refuses graphs whose structure differs; on small models the
answer B runs (execute's measured peak equals the prediction, within the device, gradients
equal eager), B + 1 does not fit for the reason given, and trial and error (capture and plan
at every size) finds no larger B. The slow cases (torchvision resnet18, a 12-layer decoder)
are in test_sizing_models.py."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn as nn

import memplan_torch as mt
from memplan_torch.sizing import fit_size_model
from conftest import SkipCNN, make_mlp

TIME_LIMIT = 1.0


def synthetic(size: int, *, extra: bool = False, ids: str = "n") -> dict:
    """A three-node step whose bytes are 100 + 10 s, 5 s^2 and 8, and costs 3 + 2 s."""
    nodes = [
        {"id": f"{ids}0", "op": "input", "kind": "input", "inputs": [], "bytes": 100 + 10 * size, "cost": 0.0, "recomputable": False},
        {"id": f"{ids}1", "op": "matmul", "kind": "forward", "inputs": [f"{ids}0"], "bytes": 5 * size * size, "cost": 3 + 2 * size},
        {"id": f"{ids}2", "op": "sum", "kind": "loss", "inputs": [f"{ids}1"], "bytes": 8, "cost": 1.0, "keep": True},
    ]
    if extra:
        nodes.append({"id": f"{ids}3", "op": "sum", "kind": "backward", "inputs": [f"{ids}2"], "bytes": 8, "cost": 1.0})
    return {"name": "synthetic", "residentBytes": 64, "nodes": nodes}


def test_the_size_model_recovers_polynomial_bytes_and_costs():
    model = fit_size_model({size: synthetic(size) for size in (1, 2, 4)})
    assert model is not None
    graph = model.graph(10)
    assert [node["bytes"] for node in graph["nodes"]] == [200, 500, 8]
    assert graph["residentBytes"] == 64
    assert math.isclose(graph["nodes"][1]["cost"], 23.0, rel_tol=1e-9)
    # Structure and flags are the largest capture's.
    assert graph["nodes"][2]["keep"] is True and graph["nodes"][0]["recomputable"] is False


def test_the_size_model_matches_by_position_and_refuses_other_structures():
    # Other ids, same operators and inputs: matched by position.
    renamed = fit_size_model({1: synthetic(1, ids="a"), 2: synthetic(2, ids="b"), 4: synthetic(4)})
    assert renamed is not None and renamed.graph(3)["nodes"][1]["bytes"] == 45
    # A node more at one size: no node-by-node model.
    assert fit_size_model({1: synthetic(1), 2: synthetic(2, extra=True), 4: synthetic(4)}) is None


def check_against_eager(planned: mt.Plan, model: nn.Module, loss, inputs, targets) -> mt.ExecutionResult:
    """Runs the plan and checks its loss and gradients against an eager step on a copy of the model."""
    twin = copy.deepcopy(model)
    twin.zero_grad(set_to_none=True)
    eager_loss = loss(twin(inputs), targets)
    eager_loss.backward()
    result = mt.execute(planned, (inputs, targets), update_buffers=False)
    torch.testing.assert_close(result.loss, eager_loss.detach(), rtol=1e-5, atol=0)
    # A tied weight (an LM head sharing the embedding) has a gradient under each name the
    # traced step uses it by; eager's gradient of the one parameter is their sum.
    names: dict = {}
    for name, param in twin.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), (param, []))[1].append(name)
    for param, aliases in names.values():
        measured = sum(result.grads[name] for name in aliases if name in result.grads)
        assert torch.allclose(measured, param.grad, rtol=1e-5, atol=1e-7), aliases
    assert result.step_bytes == mt.replay_memory(planned.captured.graph, planned.schedule)
    return result


def _check_answer(result: mt.SizeResult, model: nn.Module, loss, device_bytes: int, max_overhead: float):
    assert result.size >= 1, result.next_reason
    planned = result.plan
    assert planned is not None and planned.budget_bytes == device_bytes
    assert planned.predicted["overheadRatio"] <= 1 + max_overhead + 1e-12
    # The answer runs: execute's measured peak is the prediction, within the device; gradients equal eager.
    assert result.measured_peak_bytes == planned.predicted["peakBytes"] <= device_bytes
    inputs, targets = result.captured.example_inputs
    check_against_eager(planned, model, loss, inputs, targets)
    # B + 1 was captured and planned, and does not fit, for the reason given.
    following = [trial for trial in result.trials if trial.source == "capture" and trial.size == result.size + 1]
    assert following and not following[-1].fits
    assert result.next_reason == following[-1].reason


def cnn_batch(size: int):
    return torch.randn(size, 3, 32, 32), torch.randint(0, 10, (size,))


def test_max_batch_of_a_cnn_runs_and_says_why_one_more_does_not_fit(server_url):
    torch.manual_seed(3)
    model = SkipCNN()
    device_bytes, max_overhead = 3_500_000, 0.1
    options = dict(time_limit=TIME_LIMIT, server=server_url, repeats=2)
    result = mt.max_batch(model, cnn_batch, nn.functional.cross_entropy, device_bytes, max_overhead, **options)
    _check_answer(result, model, nn.functional.cross_entropy, device_bytes, max_overhead)
    assert result.model is not None
    assert any(trial.source == "model" for trial in result.trials)
    assert set(result.seconds) >= {"capture", "plan", "execute", "total"}


@pytest.mark.slow
def test_trial_and_error_finds_no_larger_batch(server_url):
    torch.manual_seed(3)
    model = SkipCNN()
    device_bytes, max_overhead = 6_000_000, 0.1
    # One set of captures for both searches: they compare on the same measurements.
    captures = {}
    options = dict(time_limit=TIME_LIMIT, server=server_url, repeats=2, captures=captures)
    result = mt.max_batch(model, cnn_batch, nn.functional.cross_entropy, device_bytes, max_overhead, **options)
    _check_answer(result, model, nn.functional.cross_entropy, device_bytes, max_overhead)
    trial = mt.max_batch(model, cnn_batch, nn.functional.cross_entropy, device_bytes, max_overhead, method="trial", run=False, **options)
    assert trial.size <= result.size
    assert [entry.size for entry in trial.trials] == list(range(1, trial.size + 2))
    assert {result.size, result.size + 1} <= set(captures), "the confirmations' captures are shared"
    assert trial.size == 0 or trial.captured is captures[trial.size]


class TinyDecoder(nn.Module):
    """One causal self-attention block and a head over a small vocabulary."""

    def __init__(self, vocabulary: int = 64, width: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, width)
        self.qkv = nn.Linear(width, 3 * width)
        self.mix = nn.Linear(width, width)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, tokens):
        hidden = self.embed(tokens)
        query, key, value = self.qkv(hidden).chunk(3, dim=-1)
        scores = query @ key.transpose(-1, -2) / math.sqrt(hidden.shape[-1])
        length = tokens.shape[-1]
        mask = torch.ones(length, length, dtype=torch.bool).triu(1)
        attended = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ value
        return self.head(hidden + self.mix(attended))


def token_loss(logits, targets):
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())


def test_max_seq_len_models_the_square_of_the_length(server_url):
    torch.manual_seed(4)
    model = TinyDecoder()
    make_batch = lambda length: (torch.randint(0, 64, (2, length)), torch.randint(0, 64, (2, length)))  # noqa: E731
    device_bytes, max_overhead = 400_000, 0.2
    options = dict(sizes=(8, 16, 32), time_limit=TIME_LIMIT, server=server_url, repeats=2)
    result = mt.max_seq_len(model, make_batch, token_loss, device_bytes, max_overhead, **options)
    _check_answer(result, model, token_loss, device_bytes, max_overhead)
    # The attention scores grow with the square of the length: the model has a quadratic term.
    assert result.model is not None
    quadratic = [coefficients[2] for coefficients in result.model.coefficients["bytes"] if len(coefficients) > 2]
    assert max(quadratic) > 1


def test_a_device_below_the_floor_at_size_one_answers_zero_with_the_reason(server_url):
    torch.manual_seed(5)
    model = make_mlp(width=64, depth=6)
    make_batch = lambda size: (torch.randn(size, 32), torch.randint(0, 10, (size,)))  # noqa: E731
    result = mt.max_batch(model, make_batch, nn.functional.cross_entropy, 1000, time_limit=TIME_LIMIT, server=server_url, repeats=1)
    assert result.size == 0 and result.plan is None and result.execution is None
    assert result.next_reason.startswith("below the floor") and result.next_proven
