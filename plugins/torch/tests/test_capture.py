"""capture(): the joint graph as contract JSON, views folded, multi-output ops split,
bytes from real tensors."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import torch

import memplan_torch as mt
from conftest import REPO_ROOT
from helpers import check_execution, eager_step, loss_fn

VIEW_OPS = {"view", "_unsafe_view", "t", "detach", "expand", "permute", "alias", "transpose", "squeeze", "unsqueeze", "reshape"}


@pytest.fixture(scope="module")
def captured(cnn_case):
    model, inputs, targets = cnn_case
    return mt.capture(model, inputs, loss_fn, targets, repeats=2)


def test_graph_follows_the_contract(captured, cnn_case):
    model = cnn_case[0]
    nodes = captured.graph["nodes"]
    seen = set()
    for node in nodes:
        assert node["id"] not in seen
        assert all(source in seen for source in node["inputs"]), node["id"]
        assert isinstance(node["bytes"], int) and node["bytes"] >= 0
        assert node["cost"] >= 0
        seen.add(node["id"])
    kinds = [node["kind"] for node in nodes]
    # Execution order: data inputs, then forward, loss and backward parts in that order.
    assert kinds[:2] == ["input", "input"]
    order = {"input": 0, "forward": 1, "loss": 2, "backward": 3}
    assert [order[kind] for kind in kinds] == sorted(order[kind] for kind in kinds)
    assert {"forward", "loss", "backward"} <= set(kinds)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    assert captured.graph["residentBytes"] == params + buffers
    # Keep nodes: the loss, one per parameter gradient, the updated buffers.
    keep = [node for node in nodes if node.get("keep")]
    keep_ids = {node["id"] for node in keep}
    assert set(captured.program.grad_nodes) == {name for name, _ in model.named_parameters()}
    for name, grad in captured.program.grad_nodes.items():
        assert captured.program.owners(grad) and set(captured.program.owners(grad)) <= keep_ids, name
    assert sum(node["bytes"] for node in keep) >= params
    loss_owner = [node for node in keep if node["kind"] == "loss"]
    assert len(loss_owner) == 1 and loss_owner[0]["bytes"] == 4


def test_views_are_folded_into_their_storage(captured):
    ops = {node["op"] for node in captured.graph["nodes"]}
    assert not ops & VIEW_OPS
    # The flatten/mean/linear path has views in the traced program; their readers point
    # at the storage owner instead.
    traced = {node.target.__name__.split(".")[0] for node in captured.program.gm.graph.nodes if node.op == "call_function"}
    assert traced & VIEW_OPS


def test_multi_output_ops_are_split(captured, cnn_case):
    by_id = {node["id"]: node for node in captured.graph["nodes"]}
    model, inputs, targets = cnn_case
    # Outputs only (no operator temporaries): what a part holds and its transient outputs.
    outputs_only = mt.capture(model, inputs, loss_fn, targets, repeats=1, temporaries=False)
    transient = {node["id"]: node.get("workspaceBytes", 0) for node in outputs_only.graph["nodes"]}
    grads_in = [cid for cid in by_id if cid.startswith("native_batch_norm_backward") and cid.endswith(".0")]
    assert grads_in
    for cid in grads_in:
        stem = cid[: -len(".0")]
        params = by_id[f"{stem}.rest"]
        # The gradient flowing back is freed after its use; the parameter gradients stay.
        assert not by_id[cid].get("keep") and params.get("keep")
        assert by_id[cid]["bytes"] > params["bytes"] == 2 * 16 * 4
        # Each part runs with its own output mask: no transient outputs.
        assert transient[cid] == 0 and transient[params["id"]] == 0
    # Batch norm's forward: the normalized output apart from the small saved statistics.
    forward = [cid for cid in by_id if cid.startswith("_native_batch_norm_legit_functional")]
    assert any(cid.endswith(".0") for cid in forward) and any(cid.endswith(".rest") for cid in forward)


def test_bytes_are_those_of_the_real_tensors(captured, cnn_case):
    _, inputs, targets = cnn_case
    schedule = mt.no_remat_schedule(captured.graph)
    run = mt.run_schedule(captured, schedule, (inputs, targets))
    assert run.step_bytes == mt.replay_memory(captured.graph, schedule)
    by_id = {node["id"]: node for node in captured.graph["nodes"]}
    assert by_id["input.0"]["bytes"] == inputs.numel() * 4
    assert by_id["input.1"]["bytes"] == targets.numel() * 8
    conv = by_id["convolution"]
    assert conv["bytes"] == 8 * 16 * 32 * 32 * 4


def test_engine_accepts_the_graph(captured, tmp_path):
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(captured.graph))
    done = subprocess.run(
        ["node", str(REPO_ROOT / "bin" / "memplan.mjs"), "analyze", str(path), "--json"],
        cwd=str(REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["nodes"] == len(captured.graph["nodes"])


def test_optimizer_state_is_resident(mlp_case):
    model, inputs, targets = mlp_case
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn(model(inputs), targets).backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    plain = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    with_state = mt.capture(model, inputs, loss_fn, targets, optimizer=optimizer, repeats=1)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    # Adam keeps two moments per parameter and a step counter per tensor.
    assert with_state.graph["residentBytes"] - plain.graph["residentBytes"] >= 2 * params


def test_random_operators_are_not_recomputable():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Dropout(0.5), torch.nn.Linear(16, 4))
    captured = mt.capture(model, torch.randn(8, 16), loss_fn, torch.randint(0, 4, (8,)), repeats=1)
    dropout = [node for node in captured.graph["nodes"] if node["op"] == "native_dropout"]
    # The mask and the output come from one draw: one node, never recomputed.
    assert len(dropout) == 1 and dropout[0]["recomputable"] is False


class _Attention(torch.nn.Module):
    def __init__(self, dropout: float):
        super().__init__()
        self.project = torch.nn.Linear(16, 48)
        self.dropout = dropout
        self.head = torch.nn.Linear(16, 4)

    def forward(self, tokens):
        q, k, v = self.project(tokens).view(4, 8, 3, 2, 8).permute(2, 0, 3, 1, 4)
        attended = torch.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout, is_causal=True)
        return self.head(attended.transpose(1, 2).reshape(4, 8, 16).mean(1))


def test_attention_without_dropout_is_recomputable():
    # The attention kernels carry the RNG tag for their dropout; at dropout_p 0 they draw
    # nothing (gpt2-12 at 30 %: 1.41x -> 1.27x once they may be recomputed).
    torch.manual_seed(3)
    tokens, targets = torch.randn(4, 8, 16), torch.randint(0, 4, (4,))
    captured = mt.capture(_Attention(0.0), tokens, loss_fn, targets, repeats=1)
    attention = [node["id"] for node in captured.graph["nodes"] if node["op"] == "_scaled_dot_product_flash_attention_for_cpu"]
    assert attention and all(node.get("recomputable", True) for node in captured.graph["nodes"] if node["id"] in attention)
    # Computing it again right away (as a recomputation does) leaves every value equal.
    schedule = mt.no_remat_schedule(captured.graph)
    at = max(index for index, step in enumerate(schedule) if step["op"] == "compute" and step["node"] in attention)
    node = schedule[at]["node"]
    again = [*schedule[: at + 1], {"op": "free", "node": node}, {"op": "compute", "node": node}, *schedule[at + 1 :]]
    once, twice = (mt.run_schedule(captured, steps, (tokens, targets)).env for steps in (schedule, again))
    assert once.keys() == twice.keys()
    assert all(torch.equal(twice[key], value) for key, value in once.items() if isinstance(value, torch.Tensor))
    # With dropout it is one draw, never recomputed.
    dropped = mt.capture(_Attention(0.5), tokens, loss_fn, targets, repeats=1)
    assert any(node.get("recomputable") is False and node["kind"] == "forward" for node in dropped.graph["nodes"])


class _Routed(torch.nn.Module):
    """Keeps the positive activations only: the output's shape depends on the values."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(16, 4)

    def forward(self, inputs):
        hidden = self.layer(inputs)
        return hidden[hidden.sum(1) > 0]


