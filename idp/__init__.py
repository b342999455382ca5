"""NC Connect federation proxy: SATOSA assembled from declarative partner files."""

__version__ = "0.1.0"
