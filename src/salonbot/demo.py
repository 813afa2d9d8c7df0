"""The demo salon, loaded into an empty database so ``salonbot chat`` works out of the box."""

from __future__ import annotations

from importlib.resources import files

from core.catalog.file import load_catalog_text
from core.services.catalog import CatalogNotLoaded, load_catalog
from salonbot.bootstrap import Salonbot


def demo_catalog_text() -> str:
    return files("salonbot").joinpath("demo_salon.yaml").read_text(encoding="utf-8")


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
