"""The NC Connect attribute dictionary (``attributs/dictionnaire.yaml``) and its formats."""

from .model import PIVOT, Attribute, Dictionary, load_dictionary

__all__ = ["PIVOT", "Attribute", "Dictionary", "load_dictionary"]
