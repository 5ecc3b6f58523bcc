"""The README: its first block is the two set-up commands, its commands and pictures exist."""

from __future__ import annotations

import re
from pathlib import Path

from layoutkit.cli import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_first_block_is_the_two_set_up_commands():
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == ["python -m pip install -e . && layoutkit demo",
                     "python -m pip install -e '.[test]' && python -m pytest -q"]


def test_every_picture_and_link_exists():
    for target in re.findall(r"\]\(((?:docs|samples)/[^)#]+)\)", README):
        assert (ROOT / target).exists(), target


def test_every_subcommand_is_in_the_commands_table():
    for name in EXAMPLES:
        assert f"`layoutkit {name}" in README, name


def test_every_profile_key_is_documented():
    from layoutkit.profile import PROFILE_CHOICES

    for key, values in PROFILE_CHOICES.items():
        row = next(line for line in README.splitlines() if line.startswith(f"| `{key}` |"))
        assert all(f"`{v}" in row for v in values), row