def test_data_dependent_shapes_are_refused_clearly():
    # Found on HF Mixtral (experts picked by nonzero): the error was fake tensors' own
    # "DynamicOutputShapeException: aten.nonzero.default", naming no line of the model.
    inputs = torch.randn(8, 16)
    with pytest.raises(NotImplementedError, match=r"fixed shapes.*") as raised:
        mt.capture(_Routed(), inputs, lambda output: output.sum(), repeats=1)
    message = str(raised.value)
    assert "aten.nonzero" in message and "test_capture.py" in message and "hidden.sum(1) > 0" in message


class _LayerDrop(torch.nn.Module):
    """Skips each layer when a fresh draw falls below `drop`, as HF's OPT and BART do while
    training (they draw even when the probability is 0); a batch norm has statistics to keep."""

    def __init__(self, drop: float):
        super().__init__()
        self.drop = drop
        self.norm = torch.nn.BatchNorm1d(16)
        self.widen = torch.nn.Linear(16, 64)
        self.layers = torch.nn.ModuleList(torch.nn.Linear(64, 64) for _ in range(4))
        self.head = torch.nn.Linear(64, 4)

    def forward(self, inputs):
        hidden = self.widen(self.norm(inputs))
        for layer in self.layers:
            if self.training and torch.rand([]) < self.drop:
                continue
            hidden = torch.tanh(layer(hidden))
        return self.head(hidden)


