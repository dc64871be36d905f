"""Question banks written as YAML people read and edit: phrase lists on one line,
multi-line text as literal blocks, new questions appended below the user's own
(comments kept), and banks merged without touching what the user wrote.
Used by ``rehearse import``.
"""

from __future__ import annotations

from typing import Any

import yaml

from rehearse.normalize import normalize


class Flow(list):
    """A phrase list, written in flow style."""


class _Block(str):
    """Multi-line text, written as a literal block."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)  # "  - id:" under "questions:", as people write it


_Dumper.add_representer(Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(_Block, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|"))


def _readable(value: Any, key: str = "") -> Any:
    """Phrase lists in flow style, multi-line text as literal blocks, recursively."""
    if isinstance(value, list) and not isinstance(value, Flow):
        if key == "any" or (key == "tags" and all(isinstance(v, str) for v in value)):
            return Flow(value)
        return [Flow(v) if key == "all" and isinstance(v, list) else _readable(v) for v in value]
    if isinstance(value, dict):
        return {k: _readable(v, str(k)) for k, v in value.items()}
    if isinstance(value, str) and "\n" in value:
        return _Block("\n".join(line.rstrip() for line in value.strip("\n").split("\n")) + "\n")
    return value


def dump_bank(data: dict[str, Any]) -> str:
    """YAML text for a bank: block style, Chinese as is, phrase lists on one line."""
    return yaml.dump(_readable(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)


def safe_load(text: str) -> Any:
    """The YAML in ``text``, or None when it is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def append_questions(existing: str, new: list[dict[str, Any]]) -> str | None:
    """Existing text with ``new`` questions appended, comments kept; None unless ``questions:`` ends the file."""
    try:
        root: Any = yaml.compose(existing)
        key, seq = root.value[-1]
    except (yaml.YAMLError, AttributeError, IndexError, TypeError, ValueError):
        return None
    if key.value != "questions" or not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        return None
    indent = seq.value[0].start_mark.column - 2
    snippet = dump_bank({"questions": new}).split("\n", 1)[1]
    return existing.rstrip("\n") + "\n\n" + "".join(
        " " * indent + line[2:] + "\n" if line.strip() else "\n" for line in snippet.splitlines())


def merge_banks(existing: dict[str, Any], fresh: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """Keep every existing question as the user left it, add fresh ones with a new id and text:
    the merged bank, the questions added, and how many were there already."""
    old = [q for q in existing.get("questions") or [] if isinstance(q, dict)]
    ids = {q.get("id") for q in old}
    texts = {normalize(str(q.get("question", ""))) for q in old}
    added = [q for q in fresh["questions"] if q["id"] not in ids and normalize(q["question"]) not in texts]
    return {**existing, "questions": list(existing.get("questions") or []) + added}, added, len(old)
