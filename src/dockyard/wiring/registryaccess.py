"""Authorization of the registry's requests (`/v2/`) as the principal of the ECR token,
with the front door's own evaluator over IAM's policies: the `Authorize` callable the
registry is handed when the server enforces policies (it may not import IAM).

Within the repository's account the caller's identity-based policies or the repository
policy allow; across accounts both must (a root of another account: the repository policy).
"""

from __future__ import annotations

from dataclasses import replace

from dockyard.api.access import Access
from dockyard.api.authorize import Authorizer, base_context, caller_of, denied
from dockyard.core.clock import Clock
from dockyard.core.iampolicy import Decision, Outcome, Policy, Request, evaluate
from dockyard.core.principals import PolicySource, Principal


class RegistryAccess:
    def __init__(self, policies: PolicySource, clock: Clock) -> None:
        self.authorizer = Authorizer(policies)
        self.clock = clock

    def __call__(
        self,
        principal: Principal,
        access: Access,
        owner: str,
        policy: Policy | None,
        source_ip: str | None,
    ) -> str | None:
        permissions = self.authorizer.permissions(principal)
        region = access.resource.split(":")[3] if access.resource.count(":") >= 4 else ""
        context = base_context(
            principal, permissions, source_ip=source_ip, secure=True, region=region,
            now=self.clock.now(),
        )  # fmt: skip
        if principal.account_id == owner:
            decision = self.authorizer.decide(
                principal, replace(access, policy=policy), context, permissions
            )
            if decision is None or decision.allowed:
                return None
            return denied(principal, access, decision, "json").message
        # Across accounts: the caller's own account must allow (its identity) ...
        decision = self.authorizer.decide(principal, access, context, permissions)
        if decision is not None and not decision.allowed:
            return denied(principal, access, decision, "json").message
        # ... and so must the repository's policy, naming the caller.
        if policy is None:
            verdict = Decision(Outcome.IMPLICIT_DENY, limited="resource-based policy")
        else:
            ctx = dict(context)
            for key, value in (access.tags or {}).items():
                ctx[f"aws:resourcetag/{key.lower()}"] = [value]
            request = Request(access.action, access.resource, ctx, caller_of(principal))
            verdict = evaluate(request, (), policy)
        if verdict.allowed:
            return None
        return denied(principal, access, verdict, "json").message