def test_a_branch_that_no_draw_changes_follows_the_eager_path():
    # Found on HF OPT and BART at layerdrop 0: the branch read a fake tensor's value and the
    # capture was refused, telling the user to turn off a LayerDrop that was already off.
    torch.manual_seed(5)
    model, inputs, targets = _LayerDrop(0.0), torch.randn(256, 16), torch.randint(0, 4, (256,))
    buffers = {name: buffer.clone() for name, buffer in model.named_buffers()}
    with pytest.warns(UserWarning, match=r"reads tensor values at .*test_capture\.py:\d+ if self\.training and torch\.rand"):
        captured = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    # The eager runs that read the values leave the model's statistics as they were.
    assert all(torch.equal(buffer, buffers[name]) for name, buffer in model.named_buffers())
    # Every layer is in the graph, and a plan of it runs as the eager step does.
    assert sum(node["op"] == "addmm" and node["kind"] == "forward" for node in captured.graph["nodes"]) == 6
    planned = mt.plan(captured, 0.7, strategy="auto", time_limit=5)
    assert planned.recomputed()
    check_execution(planned, model, inputs, targets)


def test_a_path_that_a_draw_decides_is_refused():
    torch.manual_seed(5)
    with pytest.raises(NotImplementedError, match=r"depends on a random draw \(.*test_capture\.py:\d+ if self\.training"):
        mt.capture(_LayerDrop(0.5), torch.randn(8, 16), loss_fn, torch.randint(0, 4, (8,)), repeats=1)


def test_a_loss_read_for_the_log_is_followed_with_dropout():
    # A float read differs with the dropout's draw; it decides no branch, so it is followed.
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Dropout(0.5), torch.nn.Linear(64, 4))
    logged = []

    def logged_loss(output, targets):
        loss = loss_fn(output, targets)
        logged.append(loss.item())
        return loss

    with pytest.warns(UserWarning, match=r"logged\.append\(loss\.item\(\)\)"):
        captured = mt.capture(model, torch.randn(32, 16), logged_loss, torch.randint(0, 4, (32,)), repeats=1)
    assert all(isinstance(value, float) for value in logged)
    assert any(node.get("recomputable") is False and node["kind"] == "forward" for node in captured.graph["nodes"])


