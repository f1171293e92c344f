"""The README's PyTorch code runs as written: every ```python block of the PyTorch plugin
section, verbatim, in a fresh interpreter (so `import torchvision` is the real import).
The blocks marked ``<!-- ci: run ... -->`` (the sizing example) are quick and run in the
fast set; the others (resnet18 end to end) are slow."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

PLUGIN_README = REPO_ROOT / "plugins" / "torch" / "README.md"
README = REPO_ROOT / "README.md"
MARK = "<!-- ci: run"


def python_blocks(text: str):
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def marked_blocks(markdown: str, language: str = "python"):
    """The fenced blocks of ``language`` that follow a ``<!-- ci: run ... -->`` line."""
    lines = markdown.split("\n")
    blocks = []
    for at, line in enumerate(lines):
        if not line.startswith(MARK):
            continue
        fence = re.match(r"^```(\w*)", lines[at + 1])
        assert fence, f"line {at + 1}: a ci mark must be followed by a fenced block"
        end = next(index for index in range(at + 2, len(lines)) if lines[index].startswith("```"))
        if fence.group(1) == language:
            blocks.append("\n".join(lines[at + 2 : end]) + "\n")
    return blocks


def plugin_section(text: str) -> str:
    """The README's "## PyTorch plugin" section, up to the next second-level heading."""
    start = text.index("## PyTorch plugin")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def run_block(block: str, name: str, tmp_path) -> subprocess.CompletedProcess:
    script = tmp_path / f"{name}.py"
    script.write_text(block)
    plugin = str(REPO_ROOT / "plugins" / "torch")
    env = dict(os.environ, MEMPLAN_ROOT=str(REPO_ROOT), OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [plugin, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, str(script)], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900)


PLUGIN_BLOCKS = python_blocks(PLUGIN_README.read_text())
MARKED = marked_blocks(PLUGIN_README.read_text())
SLOW_BLOCKS = [block for block in PLUGIN_BLOCKS if block not in MARKED]


def test_both_readmes_show_the_same_code():
    blocks = python_blocks(plugin_section(README.read_text()))
    assert blocks and blocks == PLUGIN_BLOCKS
    assert MARKED and marked_blocks(plugin_section(README.read_text())) == MARKED
    assert all(block in PLUGIN_BLOCKS for block in MARKED)


@pytest.mark.parametrize("index", range(len(MARKED)))
def test_marked_python_block_runs(index, tmp_path):
    done = run_block(MARKED[index], f"readme_marked_{index}", tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    # The sizing example prints the size found first; its own assert checks the measured peak.
    size = done.stdout.split()[0]
    assert int(size) >= 1, done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(SLOW_BLOCKS)))
def test_readme_python_block_runs(index, tmp_path):
    done = run_block(SLOW_BLOCKS[index], f"readme_{index}", tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    # The example prints the plan, then the allocator's peak beside the prediction.
    assert "Plan(status=" in done.stdout and "allocator peak" in done.stdout, done.stdout
