"""Choosing container instances for tasks: feasibility filters with reasons, then rankers.

Pure: candidates and needs in, a placement (or the reasons there is none) out.
"""

from dockyard.placement.expressions import ExpressionError, Query, compile_expression, compile_query
from dockyard.placement.filters import DEFAULT_FILTERS, Filter
from dockyard.placement.fleet import Fleet
from dockyard.placement.model import (
    Candidate,
    Placement,
    Reason,
    Rejection,
    Requirement,
    TaskNeeds,
)
from dockyard.placement.needs import task_needs
from dockyard.placement.place import check, place, place_many
from dockyard.placement.rankers import DEFAULT_RANKERS, Ranker
from dockyard.placement.rules import (
    MAX_CONSTRAINTS,
    MAX_STRATEGIES,
    SERVICE_DEFAULT,
    Constraint,
    ConstraintType,
    PlacementError,
    Strategy,
    StrategyType,
    combined,
    parse_constraints,
    parse_strategies,
)

__all__ = [
    "DEFAULT_FILTERS",
    "DEFAULT_RANKERS",
    "MAX_CONSTRAINTS",
    "MAX_STRATEGIES",
    "SERVICE_DEFAULT",
    "Candidate",
    "Constraint",
    "ConstraintType",
    "ExpressionError",
    "Filter",
    "Fleet",
    "Placement",
    "PlacementError",
    "Query",
    "Ranker",
    "Reason",
    "Rejection",
    "Requirement",
    "Strategy",
    "StrategyType",
    "TaskNeeds",
    "check",
    "combined",
    "compile_expression",
    "compile_query",
    "parse_constraints",
    "parse_strategies",
    "place",
    "place_many",
    "task_needs",
]