class _Checkpointed(torch.nn.Module):
    """Blocks run through torch.utils.checkpoint in its reentrant form (the form torch takes
    when use_reentrant is not given), or plainly."""

    def __init__(self, reentrant):
        super().__init__()
        self.reentrant = reentrant
        self.stem = torch.nn.Linear(16, 64)
        self.blocks = torch.nn.ModuleList(torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh()) for _ in range(4))
        self.head = torch.nn.Linear(64, 4)

    def forward(self, inputs):
        hidden = self.stem(inputs)
        for block in self.blocks:
            if self.reentrant is None:
                hidden = block(hidden)
            else:
                hidden = torch.utils.checkpoint.checkpoint(block, hidden, use_reentrant=self.reentrant)
        return self.head(hidden)


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpointed_blocks_are_captured_as_plain_calls(reentrant):
    # The reentrant form refused the trace ("incompatible with .grad()"); the plan decides
    # what is recomputed, so both forms capture the step the plain model is.
    inputs, targets = torch.randn(256, 16), torch.randint(0, 4, (256,))
    graphs = []
    for form in (None, reentrant):
        torch.manual_seed(6)
        model = _Checkpointed(form)
        captured = mt.capture(model, inputs, loss_fn, targets, repeats=1)
        graphs.append(captured.graph["nodes"])
    shape = lambda nodes: [(node["id"], node["op"], node["inputs"], node["bytes"]) for node in nodes]  # noqa: E731
    assert shape(graphs[1]) == shape(graphs[0])
    assert torch.utils.checkpoint.CheckpointFunction.__name__ == "CheckpointFunction"
    planned = mt.plan(captured, 0.7, strategy="auto", time_limit=5)
    assert planned.recomputed()
    check_execution(planned, model, inputs, targets)


def test_ids_are_stable_across_captures(mlp_case):
    model, inputs, targets = mlp_case
    first = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    second = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    def strip(graph):
        return [(n["id"], n["op"], n["kind"], n["inputs"], n["bytes"], n.get("keep", False)) for n in graph["nodes"]]

    assert strip(first.graph) == strip(second.graph)
    inputs_nodes = [node for node in first.graph["nodes"] if node["kind"] == "input"]
    assert [node["id"] for node in inputs_nodes] == ["input.0", "input.1"]
    assert all(node["recomputable"] is False for node in inputs_nodes)


def test_repeated_calls_are_timed_once(mlp_case, monkeypatch):
    import importlib

    profile = importlib.import_module("memplan_torch.profile")
    model, inputs, targets = mlp_case
    timed = []
    original = profile._time

    def counting(program, call, repeats):
        timed.append(call.spec.id)
        return original(program, call, repeats)

    monkeypatch.setattr(profile, "_time", counting)
    captured = mt.capture(model, inputs, loss_fn, targets, repeats=1)
    nodes = [node for node in captured.graph["nodes"] if node["kind"] != "input"]
    # The MLP's seven hidden layers are equal: their calls are timed once and share the cost.
    assert len(timed) == len(set(timed)) < len(nodes)
    # 64 -> 64 layers (after a tanh) are one call signature: one cost.
    hidden = [node for node in nodes if node["op"] == "addmm" and node["inputs"][0].startswith("tanh") and node["bytes"] == 1024 * 64 * 4]
    assert len(hidden) == 6 and len({node["cost"] for node in hidden}) == 1
    assert len(timed) < len(nodes) / 2


def test_the_joint_graph_traced_once_is_aot_export_modules(cnn_case, monkeypatch):
    # capture() flattens the joint graph AOTAutograd traces instead of tracing it a second
    # time as aot_export_module does: the contract graph, the gradients and the buffer
    # updates (the CNN's batch norms) must be the same as from aot_export_module itself.
    import importlib

    capture_module = importlib.import_module("memplan_torch.capture")
    assert capture_module._joint_export is not None, "this torch lacks the pieces of aot_export_module"
    model, inputs, targets = cnn_case
    traced = []
    original = capture_module._export_joint_once

    def counting(*args):
        traced.append(True)
        return original(*args)

    monkeypatch.setattr(capture_module, "_export_joint_once", counting)
    once = mt.capture(copy.deepcopy(model), inputs, loss_fn, targets, repeats=1)
    monkeypatch.setattr(capture_module, "_joint_export", None)
    twice = mt.capture(copy.deepcopy(model), inputs, loss_fn, targets, repeats=1)
    assert len(traced) == 1
    without_cost = lambda graph: [{key: value for key, value in node.items() if key != "cost"} for node in graph["nodes"]]  # noqa: E731
    assert without_cost(once.graph) == without_cost(twice.graph)
    assert once.graph.keys() - {"nodes"} == twice.graph.keys() - {"nodes"}
    for program in (once.program, twice.program):
        assert program.buffer_updates and program.grad_nodes
    assert once.program.buffer_updates.keys() == twice.program.buffer_updates.keys()
    assert once.program.grad_nodes.keys() == twice.program.grad_nodes.keys()
    targets_of = lambda nodes: [node.target for node in nodes.values()]  # noqa: E731
    assert targets_of(once.program.grad_nodes) == targets_of(twice.program.grad_nodes)
    assert once.program.loss_node.target == twice.program.loss_node.target


