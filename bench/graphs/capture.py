"""Captures real PyTorch training steps as memplan graphs (bench/graphs/NAME.json.gz).

Each graph is one training step (forward, loss, backward with respect to every
parameter) captured with memplan_torch.capture on CPU, written as gzipped contract JSON.
The models:

  resnet18, resnet50, mobilenet_v2, vgg16   torchvision, random weights, batch 8,
                                            3x224x224, cross-entropy over 1000 classes
  unet                                      a 4-level UNet (defined below), batch 4,
                                            3x128x128, per-pixel cross-entropy, 2 classes
  gpt2-L, llama-L                           HF transformers decoders with L layers
                                            (L = 12 and 32 by default; any L works, e.g.
                                            gpt2-2), built from config objects with random
                                            weights, batch 4, sequence 256, vocabulary
                                            8192, hidden 384, causal-LM loss

The GPT-2-style decoder has learned positions, LayerNorm, GELU MLPs and tied embedding
and head weights; the Llama-style one has RMSNorm, rotary embeddings, SwiGLU MLPs and
grouped-query attention. Both use causal scaled-dot-product attention and no dropout
(most decoder pretraining runs without it, and a random operator cannot be recomputed).
Nothing is downloaded.

With --zoo it captures a wider set into bench/graphs/zoo (its own manifest.json):
torchvision densenet121 (batch 4), efficientnet_b0, googlenet, regnet_y_400mf,
shufflenet_v2_x1_0, mnasnet1_0 (batch 8), convnext_tiny and swin_t (batch 4), all at
3x224x224; vit-s, a 6-layer 256-wide VisionTransformer on 64x64 images in 8x8 patches
(batch 16); bert-6, a 6-layer BertForMaskedLM (its tied head and an unread bias name);
t5-4, T5ForConditionalGeneration with 4+4 layers and its own loss (relative-position
buckets); lstm-2, a 2-layer LSTM language model over 64 steps (batch 8); deeplabv3, torchvision's
DeepLabV3 on MobileNetV3-Large (dilated, per-pixel loss over 21 classes, batch 4); wav2vec2-4,
Wav2Vec2ForCTC with 4 layers on 2 x 1 s of 16 kHz audio (its convolutional feature encoder);
mixtral-4, MixtralForCausalLM with 4 layers of 8 experts (2 per token) in bfloat16, where HF's
experts run as one grouped_mm with fixed shapes; llama-lora-8, the 8-layer Llama-style
decoder fine-tuned with LoRA (its weights frozen, rank-8 adapters on the attention's query
and value projections, as PEFT's default); inception_v3, torchvision's Inception-v3 at
4x3x299x299 with its auxiliary classifier's loss (0.4x), as its reference training adds it.
The HF models use the decoders' sizes.
`npm run bench -- --suite real --graphs bench/graphs/zoo` plans them.

Usage (from the repository root; costs are measured, so run it on a quiet machine):

  PYTHONPATH=plugins/torch python3 bench/graphs/capture.py                 # the default set
  PYTHONPATH=plugins/torch python3 bench/graphs/capture.py resnet18 llama-2 --out /tmp/g
  PYTHONPATH=plugins/torch python3 bench/graphs/capture.py resnet18 resnet50 vgg16 unet --options
  PYTHONPATH=plugins/torch python3 bench/graphs/capture.py --zoo

With --options each graph is captured with node options (plugins/torch/memplan_torch/
options.py: sign bits and lossless sparse forms of activations, convolution with oneDNN
off) into NAME-options.json.gz beside the plain NAME.json.gz (`npm run bench -- --suite
options` compares the two).

bench/graphs/manifest.json records, per graph, the shapes, node count and capture time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import torch
import torch.nn as nn

import memplan_torch as mt

DEFAULT_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "vgg16", "unet", "gpt2-12", "gpt2-32", "llama-12", "llama-32"]
# A wider set (--zoo, into bench/graphs/zoo): architectures the default set lacks. The
# torchvision models keep their dropout and stochastic depth (random operators, which
# are never recomputed).
ZOO_MODELS = [
    "densenet121",
    "efficientnet_b0",
    "googlenet",
    "regnet_y_400mf",
    "shufflenet_v2_x1_0",
    "mnasnet1_0",
    "convnext_tiny",
    "swin_t",
    "vit-s",
    "bert-6",
    "t5-4",
    "opt-6",
    "lstm-2",
    "deeplabv3",
    "wav2vec2-4",
    "mixtral-4",
    "llama-lora-8",
    "inception_v3",
]
ZOO_BATCH = {"densenet121": 4, "convnext_tiny": 4, "swin_t": 4}
HERE = Path(__file__).resolve().parent

# Decoder shapes: a batch of 4 sequences of 256 tokens.
BATCH, SEQUENCE, VOCABULARY, HIDDEN, HEADS = 4, 256, 8192, 384, 6


# ---------------------------------------------------------------------------------------
# UNet.


class DoubleConv(nn.Sequential):
    """Two 3x3 convolutions, each followed by batch norm and ReLU."""

    def __init__(self, channels_in: int, channels_out: int):
        super().__init__(
            nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """The UNet of Ronneberger et al. with 4 levels: max-pool down, transposed-convolution
    up, skip connections concatenated on the channel axis."""

    def __init__(self, channels_in: int = 3, classes: int = 2, width: int = 32, levels: int = 4):
        super().__init__()
        widths = [width * 2**level for level in range(levels + 1)]
        self.down = nn.ModuleList()
        previous = channels_in
        for channels in widths[:-1]:
            self.down.append(DoubleConv(previous, channels))
            previous = channels
        self.pool = nn.MaxPool2d(2)
        self.bottom = DoubleConv(widths[-2], widths[-1])
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for channels in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(channels * 2, channels, 2, stride=2))
            self.merge.append(DoubleConv(channels * 2, channels))
        self.head = nn.Conv2d(widths[0], classes, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        skips = []
        hidden = image
        for block in self.down:
            hidden = block(hidden)
            skips.append(hidden)
            hidden = self.pool(hidden)
        hidden = self.bottom(hidden)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips)):
            hidden = merge(torch.cat([skip, up(hidden)], dim=1))
        return self.head(hidden)


# ---------------------------------------------------------------------------------------
# Decoders from HF transformers.


class CausalLM(nn.Module):
    """Returns the logits of an HF causal LM (no cache), so the loss is the plugin's."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=tokens, use_cache=False).logits


