# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate of a guest's WinRM HTTPS listener: self-signed, as ``New-SelfSignedCertificate`` makes one for it.

A stock Windows image has no HTTPS listener (WinRM listens on HTTP 5985 only); an administrator creates one with a
certificate whose subject is the machine's name or address. The certificate here names the guest's computer name and
the address it listens on, so a client that trusts the certificate (``ansible_winrm_ca_trust_path``) validates it.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import pathlib
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclasses.dataclass
class TlsIdentity:
    """The listener's certificate (PEM, public) and the server-side TLS context that presents it."""

    certificate_pem: str
    context: ssl.SSLContext


def self_signed(computer_name: str, address: str) -> TlsIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, computer_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(computer_name), x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # ssl loads a certificate chain from files only: they live just long enough to be read.
    with tempfile.TemporaryDirectory(prefix="cloudsim-winrm-tls-") as folder:
        chain = pathlib.Path(folder) / "listener.pem"
        chain.write_text(key_pem + certificate_pem, encoding="ascii")
        context.load_cert_chain(chain)
    return TlsIdentity(certificate_pem=certificate_pem, context=context)
