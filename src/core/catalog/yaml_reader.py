"""Reading the catalog file's YAML: safe, bounded, strict about duplicate keys, and never a
traceback.

``read_yaml`` either returns the decoded document, raises ``CatalogError`` for a file beyond
the limits, or raises ``yaml.YAMLError`` with a line and column, which ``core.catalog.file``
turns into the owner's one-line problem.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode

from core.catalog.limits import MAX_DEPTH, MAX_FILE_BYTES
from core.catalog.problems import file_too_large, show
from core.catalog.yaml_shape import check_shape, too_deep

_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class CatalogConstructor(SafeConstructor):
    """PyYAML's safe constructor, refusing what would otherwise slip through or crash.

    * A key given twice in one mapping is refused; PyYAML would keep the last silently.
    * A date-like scalar naming no calendar day (``2026-02-30``) stays text, so validation
      reports it at its path instead of PyYAML raising a bare ``ValueError``.
    * Any other value PyYAML cannot build (an integer of thousands of digits) is a
      ``ConstructorError`` pointing at it.
    """

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as error:
            raise ConstructorError(
                None, None, f"a value that cannot be read: {error}", node.start_mark
            ) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Checked before the merge keys (<<) are flattened in: overriding a merged key is
        # what merging is for, not a duplicate.
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                line = first_line.get(key)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if line is not None:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {show(key)}, first given on line {line}",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _timestamp_or_text(loader: yaml.SafeLoader | yaml.CSafeLoader, node: Node) -> Any:
    assert isinstance(node, ScalarNode)  # YAML resolves only scalars to timestamps
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


CatalogConstructor.add_constructor(_TIMESTAMP, _timestamp_or_text)


class _PlainLoader(yaml.SafeLoader, CatalogConstructor):
    """PyYAML's own parser: slower than libyaml, but it names the character or alias at fault."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # Only read after libyaml stopped at an error, so its shape was checked up to there;
        # this holds the composer's recursion in bounds should PyYAML read on further (it
        # does past libyaml's own limit of 1,000 nested brackets).
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:  # + 1: here a scalar is a level too
                raise too_deep(parent.start_mark if parent is not None else self.get_mark())
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader: type[yaml.SafeLoader | yaml.CSafeLoader] = _PlainLoader
if yaml.__with_libyaml__:  # every PyYAML wheel on PyPI

    class _FastLoader(yaml.CSafeLoader, CatalogConstructor):
        """libyaml's parser, several times faster than PyYAML's."""

    _Loader = _FastLoader


def _single_document(loader_class: type[yaml.SafeLoader | yaml.CSafeLoader], text: str) -> object:
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _compose(text: str) -> None:
    """Compose ``text`` with PyYAML's own parser, for its wording of what is wrong.

    Composed only, never built: its shape was checked only as far as libyaml read, and
    building is where aliases and merge keys would be expanded.
    """
    loader = _PlainLoader(text)
    try:
        loader.get_single_node()
    finally:
        loader.dispose()


def read_yaml(text: str) -> object:
    """The single YAML document in ``text``.

    Raises ``CatalogError`` with one problem when the text is over ``MAX_FILE_BYTES`` or its
    shape is beyond the limits (``check_shape``), checked before anything is built, and
    ``yaml.YAMLError`` on any other problem.
    """
    if len(text) > MAX_FILE_BYTES or len(text.encode()) > MAX_FILE_BYTES:
        raise file_too_large(f"more than {MAX_FILE_BYTES} bytes")
    try:
        check_shape(text)
        return _single_document(_Loader, text)
    except ConstructorError:
        raise  # ours: the same words whichever parser read the text
    except yaml.YAMLError:
        if _Loader is _PlainLoader:
            raise
        # libyaml words some problems tersely ("found undefined alias"); PyYAML's parser
        # says which alias or character. Should PyYAML find nothing wrong, libyaml's words.
        _compose(text)
        raise
