"""Customer-facing language: gettext catalogs (en, ru, ...) and locale-aware formatting."""
