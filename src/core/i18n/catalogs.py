"""Message catalogs, compiled from their ``.po`` sources when first used.

Only the ``.po`` files are kept in git; nothing compiled is shipped, so a translation can
never go stale behind its source. A language without a catalog falls back to English.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "salonbot"
LOCALES = Path(__file__).with_name("locales")
FALLBACK = "en"


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages() -> list[str]:
    """Languages with a shipped catalog, sorted."""
    return sorted(path.name for path in LOCALES.iterdir() if po_path(path.name).is_file())


@cache
def translations(language: str) -> Translations:
    """The compiled catalog for ``language`` (English when there is none)."""
    path = po_path(language)
    if not path.is_file():
        path = po_path(FALLBACK)
    with path.open("rb") as source:
        catalog = read_po(source, locale=path.parents[1].name, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)
