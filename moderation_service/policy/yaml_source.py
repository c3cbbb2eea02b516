"""Safe YAML loading that remembers where every value came from.

Policies are written by people, so every problem is reported at
``file:line:column``. Loading is bounded: a size cap, a node cap (which also
stops alias "billion laughs" expansion) and safe construction only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_SOURCE_BYTES = 256 * 1024
MAX_NODES = 20_000
MAX_DEPTH = 50

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class SourceDocument:
    name: str
    data: Any
    # path -> position of the value; path + ("<key>",) -> position of a mapping key
    positions: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path) -> Position:
        """The nearest known position: the path itself, else its closest parent."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), Position(1, 1))


class YamlSourceError(ValueError):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def load_source(raw: bytes | str, name: str) -> SourceDocument:
    text = raw.decode("utf-8", errors="strict") if isinstance(raw, bytes) else raw
    if len(text.encode()) > MAX_SOURCE_BYTES:
        raise YamlSourceError(f"the file is over {MAX_SOURCE_BYTES} bytes", Position(1, 1))
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlSourceError(f"invalid YAML: {exc.problem or exc}", where) from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(f"invalid YAML: {exc}", Position(1, 1)) from None
    document = SourceDocument(name=name, data=None)
    if node is None:
        return document
    builder = _Builder(document)
    document.data = builder.build(node, (), 0)
    return document


class _Builder:
    def __init__(self, document: SourceDocument) -> None:
        self.document = document
        self.nodes = 0
        self.scalars = SafeConstructor()

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.nodes += 1
        where = Position(node.start_mark.line + 1, node.start_mark.column + 1)
        if self.nodes > MAX_NODES:
            raise YamlSourceError(f"the document has over {MAX_NODES} nodes (aliases count each time)", where)
        if depth > MAX_DEPTH:
            raise YamlSourceError(f"the document nests deeper than {MAX_DEPTH} levels", where)
        self.document.positions.setdefault(path, where)
        if isinstance(node, ScalarNode):
            try:
                return self.scalars.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise YamlSourceError(f"invalid value: {exc}", where) from None
        expected_tag = {SequenceNode: "tag:yaml.org,2002:seq", MappingNode: "tag:yaml.org,2002:map"}.get(type(node))
        if expected_tag and node.tag != expected_tag:
            raise YamlSourceError(f"invalid tag {node.tag!r}: policies use plain YAML only", where)
        if isinstance(node, SequenceNode):
            return [self.build(child, path + (index,), depth + 1) for index, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth, where)
        raise YamlSourceError(f"unsupported YAML node {node.tag}", where)

    def _mapping(self, node: MappingNode, path: Path, depth: int, where: Position) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlSourceError("merge keys (<<) are not supported in policies", where)
            key = self.build(key_node, path + ("<key>",), depth + 1)
            key_where = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise YamlSourceError("mapping keys must be plain words or numbers", key_where)
            if key in result:
                raise YamlSourceError(f"duplicate key {key!r}", key_where)
            self.document.positions[path + (key, "<key>")] = key_where
            result[key] = self.build(value_node, path + (key,), depth + 1)
        return result
