"""A certificate for serving HTTPS on loopback in tests, made on the spot.

Google delivers push notifications only to an ``https://`` address with a certificate it
trusts; the tests serve salonbot over HTTPS with this one and tell the fake Google to
trust it (:meth:`tests.fakes.google_calendar.FakeGoogleCalendar.trust`), as Google trusts
a public CA's. Its own issuer (a self-signed root), valid for ``127.0.0.1`` and
``localhost`` for a day.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True, slots=True)
class LoopbackCertificate:
    certificate_pem: str
    key_pem: str

    def write(self, directory: Path) -> tuple[Path, Path]:
        """The certificate and its key as files (what uvicorn's ``ssl_certfile`` and
        ``ssl_keyfile`` take)."""
        certificate, key = directory / "loopback.crt", directory / "loopback.key"
        certificate.write_text(self.certificate_pem)
        key.write_text(self.key_pem)
        key.chmod(0o600)
        return certificate, key


def loopback_certificate() -> LoopbackCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salonbot test loopback")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        # A root of its own: OpenSSL takes it as a trust anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return LoopbackCertificate(
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )
