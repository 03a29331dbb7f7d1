"""Indicator engine: catalog definitions, safe expressions, checks and indicators.

Plain Python on purpose — no Django import anywhere in this package — so it can be used by management
commands, Celery tasks, benchmarks and tests alike, and stays fast (see benchmarks/bench_engine.py).
"""

from .compiler import Catalog, CatalogError, Check, Field, FormDefinition, Indicator, Target, load_catalog_dir
from .evaluate import Result, Violation, evaluate
from .expr import (
    NOT_COLLECTED,
    Context,
    Expression,
    ExpressionError,
    Missing,
    PeerGroup,
    compile_expression,
    is_missing,
    is_unfilled,
)
from .values import format_value

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
    "NOT_COLLECTED",
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
