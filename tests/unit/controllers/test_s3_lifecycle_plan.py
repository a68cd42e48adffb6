"""The S3 lifecycle plan: what expires when (table tests)."""

from __future__ import annotations

from dockyard.controllers.s3_lifecycle_plan import DAY, PendingUpload, Version, due, plan


def _v(key: str, vid: str = "null", t: float = 0.0, **kw: object) -> Version:
    fields: dict = dict(key=key, version_id=vid, last_modified=t, size=10, tags={},
                        is_latest=True, delete_marker=False, noncurrent_since=None)  # fmt: skip
    fields.update(kw)
    return Version(**fields)


RULE = {"Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}


def test_days_round_up_to_midnight_utc() -> None:
    assert due(15 * 3600, 1) == 2 * DAY
    assert due(0, 1) == DAY


def test_expiration_by_prefix_and_status() -> None:
    versions = [_v("tmp/a", t=3600), _v("keep/b", t=3600)]
    assert plan([RULE], versions, [], now=DAY).expire == []
    assert plan([RULE], versions, [], now=2 * DAY).expire == ["tmp/a"]
    disabled = {**RULE, "Status": "Disabled"}
    assert plan([disabled], versions, [], now=10 * DAY).expire == []


def test_tags_and_sizes_filter() -> None:
    rule = {"Status": "Enabled", "Expiration": {"Days": 1},
            "Filter": {"And": {"Prefix": "", "Tags": [{"Key": "t", "Value": "1"}],
                               "ObjectSizeGreaterThan": 5}}}  # fmt: skip
    versions = [
        _v("a", tags={"t": "1"}),
        _v("b", tags={"t": "2"}),
        _v("c", tags={"t": "1"}, size=1),
    ]
    assert plan([rule], versions, [], now=5 * DAY).expire == ["a"]


def test_noncurrent_versions_delete_markers_and_uploads() -> None:
    rule = {"Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 2},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}  # fmt: skip
    versions = [
        _v("k", "v2", t=DAY),
        _v("k", "v1", t=0, is_latest=False, noncurrent_since=DAY),
        _v("gone", "m1", t=0, delete_marker=True, only_version=True),
    ]
    uploads = [PendingUpload("u1", "x", 0.0)]
    early = plan([rule], versions, uploads, now=2 * DAY)
    assert early.delete_versions == [("gone", "m1")] and early.abort == []
    later = plan([rule], versions, uploads, now=3 * DAY)
    assert later.delete_versions == [("k", "v1"), ("gone", "m1")]
    assert later.abort == ["u1"]
