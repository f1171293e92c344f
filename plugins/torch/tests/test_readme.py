"""The plugin examples of the READMEs marked ``<!-- ci: run ... -->`` run as they are: the
same block in the repository's README and in plugins/torch/README.md, executed here."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO_ROOT

MARK = "<!-- ci: run"


def marked_blocks(markdown: str, language: str):
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
            blocks.append("\n".join(lines[at + 2 : end]))
    return blocks


def test_the_readme_plugin_examples_run_as_they_are():
    top = marked_blocks((Path(REPO_ROOT) / "README.md").read_text(), "python")
    plugin = marked_blocks((Path(REPO_ROOT) / "plugins" / "torch" / "README.md").read_text(), "python")
    assert top and top == plugin
    for code in top:
        namespace: dict = {"__name__": "__readme__"}
        exec(compile(code, "README.md", "exec"), namespace)
        assert namespace["found"].size >= 1
