"""A throwaway certificate authority made with openssl: leaf certificates for the public names, signed by it, with
explicit validity dates (expired ones too), as a private CA would issue them for compose/certs/."""

from __future__ import annotations

import os
import random
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path


class TestCA:
    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path):
        self.directory = directory
        # nginx's workers run unprivileged and read the key at start as root; keep the folder traversable.
        os.chmod(directory, 0o755)
        self.certificate = directory / "ca.pem"
        self._key = directory / "ca.key"
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                      "-subj", "/CN=clearml-probe compose test CA", "-keyout", str(self._key),
                      "-out", str(self.certificate))

    def issue(self, name: str, hosts: list[str], not_before: timedelta = timedelta(days=-1),
              not_after: timedelta = timedelta(days=90)) -> tuple[Path, Path]:
        """(fullchain.pem, privkey.pem) for `hosts` (SANs), valid from now + not_before to now + not_after."""
        key, csr = self.directory / f"{name}.key", self.directory / f"{name}.csr"
        cert, chain = self.directory / f"{name}.crt", self.directory / f"{name}-fullchain.pem"
        self._openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={hosts[0]}", "-keyout", str(key),
                      "-out", str(csr))
        # `openssl x509 -req` takes no start date (before OpenSSL 3.4); `openssl ca` does, with a minimal config.
        index, serial = self.directory / f"{name}.index", self.directory / f"{name}.serial"
        index.write_text("")
        serial.write_text("%02X\n" % random.randint(16, 250))
        extensions = self.directory / f"{name}.ext"
        extensions.write_text("subjectAltName=" + ",".join(f"DNS:{host}" for host in hosts) + "\n")
        config = self.directory / f"{name}.cnf"
        config.write_text(f"""[ca]
default_ca = test
[test]
database = {index}
new_certs_dir = {self.directory}
serial = {serial}
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
""")
        now = datetime.now(timezone.utc)
        stamp = lambda delta: (now + delta).strftime("%Y%m%d%H%M%SZ")  # noqa: E731
        self._openssl("ca", "-batch", "-config", str(config), "-in", str(csr), "-out", str(cert), "-notext",
                      "-startdate", stamp(not_before), "-enddate", stamp(not_after), "-extfile", str(extensions),
                      "-cert", str(self.certificate), "-keyfile", str(self._key))
        chain.write_bytes(cert.read_bytes() + self.certificate.read_bytes())
        for path in (chain, key):
            os.chmod(path, 0o644)
        return chain, key

    def _openssl(self, *arguments: str) -> None:
        subprocess.run(["openssl", *arguments], cwd=self.directory, check=True, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