class _HeadWithUnusedParts(torch.nn.Module):
    """A model as HF's masked-LM heads are built: a decoder whose weight is the embedding's
    and whose bias is also registered under a second name that forward never reads, and a
    pooler that the loss does not use."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(16, 8)
        self.hidden = torch.nn.Linear(8, 8)
        self.decoder = torch.nn.Linear(8, 16)
        self.decoder.weight = self.embed.weight
        self.bias = torch.nn.Parameter(torch.zeros(16))
        self.decoder.bias = self.bias
        self.pooler = torch.nn.Linear(8, 8)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.tanh(self.hidden(self.embed(tokens))))


def test_parameters_the_loss_does_not_reach_get_no_gradient():
    # AOTAutograd alone refuses such a model ("a parameter that did not receive a gradient").
    torch.manual_seed(0)
    model = _HeadWithUnusedParts()
    tokens, targets = torch.randint(0, 16, (4, 6)), torch.randint(0, 16, (4 * 6,))
    loss = lambda logits, target: loss_fn(logits.reshape(-1, 16), target)  # noqa: E731
    captured = mt.capture(model, tokens, loss, targets, repeats=1)
    planned = mt.plan(captured, "100%", strategy="checkpoint-all")
    result = mt.execute(planned)
    twin = copy.deepcopy(model)
    eager = loss(twin(tokens), targets)
    eager.backward()
    torch.testing.assert_close(result.loss, eager.detach(), rtol=1e-6, atol=0)
    # The pooler has no gradient, as in eager autograd; a parameter read under two names
    # (the tied embedding) has one per name, which sum to eager's.
    assert not any(name.startswith("pooler.") for name in result.grads)
    aliases: dict = {}
    for name, param in twin.named_parameters(remove_duplicate=False):
        aliases.setdefault(id(param), (param, []))[1].append(name)
    for param, names in aliases.values():
        if param.grad is None:
            assert not any(name in result.grads for name in names), names
            continue
        measured = sum(result.grads[name] for name in names if name in result.grads)
        torch.testing.assert_close(measured, param.grad, rtol=1e-5, atol=1e-7)


class _MaskedPooling(torch.nn.Module):
    """Pools over the unmasked positions, with a shortcut when nothing is masked that reads
    the mask's values, as HF's attention masks do unless torch.compile is tracing."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(8, 4)

    def forward(self, x, mask):
        hidden = self.proj(x)
        if not torch.compiler.is_compiling() and bool(mask.all()):
            return hidden.mean(1)
        weights = mask.to(hidden.dtype)[..., None]
        return (hidden * weights).sum(1) / weights.sum(1)


def test_a_model_that_reads_a_mask_is_traced_as_under_compile():
    torch.manual_seed(0)
    model = _MaskedPooling()
    x, targets = torch.randn(3, 5, 8), torch.randint(0, 4, (3,))
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[0, 3:] = False
    captured = mt.capture(model, (x, mask), loss_fn, targets, repeats=1)
    result = mt.execute(mt.plan(captured, "100%", strategy="checkpoint-all"))
    eager = loss_fn(model(x, mask), targets)
    torch.testing.assert_close(result.loss, eager.detach(), rtol=1e-6, atol=0)
    # The patch is undone after capture.
    assert torch.compiler.is_compiling() is False


