"""ECS task definitions: families, revisions and the documents ECS returns for them.

A task definition is kept as its document: the `TaskDefinition` output shape exactly as
DescribeTaskDefinition returns it (defaults filled in as ECS echoes them, timestamps as
epoch seconds), plus its tags. Other ECS domains read task definitions through `resolve`.
Revision numbers keep increasing per family, even after revisions are deregistered or
deleted: each family's last revision is a record of its own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.ids import arn, is_arn
from dockyard.core.registryauth import pulled_image
from dockyard.core.scope import Scope
from dockyard.services.ecs.errors import ClientException, InvalidParameterException
from dockyard.services.ecs.state import EcsDomain
from dockyard.services.ecs.taskdefs import validation as rules
from dockyard.store.undo import put_record

KIND = "ecs.taskdef"
FAMILY_KIND = "ecs.taskdef-family"
MAX_DELETE = 10
NOT_FOUND = "Unable to describe task definition."

_ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")

# Top-level request fields that the document echoes as given.
_ECHOED = (
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "runtimePlatform",
    "requiresCompatibilities",
    "inferenceAccelerators",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "ephemeralStorage",
    "enableFaultInjection",
)


class TaskDefinitionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"


@dataclass(slots=True)
class TaskDefinition:
    document: dict[str, Any]  # the TaskDefinition output shape
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return str(self.document["taskDefinitionArn"])

    @property
    def family(self) -> str:
        return str(self.document["family"])

    @property
    def revision(self) -> int:
        return int(self.document["revision"])

    @property
    def status(self) -> str:
        return str(self.document["status"])

    @property
    def family_key(self) -> str:
        return self.arn.rsplit(":", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {"taskDefinition": self.document, "tags": self.tags}


def taskdef_from_body(body: dict[str, Any]) -> TaskDefinition:
    return TaskDefinition(body["taskDefinition"], dict(body.get("tags") or {}))


@dataclass(slots=True)
class Ref:
    """A parsed task definition reference: `family`, `family:revision` or an ARN."""

    family_key: str  # the family's ARN without revision
    family: str
    revision: int | None


def family_arn(scope: Scope, family: str) -> str:
    return arn("ecs", scope.region, scope.account_id, f"task-definition/{family}")


def task_definition_arn(scope: Scope, family: str, revision: int) -> str:
    return f"{family_arn(scope, family)}:{revision}"


def network_mode(document: dict[str, Any]) -> str:
    """The effective network mode of a task definition document (ECS omits the default)."""
    return str(document.get("networkMode") or "bridge")


class TaskDefinitions(EcsDomain):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_arn: dict[str, TaskDefinition] = {}
        self.revisions: dict[str, dict[int, TaskDefinition]] = {}  # family key -> revisions
        self.last_revision: dict[str, int] = {}  # family key -> highest revision ever given

    # -- persistence ------------------------------------------------------------------

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(FAMILY_KIND):
            self.last_revision[key] = int(body["lastRevision"])
        for _, body in self.store.load(KIND):
            self._index(taskdef_from_body(body))

    def reset(self) -> None:
        self.by_arn.clear()
        self.revisions.clear()
        self.last_revision.clear()

    def save(self, td: TaskDefinition) -> None:
        put_record(self.store, KIND, td.arn, td, taskdef_from_body)
        self._index(td)

    def _index(self, td: TaskDefinition) -> None:
        self.by_arn[td.arn] = td
        self.revisions.setdefault(td.family_key, {})[td.revision] = td
        if td.revision > self.last_revision.get(td.family_key, 0):
            self.last_revision[td.family_key] = td.revision

    # -- lookups ----------------------------------------------------------------------

    def parse_ref(self, scope: Scope, ref: str) -> Ref:
        if is_arn(ref):
            parts = ref.split(":", 5)
            if len(parts) != 6 or parts[2] != "ecs" or not parts[5].startswith("task-definition/"):
                raise ClientException(f"Invalid task definition ARN (taskDefinition: {ref}).")
            family, sep, revision = parts[5].removeprefix("task-definition/").partition(":")
            key = arn("ecs", parts[3], parts[4], f"task-definition/{family}")
        else:
            family, sep, revision = ref.partition(":")
            key = family_arn(scope, family)
        if not family:
            raise ClientException(NOT_FOUND)
        return Ref(key, family, rules.positive_revision(revision) if sep else None)

    def find(self, scope: Scope, ref: str) -> TaskDefinition | None:
        """The revision a reference names (any status); for a family alone, its latest
        ACTIVE revision."""
        parsed = self.parse_ref(scope, ref)
        if not parsed.family_key.startswith(family_arn(scope, "")):
            return None  # another account's or region's
        revisions = self.revisions.get(parsed.family_key, {})
        if parsed.revision is not None:
            return revisions.get(parsed.revision)
        active = [r for r, td in revisions.items() if td.status == TaskDefinitionStatus.ACTIVE]
        return revisions[max(active)] if active else None

    def get(self, scope: Scope, ref: str) -> TaskDefinition:
        td = self.find(scope, ref)
        if td is None:
            raise ClientException(NOT_FOUND)
        return td

    def resolve(self, scope: Scope, ref: str, *, launchable: bool = False) -> dict[str, Any]:
        """The document of the task definition `ref` names (`family` = its latest ACTIVE
        revision, `family:revision`, or an ARN), as a copy. ClientException "Unable to
        describe task definition." when there is none. With `launchable`, a revision that is
        not ACTIVE is refused as RunTask/CreateService refuse it (InvalidParameterException
        "TaskDefinition is inactive")."""
        td = self.get(scope, ref)
        if launchable and td.status != TaskDefinitionStatus.ACTIVE:
            raise InvalidParameterException("TaskDefinition is inactive")
        return copy.deepcopy(td.document)

    def matching(
        self,
        scope: Scope,
        family_prefix: str | None = None,
        status: str = TaskDefinitionStatus.ACTIVE,
        descending: bool = False,
    ) -> list[TaskDefinition]:
        """Revisions by family name, then revision number (both reversed if descending)."""
        found = [
            td
            for td in self._in_scope(scope)
            if td.status == status and td.family.startswith(family_prefix or "")
        ]
        return sorted(found, key=lambda td: (td.family, td.revision), reverse=descending)

    def families(
        self, scope: Scope, family_prefix: str | None = None, status: str = "ALL"
    ) -> list[str]:
        """Family names; ACTIVE: with an ACTIVE revision, INACTIVE: without one."""
        active: dict[str, bool] = {}
        for td in self._in_scope(scope):
            if td.family.startswith(family_prefix or ""):
                active[td.family] = active.get(td.family, False) or (
                    td.status == TaskDefinitionStatus.ACTIVE
                )
        return sorted(
            name
            for name, has_active in active.items()
            if status == "ALL" or has_active == (status == TaskDefinitionStatus.ACTIVE)
        )

    def _in_scope(self, scope: Scope) -> Iterable[TaskDefinition]:
        prefix = family_arn(scope, "")
        return (td for a, td in self.by_arn.items() if a.startswith(prefix))

    # -- changes ----------------------------------------------------------------------

    def register(
        self,
        scope: Scope,
        request: dict[str, Any],
        *,
        tags: dict[str, str] | None = None,
        registered_by: str | None = None,
    ) -> TaskDefinition:
        """Validate a RegisterTaskDefinition request and store it as the next revision."""
        checked = rules.check(request)
        family = request["family"]
        key = family_arn(scope, family)
        revision = self.last_revision.get(key, 0) + 1
        document = build_document(
            request,
            checked,
            arn=f"{key}:{revision}",
            revision=revision,
            registered_at=self.clock.now(),
            registered_by=registered_by or f"arn:aws:iam::{scope.account_id}:root",
        )
        td = TaskDefinition(document, dict(tags or {}))
        # One transaction: the family's revision counter and the new revision.
        self.store.write(
            puts=[
                (FAMILY_KIND, key, {"family": family, "lastRevision": revision}),
                (KIND, td.arn, td.to_dict()),
            ]
        )
        self.last_revision[key] = revision
        self._index(td)
        return td

    def deregister(self, scope: Scope, ref: str) -> TaskDefinition:
        td = self.get(scope, self._with_revision(ref, "taskDefinition"))
        if td.status == TaskDefinitionStatus.ACTIVE:
            td.document["status"] = str(TaskDefinitionStatus.INACTIVE)
            td.document["deregisteredAt"] = self.clock.now()
            self.save(td)
        return td

    def delete(
        self, scope: Scope, refs: list[str]
    ) -> tuple[list[TaskDefinition], list[dict[str, str]]]:
        """INACTIVE revisions move to DELETE_IN_PROGRESS; the others come back as failures."""
        if not refs or len(refs) > MAX_DELETE:
            raise InvalidParameterException(
                f"taskDefinitions must name between 1 and {MAX_DELETE} task definitions "
                f"(taskDefinitions: {len(refs)} given)."
            )
        deleted: list[TaskDefinition] = []
        failures: list[dict[str, str]] = []
        for ref in refs:
            named = self._with_revision(ref, "taskDefinitions")
            td = self.find(scope, named)
            if td is None:
                failures.append(
                    {
                        "arn": ref if is_arn(ref) else self._arn_of(scope, named),
                        "reason": "The specified task definition does not exist.",
                    }
                )
            elif td.status == TaskDefinitionStatus.ACTIVE:
                failures.append(
                    {
                        "arn": td.arn,
                        "reason": "The specified task definition is still in ACTIVE status. "
                        "Please deregister the target and try again.",
                    }
                )
            else:
                if td.status == TaskDefinitionStatus.INACTIVE:
                    td.document["status"] = str(TaskDefinitionStatus.DELETE_IN_PROGRESS)
                    td.document["deleteRequestedAt"] = self.clock.now()
                    self.save(td)
                deleted.append(td)
        return deleted, failures

    def forget(self, taskdef_arn: str) -> bool:
        """Finish deleting a DELETE_IN_PROGRESS revision: gone from memory and the store at
        once. The family keeps its last revision number. False for an unknown revision or one
        in another status."""
        td = self.by_arn.get(taskdef_arn)
        if td is None or td.status != TaskDefinitionStatus.DELETE_IN_PROGRESS:
            return False
        self.store.delete(KIND, taskdef_arn)
        del self.by_arn[taskdef_arn]
        revisions = self.revisions.get(td.family_key, {})
        revisions.pop(td.revision, None)
        if not revisions:
            self.revisions.pop(td.family_key, None)
        return True

    def _with_revision(self, ref: str, field_name: str) -> str:
        resource = ref.rsplit("/", 1)[-1] if is_arn(ref) else ref
        if ":" not in resource:
            raise ClientException(
                f"A revision is required: use family:revision or a full ARN ({field_name}: {ref})."
            )
        return ref

    def _arn_of(self, scope: Scope, ref: str) -> str:
        parsed = self.parse_ref(scope, ref)
        return f"{parsed.family_key}:{parsed.revision}"


# -- the document -----------------------------------------------------------------------


def build_document(
    request: dict[str, Any],
    checked: rules.Checked,
    *,
    arn: str,
    revision: int,
    registered_at: float,
    registered_by: str,
) -> dict[str, Any]:
    req = copy.deepcopy(request)
    mode = checked.network_mode
    doc: dict[str, Any] = {
        "taskDefinitionArn": arn,
        "containerDefinitions": [container_document(c, mode) for c in req["containerDefinitions"]],
        "family": req["family"],
        "revision": revision,
        "volumes": req.get("volumes") or [],
        "status": str(TaskDefinitionStatus.ACTIVE),
        "requiresAttributes": [{"name": n} for n in required_attributes(req, mode)],
        "placementConstraints": req.get("placementConstraints") or [],
        "compatibilities": checked.compatibilities,
    }
    for key in _ECHOED:
        if req.get(key) is not None:
            doc[key] = req[key]
    if checked.cpu is not None:
        doc["cpu"] = str(checked.cpu)
    if checked.memory is not None:
        doc["memory"] = str(checked.memory)
    doc["registeredAt"] = registered_at
    doc["registeredBy"] = registered_by
    return doc


def container_document(container: dict[str, Any], mode: str) -> dict[str, Any]:
    """A container definition with the defaults ECS echoes back filled in."""
    c = dict(container)
    c.setdefault("cpu", 0)
    c.setdefault("essential", True)
    for key in ("portMappings", "environment", "mountPoints", "volumesFrom", "systemControls"):
        c.setdefault(key, [])
    mappings = []
    for pm in c["portMappings"]:
        pm = dict(pm)
        pm.setdefault("protocol", "tcp")
        if mode in ("awsvpc", "host") and not pm.get("hostPort") and "containerPort" in pm:
            pm["hostPort"] = pm["containerPort"]
        mappings.append(pm)
    c["portMappings"] = mappings
    if c.get("healthCheck") is not None:
        hc = dict(c["healthCheck"])
        for key, (_low, _high, default) in rules.HEALTH_CHECK_RANGES.items():
            if default is not None:
                hc.setdefault(key, default)
        c["healthCheck"] = hc
    return c


def required_attributes(req: dict[str, Any], mode: str) -> list[str]:
    """The container instance attributes ECS requires for a task definition's features."""
    names: list[str] = []

    def need(name: str) -> None:
        if name not in names:
            names.append(name)

    api = "com.amazonaws.ecs.capability.docker-remote-api."
    role = req.get("executionRoleArn")
    if req.get("networkMode"):
        need(api + "1.18")
    if mode == "awsvpc":
        need("ecs.capability.task-eni")
    if req.get("taskRoleArn"):
        need("com.amazonaws.ecs.capability.task-iam-role")
    for v in req.get("volumes") or []:
        docker = v.get("dockerVolumeConfiguration")
        if docker is not None:
            need(api + "1.25")
            need(f"ecs.capability.docker-plugin.{docker.get('driver') or 'local'}")
        efs = v.get("efsVolumeConfiguration")
        if efs is not None:
            need(api + "1.25")
            need("ecs.capability.efs")
            auth = efs.get("authorizationConfig") or {}
            if auth.get("iam") == "ENABLED" or auth.get("accessPointId"):
                need("ecs.capability.efsAuth")
        if v.get("fsxWindowsFileServerVolumeConfiguration") is not None:
            need("ecs.capability.fsxWindowsFileServer")
    if req.get("proxyConfiguration"):
        need("ecs.capability.aws-appmesh")
    if req.get("inferenceAccelerators"):
        need("ecs.capability.task-eia")
    for c in req["containerDefinitions"]:
        if c.get("ulimits"):
            need(api + "1.18")
        if c.get("linuxParameters"):
            need(api + "1.25")
        if c.get("privileged"):
            need("com.amazonaws.ecs.capability.privileged-container")
        for option in c.get("dockerSecurityOptions") or []:
            if str(option).startswith("label:"):
                need("com.amazonaws.ecs.capability.selinux")
            elif str(option).startswith("apparmor:"):
                need("com.amazonaws.ecs.capability.apparmor")
        firelens = c.get("firelensConfiguration")
        if firelens:
            need(f"ecs.capability.firelens.{firelens.get('type', 'fluentbit')}")
        if c.get("repositoryCredentials"):
            need("ecs.capability.private-registry-authentication.secretsmanager")
        if (c.get("restartPolicy") or {}).get("enabled"):
            need("ecs.capability.container-restart-policy")
        for rr in c.get("resourceRequirements") or []:
            if rr.get("type") == "GPU":
                need("ecs.capability.gpu")
        if c.get("memoryReservation") is not None:
            need(api + "1.21")
        if c.get("dockerLabels"):
            need(api + "1.18")
        if c.get("healthCheck") is not None:
            need("ecs.capability.container-health-check")
        if c.get("dependsOn") or c.get("startTimeout") or c.get("stopTimeout"):
            need("ecs.capability.container-ordering")
        log = c.get("logConfiguration") or {}
        driver = log.get("logDriver")
        if driver:
            need(f"com.amazonaws.ecs.capability.logging-driver.{driver}")
            if driver == "awslogs":
                need(api + "1.19")
                if role:
                    need("ecs.capability.execution-role-awslogs")
        if pulled_image(c.get("image") or ""):
            # an image pulled from a registry, not a process: directory
            need("dockyard.capability.oci-images")
        if _ECR_IMAGE.match(c.get("image") or ""):
            need("com.amazonaws.ecs.capability.ecr-auth")
            if role:
                need("ecs.capability.execution-role-ecr-pull")
        for secret in c.get("secrets") or []:
            source = secret.get("valueFrom", "")
            kind = "asm" if ":secretsmanager:" in source else "ssm"
            need(f"ecs.capability.secrets.{kind}.environment-variables")
        if c.get("environmentFiles"):
            need("ecs.capability.env-files.s3")
    return names
