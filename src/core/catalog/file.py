"""The way in: a catalog file's path, text or decoded data to a valid ``CatalogDocument``
and its domain ``Catalog``.

Every problem is reported as ``path: value: reason`` (``staff[1].hours.mon[0].to: '25:00':
not a time of day``), all problems at once, before anything is applied; a file beyond the
limits (``core.catalog.limits``) is refused with one problem before it is decoded. The
validated document is also what the database stores (``CatalogDocument.canonical``), so the
catalog is read back through the very same checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.catalog.document import CatalogDocument
from core.catalog.limits import MAX_FILE_BYTES
from core.catalog.problems import CatalogError, describe, describe_yaml, file_too_large, show
from core.catalog.yaml_reader import read_yaml
from core.domain.catalog import Catalog


def read_catalog_file(path: Path) -> str:
    """The text of the catalog file at ``path``, reading no more than the limit allows.

    Raises ``CatalogError`` for a file over ``MAX_FILE_BYTES``, ``OSError`` when it cannot
    be read and ``UnicodeDecodeError`` when it is not UTF-8.
    """
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise file_too_large(f"more than {MAX_FILE_BYTES} bytes")
    return data.decode("utf-8")


def parse_document(data: object) -> CatalogDocument:
    """Validate a decoded document; raise ``CatalogError`` with every problem found."""
    if not isinstance(data, dict):
        shown = "empty file" if data is None else show(data)
        raise CatalogError(
            [f"(top level): {shown}: expected a mapping with salon, services and staff"]
        )
    try:
        return CatalogDocument.model_validate(data)
    except ValidationError as error:
        raise CatalogError([describe(e, CatalogDocument) for e in error.errors()]) from None


def load_catalog_text(text: str) -> tuple[CatalogDocument, Catalog]:
    """Parse YAML text into its validated document and domain catalog."""
    try:
        data = read_yaml(text)
    except yaml.YAMLError as error:
        raise CatalogError([describe_yaml(error)]) from None
    document = parse_document(data)
    return document, document.catalog


def catalog_from_canonical(data: Mapping[str, Any]) -> Catalog:
    """Rebuild the catalog from its stored canonical form."""
    return parse_document(dict(data)).catalog
