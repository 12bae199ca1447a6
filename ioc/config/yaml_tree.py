"""YAML values with their origin: where each value sits in which file, so errors can say so.

A ``Node`` is an immutable tree built from what ruamel's round-trip loader returns. Every node
remembers the path a user would write (``cameras[2].rules[0].zone``) and its 1-based line. The
``defaults:`` block and presets are merged *as trees*, so after the merge each value still points
at the file and line it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

Key = str | int
Scalar = str | int | float | bool | None | dt.date
MAX_DEPTH = 64
MAX_NODES = 100_000
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class TreeError(ValueError):
    """The YAML cannot become a config tree (too deep, recursive alias, alias bomb)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value was written: user-facing path, 1-based line, and the file when not the config."""

    path: str
    line: int | None
    file: str | None = None  # None: the config file being loaded


@dataclass(frozen=True, slots=True)
class Node:
    value: Scalar | Mapping[str, Node] | tuple[Node, ...]
    origin: Origin

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, Mapping)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.value, tuple)

    def child(self, key: Key) -> Node | None:
        """The child at ``key`` (a mapping key or a sequence index), or None."""
        if isinstance(self.value, Mapping) and isinstance(key, str):
            return self.value.get(key)
        if isinstance(self.value, tuple) and isinstance(key, int) and 0 <= key < len(self.value):
            return self.value[key]
        return None

    def items(self) -> Iterator[tuple[str, Node]]:
        if isinstance(self.value, Mapping):
            yield from self.value.items()


def join_path(parent: str, key: Key) -> str:
    """``cameras`` + 2 -> ``cameras[2]``; ``cameras[2]`` + ``zone`` -> ``cameras[2].zone``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if not _IDENT.match(key):
        return f"{parent}[{key!r}]"
    return f"{parent}.{key}" if parent else key


def describe(value: object) -> str:
    """A short rendering of an input value as the user wrote it in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


@dataclass(slots=True)
class _Budget:
    left: int


def build_tree(data: object, path: str = "", line: int | None = 1, file: str | None = None) -> Node:
    """Turn a ruamel round-trip value into a ``Node`` tree rooted at ``path``."""
    return _build(data, Origin(path, line, file), _Budget(MAX_NODES), 0)


def _build(data: object, origin: Origin, budget: _Budget, depth: int) -> Node:
    budget.left -= 1
    if budget.left < 0:
        raise TreeError(f"more than {MAX_NODES} values after expanding aliases", origin.line)
    if depth > MAX_DEPTH:
        raise TreeError(f"nested more than {MAX_DEPTH} levels deep (a recursive alias?)", origin.line)
    if isinstance(data, Mapping):
        children = {}
        for key, value in data.items():
            skey = str(key)
            line = _key_line(data, key, origin.line)
            child = Origin(join_path(origin.path, skey), line, origin.file)
            children[skey] = _build(value, child, budget, depth + 1)
        return Node(children, origin)
    if isinstance(data, list):
        items = []
        for i, value in enumerate(data):
            line = _item_line(data, i, origin.line)
            child = Origin(join_path(origin.path, i), line, origin.file)
            items.append(_build(value, child, budget, depth + 1))
        return Node(tuple(items), origin)
    return Node(_scalar(data), origin)


def _scalar(data: object) -> Scalar:
    if isinstance(data, TaggedScalar):
        return str(data.value)
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, str):
        return str(data)
    if isinstance(data, dt.date):
        return data
    return str(data)


def _key_line(data: Mapping[Any, Any], key: object, fallback: int | None) -> int | None:
    if isinstance(data, CommentedMap):
        if key in data.lc.data:
            return int(data.lc.key(key)[0]) + 1
        for merged in getattr(data, "merge", ()):  # keys pulled in by a `<<: *anchor` merge
            if isinstance(merged, CommentedMap) and key in merged.lc.data:
                return int(merged.lc.key(key)[0]) + 1
    return fallback


def _item_line(data: Sequence[Any], index: int, fallback: int | None) -> int | None:
    if isinstance(data, CommentedSeq) and index in data.lc.data:
        return int(data.lc.item(index)[0]) + 1
    return fallback


def merge(base: Node, over: Node) -> Node:
    """Deep merge: mappings merge key by key; lists and scalars from ``over`` replace ``base``."""
    if not (isinstance(base.value, Mapping) and isinstance(over.value, Mapping)):
        return over
    merged = dict(base.value)
    for key, value in over.value.items():
        merged[key] = merge(merged[key], value) if key in merged else value
    return Node(merged, over.origin)


def without(node: Node, *keys: str) -> Node:
    """A mapping node without ``keys`` (a copy; the input is not changed)."""
    if not isinstance(node.value, Mapping):
        return node
    return Node({k: v for k, v in node.value.items() if k not in keys}, node.origin)


def to_plain(node: Node) -> object:
    """Plain dicts, lists and scalars, ready for pydantic."""
    if isinstance(node.value, Mapping):
        return {k: to_plain(v) for k, v in node.value.items()}
    if isinstance(node.value, tuple):
        return [to_plain(v) for v in node.value]
    return node.value


def file_label(path: Path) -> str:
    """A path as short as it can be said: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
