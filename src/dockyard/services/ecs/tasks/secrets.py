"""A task's secrets, resolved as its agent is handed the task: each container's `secrets`
become environment variables of that container, read through the `SecretSource` port.

What cannot be resolved stops the task before any container starts, with the reason the ECS
agent reports (`ResourceInitializationError: unable to pull secrets or registry auth: ...`).
Environment files in S3 (an `arn:` value) are read through the `ObjectSource` port (the
server's S3) into the container's environment (its own `environment` entries win, as in ECS);
one that cannot be read stops the task the same way. Values never go to the log or the
task's record; only the copy of the spec handed to the agent carries them.
"""

from __future__ import annotations

from dockyard.core.envfiles import (
    MAX_ENV_FILE_BYTES,
    ObjectSource,
    ObjectUnavailable,
    parse_env_file,
)
from dockyard.core.registryauth import RegistryLoginRefused, RegistryLogins, auth_of_secret
from dockyard.core.secrets import SecretSource, SecretUnavailable
from dockyard.core.taskspec import TaskSpec

SECRETS_PREFIX = (
    "ResourceInitializationError: unable to pull secrets or registry auth: "
    "execution resource retrieval failed: "
)
RETRIED = "service call has been retried 1 time(s): "


def failure_reason(exc: SecretUnavailable) -> str:
    """The stoppedReason of a task whose secret `exc` could not be read."""
    if exc.store == "asm":
        return f"{SECRETS_PREFIX}unable to retrieve secret from asm: {RETRIED}{exc.message}"
    return f"{SECRETS_PREFIX}unable to retrieve secrets from ssm: {RETRIED}{exc.message}"


def env_file_reason(arn: str, why: str = "Dockyard has no S3 to download it from") -> str:
    return (
        "ResourceInitializationError: failed to download env files: file download command: "
        f"non empty error stream: {arn}: {why}"
    )


def registry_reason(container: str, message: str) -> str:
    return (
        "CannotPullContainerError: unable to pull registry auth for container "
        f"{container}: {message}"
    )


async def inject(
    spec: TaskSpec,
    source: SecretSource | None,
    logins: RegistryLogins | None = None,
    objects: ObjectSource | None = None,
) -> str | None:
    """Put each container's secrets and S3 environment files into its environment and its
    registry credentials in `registry_auth` (in place). Returns None, or the stoppedReason
    when a secret, registry credentials or an environment file cannot be had."""
    for container in spec.containers:
        from_files: dict[str, str] = {}
        local: list[str] = []
        for path in container.environment_files:
            if not path.startswith("arn:"):
                local.append(path)
                continue
            if objects is None:
                return env_file_reason(path)
            try:
                raw = await objects.read(spec.account_id, spec.region, path, MAX_ENV_FILE_BYTES)
                from_files.update(parse_env_file(raw.decode("utf-8")))
            except ObjectUnavailable as exc:
                return env_file_reason(path, exc.message)
            except (UnicodeDecodeError, ValueError) as exc:
                return env_file_reason(path, str(exc))
        container.environment_files = local
        for name, value in from_files.items():
            container.environment.setdefault(name, value)
    # Read as the execution role, as the ECS agent does, when the task has one.
    role = (spec.execution_role_arn, spec.task_id) if spec.execution_role_arn else None
    for container in spec.containers:
        for name, value_from in container.secrets.items():
            if source is None:
                return failure_reason(
                    SecretUnavailable("ssm", value_from, "no secret store is configured")
                )
            try:
                container.environment[name] = source.resolve(
                    spec.account_id, spec.region, value_from, role=role
                )
            except SecretUnavailable as exc:
                return failure_reason(exc)
    for container in spec.containers:
        if container.repository_credentials:
            if source is None:
                return registry_reason(container.name, "no secret store is configured")
            try:
                value = source.resolve(spec.account_id, spec.region,
                                       container.repository_credentials)  # fmt: skip
            except SecretUnavailable as exc:
                return failure_reason(exc)
            container.registry_auth = auth_of_secret(value)
            if container.registry_auth is None:
                return registry_reason(
                    container.name,
                    f"the secret {container.repository_credentials} does not hold "
                    '{"username": ..., "password": ...}',
                )
        elif logins is not None:
            try:
                container.registry_auth = logins.login_for(
                    spec.account_id, spec.region, container.image, role=role
                )
            except RegistryLoginRefused as exc:
                return f"CannotPullContainerError: {exc}"
    return None