def causal_lm_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy: position t predicts token t + 1."""
    return nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def _traceable_transformers():
    """Imports transformers so that its models trace: the packed-sequence check reads
    tensor values (data-dependent control flow), and a training batch here is never packed."""
    import transformers
    import transformers.masking_utils as masking

    masking.find_packed_sequence_indices = lambda position_ids: None
    transformers.logging.set_verbosity_error()
    return transformers


def make_decoder(family: str, layers: int) -> nn.Module:
    """A GPT-2-style or Llama-style decoder with random weights from a config object."""
    transformers = _traceable_transformers()
    if family == "gpt2":
        config = transformers.GPT2Config(
            vocab_size=VOCABULARY,
            n_positions=SEQUENCE,
            n_embd=HIDDEN,
            n_layer=layers,
            n_head=HEADS,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            bos_token_id=0,
            eos_token_id=0,
        )
        config._attn_implementation = "sdpa"
        return CausalLM(transformers.GPT2LMHeadModel(config))
    config = transformers.LlamaConfig(
        vocab_size=VOCABULARY,
        hidden_size=HIDDEN,
        intermediate_size=1024,
        num_hidden_layers=layers,
        num_attention_heads=HEADS,
        num_key_value_heads=2,
        max_position_embeddings=SEQUENCE,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    config._attn_implementation = "sdpa"
    return CausalLM(transformers.LlamaForCausalLM(config))


# ---------------------------------------------------------------------------------------
# The cases.

Case = Tuple[nn.Module, torch.Tensor, torch.Tensor, Callable[..., torch.Tensor], Dict[str, object]]


def make_case(name: str) -> Case:
    """Model, example input, targets, loss function and a description for the manifest."""
    torch.manual_seed(0)
    if name in ("resnet18", "resnet50", "mobilenet_v2", "vgg16"):
        import torchvision

        model = getattr(torchvision.models, name)(weights=None)
        inputs, targets = torch.randn(8, 3, 224, 224), torch.randint(0, 1000, (8,))
        about = {"source": f"torchvision {torchvision.__version__}", "input": [8, 3, 224, 224], "loss": "cross_entropy"}
        return model, inputs, targets, nn.functional.cross_entropy, about
    if name == "unet":
        model = UNet()
        inputs, targets = torch.randn(4, 3, 128, 128), torch.randint(0, 2, (4, 128, 128))
        about = {"source": "bench/graphs/capture.py UNet(width=32, levels=4)", "input": [4, 3, 128, 128], "loss": "cross_entropy"}
        return model, inputs, targets, nn.functional.cross_entropy, about
    if name in ZOO_MODELS[:8]:
        return _torchvision_case(name, ZOO_BATCH.get(name, 8))
    if name in ZOO_MODELS[8:]:
        return _zoo_case(name)
    family, _, layers = name.partition("-")
    if family in ("gpt2", "llama") and layers.isdigit():
        model = make_decoder(family, int(layers))
        tokens = torch.randint(0, VOCABULARY, (BATCH, SEQUENCE))
        import transformers

        about = {
            "source": f"transformers {transformers.__version__} {type(model.model).__name__}",
            "layers": int(layers),
            "input": [BATCH, SEQUENCE],
            "hidden": HIDDEN,
            "vocabulary": VOCABULARY,
            "loss": "causal-LM cross_entropy",
        }
        return model, tokens, tokens, causal_lm_loss, about
    raise SystemExit(f"capture.py: unknown model {name!r} (known: {', '.join(DEFAULT_MODELS + ZOO_MODELS)}, gpt2-L, llama-L)")


def _torchvision_case(name: str, batch: int) -> Case:
    import torchvision

    extra = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **extra)
    inputs, targets = torch.randn(batch, 3, 224, 224), torch.randint(0, 1000, (batch,))
    about = {"source": f"torchvision {torchvision.__version__}", "input": [batch, 3, 224, 224], "loss": "cross_entropy"}
    return model, inputs, targets, nn.functional.cross_entropy, about


class _TokensToLoss(nn.Module):
    """An HF model whose forward returns its own loss from input ids and labels."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=tokens, labels=labels).loss


