"""Certificates for HTTPS listeners. There is no certificate manager: a listener's
`CertificateArn` names PEM files on the server's host, as `file:///path/cert.pem` (the file
holds the chain and the private key, or the key is `/path/cert.key` beside it) or
`file:///path/cert.pem?key=/path/key.pem`."""

from __future__ import annotations

import ssl
from pathlib import Path

PREFIX = "file://"


def tls_files(ref: str) -> tuple[str, str]:
    """(certificate chain file, private key file) of a certificate reference; ValueError
    says what is wrong with it."""
    if not ref.startswith(PREFIX):
        raise ValueError(
            "Dockyard has no certificate manager: give the certificate as "
            "file:///path/cert.pem (with its key inside or at /path/cert.key) or "
            "file:///path/cert.pem?key=/path/key.pem"
        )
    rest = ref[len(PREFIX) :]
    cert, _, query = rest.partition("?")
    key = query[len("key=") :] if query.startswith("key=") else ""
    cert_path = Path(cert)
    if not cert_path.is_file():
        raise ValueError(f"no certificate file at {cert}")
    if not key:
        text = cert_path.read_text(errors="replace")
        sibling = cert_path.with_suffix(".key")
        if "PRIVATE KEY" in text:
            key = cert
        elif sibling.is_file():
            key = str(sibling)
        else:
            raise ValueError(f"no private key in {cert} and no {sibling}")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"cannot load the certificate and key: {exc}") from exc
    return cert, key
