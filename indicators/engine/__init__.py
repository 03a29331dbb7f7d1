"""Indicator engine: catalog definitions, safe expressions, checks and indicators.

Plain Python on purpose — no Django import anywhere in this package — so it can be used by management
commands, Celery tasks, benchmarks and tests alike, and stays fast (see benchmarks/bench_engine.py).
"""

from .catalog import Catalog, CatalogError, Check, Field, FormDefinition, Indicator, Target, load_catalog_dir
from .evaluate import Result, Violation, evaluate, format_value
from .expr import (
    Context,
    Expression,
    ExpressionError,
    Missing,
    PeerGroup,
    compile_expression,
    is_missing,
    is_unfilled,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Check",
    "Context",
    "Expression",
    "ExpressionError",
    "Field",
    "FormDefinition",
    "Indicator",
    "Missing",
    "PeerGroup",
    "Result",
    "Target",
    "Violation",
    "compile_expression",
    "evaluate",
    "format_value",
    "is_missing",
    "is_unfilled",
    "load_catalog_dir",
]
