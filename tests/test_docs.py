"""The README and the CLI agree: every command the README shows exists, every command is documented,
and the exit-code table lists exactly the codes rehearse uses (sqlite-utils' docs test is the model)."""

from __future__ import annotations

import re

import click
import typer

from rehearse import errors
from rehearse.cli import NO_SPEECH_EXIT, app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def cli_commands() -> set[str]:
    """Every command path: 'score', 'questions list', 'learned remove', ..."""
    root = typer.main.get_command(app)
    out: set[str] = set()

    def walk(cmd: click.Command, prefix: str) -> None:
        if getattr(cmd, "commands", None):  # a group (typer may ship its own click)
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            out.add(prefix)

    walk(root, "")
    return out


def code() -> str:
    """The README's code: fenced blocks and `inline spans`, where commands are shown."""
    blocks = re.findall(r"```.*?\n(.*?)```", README, re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.S))
    return "\n".join(blocks + spans)


def readme_commands() -> set[str]:
    """Every 'rehearse X [Y]' the README's code shows, resolved to the longest command path that exists."""
    known = cli_commands()
    found: set[str] = set()
    for m in re.finditer(r"(?<![\w/.-])rehearse((?: [a-z][a-z-]*){1,2})", code()):
        words = m.group(1).split()
        two = " ".join(words[:2])
        found.add(two if two in known else words[0])
    return found


def test_every_command_in_the_readme_exists():
    missing = readme_commands() - cli_commands()
    assert not missing, f"the README shows commands the CLI does not have: {sorted(missing)}"


def test_every_command_is_in_the_readme():
    undocumented = cli_commands() - readme_commands()
    assert not undocumented, f"commands missing from the README: {sorted(undocumented)}"


def test_the_exit_code_table_is_complete_and_true():
    table = re.search(r"Exit codes:\n\n\| code \| meaning \|\n\| --- \| --- \|\n((?:\|.*\|\n)+)", README)
    assert table, "the README's exit-code table is missing"
    documented = {int(m.group(1)) for m in re.finditer(r"^\| (\d+) \|", table.group(1), re.M)}
    used = {0, 1, NO_SPEECH_EXIT, 130}  # success, an unexpected error, no speech, Ctrl-C
    used |= {cls.exit_code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.RehearseError)}
    assert documented == used