class _Logits(nn.Module):
    """The logits of an HF model from input ids (an encoder: no cache to turn off)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=tokens).logits


class _LstmLM(nn.Module):
    """A 2-layer LSTM language model: embedding, LSTM, vocabulary head."""

    def __init__(self, vocabulary: int = 1000, width: int = 256):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, 128)
        self.lstm = nn.LSTM(128, width, num_layers=2, batch_first=True)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(self.embed(tokens))[0])


class _SegmentationOut(nn.Module):
    """The per-pixel logits of a torchvision segmentation model (its "out" head)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image)["out"]


class _AudioLogits(nn.Module):
    """The frame logits of an HF audio model from raw samples, averaged over time."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        return self.model(input_values=samples).logits.mean(1)


class _LowRankAdapted(nn.Module):
    """A frozen linear layer plus a trainable low-rank update (LoRA): base(x) + (x A^T) B^T,
    with B zero at the start as LoRA initializes it."""

    def __init__(self, base: nn.Linear, rank: int):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.down = nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
        self.up = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.base(hidden) + (hidden @ self.down.t()) @ self.up.t()


def _flat_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _inception_loss(output: Any, targets: torch.Tensor) -> torch.Tensor:
    """Inception-v3's training loss: the main logits' cross entropy plus 0.4 times the auxiliary head's."""
    main = nn.functional.cross_entropy(output.logits, targets)
    return main + 0.4 * nn.functional.cross_entropy(output.aux_logits, targets)


