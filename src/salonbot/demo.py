"""The demo salon, loaded into an empty database so ``salonbot chat`` works out of the box."""

from __future__ import annotations

from pathlib import Path

from core.catalog.file import load_catalog_text
from core.services.catalog import CatalogNotLoaded, load_catalog
from salonbot.bootstrap import Salonbot

_PACKAGE = Path(__file__).resolve().parent


def demo_catalog_text() -> str:
    """The demo salon: ``examples/salon.yaml``, the one file, which the wheel carries inside
    the package as ``demo_salon.yaml`` (see pyproject.toml)."""
    installed = _PACKAGE / "demo_salon.yaml"
    source = installed if installed.is_file() else _PACKAGE.parents[1] / "examples" / "salon.yaml"
    return source.read_text(encoding="utf-8")


async def load_demo_if_empty(app: Salonbot) -> bool:
    """Load the demo salon when no catalog is loaded yet; whether it was loaded.

    Two first runs at once load it once: ``load_catalog`` serializes on its lock and a
    second load of the same catalog changes nothing.
    """
    try:
        async with app.uow() as uow:
            await app.catalogs.current(uow.connection)
    except CatalogNotLoaded:
        document, _ = load_catalog_text(demo_catalog_text())
        result = await load_catalog(app.uow, app.clock, document)
        return result.changed
    return False
