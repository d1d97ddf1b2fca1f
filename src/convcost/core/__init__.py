"""The core: shapes, window geometry, field parsers, layer kinds, the network graph and its
analysis. It knows nothing of YAML, Typer or Rich (tests/test_layout.py checks it)."""