class _MixtralLogits(torch.nn.Module):
    """A 2-layer HF Mixtral (4 experts, 2 per token) returning its logits, one row per token."""

    def __init__(self, dtype: torch.dtype):
        super().__init__()
        import transformers

        config = transformers.MixtralConfig(
            vocab_size=512,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            num_local_experts=4,
            num_experts_per_tok=2,
            max_position_embeddings=128,
            use_cache=False,
        )
        self.model = transformers.MixtralForCausalLM(config).to(dtype)

    def forward(self, tokens):
        logits = self.model(input_ids=tokens).logits
        return logits.reshape(-1, logits.shape[-1])


@pytest.mark.slow
def test_hugging_face_mixture_of_experts_captures_in_bfloat16():
    # Found on HF Mixtral and Qwen2-MoE (transformers 5.18): in float32 the experts' fallback
    # reads each expert's token count in its backward, and the refusal told the user to turn
    # the routing off. In bfloat16 they run as one grouped_mm with fixed shapes.
    pytest.importorskip("transformers")
    tokens = torch.randint(0, 512, (4, 64), generator=torch.Generator().manual_seed(0))
    targets = tokens.reshape(-1)
    torch.manual_seed(7)
    with pytest.raises(NotImplementedError, match="capture the model in bfloat16"):
        mt.capture(_MixtralLogits(torch.float32).train(), tokens, loss_fn, targets, repeats=1)
    torch.manual_seed(7)
    model = _MixtralLogits(torch.bfloat16).train()
    captured = mt.capture(model, tokens, loss_fn, targets, repeats=1)
    assert any(node["op"] == "_grouped_mm" for node in captured.graph["nodes"])
    planned = mt.plan(captured, 0.7, strategy="auto", time_limit=5)
    assert planned.recomputed()
    loss, grads, _ = eager_step(model, tokens, targets)
    result = mt.execute(planned, (tokens, targets))
    # bfloat16 rounds every sum: where the graph adds a tensor's gradient contributions in
    # another order than eager autograd does (the embedding's: 1 % of its elements differ, by
    # at most 2e-4), they agree to bfloat16's precision of the gradient's scale.
    torch.testing.assert_close(result.loss, loss)
    assert set(result.grads) == set(grads)
    for name, grad in grads.items():
        scale = grad.abs().max().item()
        where = lambda text, name=name: f"{name}: {text}"  # noqa: E731
        torch.testing.assert_close(result.grads[name], grad, rtol=1.6e-2, atol=1e-2 * scale, msg=where)
    assert result.measured_peak_bytes == planned.predicted["peakBytes"] <= planned.budget_bytes


class _BagOfWords(torch.nn.Module):
    """Token embeddings averaged, then a linear classifier."""

    def __init__(self, sparse: bool):
        super().__init__()
        self.tokens = torch.nn.Embedding(50, 16, sparse=sparse)
        self.head = torch.nn.Linear(16, 10)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.tokens(tokens).mean(1))


def test_an_embedding_with_sparse_gradients_is_refused_by_name(monkeypatch):
    """A sparse gradient has no storage to size: the refusal names the module and the way
    out, before tracing; past that check, the operator that makes one is named instead."""
    torch.manual_seed(0)
    tokens, targets = torch.randint(0, 50, (4, 8)), torch.randint(0, 10, (4,))
    with pytest.raises(NotImplementedError, match=r"tokens \(Embedding with sparse=True\).*sparse=False"):
        mt.capture(_BagOfWords(sparse=True), tokens, loss_fn, targets, repeats=1)
    # memplan_torch.capture is also the name of the function the package exports.
    monkeypatch.setattr(sys.modules["memplan_torch.capture"], "_refuse_sparse_gradients", lambda model: None)
    with pytest.raises(NotImplementedError, match=r"sparse_coo_tensor.*layout torch.sparse_coo.*sparse=False"):
        mt.capture(_BagOfWords(sparse=True), tokens, loss_fn, targets, repeats=1)
    # Frozen, the same table has no gradient at all, and the step captures.
    frozen = _BagOfWords(sparse=True)
    frozen.tokens.weight.requires_grad_(False)
    captured = mt.capture(frozen, tokens, loss_fn, targets, repeats=1)
    assert not any("sparse" in node["op"] for node in captured.graph["nodes"])
