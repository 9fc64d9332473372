"""A run's own TLS certificates: a CA, one certificate for the nodes, one for the harness's clients.

Made fresh for every secured run in its scratch directory (never the run directory: the keys are secrets),
valid for a day, for exactly the addresses clients are handed: the nodes' own and their proxies'.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.core.access import TlsFiles

VALID_FOR = datetime.timedelta(days=1)
NODE_FILES = ("ca.crt", "node.crt", "node.key")  # what a node needs, by name in the certificate directory


@dataclass(frozen=True, slots=True)
class RunCertificates:
    node: TlsFiles  # redis-server and redis-sentinel: serves, and presents itself on its own links
    client: TlsFiles  # the harness's clients, the load and the exporter


def make_certificates(directory: Path, run_id: str, addresses: Iterable[str]) -> RunCertificates:
    """Write ca.crt, node.crt/key and client.crt/key into `directory` (created, owner-only)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"redis-drill CA {run_id}")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for address in dict.fromkeys(addresses):
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    # Nodes verify each other (replication, Sentinel links) with tls-auth-clients: both usages.
    node = _leaf(directory, "node", f"redis-drill node {run_id}", names, ca, ca_key, now)
    client = _leaf(directory, "client", f"redis-drill client {run_id}", [], ca, ca_key, now)
    return RunCertificates(
        TlsFiles(str(ca_path), *node),
        TlsFiles(str(ca_path), *client),
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
    )


def _leaf(
    directory: Path,
    stem: str,
    common_name: str,
    names: list[x509.GeneralName],
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: datetime.datetime,
) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = _builder(subject, ca.subject, key.public_key(), now).add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
        critical=False,
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)
