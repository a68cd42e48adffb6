"""What Secrets Manager operations act on: the secret's ARN
(`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random>`), with its tags. A
secret not created yet (CreateSecret) is `secret:<name>-??????`: its suffix is not drawn."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table
from dockyard.core.scope import Scope
from dockyard.services.secretsmanager.vault import Vault

SECRET_OPS = (
    "GetSecretValue", "PutSecretValue", "UpdateSecret", "DescribeSecret", "ListSecretVersionIds",
    "DeleteSecret", "RestoreSecret", "TagResource", "UntagResource", "GetResourcePolicy",
    "PutResourcePolicy", "DeleteResourcePolicy", "RotateSecret", "CancelRotateSecret",
    "UpdateSecretVersionStage", "ValidateResourcePolicy", "RemoveRegionsFromReplication",
    "ReplicateSecretToRegions", "StopReplicationToReplica",
)  # fmt: skip


def access(vault: Vault) -> AccessFunction:
    def secret_arn(req: AccessRequest) -> Iterable[str]:
        ref = req.params.get("SecretId")
        if not isinstance(ref, str):
            return []
        found = vault.find(Scope(req.account_id, req.region), ref)
        if found is not None:
            return [found.arn]
        return [
            ref if ref.startswith("arn:") else req.arn("secretsmanager", f"secret:{ref}-??????")
        ]

    def new_secret(req: AccessRequest) -> Iterable[str]:
        return [req.arn("secretsmanager", f"secret:{req.params['Name']}-??????")]

    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        found = vault.find(Scope(req.account_id, req.region), arn)
        return dict(found.tags) if found is not None else None

    resolvers: dict[str, Resolver] = {op: secret_arn for op in SECRET_OPS}
    resolvers["CreateSecret"] = new_secret
    return table("secretsmanager", resolvers, tags=tags)