def _zoo_case(name: str) -> Case:
    """The zoo's models that are not torchvision classifiers."""
    if name == "vit-s":
        import torchvision

        model = torchvision.models.VisionTransformer(
            image_size=64, patch_size=8, num_layers=6, num_heads=4, hidden_dim=256, mlp_dim=1024, num_classes=100
        )
        inputs, targets = torch.randn(16, 3, 64, 64), torch.randint(0, 100, (16,))
        about = {"source": "torchvision VisionTransformer(64 px, patch 8, 6 x 256)", "input": [16, 3, 64, 64], "loss": "cross_entropy"}
        return model, inputs, targets, nn.functional.cross_entropy, about
    if name == "lstm-2":
        tokens = torch.randint(0, 1000, (8, 64))
        about = {"source": "bench/graphs/capture.py 2-layer LSTM LM (256 wide)", "input": [8, 64], "loss": "cross_entropy"}
        return _LstmLM(), tokens, tokens, _flat_cross_entropy, about
    if name == "deeplabv3":
        import torchvision

        model = torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21)
        inputs, targets = torch.randn(4, 3, 224, 224), torch.randint(0, 21, (4, 224, 224))
        about = {"source": f"torchvision {torchvision.__version__} deeplabv3_mobilenet_v3_large", "input": [4, 3, 224, 224]}
        return _SegmentationOut(model), inputs, targets, nn.functional.cross_entropy, {**about, "loss": "per-pixel cross_entropy"}
    if name == "inception_v3":
        import torchvision

        # Trained as torchvision's reference script trains it: 299 x 299 inputs, and the
        # auxiliary classifier's loss weighted 0.4 beside the main one.
        model = torchvision.models.inception_v3(weights=None, init_weights=False)
        inputs, targets = torch.randn(4, 3, 299, 299), torch.randint(0, 1000, (4,))
        about = {"source": f"torchvision {torchvision.__version__} inception_v3", "input": [4, 3, 299, 299]}
        return model, inputs, targets, _inception_loss, {**about, "loss": "cross_entropy + 0.4 x auxiliary cross_entropy"}
    transformers = _traceable_transformers()
    if name == "wav2vec2-4":
        # Its encoder draws torch.rand for LayerDrop in training even at probability 0, as
        # OPT's decoder does: the capture follows the eager run's path there.
        config = transformers.Wav2Vec2Config(
            vocab_size=32,
            hidden_size=HIDDEN,
            num_hidden_layers=4,
            num_attention_heads=HEADS,
            intermediate_size=4 * HIDDEN,
            layerdrop=0.0,
            mask_time_prob=0.0,
            hidden_dropout=0.0,
            attention_dropout=0.0,
            activation_dropout=0.0,
            feat_proj_dropout=0.0,
        )
        samples, targets = torch.randn(2, 16000), torch.randint(0, 32, (2,))
        about = {"source": f"transformers {transformers.__version__} Wav2Vec2ForCTC", "layers": 4, "input": [2, 16000]}
        model = _AudioLogits(transformers.Wav2Vec2ForCTC(config))
        return model, samples, targets, nn.functional.cross_entropy, {**about, "loss": "cross_entropy of the time-averaged logits"}
    if name == "llama-lora-8":
        model = make_decoder("llama", 8).requires_grad_(False)
        for layer in model.model.model.layers:
            attention = layer.self_attn
            attention.q_proj = _LowRankAdapted(attention.q_proj, 8)
            attention.v_proj = _LowRankAdapted(attention.v_proj, 8)
        tokens = torch.randint(0, VOCABULARY, (BATCH, SEQUENCE))
        about = {"source": f"transformers {transformers.__version__} LlamaForCausalLM, LoRA rank 8 on q_proj and v_proj", "layers": 8}
        return model, tokens, tokens, causal_lm_loss, {**about, "input": [BATCH, SEQUENCE], "loss": "causal-LM cross_entropy"}
    if name == "mixtral-4":
        # In float32 HF's experts fall back to a loop over each expert's tokens, which the
        # capture refuses (memplan_torch/capture.py, _routing_hint).
        config = transformers.MixtralConfig(
            vocab_size=VOCABULARY,
            hidden_size=HIDDEN,
            intermediate_size=2 * HIDDEN,
            num_hidden_layers=4,
            num_attention_heads=HEADS,
            num_key_value_heads=2,
            num_local_experts=8,
            num_experts_per_tok=2,
            max_position_embeddings=SEQUENCE,
        )
        model = CausalLM(transformers.MixtralForCausalLM(config)).to(torch.bfloat16)
        tokens = torch.randint(0, VOCABULARY, (BATCH, SEQUENCE))
        about = {"source": f"transformers {transformers.__version__} MixtralForCausalLM (bfloat16)", "layers": 4, "input": [BATCH, SEQUENCE]}
        return model, tokens, tokens, causal_lm_loss, {**about, "loss": "causal-LM cross_entropy"}
    if name == "opt-6":
        # OPT's decoder draws torch.rand for LayerDrop in training even at probability 0: the
        # capture follows the eager run's path there (memplan_torch/capture.py, _branch_values).
        config = transformers.OPTConfig(
            vocab_size=VOCABULARY,
            hidden_size=HIDDEN,
            ffn_dim=4 * HIDDEN,
            num_hidden_layers=6,
            num_attention_heads=HEADS,
            max_position_embeddings=SEQUENCE,
            word_embed_proj_dim=HIDDEN,
            dropout=0.0,
            attention_dropout=0.0,
            layerdrop=0.0,
        )
        config._attn_implementation = "sdpa"
        model = CausalLM(transformers.OPTForCausalLM(config))
        tokens = torch.randint(0, VOCABULARY, (BATCH, SEQUENCE))
        about = {"source": f"transformers {transformers.__version__} OPTForCausalLM", "layers": 6, "input": [BATCH, SEQUENCE]}
        return model, tokens, tokens, causal_lm_loss, {**about, "loss": "causal-LM cross_entropy"}
    if name == "bert-6":
        config = transformers.BertConfig(
            vocab_size=VOCABULARY,
            hidden_size=HIDDEN,
            num_hidden_layers=6,
            num_attention_heads=HEADS,
            intermediate_size=4 * HIDDEN,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
            max_position_embeddings=SEQUENCE,
        )
        config._attn_implementation = "sdpa"
        model = _Logits(transformers.BertForMaskedLM(config))
        tokens = torch.randint(0, VOCABULARY, (BATCH, SEQUENCE))
        about = {"source": f"transformers {transformers.__version__} BertForMaskedLM", "layers": 6, "input": [BATCH, SEQUENCE]}
        return model, tokens, tokens, _flat_cross_entropy, {**about, "loss": "masked-LM cross_entropy (every position)"}
    config = transformers.T5Config(
        vocab_size=VOCABULARY,
        d_model=HIDDEN,
        d_kv=HIDDEN // HEADS,
        d_ff=4 * HIDDEN,
        num_layers=4,
        num_decoder_layers=4,
        num_heads=HEADS,
        dropout_rate=0.0,
        decoder_start_token_id=0,
        pad_token_id=0,
    )
    tokens, labels = torch.randint(1, VOCABULARY, (BATCH, SEQUENCE)), torch.randint(1, VOCABULARY, (BATCH, SEQUENCE // 2))
    about = {"source": f"transformers {transformers.__version__} T5ForConditionalGeneration", "layers": 4, "input": [BATCH, SEQUENCE]}
    return _TokensToLoss(transformers.T5ForConditionalGeneration(config)), (tokens, labels), None, lambda loss: loss, {**about, "loss": "the model's"}


def write_graph(graph: dict, path: Path) -> None:
    """Gzipped JSON with a fixed timestamp, so equal graphs give equal files."""
    data = json.dumps(graph, separators=(",", ":")).encode()
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
        handle.write(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="models to capture (default: the committed set, or the zoo with --zoo)")
    parser.add_argument("--zoo", action="store_true", help=f"the wider set into bench/graphs/zoo: {', '.join(ZOO_MODELS)}")
    parser.add_argument("--out", type=Path, help="output folder (default: bench/graphs, or bench/graphs/zoo with --zoo)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per node for its cost (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the machines are shared)")
    parser.add_argument(
        "--options",
        action="store_true",
        help="capture with node options (encodings, alternatives) into NAME-options.json.gz; the plain NAME.json.gz stays",
    )
    options = parser.parse_args()
    options.models = options.models or (ZOO_MODELS if options.zoo else DEFAULT_MODELS)
    options.out = options.out or (HERE / "zoo" if options.zoo else HERE)
    torch.set_num_threads(options.threads)
    options.out.mkdir(parents=True, exist_ok=True)
    manifest_path = options.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for name in options.models:
        model, inputs, targets, loss_fn, about = make_case(name)
        started = time.perf_counter()
        captured = mt.capture(model, inputs, loss_fn, targets, repeats=options.repeats, name=name, options=options.options)
        seconds = time.perf_counter() - started
        key = f"{name}-options" if options.options else name
        write_graph(captured.graph, options.out / f"{key}.json.gz")
        nodes = captured.graph["nodes"]
        if options.options:
            about = {
                **about,
                "encodings": sum(len(node.get("encodings", [])) for node in nodes),
                "alternatives": sum(len(node.get("alternatives", [])) for node in nodes),
            }
        manifest[key] = {
            **about,
            "nodes": len(nodes),
            "residentBytes": captured.graph["residentBytes"],
            "nodesWithWorkspace": sum(1 for node in nodes if node.get("workspaceBytes")),
            "captureSeconds": round(seconds, 1),
            "traceSeconds": round(captured.fx_seconds, 1),
            "profileSeconds": round(captured.profile_seconds, 1),
            "repeats": options.repeats,
            "threads": options.threads,
            "torch": torch.__version__,
            "machine": platform.machine(),
        }
        print(f"{key}: {len(nodes)} nodes, captured in {seconds:.1f} s", flush=True)
        manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
