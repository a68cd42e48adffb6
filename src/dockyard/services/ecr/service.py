"""ECR: repositories, images, the blobs under them, registry tokens and lifecycle policies.

`Ecr(store, clock, blobs, tokens, registry_host=...)`; call `load()` once at start. The
registry's HTTP side (`registry_http.py`) and the ECR API operations (`ops_*.py`) both call
this domain; a push or delete publishes an "ECR Image Action" event through a queue of its
own, never inline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.core.eventbus import EventSink, Mailbox
from dockyard.core.ids import new_uuid
from dockyard.core.principals import Principal, PrincipalKind, RoleDirectory
from dockyard.core.registryauth import RegistryAuth, RegistryLoginRefused
from dockyard.core.rolecredentials import RolePermissions
from dockyard.core.scope import Scope
from dockyard.core.timefmt import iso
from dockyard.services.ecr import lifecycle
from dockyard.services.ecr.blobs import BlobStore
from dockyard.services.ecr.errors import RepositoryNotEmptyException
from dockyard.services.ecr.images import Images, Pushed
from dockyard.services.ecr.model import REPOSITORY_KIND, Image, Repository
from dockyard.services.ecr.repositories import Repositories
from dockyard.services.ecr.tokens import TOKEN_TTL, USERNAME, Caller, Tokens, scope_of_host
from dockyard.store.base import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Preview:
    """The result of StartLifecyclePolicyPreview (computed at once, so COMPLETE)."""

    policy_text: str
    expiries: list[lifecycle.Expiry]


class Ecr:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        blobs: BlobStore,
        tokens: Tokens,
        registry_host: str = "localhost:4566",  # may name {account} and {region}
        events: EventSink | None = None,
        proxy_endpoint: str | None = None,
        local_hosts: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.clock = clock
        self.blobs = blobs
        self.tokens = tokens
        self.registry_host = registry_host
        self.proxy_endpoint = proxy_endpoint
        # Other host:port names of this registry (localhost:PORT, 127.0.0.1:PORT).
        self.local_hosts = local_hosts
        self.repositories = Repositories(self.store, clock)
        self.images = Images(self.store, clock)
        self.previews: dict[str, Preview] = {}  # repository ARN -> last preview
        self.outbox: Mailbox[dict[str, object]] | None = (
            Mailbox("ecr-events", events.emit) if events is not None else None
        )
        # Set when images go, so the collector runs soon instead of at its next sweep.
        self.collect_soon = asyncio.Event()
        # Set by the server when it enforces IAM policies: task image pulls are then the
        # execution role's (`login_for`).
        self.roles: RoleDirectory | None = None
        self.role_permissions: RolePermissions | None = None

    def load(self) -> None:
        self.repositories.load()
        self.images.load()

    def reset(self) -> None:
        self.repositories.reset()
        self.images.reset()
        self.previews.clear()
        self.collect_soon.set()

    def host_of(self, scope: Scope) -> str:
        """The registry host of an account and region (`--registry-host`)."""
        return self.registry_host.replace("{account}", scope.account_id).replace(
            "{region}", scope.region
        )

    def repository_uri(self, repo: Repository) -> str:
        return f"{self.host_of(repo.scope)}/{repo.name}"

    def endpoint_of(self, scope: Scope) -> str:
        """GetAuthorizationToken's proxyEndpoint."""
        if self.proxy_endpoint is not None:
            return self.proxy_endpoint.replace("{host}", self.host_of(scope))
        return f"http://{self.host_of(scope)}"

    def login_for(
        self, account_id: str, region: str, image: str, role: tuple[str, str] | None = None
    ) -> RegistryAuth | None:
        """The RegistryLogins port: a registry token of the task's account and region for an
        image of this registry (the ECS agent's ECR login with the execution role). When
        policies are enforced the token is the execution role's session, and a task without
        one, or whose role may not call GetAuthorizationToken, gets none."""
        host, sep, _ = image.partition("/")
        if not sep:
            return None
        scope = Scope(account_id, region)
        ours = host in (self.host_of(scope), *self.local_hosts)
        named = scope_of_host(host)
        if not ours and named is None:
            return None
        # Another account's registry (by host name): the token names the task's account (or
        # its execution role), and that repository's policy decides.
        expires = time.time() + TOKEN_TTL
        if self.roles is None:
            return RegistryAuth(
                USERNAME, self.tokens.issue(Caller(account_id, region, None, expires))
            )
        if role is None:
            raise RegistryLoginRefused(
                f"pull access denied for {image}: unable to retrieve ecr registry auth: "
                "NoCredentialProviders: no valid providers in chain (the task definition has "
                "no executionRoleArn to get an ECR authorization token with)"
            )
        role_arn, session = role
        if self.role_permissions is not None:
            message = self.role_permissions.denial(
                account_id, role_arn, session, "ecr:GetAuthorizationToken", "*"
            )
            if message is not None:
                raise RegistryLoginRefused(
                    "unable to retrieve ecr registry auth: service call has been retried 1 "
                    f"time(s): AccessDeniedException: {message}"
                )
        found = self.roles.role(account_id, role_arn)
        name = found.name if found is not None else role_arn.rsplit("/", 1)[-1]
        principal = Principal(
            account_id=account_id,
            kind=PrincipalKind.ASSUMED_ROLE,
            arn=f"arn:aws:sts::{account_id}:assumed-role/{name}/{session}",
            user_id=f"{found.role_id if found else ''}:{session}",
            name=name,
            role_arn=found.arn if found is not None else role_arn,
            session_name=session,
        )
        caller = Caller(account_id, region, None, expires, principal)
        return RegistryAuth(USERNAME, self.tokens.issue(caller))

    # -- repositories --------------------------------------------------------------------

    def delete_repository(self, scope: Scope, name: str, force: bool) -> Repository:
        repo = self.repositories.get(scope, name)
        count = self.images.count(repo)
        if count and not force:
            raise RepositoryNotEmptyException(
                f"The repository with name '{name}' in registry with id '{scope.account_id}' "
                "cannot be deleted because it still contains images"
            )
        deletes = [(REPOSITORY_KIND, repo.arn), *self.images.remove_repository(repo)]
        self.store.write(deletes=deletes)
        self.repositories.forget(repo)
        self.images.forget_repository(repo)
        self.previews.pop(repo.arn, None)
        self.collect_soon.set()
        return repo

    # -- images --------------------------------------------------------------------------

    def push(
        self,
        repo: Repository,
        data: bytes,
        content_type: str | None,
        tag: str | None,
        expected_digest: str | None = None,
        strict: bool = False,
    ) -> Pushed:
        pushed = self.images.put(repo, data, content_type, tag, expected_digest, strict)
        if pushed.created:
            self._event(repo, "PUSH", pushed.image.digest, tag, pushed.image.media_type)
            if repo.lifecycle_policy:
                self.collect_soon.set()  # the lifecycle policy may expire older images now
        return pushed

    def delete_images(self, repo: Repository, images: Iterable[Image]) -> None:
        gone = list(images)
        self.images.remove(repo, gone)
        for image in gone:
            self._event(repo, "DELETE", image.digest, None, image.media_type)
        if gone:
            self.collect_soon.set()

    def untag(self, repo: Repository, image: Image, tag: str) -> None:
        left = self.images.untag(repo, image, tag)
        self._event(repo, "DELETE", image.digest, tag, image.media_type)
        if left is None:
            self.collect_soon.set()

    def _event(
        self, repo: Repository, action: str, digest: str, tag: str | None, media_type: str
    ) -> None:
        if self.outbox is None:
            return
        detail: dict[str, object] = {
            "result": "SUCCESS",
            "repository-name": repo.name,
            "image-digest": digest,
            "action-type": action,
        }
        if tag:
            detail["image-tag"] = tag
        if action == "PUSH":
            detail["manifest-media-type"] = media_type
        self.outbox.put(
            {
                "version": "0",
                "id": new_uuid(),
                "detail-type": "ECR Image Action",
                "source": "aws.ecr",
                "account": repo.account_id,
                "time": iso(self.clock.now(), "s"),
                "region": repo.region,
                "resources": [],
                "detail": detail,
            }
        )

    # -- lifecycle policies --------------------------------------------------------------

    def preview(self, repo: Repository, text: str) -> Preview:
        rules = lifecycle.parse(text)
        result = Preview(text, lifecycle.plan(rules, self.images.of(repo), self.clock.now()))
        self.previews[repo.arn] = result
        return result

    def apply_lifecycle(self, repo: Repository) -> int:
        """Expire what the repository's lifecycle policy selects now; how many images."""
        if not repo.lifecycle_policy:
            return 0
        try:
            rules = lifecycle.parse(repo.lifecycle_policy)
        except Exception:  # stored policies were checked when put
            log.exception("lifecycle policy of %s cannot be read", repo.arn)
            return 0
        expired = lifecycle.plan(rules, self.images.of(repo), self.clock.now())
        self.delete_images(repo, [e.image for e in expired])
        self.repositories.update(repo, lifecycle_evaluated_at=self.clock.now())
        if expired:
            log.info("lifecycle policy expired %d image(s)", len(expired), extra={"arn": repo.arn})
        return len(expired)

    def apply_lifecycles(self) -> int:
        return sum(self.apply_lifecycle(r) for r in self.repositories.every() if r.lifecycle_policy)
