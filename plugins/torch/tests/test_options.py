"""Node options end to end (the contract's "Node options"): capture marks the exact
encodings (sign bits of ReLU outputs read by threshold_backward, a lossless sparse form of
sparse activations) and the alternatives it can measure (convolution with oneDNN off);
execute() runs encode, decode and alt steps and the readers of an encoding, with the
gradients, loss and buffers of eager autograd and the predicted peak; the checkpoint
export ignores what it cannot express and says so."""

from __future__ import annotations

import copy
import warnings
from typing import Any, Dict, List

import pytest
import torch
import torchvision

import memplan_torch as mt
from memplan_torch.options import decode, encode, read_encoded
from conftest import TIME_LIMIT
from helpers import check_execution, eager_step, loss_fn, replayed_plan


@pytest.fixture(scope="module")
def cnn_options(cnn_case):
    model, inputs, targets = cnn_case
    return mt.capture(model, inputs, loss_fn, targets, repeats=1, options=True)


def _nodes(captured: mt.CapturedStep) -> Dict[str, Dict[str, Any]]:
    return {node["id"]: node for node in captured.graph["nodes"]}


def options_schedule(captured: mt.CapturedStep) -> List[Dict[str, str]]:
    """A schedule that uses every kind of option step: the no-remat schedule where each
    value with a sparse form is encoded after its last use by a forward node, dropped,
    decoded before its first backward user that is not a reader (the readers read the
    form), and every convolution, forward and backward, runs its native alternative."""
    graph = captured.graph
    nodes = graph["nodes"]
    position = {node["id"]: index for index, node in enumerate(nodes)}
    users: Dict[str, List[str]] = {node["id"]: [] for node in nodes}
    for node in nodes:
        for source in dict.fromkeys(node.get("inputs", [])):
            users[source].append(node["id"])
    plan: Dict[str, Dict[str, Any]] = {}
    for node in nodes:
        form = next((item for item in node.get("encodings", []) if item["name"] == "zvc"), None)
        if form is None or node.get("keep"):
            continue
        forward = [user for user in users[node["id"]] if nodes[position[user]]["kind"] != "backward"]
        split = max([position[node["id"]], *(position[user] for user in forward)])
        backward = [user for user in users[node["id"]] if position[user] > split]
        rest = [user for user in backward if user not in form.get("readers", [])]
        if not backward or not rest:
            continue
        plan[node["id"]] = {"after": split, "before": position[rest[0]], "readers": form.get("readers", []), "last": position[backward[-1]]}
    last_use = {node["id"]: max([index, *(position[user] for user in users[node["id"]])]) for index, node in enumerate(nodes)}
    schedule: List[Dict[str, str]] = []
    for index, node in enumerate(nodes):
        for cid, entry in plan.items():
            if entry["before"] == index:
                schedule.append({"op": "decode", "node": cid, "encoding": "zvc"})
        step = {"op": "compute", "node": node["id"]}
        if any(alternative["name"] == "native" for alternative in node.get("alternatives", [])):
            step["alt"] = "native"
        schedule.append(step)
        for cid, entry in plan.items():
            if entry["after"] == index:
                schedule.append({"op": "encode", "node": cid, "encoding": "zvc"})
        frees = [cid for cid, used in last_use.items() if used == index and not _nodes(captured)[cid].get("keep")]
        for cid in frees:
            if cid in plan:
                continue
            schedule.append({"op": "free", "node": cid})
        for cid, entry in plan.items():
            if entry["after"] == index:
                schedule.append({"op": "free", "node": cid})
            if entry["last"] == index:
                # The decoded value and the form both go after the value's last user.
                schedule.append({"op": "free", "node": cid})
                schedule.append({"op": "free", "node": cid, "encoding": "zvc"})
    return schedule


