"""YAML loading that remembers line numbers, so every problem can say ``file:line``."""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A mapping with the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):
    """A list with the line it starts on and the line of each item."""

    line: int = 0
    item_lines: list[int]


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 5x faster


class LineLoader(_Base):
    """SafeLoader that remembers the line of every mapping, sequence and key."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    d = LineDict()
    d.line = node.start_mark.line + 1
    d.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            key = str(key)
        d[key] = loader.construct_object(value_node, deep=True)
        d.key_lines[key] = key_node.start_mark.line + 1
    return d


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    lst = LineList(loader.construct_object(child, deep=True) for child in node.value)
    lst.line = node.start_mark.line + 1
    lst.item_lines = [child.start_mark.line + 1 for child in node.value]
    return lst


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def line_of(obj: Any, key: str | None = None, default: int = 0) -> int:
    """The line of ``obj`` (or of its ``key``), or ``default`` when it was not loaded with lines."""
    if key is not None and isinstance(obj, LineDict):
        return obj.key_lines.get(key, obj.line)
    return getattr(obj, "line", default)


def load(text: str) -> Any:
    """Parse YAML text with line numbers (a SafeLoader: no arbitrary objects)."""
    return yaml.load(text, Loader=LineLoader)  # noqa: S506 - SafeLoader subclass
