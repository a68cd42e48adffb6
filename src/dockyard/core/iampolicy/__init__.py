"""IAM policy documents and their evaluation: pure, no I/O.

`parse_policy(text, kind)` validates a document as IAM does (raising `PolicyError` with IAM's
words); `evaluate(request, identity_policies, resource_policy)` decides a request the way
AWS's policy evaluation logic does for one account: an explicit Deny wins, else an Allow,
else the implicit deny.
"""

from __future__ import annotations

from dockyard.core.iampolicy.document import (
    Policy,
    PolicyError,
    PolicyKind,
    Statement,
    parse_policy,
)
from dockyard.core.iampolicy.evaluate import Decision, Outcome, Request, evaluate

__all__ = [
    "Decision",
    "Outcome",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "Request",
    "Statement",
    "evaluate",
    "parse_policy",
]
