"""The catalog file: the owner's YAML, bounded, validated and built into a domain catalog.

``file`` is the way in (text or path to ``CatalogDocument`` and ``Catalog``); ``limits`` says
what a catalog may be; ``yaml_reader`` and ``yaml_shape`` read the YAML safely;
``values``, ``sections`` and ``document`` are the file's schema; ``cross_checks`` holds the
checks that span sections; ``building`` turns a valid document into the domain catalog;
``problems`` words every problem for the owner.
"""
