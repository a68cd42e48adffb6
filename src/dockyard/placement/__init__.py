"""Choosing container instances for tasks: feasibility filters with reasons, then rankers.

Pure: candidates and needs in, a placement (or the reasons there is none) out.
"""

from dockyard.placement.expressions import ExpressionError, compile_expression
from dockyard.placement.filters import DEFAULT_FILTERS, Filter
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

__all__ = [
    "DEFAULT_FILTERS",
    "DEFAULT_RANKERS",
    "Candidate",
    "ExpressionError",
    "Filter",
    "Placement",
    "Ranker",
    "Reason",
    "Rejection",
    "Requirement",
    "TaskNeeds",
    "check",
    "compile_expression",
    "place",
    "place_many",
    "task_needs",
]
