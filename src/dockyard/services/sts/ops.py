"""STS operations: request in, domain call, output out."""

from __future__ import annotations

from datetime import UTC, datetime

from dockyard.api.context import RequestContext
from dockyard.api.errors import UnsupportedOperation
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.principals import Principal, root_principal
from dockyard.services.sts.service import Issued, Sts


def caller(ctx: RequestContext) -> Principal:
    return ctx.principal or root_principal(ctx.account_id, ctx.access_key_id or "")


def trust_context(ctx: RequestContext, p: Params, at: float) -> dict[str, list[str]]:
    """The request's condition keys a role's trust policy may test."""
    now = datetime.fromtimestamp(at, UTC)
    out = {
        "aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:epochtime": [str(int(now.timestamp()))],
        "aws:requestedregion": [ctx.region],
    }
    if ctx.source_ip:
        out["aws:sourceip"] = [ctx.source_ip]
    if p.get("ExternalId"):
        out["sts:externalid"] = [p["ExternalId"]]
    if p.get("SourceIdentity"):
        out["sts:sourceidentity"] = [p["SourceIdentity"]]
    out["sts:rolesessionname"] = [p["RoleSessionName"]]
    return out


def credentials_to_wire(issued: Issued) -> Result:
    c = issued.credentials
    return {
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        "SessionToken": c.session_token,
        "Expiration": datetime.fromtimestamp(c.expiration, UTC),
    }


def handlers(sts: Sts) -> dict[str, Handler]:
    def get_caller_identity(ctx: RequestContext, p: Params) -> Result:
        who = caller(ctx)
        return {"UserId": who.user_id, "Account": who.account_id, "Arn": who.arn}

    def assume_role(ctx: RequestContext, p: Params) -> Result:
        if p.get("PolicyArns"):
            raise UnsupportedOperation(
                "Dockyard does not support managed session policies (PolicyArns) in AssumeRole"
            )
        if p.get("Tags") or p.get("TransitiveTagKeys"):
            raise UnsupportedOperation("Dockyard does not support session tags in AssumeRole")
        if p.get("SerialNumber") or p.get("TokenCode"):
            raise UnsupportedOperation("Dockyard does not support MFA in AssumeRole")
        issued = sts.assume_role(
            caller(ctx),
            p["RoleArn"],
            p["RoleSessionName"],
            p.get("DurationSeconds"),
            p.get("Policy"),
            trust_context(ctx, p, sts.clock.now()),
        )
        out: Result = {
            "Credentials": credentials_to_wire(issued),
            "AssumedRoleUser": {
                "AssumedRoleId": issued.principal.user_id,
                "Arn": issued.principal.arn,
            },
        }
        if p.get("Policy"):
            out["PackedPolicySize"] = min(100, len(p["Policy"]) * 100 // 2048)
        if p.get("SourceIdentity"):
            out["SourceIdentity"] = p["SourceIdentity"]
        return out

    def get_session_token(ctx: RequestContext, p: Params) -> Result:
        if p.get("SerialNumber") or p.get("TokenCode"):
            raise UnsupportedOperation("Dockyard does not support MFA in GetSessionToken")
        issued = sts.get_session_token(caller(ctx), p.get("DurationSeconds"))
        return {"Credentials": credentials_to_wire(issued)}

    def refused(name: str) -> Handler:
        def handler(ctx: RequestContext, p: Params) -> Result:
            raise UnsupportedOperation(
                f"Dockyard does not support sts:{name}: it has no identity providers "
                "(OIDC or SAML); use AssumeRole with an IAM user's or role's credentials"
            )

        return handler

    return {
        "GetCallerIdentity": get_caller_identity,
        "AssumeRole": assume_role,
        "GetSessionToken": get_session_token,
        "AssumeRoleWithWebIdentity": refused("AssumeRoleWithWebIdentity"),
        "AssumeRoleWithSAML": refused("AssumeRoleWithSAML"),
    }
