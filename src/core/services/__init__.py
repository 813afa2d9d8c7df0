"""Use cases, one verb each; each opens and owns its transaction."""
