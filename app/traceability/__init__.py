"""Traceability of chapter 2-1: from each norm part to the diagram elements, rules and tests behind it."""

from app.traceability.matrix import Element, Matrix, NormRow, Problem, Rule, TestRef, build_matrix, cached_matrix
from app.traceability.norms import CATALOGUE_PATH, Catalogue, CatalogueError, Norm, load_catalogue
from app.traceability.render import FORMATS, REGENERATE, render

__all__ = [
    "CATALOGUE_PATH",
    "FORMATS",
    "REGENERATE",
    "Catalogue",
    "CatalogueError",
    "Element",
    "Matrix",
    "Norm",
    "NormRow",
    "Problem",
    "Rule",
    "TestRef",
    "build_matrix",
    "cached_matrix",
    "load_catalogue",
    "render",
]
