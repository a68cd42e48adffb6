"""The registry API (OCI distribution spec, as Docker, skopeo and containerd speak it) at
`/v2/` on the server's port: an ASGI app of its own, since it streams blob bodies (never a
whole layer in memory) and speaks the registry's errors, not AWS's.

Names are ECR repository names; the account and region are the caller's (from the token of
`GetAuthorizationToken`), or those a `<account>.dkr.ecr.<region>.localhost` host names, or
the server's defaults when auth is off and neither says.

When the server enforces IAM policies, each request is authorized as the token's principal
(a user, a role session) through `authorize`, which the composition root hands in: the
request's action (`ACTIONS`) on the repository's ARN, with the caller's identity-based
policies and the repository policy (within one account either allows; across accounts both
must). Denied answers `DENIED` (403) with AWS's words, as ECR's registry does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from dockyard.api.access import Access
from dockyard.api.asgi import Receive, Send
from dockyard.api.asgi import Scope as AsgiScope
from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.iampolicy import Policy
from dockyard.core.principals import Principal
from dockyard.core.scope import Scope
from dockyard.services.ecr import manifests, policy
from dockyard.services.ecr.access import repository_arn, repository_policy
from dockyard.services.ecr.blobs import CHUNK, DigestMismatch, Upload
from dockyard.services.ecr.errors import (
    ImageDigestDoesNotMatchException,
    ImageTagAlreadyExistsException,
    LayersNotFoundException,
)
from dockyard.services.ecr.model import Repository
from dockyard.services.ecr.ranges import BadRange, parse_range
from dockyard.services.ecr.service import Ecr
from dockyard.services.ecr.tokens import USERNAME, scope_of_host
from dockyard.store.base import is_unavailable

log = logging.getLogger(__name__)

PREFIX = "/v2/"
API_VERSION = (b"docker-distribution-api-version", b"registry/2.0")
MAX_TAGS_PAGE = 1000
# The ECR action (as a repository policy names it) of each registry request.
ACTIONS = {
    ("/blobs/", "GET"): "ecr:GetDownloadUrlForLayer",
    ("/blobs/", "HEAD"): "ecr:BatchCheckLayerAvailability",
    ("/blobs/uploads/", "POST"): "ecr:InitiateLayerUpload",
    ("/blobs/uploads", "POST"): "ecr:InitiateLayerUpload",
    ("/blobs/uploads/", "PATCH"): "ecr:UploadLayerPart",
    ("/blobs/uploads/", "GET"): "ecr:UploadLayerPart",
    ("/blobs/uploads/", "DELETE"): "ecr:UploadLayerPart",
    ("/blobs/uploads/", "PUT"): "ecr:CompleteLayerUpload",
    ("/manifests/", "GET"): "ecr:BatchGetImage",
    ("/manifests/", "HEAD"): "ecr:BatchGetImage",
    ("/manifests/", "PUT"): "ecr:PutImage",
    ("/manifests/", "DELETE"): "ecr:BatchDeleteImage",
    ("/tags/list", "GET"): "ecr:ListImages",
}
MAX_UPLOADS = 1000  # uploads in progress at once, over every repository

# Whether `principal` may do an (action, repository ARN, tags) pair, given the repository's
# account and policy: None, or AWS's access-denied message. Given only when the server
# enforces IAM policies.
Authorize = Callable[[Principal, Access, str, "Policy | None", "str | None"], "str | None"]


class RegistryError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


def _unknown_name(name: str, account: str) -> RegistryError:
    return RegistryError(
        404,
        "NAME_UNKNOWN",
        f"The repository with name '{name}' does not exist in the registry with id '{account}'",
    )


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    scope: Scope
    receive: Receive
    caller_account: str  # who asks (the token's account; the target's when anonymous)
    principal: Principal | None = None  # the token's principal (None: anonymous, auth off)
    source_ip: str | None = None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Headers = list[tuple[bytes, bytes]]


def _h(name: str, value: str | int) -> tuple[bytes, bytes]:
    return (name.encode("latin-1"), str(value).encode("latin-1"))


class Registry:
    """The ASGI app mounted at `/v2/`."""

    def __init__(
        self,
        ecr: Ecr,
        clock: Clock,
        *,
        auth: bool,
        default_scope: Scope,
        authorize: Authorize | None = None,
    ) -> None:
        self.ecr = ecr
        self.clock = clock
        self.auth = auth
        self.default_scope = default_scope
        self.authorize = authorize

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            headers[raw_name.decode("latin-1").lower()] = raw_value.decode("latin-1")
        method = scope["method"]
        try:
            caller, account, principal = self._authenticate(headers)
            client = scope.get("client")
            req = Request(
                method=method,
                path=scope["path"],
                query=parse_qs(scope.get("query_string", b"").decode("latin-1")),
                headers=headers,
                scope=caller,
                receive=receive,
                caller_account=account,
                principal=principal,
                source_ip=str(client[0]) if client else None,
            )
            await self._route(req, send)
        except RegistryError as err:
            await self._error(send, err, head=method == "HEAD")
        except ServiceError as err:
            await self._error(send, RegistryError(err.status, "DENIED", err.message), False)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            await self._error(
                send, RegistryError(503, "UNAVAILABLE", f"storage unavailable: {exc}"), False
            )

    # -- auth ----------------------------------------------------------------------------

    def _authenticate(self, headers: dict[str, str]) -> tuple[Scope, str, Principal | None]:
        """The registry asked (account and region), the caller's account and principal."""
        host_scope = scope_of_host(headers.get("host", ""))
        token = self._token(headers.get("authorization", ""))
        caller = self.ecr.tokens.check(token, self.clock.now()) if token else None
        if caller is None:
            if self.auth:
                message = "the token is invalid or expired" if token else "authentication required"
                raise RegistryError(401, "UNAUTHORIZED", message)
            target = host_scope or self.default_scope
            return target, target.account_id, None  # auth off: anonymous acts as the owner
        # Another account's registry (by its host name): its repositories' policies decide.
        target = host_scope or Scope(caller.account_id, caller.region)
        return target, caller.account_id, caller.who()

    @staticmethod
    def _token(authorization: str) -> str | None:
        kind, _, value = authorization.partition(" ")
        kind = kind.lower()
        if kind == "bearer":
            return value.strip() or None
        if kind != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password if user == USERNAME and password else None

    # -- routing -------------------------------------------------------------------------

    async def _route(self, req: Request, send: Send) -> None:
        path = req.path
        if path in ("/v2", "/v2/"):
            if req.method not in ("GET", "HEAD"):
                raise RegistryError(405, "UNSUPPORTED", "only GET /v2/")
            await self._json(send, 200, {}, head=req.method == "HEAD")
            return
        rest = path[len(PREFIX) :]
        handler: Callable[[Request, Send, Repository, str], Awaitable[None]]
        for marker, handler in (
            ("/blobs/uploads/", self._upload),
            ("/blobs/uploads", self._upload),
            ("/manifests/", self._manifest),
            ("/blobs/", self._blob),
            ("/tags/list", self._tags),
        ):
            name, sep, tail = rest.partition(marker)
            if sep and name and (marker != "/blobs/uploads" or not tail):
                repo = self._repository(req, name, ACTIONS.get((marker, req.method), ""))
                await handler(req, send, repo, tail)
                return
        raise RegistryError(404, "NAME_UNKNOWN", f"no such registry route: {path}")

    def _repository(self, req: Request, name: str, action: str) -> Repository:
        scope = req.scope
        repo = self.ecr.repositories.find(scope, name)
        if self.authorize is not None and req.principal is not None:
            self._authorize(req, scope, name, action, repo)
        elif scope.account_id != req.caller_account and (
            repo is None or not action or not policy.allows(repo.policy, req.caller_account,
                                                            action)
        ):  # fmt: skip
            raise RegistryError(
                403, "DENIED", f"not authorized to perform: {action or req.method} on "
                f"repository {name} of registry {scope.account_id}",
            )  # fmt: skip
        if repo is None:
            raise _unknown_name(name, scope.account_id)
        return repo

    def _authorize(
        self, req: Request, scope: Scope, name: str, action: str, repo: Repository | None
    ) -> None:
        """As the token's principal: identity-based policies and the repository policy."""
        if not action:
            arn = repository_arn(scope.region, scope.account_id, name)
            raise RegistryError(403, "DENIED", f"{req.method} is not a registry operation on {arn}")
        message = self._denial(req, scope, name, action, repo)
        if message is not None:
            raise RegistryError(403, "DENIED", message)

    def _denial(
        self, req: Request, scope: Scope, name: str, action: str, repo: Repository | None
    ) -> str | None:
        """None when the caller may do `action` on the repository (or nothing is enforced);
        else AWS's access-denied message."""
        if self.authorize is None or req.principal is None:
            return None
        arn = repository_arn(scope.region, scope.account_id, name)
        tags = dict(repo.tags) if repo is not None else None
        found = repository_policy(repo.policy) if repo is not None and repo.policy else None
        access = Access(action, arn, tags)
        return self.authorize(req.principal, access, scope.account_id, found, req.source_ip)

    # -- blobs ---------------------------------------------------------------------------

    async def _blob(self, req: Request, send: Send, repo: Repository, digest: str) -> None:
        if req.method not in ("GET", "HEAD"):
            raise RegistryError(405, "UNSUPPORTED", "blobs are deleted with their images")
        if not manifests.is_digest(digest):
            raise RegistryError(400, "DIGEST_INVALID", f"invalid digest {digest!r}")
        size = None
        if self.ecr.images.linked(repo, digest) and digest not in self.ecr.blobs.collecting:
            size = await asyncio.to_thread(self.ecr.blobs.size, digest)
        if size is None:
            raise RegistryError(404, "BLOB_UNKNOWN", f"blob {digest} is not in {repo.name}")
        try:
            start, end = parse_range(req.headers.get("range"), size)
        except BadRange as exc:
            await send({"type": "http.response.start", "status": 416,
                        "headers": [API_VERSION, _h("content-range", f"bytes */{size}"),
                                    _h("content-length", 0)]})  # fmt: skip
            await send({"type": "http.response.body", "body": b""})
            del exc
            return
        partial = "range" in req.headers
        headers: Headers = [
            API_VERSION,
            _h("content-type", "application/octet-stream"),
            _h("docker-content-digest", digest),
            _h("etag", f'"{digest}"'),
            _h("accept-ranges", "bytes"),
            _h("content-length", end - start),
        ]
        if partial:
            headers.append(_h("content-range", f"bytes {start}-{end - 1}/{size}"))
        await send(
            {"type": "http.response.start", "status": 206 if partial else 200, "headers": headers}
        )
        if req.method == "HEAD" or end == start:
            await send({"type": "http.response.body", "body": b""})
            return
        path = self.ecr.blobs.path(digest)
        f = await asyncio.to_thread(open, path, "rb")
        try:
            await asyncio.to_thread(f.seek, start)
            left = end - start
            while left > 0:
                data = await asyncio.to_thread(f.read, min(CHUNK, left))
                if not data:  # collected underneath: the client sees a short body
                    break
                left -= len(data)
                await send({"type": "http.response.body", "body": data, "more_body": left > 0})
            if left > 0:
                await send({"type": "http.response.body", "body": b""})
        finally:
            await asyncio.to_thread(f.close)

    # -- uploads -------------------------------------------------------------------------

    async def _upload(self, req: Request, send: Send, repo: Repository, upload_id: str) -> None:
        blobs = self.ecr.blobs
        if not upload_id:
            if req.method != "POST":
                raise RegistryError(405, "UNSUPPORTED", "start an upload with POST")
            await self._start_upload(req, send, repo)
            return
        upload = blobs.uploads.get(upload_id)
        if upload is None or upload.repository_arn != repo.arn:
            raise RegistryError(404, "BLOB_UPLOAD_UNKNOWN", f"no upload {upload_id}")
        if req.method == "GET":
            await self._upload_status(send, repo, upload, 204)
        elif req.method == "DELETE":
            blobs.uploads.pop(upload.id, None)
            await asyncio.to_thread(blobs.discard, upload)
            await self._empty(send, 204, [])
        elif req.method == "PATCH":
            content_range = req.headers.get("content-range")
            if content_range:
                first = content_range.removeprefix("bytes ").removeprefix("bytes=")
                first = first.split("-", 1)[0].strip()
                if not first.isdigit() or int(first) != upload.offset:
                    raise RegistryError(416, "BLOB_UPLOAD_INVALID", "range does not follow on")
            await self._receive_into(req, upload)
            await self._upload_status(send, repo, upload, 202)
        elif req.method == "PUT":
            digest = req.arg("digest")
            if digest is None or not manifests.is_digest(digest):
                raise RegistryError(400, "DIGEST_INVALID", "a sha256 digest is required")
            await self._receive_into(req, upload)
            await self._complete(send, repo, upload, digest)
        else:
            raise RegistryError(405, "UNSUPPORTED", f"{req.method} on an upload")

    async def _start_upload(self, req: Request, send: Send, repo: Repository) -> None:
        blobs = self.ecr.blobs
        mount, source = req.arg("mount"), req.arg("from")
        if mount and source and manifests.is_digest(mount):
            origin = self.ecr.repositories.find(req.scope, source)
            if (
                origin is not None
                # Under IAM the caller must be able to read the blob where it is.
                and self._denial(req, req.scope, source, "ecr:GetDownloadUrlForLayer", origin)
                is None
                and self.ecr.images.linked(origin, mount)
                and mount not in blobs.collecting
            ):
                self.ecr.images.link(repo, mount)
                await self._empty(send, 201, [
                    _h("location", f"/v2/{repo.name}/blobs/{mount}"),
                    _h("docker-content-digest", mount),
                ])  # fmt: skip
                return
        if len(blobs.uploads) >= MAX_UPLOADS:
            raise RegistryError(429, "TOOMANYREQUESTS", "too many uploads in progress")
        upload = await asyncio.to_thread(blobs.start, repo.arn, self.clock.now())
        blobs.uploads[upload.id] = upload
        digest = req.arg("digest")
        if digest is not None:  # monolithic: the whole blob in this request
            if not manifests.is_digest(digest):
                blobs.uploads.pop(upload.id, None)
                await asyncio.to_thread(blobs.discard, upload)
                raise RegistryError(400, "DIGEST_INVALID", f"invalid digest {digest!r}")
            await self._receive_into(req, upload)
            await self._complete(send, repo, upload, digest)
            return
        await self._upload_status(send, repo, upload, 202)

    async def _receive_into(self, req: Request, upload: Upload) -> None:
        """Append the request body to the upload, in chunks written off the loop. An upload
        that fails part way (the client went away, the disk is full) is dropped whole: its
        offset would no longer say what is on disk."""
        try:
            await self._receive(req, upload)
        except BaseException:
            self.ecr.blobs.uploads.pop(upload.id, None)
            await asyncio.to_thread(self.ecr.blobs.discard, upload)
            raise

    async def _receive(self, req: Request, upload: Upload) -> None:
        buffer = bytearray()
        more = True
        while more:
            message = await req.receive()
            if message["type"] == "http.disconnect":
                raise RegistryError(400, "BLOB_UPLOAD_INVALID", "the client went away")
            buffer += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(buffer) >= CHUNK or (not more and buffer):
                data = bytes(buffer)
                buffer.clear()
                await asyncio.to_thread(upload.append, data)

    async def _complete(self, send: Send, repo: Repository, upload: Upload, digest: str) -> None:
        blobs = self.ecr.blobs
        blobs.uploads.pop(upload.id, None)
        while digest in blobs.collecting:  # the collector is removing an older copy
            await asyncio.sleep(0.02)
        blobs.in_flight[digest] = blobs.in_flight.get(digest, 0) + 1
        try:
            try:
                await asyncio.to_thread(blobs.finish, upload, digest)
            except DigestMismatch as exc:
                raise RegistryError(400, "DIGEST_INVALID", str(exc)) from exc
            self.ecr.images.link(repo, digest)
        finally:
            count = blobs.in_flight.pop(digest, 1) - 1
            if count:
                blobs.in_flight[digest] = count
        await self._empty(send, 201, [
            _h("location", f"/v2/{repo.name}/blobs/{digest}"),
            _h("docker-content-digest", digest),
        ])  # fmt: skip

    async def _upload_status(
        self, send: Send, repo: Repository, upload: Upload, status: int
    ) -> None:
        await self._empty(send, status, [
            _h("location", f"/v2/{repo.name}/blobs/uploads/{upload.id}"),
            _h("range", f"0-{max(upload.offset - 1, 0)}"),
            _h("docker-upload-uuid", upload.id),
        ])  # fmt: skip

    # -- manifests -----------------------------------------------------------------------

    async def _manifest(self, req: Request, send: Send, repo: Repository, ref: str) -> None:
        if not (manifests.is_digest(ref) or manifests.is_tag(ref)):
            raise RegistryError(400, "MANIFEST_INVALID", f"invalid reference {ref!r}")
        if req.method in ("GET", "HEAD"):
            image = self.ecr.images.resolve(repo, ref)
            if image is None:
                raise RegistryError(404, "MANIFEST_UNKNOWN", f"manifest {ref} not in {repo.name}")
            body = image.manifest.encode("utf-8")
            try:
                start, end = parse_range(req.headers.get("range"), len(body))
            except BadRange as exc:
                raise RegistryError(416, "RANGE_INVALID", str(exc)) from exc
            partial = "range" in req.headers
            headers: Headers = [
                API_VERSION,
                _h("content-type", image.media_type),
                _h("docker-content-digest", image.digest),
                _h("etag", f'"{image.digest}"'),
                _h("content-length", end - start),
            ]
            if partial:
                headers.append(_h("content-range", f"bytes {start}-{end - 1}/{len(body)}"))
            status = 206 if partial else 200
            await send({"type": "http.response.start", "status": status, "headers": headers})
            chunk = b"" if req.method == "HEAD" else body[start:end]
            await send({"type": "http.response.body", "body": chunk})
            if req.method == "GET":
                self.ecr.images.record_pull(image)
        elif req.method == "PUT":
            data = await self._read_small(req, manifests.MAX_MANIFEST_BYTES)
            is_digest = manifests.is_digest(ref)
            try:
                pushed = self.ecr.push(
                    repo,
                    data,
                    req.headers.get("content-type"),
                    None if is_digest else ref,
                    ref if is_digest else None,
                )
            except LayersNotFoundException as exc:
                raise RegistryError(400, "MANIFEST_BLOB_UNKNOWN", exc.message) from exc
            except ImageTagAlreadyExistsException as exc:
                raise RegistryError(400, "TAG_INVALID", exc.message) from exc
            except ImageDigestDoesNotMatchException as exc:
                raise RegistryError(400, "DIGEST_INVALID", exc.message) from exc
            except ServiceError as exc:
                raise RegistryError(400, "MANIFEST_INVALID", exc.message) from exc
            digest = pushed.image.digest
            await self._empty(send, 201, [
                _h("location", f"/v2/{repo.name}/manifests/{digest}"),
                _h("docker-content-digest", digest),
            ])  # fmt: skip
        elif req.method == "DELETE":
            image = self.ecr.images.resolve(repo, ref)
            if image is None:
                raise RegistryError(404, "MANIFEST_UNKNOWN", f"manifest {ref} not in {repo.name}")
            if manifests.is_digest(ref):
                self.ecr.delete_images(repo, [image])
            else:
                self.ecr.untag(repo, image, ref)
            await self._empty(send, 202, [])
        else:
            raise RegistryError(405, "UNSUPPORTED", f"{req.method} on a manifest")

    async def _read_small(self, req: Request, limit: int) -> bytes:
        body = bytearray()
        more = True
        while more:
            message = await req.receive()
            if message["type"] == "http.disconnect":
                raise RegistryError(400, "MANIFEST_INVALID", "the client went away")
            body += message.get("body", b"")
            if len(body) > limit:
                raise RegistryError(413, "SIZE_INVALID", f"larger than {limit} bytes")
            more = bool(message.get("more_body", False))
        return bytes(body)

    # -- tags ----------------------------------------------------------------------------

    async def _tags(self, req: Request, send: Send, repo: Repository, tail: str) -> None:
        if tail or req.method not in ("GET", "HEAD"):
            raise RegistryError(405, "UNSUPPORTED", "GET /v2/<name>/tags/list")
        tags = sorted(self.ecr.images.tags.get(repo.arn, {}))
        last = req.arg("last")
        if last:
            tags = [t for t in tags if t > last]
        n_text = req.arg("n")
        extra: Headers = []
        if n_text is not None:
            if not n_text.isdigit():
                raise RegistryError(400, "PAGINATION_NUMBER_INVALID", "n must be a number")
            n = min(int(n_text), MAX_TAGS_PAGE)
            if len(tags) > n:
                tags = tags[:n]
                if tags:
                    link = f"/v2/{repo.name}/tags/list?n={n}&last={quote(tags[-1])}"
                    extra.append(_h("link", f'<{link}>; rel="next"'))
        await self._json(send, 200, {"name": repo.name, "tags": tags},
                         head=req.method == "HEAD", extra=extra)  # fmt: skip

    # -- responses -----------------------------------------------------------------------

    @staticmethod
    async def _empty(send: Send, status: int, headers: Headers) -> None:
        headers = [API_VERSION, *headers, _h("content-length", 0)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _json(
        send: Send, status: int, doc: object, head: bool = False, extra: Headers | None = None
    ) -> None:
        body = json.dumps(doc).encode()
        headers = [
            API_VERSION,
            _h("content-type", "application/json"),
            _h("content-length", len(body)),
            *(extra or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    async def _error(self, send: Send, err: RegistryError, head: bool) -> None:
        doc = {"errors": [{"code": err.code, "message": err.message, "detail": err.detail}]}
        extra: Headers = []
        if err.status == 401:
            extra.append(_h("www-authenticate", 'Basic realm="dockyard ecr"'))
        await self._json(send, err.status, doc, head=head, extra=extra)
