"""The README's PyTorch code runs as written: every ```python block of the PyTorch plugin
section, verbatim, in a fresh interpreter (so `import torchvision` is the real import)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

PLUGIN_README = REPO_ROOT / "plugins" / "torch" / "README.md"
README = REPO_ROOT / "README.md"


def python_blocks(text: str):
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def plugin_section(text: str) -> str:
    """The README's "## PyTorch plugin" section, up to the next second-level heading."""
    start = text.index("## PyTorch plugin")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_both_readmes_show_the_same_code():
    blocks = python_blocks(plugin_section(README.read_text()))
    assert blocks and blocks == python_blocks(PLUGIN_README.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(python_blocks(PLUGIN_README.read_text()))))
def test_readme_python_block_runs(index, tmp_path):
    block = python_blocks(PLUGIN_README.read_text())[index]
    script = tmp_path / f"readme_{index}.py"
    script.write_text(block)
    plugin = str(REPO_ROOT / "plugins" / "torch")
    env = dict(os.environ, MEMPLAN_ROOT=str(REPO_ROOT), OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [plugin, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    # The example prints the plan, then the allocator's peak beside the prediction.
    assert "Plan(status=" in done.stdout and "allocator peak" in done.stdout, done.stdout