def test_capture_marks_exact_encodings_and_measured_alternatives(cnn_options):
    nodes = _nodes(cnn_options)
    relus = [node for node in nodes.values() if node["op"] == "relu"]
    assert relus
    for node in relus:
        forms = {form["name"]: form for form in node.get("encodings", [])}
        assert "bits" in forms, node["id"]
        bits = forms["bits"]
        # One bit per element of a float32 output, read only by threshold_backward.
        assert bits["bytes"] == (node["bytes"] // 4 + 7) // 8
        assert bits["readers"] and all(nodes[reader]["op"] == "threshold_backward" for reader in bits["readers"])
        assert "decodeCost" not in bits
        if "zvc" in forms:
            assert forms["zvc"]["bytes"] < node["bytes"] and forms["zvc"]["decodeCost"] > 0
    convolutions = [node for node in nodes.values() if node["op"] in ("convolution", "convolution_backward")]
    assert convolutions and all(
        [alternative["name"] for alternative in node.get("alternatives", [])] == ["native"] for node in convolutions
    )
    # oneDNN off, the CPU convolution unfolds its input (im2col): measured, not guessed.
    forward = [node for node in convolutions if node["op"] == "convolution"]
    assert any(node["alternatives"][0].get("workspaceBytes", 0) > node.get("workspaceBytes", 0) for node in forward)
    # Without options the capture is the plain graph.
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    plain = mt.capture(mlp, torch.randn(3, 4), loss_fn, torch.randint(0, 2, (3,)), repeats=1)
    assert all("encodings" not in node and "alternatives" not in node for node in plain.graph["nodes"])


def test_encodings_are_exact():
    torch.manual_seed(3)
    for shape in [(3, 5, 7), (8, 16, 32, 32), (70001,)]:
        value = torch.relu(torch.randn(shape))
        grad = torch.randn(shape)
        expected = torch.ops.aten.threshold_backward(grad, value, 0)
        sparse, bits = encode("zvc", value), encode("bits", value)
        assert torch.equal(decode(sparse), value)
        assert torch.equal(read_encoded(None, sparse, grad), expected)
        assert torch.equal(read_encoded(None, bits, grad), expected)
        assert bits.tensors[0].numel() == (value.numel() + 7) // 8


def test_execute_runs_encodings_decodes_readers_and_alternatives(cnn_case, cnn_options):
    model, inputs, targets = cnn_case
    schedule = options_schedule(cnn_options)
    ops = [step["op"] for step in schedule]
    assert {"encode", "decode"} <= set(ops) and any("alt" in step for step in schedule)
    planned = replayed_plan(cnn_options, schedule)
    check_execution(planned, model, inputs, targets, alternative="native")


def test_planned_encodings_execute_at_a_tighter_budget(cnn_case, cnn_options):
    model, inputs, targets = cnn_case
    # Gist's plan with the sparse forms fits where the no-remat schedule does not.
    gist = mt.plan(cnn_options, 1.0, strategy="gist", time_limit=TIME_LIMIT)
    tighter = mt.plan(cnn_options, {"bytes": gist.predicted["peakBytes"] - 1}, strategy="gist", time_limit=TIME_LIMIT)
    for planned in [gist, tighter]:
        if planned.feasible:
            assert any(step["op"] == "encode" for step in planned.schedule)
            check_execution(planned, model, inputs, targets)
    auto = mt.plan(cnn_options, 0.5, strategy="auto", time_limit=TIME_LIMIT)
    # auto picks an alternative where it pays; the reference then needs the same kernels everywhere.
    chosen = {step.get("alt") for step in auto.schedule if step["op"] == "compute" and "alternatives" in _nodes(cnn_options)[step["node"]]}
    if chosen == {None}:
        check_execution(auto, model, inputs, targets)
    elif chosen == {"native"}:
        check_execution(auto, model, inputs, targets, alternative="native")
    else:
        # Mixed kernels have no eager twin: the memory prediction and the loss still hold.
        result = mt.execute(auto, (inputs, targets), update_buffers=False)
        assert result.measured_peak_bytes == auto.predicted["peakBytes"] <= auto.budget_bytes
        torch.testing.assert_close(result.loss, eager_step(model, inputs, targets)[0], rtol=1e-4, atol=0)


def test_checkpoint_export_ignores_options_and_says_so(cnn_case, cnn_options):
    model, inputs, targets = cnn_case
    planned = replayed_plan(cnn_options, options_schedule(cnn_options))
    with pytest.warns(UserWarning, match="ignores the plan's node options"):
        policy = mt.checkpoint_policy(planned)
    assert policy.ignored["encodes"] > 0 and policy.ignored["alternatives"] > 0
    # What it can express still runs: eager gradients, the values saved whole.
    loss, grads, _ = eager_step(model, inputs, targets)
    twin = copy.deepcopy(model)
    wrapped = mt.SelectiveCheckpoint(twin, policy)
    torch.testing.assert_close(loss_fn(wrapped(inputs), targets).detach(), loss, rtol=1e-5, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mt.checkpoint_policy(mt.plan(cnn_options, 1.0, strategy="checkpoint-all", time_limit=TIME_LIMIT))


@pytest.mark.slow
def test_resnet18_with_options():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    inputs = torch.randn(8, 3, 224, 224)
    targets = torch.randint(0, 1000, (8,))
    captured = mt.capture(model, inputs, loss_fn, targets, repeats=1, options=True)
    schedule = options_schedule(captured)
    assert any(step["op"] == "decode" for step in schedule) and any("alt" in step for step in schedule)
    check_execution(replayed_plan(captured, schedule), model, inputs, targets, alternative="native")
    gist = mt.plan(captured, 1.0, strategy="gist", time_limit=TIME_LIMIT)
    assert any(step["op"] == "encode" for step in gist.schedule)
    check_execution(gist, model, inputs, targets)
