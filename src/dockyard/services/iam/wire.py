"""IAM records in their output shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from dockyard.api.provider import Result
from dockyard.services.iam.model import (
    AccessKey,
    Group,
    InstanceProfile,
    ManagedPolicy,
    PolicyVersion,
    Role,
    User,
)


def when(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def document(text: str) -> str:
    """IAM answers policy documents URL-encoded (RFC 3986)."""
    return quote(text, safe="")


def tags(values: dict[str, str]) -> list[Result]:
    return [{"Key": k, "Value": v} for k, v in values.items()]


def user(u: User) -> Result:
    out: Result = {
        "Path": u.path, "UserName": u.name, "UserId": u.id, "Arn": u.arn,
        "CreateDate": when(u.created),
    }  # fmt: skip
    if u.tags:
        out["Tags"] = tags(u.tags)
    if u.boundary:
        out["PermissionsBoundary"] = boundary(u.boundary)
    return out


def boundary(arn: str) -> Result:
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}


def group(g: Group) -> Result:
    return {
        "Path": g.path, "GroupName": g.name, "GroupId": g.id, "Arn": g.arn,
        "CreateDate": when(g.created),
    }  # fmt: skip


def role(r: Role, with_tags: bool = True) -> Result:
    out: Result = {
        "Path": r.path, "RoleName": r.name, "RoleId": r.id, "Arn": r.arn,
        "CreateDate": when(r.created), "AssumeRolePolicyDocument": document(r.trust),
        "MaxSessionDuration": r.max_session_duration,
    }  # fmt: skip
    if r.description is not None:
        out["Description"] = r.description
    if r.tags and with_tags:
        out["Tags"] = tags(r.tags)
    if r.boundary:
        out["PermissionsBoundary"] = boundary(r.boundary)
    out["RoleLastUsed"] = {"LastUsedDate": when(r.last_used)} if r.last_used else {}
    return out


def policy(p: ManagedPolicy, attachments: int, boundaries: int = 0) -> Result:
    out: Result = {
        "PolicyName": p.name, "PolicyId": p.id, "Arn": p.arn, "Path": p.path,
        "DefaultVersionId": p.default_version, "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundaries, "IsAttachable": True,
        "CreateDate": when(p.created), "UpdateDate": when(p.updated),
    }  # fmt: skip
    if p.description is not None:
        out["Description"] = p.description
    if p.tags:
        out["Tags"] = tags(p.tags)
    return out


def version(v: PolicyVersion, default: str) -> Result:
    return {
        "Document": document(v.document), "VersionId": v.version_id,
        "IsDefaultVersion": v.version_id == default, "CreateDate": when(v.created),
    }  # fmt: skip


def access_key(k: AccessKey, secret: bool = False) -> Result:
    out: Result = {
        "UserName": k.user_name, "AccessKeyId": k.key_id, "Status": k.status,
        "CreateDate": when(k.created),
    }  # fmt: skip
    if secret:
        out["SecretAccessKey"] = k.secret
    return out


def instance_profile(p: InstanceProfile, roles: list[Role]) -> Result:
    out: Result = {
        "Path": p.path, "InstanceProfileName": p.name, "InstanceProfileId": p.id,
        "Arn": p.arn, "CreateDate": when(p.created), "Roles": [role(r, False) for r in roles],
    }  # fmt: skip
    if p.tags:
        out["Tags"] = tags(p.tags)
    return out
