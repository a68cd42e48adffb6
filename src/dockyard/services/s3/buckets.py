"""Buckets and their configuration: location, versioning, tags, policy, CORS, lifecycle,
notifications."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from dockyard.core.iampolicy import PolicyError, PolicyKind, parse_policy
from dockyard.core.scope import Scope
from dockyard.services.s3.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    IllegalLocationConstraintException,
    InvalidLocationConstraint,
    MalformedPolicy,
    MalformedXML,
)
from dockyard.services.s3.model import Bucket, Versioning
from dockyard.services.s3.names import check_bucket_name, check_tags
from dockyard.services.s3.state import BUCKET_KIND, BucketObjects, S3State

MAX_POLICY_BYTES = 20 * 1024
US_EAST_1 = "us-east-1"


class Buckets:
    def __init__(self, state: S3State) -> None:
        self.state = state

    def create(self, scope: Scope, name: str, location: str | None) -> Bucket:
        state = self.state
        check_bucket_name(name)
        if location == US_EAST_1:
            raise InvalidLocationConstraint("The specified location-constraint is not valid")
        region = location or US_EAST_1
        if region != scope.region and not (location is None and scope.region == US_EAST_1):
            raise IllegalLocationConstraintException(
                f"The {region} location constraint is incompatible for the region specific "
                f"endpoint this request was sent to."
                if location
                else "The unspecified location constraint is incompatible for the region "
                "specific endpoint this request was sent to."
            )
        existing = state.buckets.get(name)
        if existing is not None:
            if existing.account_id == scope.account_id:
                raise BucketAlreadyOwnedByYou(
                    "Your previous request to create the named bucket succeeded and you "
                    "already own it."
                )
            raise BucketAlreadyExists(
                "The requested bucket name is not available. The bucket namespace is shared "
                "by all users of the system. Please select a different name and try again."
            )
        bucket = Bucket(name, scope.account_id, region, state.clock.now())

        def apply() -> None:
            state.buckets[name] = bucket
            state.objects[name] = BucketObjects()

        state.commit([(BUCKET_KIND, name, bucket.to_dict())], apply=apply)
        return bucket

    def delete(self, name: str) -> None:
        state = self.state
        state.bucket(name)
        if len(state.contents(name)) or any(u.bucket == name for u in state.uploads.values()):
            raise BucketNotEmpty("The bucket you tried to delete is not empty")

        def apply() -> None:
            state.buckets.pop(name, None)
            state.objects.pop(name, None)

        state.commit(deletes=[(BUCKET_KIND, name)], apply=apply)

    def of_account(self, account_id: str) -> list[Bucket]:
        return sorted(
            (b for b in self.state.buckets.values() if b.account_id == account_id),
            key=lambda b: b.name,
        )

    def update(self, name: str, **changes: Any) -> Bucket:
        state = self.state
        bucket = replace(state.bucket(name), **changes)
        state.commit(
            [(BUCKET_KIND, name, bucket.to_dict())],
            apply=lambda: state.buckets.__setitem__(name, bucket),
        )
        return bucket

    # -- configuration -----------------------------------------------------------------------

    def set_versioning(self, name: str, status: str | None) -> Bucket:
        if status not in (Versioning.ENABLED, Versioning.SUSPENDED):
            raise MalformedXML(
                "The XML you provided was not well-formed or did not validate against our "
                "published schema"
            )
        return self.update(name, versioning=status)

    def set_tags(self, name: str, tags: dict[str, str]) -> Bucket:
        return self.update(name, tags=check_tags(tags, 50))

    def set_policy(self, name: str, text: str) -> Bucket:
        return self.update(name, policy=check_policy(text))


def check_policy(text: str) -> str:
    """A bucket policy kept as JSON text: a document with a Statement list whose entries
    each have an Effect and an Action or NotAction (MalformedPolicy otherwise)."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise MalformedPolicy("Policy exceeds the maximum allowed document size.")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedPolicy(
            "Policies must be valid JSON and the first byte must be '{'"
        ) from None
    if not isinstance(doc, dict):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy("Missing required field Statement")
    for statement in statements:
        if not isinstance(statement, dict):
            raise MalformedPolicy("Statement must be an object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicy("Invalid effect: " + str(statement.get("Effect")))
        if "Action" not in statement and "NotAction" not in statement:
            raise MalformedPolicy("Missing required field Action")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise MalformedPolicy("Missing required field Principal")
    try:  # the grammar IAM's evaluator weighs it with (conditions, wildcards, ARNs)
        parse_policy(text, PolicyKind.RESOURCE)
    except PolicyError as exc:
        raise MalformedPolicy(str(exc)) from None
    return text
