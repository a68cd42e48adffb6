"""What Lambda operations act on, for IAM: `arn:aws:lambda:<region>:<account>:function:<name>`
(with `:<qualifier>` when the request names one); Invoke is the action
`lambda:InvokeFunction`; creating or reconfiguring a function passes its role
(`iam:PassRole` to lambda.amazonaws.com)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dockyard.api.access import Access, AccessFunction, AccessRequest, combine, passrole, table

ACTIONS = {"Invoke": "InvokeFunction"}  # IAM actions named otherwise than their operation
GLOBAL = ("ListFunctions", "GetAccountSettings")


def function_resource(req: AccessRequest) -> Iterable[str]:
    name = req.params.get("FunctionName") or req.params.get("Resource")
    if not isinstance(name, str) or not name:
        return []
    qualifier = req.params.get("Qualifier")
    if name.startswith("arn:"):
        arn = name
    elif ":function:" in name:  # a partial ARN: account:function:name
        arn = f"arn:aws:lambda:{req.region}:{name}"
    else:
        base, _, own = name.partition(":")
        arn = req.arn("lambda", f"function:{base}")
        qualifier = qualifier or own or None
    if qualifier and arn.count(":") == 6:
        arn = f"{arn}:{qualifier}"
    return [arn]


def access() -> AccessFunction:
    def resources(req: AccessRequest) -> Sequence[Access]:
        action = f"lambda:{ACTIONS.get(req.operation, req.operation)}"
        if req.operation in GLOBAL:
            return [Access(action, "*")]
        arns = list(function_resource(req))
        return [Access(action, a) for a in arns] or [Access(action, "*")]

    roles = passrole(["Role"], "lambda.amazonaws.com")
    passes = table("lambda", {}, extra={"CreateFunction": roles,
                                        "UpdateFunctionConfiguration": roles})  # fmt: skip

    def pass_only(req: AccessRequest) -> Sequence[Access]:
        return [a for a in passes(req) if a.action == "iam:PassRole"]

    return combine(resources, pass_only)
