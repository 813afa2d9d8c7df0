"""Reading the catalog file's YAML: safe, strict about duplicate keys, and never a traceback.

``read_yaml`` either returns the decoded document or raises ``yaml.YAMLError`` with a line
and column; ``core.catalog_file`` turns that into the owner's one-line problem.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from core.catalog_problems import show

_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class CatalogLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing what would otherwise slip through or crash.

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


def _timestamp_or_text(loader: yaml.SafeLoader, node: Node) -> Any:
    assert isinstance(node, ScalarNode)  # YAML resolves only scalars to timestamps
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


CatalogLoader.add_constructor(_TIMESTAMP, _timestamp_or_text)


def read_yaml(text: str) -> object:
    """The single YAML document in ``text``; raises ``yaml.YAMLError`` on any problem."""
    loader = CatalogLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
