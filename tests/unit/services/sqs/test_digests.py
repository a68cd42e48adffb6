"""MD5 digests as SQS answers them (the SDKs verify them against their own)."""

from __future__ import annotations

from dockyard.services.sqs.digests import md5_of_attributes, md5_of_body
from dockyard.services.sqs.model import MessageAttribute


def test_body_digest_is_md5_of_utf8() -> None:
    assert md5_of_body("hello") == "5d41402abc4b2a76b9719d911017c592"


def test_attribute_digest_in_sqs_encoding() -> None:
    # Checked against an independent implementation of SQS's algorithm.
    attributes = {
        "b": MessageAttribute("Binary", binary_value=b"\x00\x01"),
        "a": MessageAttribute("String", "x"),
        "n": MessageAttribute("Number.int", "12"),
    }
    assert md5_of_attributes(attributes) == "95b660b4f3e207b71f70de869cd4ce26"
    assert md5_of_attributes({}) is None
