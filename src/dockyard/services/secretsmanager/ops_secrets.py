"""Secret operations: request in, domain call, output out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, decode_token, encode_token
from dockyard.services.secretsmanager import validation
from dockyard.services.secretsmanager.errors import (
    MARKED_FOR_DELETION,
    InvalidNextTokenException,
    InvalidParameterException,
    InvalidRequestException,
)
from dockyard.services.secretsmanager.model import Secret, SecretVersion
from dockyard.services.secretsmanager.vault import Vault

LIST_DEFAULT = 100


def tags_to_wire(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def describe(secret: Secret) -> Result:
    out: Result = {
        "ARN": secret.arn,
        "Name": secret.name,
        "RotationEnabled": False,
        "LastChangedDate": secret.last_changed,
        "CreatedDate": secret.created,
        "Tags": tags_to_wire(secret.tags),
    }
    optional: dict[str, Any] = {
        "Description": secret.description,
        "KmsKeyId": secret.kms_key_id,
        "LastAccessedDate": secret.last_accessed,
        "DeletedDate": secret.deleted_at,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def version_value(secret: Secret, version: SecretVersion) -> Result:
    out: Result = {
        "ARN": secret.arn,
        "Name": secret.name,
        "VersionId": version.version_id,
        "VersionStages": list(version.stages),
        "CreatedDate": version.created,
    }
    if version.string is not None:
        out["SecretString"] = version.string
    if version.binary is not None:
        out["SecretBinary"] = version.binary_bytes()
    return out


def _filter(spec: dict[str, Any]) -> Callable[[Secret], bool]:
    key = spec.get("Key")
    values = [str(v) for v in spec.get("Values") or []]
    if not key:
        raise InvalidParameterException("A filter needs a Key (Filters).")
    if not values:
        raise InvalidParameterException(f"The filter {key} needs at least one value (Filters).")

    def fields(secret: Secret) -> list[str]:
        if key == "name":
            return [secret.name]
        if key == "description":
            return [secret.description or ""]
        if key == "tag-key":
            return list(secret.tags)
        if key == "tag-value":
            return list(secret.tags.values())
        if key == "primary-region":
            return [secret.region]
        if key == "owning-service":
            return []
        return [secret.name, secret.description or "", *secret.tags, *secret.tags.values()]

    def matches(secret: Secret) -> bool:
        texts = fields(secret)
        wanted = [v for v in values if not v.startswith("!")]
        unwanted = [v[1:] for v in values if v.startswith("!")]
        if any(t.startswith(u) for t in texts for u in unwanted):
            return False
        return not wanted or any(t.startswith(w) for t in texts for w in wanted)

    return matches


SORT_KEYS: dict[str, Callable[[Secret], Any]] = {
    "created-date": lambda s: (s.created, s.name),
    "last-accessed-date": lambda s: (s.last_accessed or 0.0, s.name),
    "last-changed-date": lambda s: (s.last_changed, s.name),
    "name": lambda s: (s.name, s.created),
}


def handlers(vault: Vault) -> dict[str, Handler]:
    def create_secret(ctx: RequestContext, p: Params) -> Result:
        if p.get("AddReplicaRegions"):
            raise InvalidRequestException(
                "Dockyard does not replicate secrets to other regions (AddReplicaRegions)."
            )
        if p.get("Type"):
            raise InvalidRequestException(
                f"Dockyard has no managed external secrets (Type: {p['Type']})."
            )
        text, data = validation.secret_value(p.get("SecretString"), p.get("SecretBinary"))
        secret, version = vault.create(
            scope_of(ctx),
            validation.name(p["Name"]),
            token=p.get("ClientRequestToken"),
            text=text,
            data=data,
            description=p.get("Description"),
            kms_key_id=p.get("KmsKeyId") or None,
            tags=validation.tags(p.get("Tags")),
        )
        out: Result = {"ARN": secret.arn, "Name": secret.name}
        if version is not None:
            out["VersionId"] = version.version_id
        return out

    def get_secret_value(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"])
        version = vault.read(secret, p.get("VersionId"), p.get("VersionStage"))
        return version_value(secret, version)

    def put_secret_value(ctx: RequestContext, p: Params) -> Result:
        if p.get("RotationToken"):
            raise InvalidRequestException("Dockyard does not rotate secrets (RotationToken).")
        secret = vault.get(scope_of(ctx), p["SecretId"], live=True)
        text, data = validation.secret_value(p.get("SecretString"), p.get("SecretBinary"))
        if text is None and data is None:
            raise InvalidRequestException("You must provide either SecretString or SecretBinary.")
        version = vault.put_value(
            secret,
            p.get("ClientRequestToken"),
            text,
            data,
            validation.stages(p.get("VersionStages")) or None,
        )
        return {
            "ARN": secret.arn,
            "Name": secret.name,
            "VersionId": version.version_id,
            "VersionStages": list(version.stages),
        }

    def update_secret(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"], live=True)
        text, data = validation.secret_value(p.get("SecretString"), p.get("SecretBinary"))
        if p.get("Description") is not None:
            secret.description = p["Description"]
        if p.get("KmsKeyId"):
            secret.kms_key_id = p["KmsKeyId"]
        out: Result = {"ARN": secret.arn, "Name": secret.name}
        if text is not None or data is not None:
            version = vault.put_value(secret, p.get("ClientRequestToken"), text, data)
            out["VersionId"] = version.version_id
        else:
            secret.last_changed = vault.clock.now()
            vault.save(secret)
        return out

    def describe_secret(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"])
        return {**describe(secret), "VersionIdsToStages": secret.versions_to_stages()}

    def list_secrets(ctx: RequestContext, p: Params) -> Result:
        secrets = vault.all(scope_of(ctx))
        if not p.get("IncludePlannedDeletion"):
            secrets = [s for s in secrets if s.deleted_at is None]
        for spec in p.get("Filters") or []:
            match = _filter(spec)
            secrets = [s for s in secrets if match(s)]
        secrets.sort(
            key=SORT_KEYS[p.get("SortBy") or "created-date"],
            reverse=p.get("SortOrder") == "desc",
        )
        start = 0
        if p.get("NextToken"):
            try:
                start = int(decode_token(p["NextToken"]))
            except (InvalidToken, ValueError) as exc:
                raise InvalidNextTokenException("The NextToken value isn't valid.") from exc
        limit = int(p.get("MaxResults") or LIST_DEFAULT)
        chunk = secrets[start : start + limit]
        entries = []
        for secret in chunk:
            entry = describe(secret)
            entry["SecretVersionsToStages"] = secret.versions_to_stages()
            entries.append(entry)
        out: Result = {"SecretList": entries}
        if start + limit < len(secrets):
            out["NextToken"] = encode_token(str(start + limit))
        return out

    def list_secret_version_ids(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"])
        versions = [v for v in secret.versions if v.stages or p.get("IncludeDeprecated", False)]
        out: Result = {"ARN": secret.arn, "Name": secret.name, "Versions": []}
        for v in versions:
            entry: Result = {
                "VersionId": v.version_id,
                "VersionStages": list(v.stages),
                "CreatedDate": v.created,
            }
            if v.last_accessed is not None:
                entry["LastAccessedDate"] = v.last_accessed
            out["Versions"].append(entry)
        return out

    def delete_secret(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"])
        window = validation.recovery_window(
            p.get("RecoveryWindowInDays"), bool(p.get("ForceDeleteWithoutRecovery", False))
        )
        when = vault.schedule_deletion(secret, window)
        return {"ARN": secret.arn, "Name": secret.name, "DeletionDate": when}

    def restore_secret(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"])
        vault.restore(secret)
        return {"ARN": secret.arn, "Name": secret.name}

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"])
        if secret.deleted_at is not None:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        merged = {**secret.tags, **validation.tags(p["Tags"])}
        validation.tag_count(merged)
        secret.tags = merged
        vault.save(secret)
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        secret = vault.get(scope_of(ctx), p["SecretId"])
        if secret.deleted_at is not None:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        for key in p["TagKeys"]:
            secret.tags.pop(key, None)
        vault.save(secret)
        return {}

    return {
        "CreateSecret": create_secret,
        "GetSecretValue": get_secret_value,
        "PutSecretValue": put_secret_value,
        "UpdateSecret": update_secret,
        "DescribeSecret": describe_secret,
        "ListSecrets": list_secrets,
        "ListSecretVersionIds": list_secret_version_ids,
        "DeleteSecret": delete_secret,
        "RestoreSecret": restore_secret,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
    }
