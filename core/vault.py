"""The credential vault: AES-256-GCM for every connector secret.

The key is 32 random bytes, from ``SWITCHBOARD_SECRET_KEY`` (base64) or from the key file
``<data dir>/secret.key`` created on first start with mode 0600. Each ciphertext binds the
identity of its row (``connector:<id>:<field>``) as associated data, so a ciphertext copied
onto another row does not decrypt.

Rotation re-encrypts every secret under a new key in one transaction::

    python -m core.vault rotate

With a key file, the new key is written to ``secret.key.new`` first and moved over
``secret.key`` only after the store committed; both keys are tried while ``.new`` exists,
so a crash at any moment leaves every secret readable. With ``SWITCHBOARD_SECRET_KEY``,
put the new key in ``SWITCHBOARD_NEW_SECRET_KEY``, run the command, then swap the variables.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import ConfigurationError
from core.settings import Settings

KEY_BYTES = 32
NONCE_BYTES = 12


def key_id(key: bytes) -> str:
    """A short, non-secret fingerprint telling which key sealed a secret."""
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class Sealed:
    nonce: bytes
    ciphertext: bytes
    key_id: str


class PageSealer:
    """Seals like ``Vault.seal`` with one key, for a short burst of values."""

    def __init__(self, cipher: AESGCM, key_id: str) -> None:
        self._cipher = cipher
        self._key_id = key_id

    def seal(self, plaintext: str, aad: str) -> Sealed:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return Sealed(
            nonce, self._cipher.encrypt(nonce, plaintext.encode(), aad.encode()), self._key_id
        )


KeyLoader = Callable[[], tuple[bytes, tuple[bytes, ...]]]


class Vault:
    """Seals with the primary key; opens with whichever known key sealed the value.

    With a key file, the vault re-reads it before sealing and when it meets an unknown
    key id, so a rotation done by another process (``python -m core.vault rotate``) is
    picked up without a restart and nothing is sealed with a retired key.
    """

    def __init__(
        self, primary: bytes, others: tuple[bytes, ...] = (), *, reload: KeyLoader | None = None
    ) -> None:
        self._keys: dict[str, bytes] = {}
        self._reload = reload
        self._install(primary, others)

    def _install(self, primary: bytes, others: tuple[bytes, ...]) -> None:
        for key in (primary, *others):
            if len(key) != KEY_BYTES:
                raise ConfigurationError(
                    f"The secret key is {len(key)} bytes long; AES-256 needs {KEY_BYTES}.",
                    fix="Generate one with: python -m core.vault new-key",
                )
        self._primary = primary
        # retired keys stay known to this process, so secrets it read before still open
        self._keys.update({key_id(k): k for k in (primary, *others)})

    @property
    def primary_key_id(self) -> str:
        return key_id(self._primary)

    def seal(self, plaintext: str, aad: str) -> Sealed:
        if self._reload is not None:
            self._install(*self._reload())
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = AESGCM(self._primary).encrypt(nonce, plaintext.encode(), aad.encode())
        return Sealed(nonce, ciphertext, self.primary_key_id)

    def sealer(self) -> PageSealer:
        """A sealer bound to the current primary key, for many values in a row (a sync
        page): the key file is read once, not once per value."""
        if self._reload is not None:
            self._install(*self._reload())
        return PageSealer(AESGCM(self._primary), self.primary_key_id)

    def open(self, sealed: Sealed, aad: str) -> str:
        key = self._keys.get(sealed.key_id)
        if key is None and self._reload is not None:
            self._install(*self._reload())
            key = self._keys.get(sealed.key_id)
        if key is None:
            raise ConfigurationError(
                "A stored secret was sealed with a key Switchboard does not have.",
                fix="Restore the previous SWITCHBOARD_SECRET_KEY or key file, or re-enter the "
                "connector's credentials.",
            )
        try:
            return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, aad.encode()).decode()
        except InvalidTag:
            raise ConfigurationError(
                "A stored secret failed its integrity check (it was altered or moved).",
                fix="Re-enter the connector's credentials.",
            ) from None


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"{source} does not hold a base64-encoded 32-byte key.",
            fix="Generate a key with 'python -m core.vault new-key'. If you lost the key file, "
            "delete it and re-enter every connector's credentials.",
        )
    return key


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def create_private_file(path: Path, text: str) -> None:
    """Create ``path`` (mode 0600) holding ``text``, unless another process just did.

    The key goes to a private temporary file first and is linked into place, so a crash
    never leaves a half-written key, and processes starting together (app and worker)
    all end up using the one key that is on disk.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process wrote the key first; everyone reads that one
    finally:
        temporary.unlink(missing_ok=True)


def load_vault(settings: Settings, env: dict[str, str] | None = None) -> Vault:
    """The vault for this process; creates the key file on first start."""
    env = dict(os.environ if env is None else env)
    if settings.secret_key_b64:
        primary = _decode_key(settings.secret_key_b64, "SWITCHBOARD_SECRET_KEY")
        others = ()
        if env.get("SWITCHBOARD_NEW_SECRET_KEY"):
            others = (_decode_key(env["SWITCHBOARD_NEW_SECRET_KEY"], "SWITCHBOARD_NEW_SECRET_KEY"),)
        return Vault(primary, others)
    path = settings.key_file
    if not path.exists():
        create_private_file(path, new_key_text())

    def read_key_files() -> tuple[bytes, tuple[bytes, ...]]:
        primary = _decode_key(path.read_text(errors="replace"), f"The key file {path}")
        pending = path.with_name(path.name + ".new")
        if not pending.exists():
            return primary, ()
        return primary, (
            _decode_key(pending.read_text(errors="replace"), f"The key file {pending}"),
        )

    primary, others = read_key_files()
    return Vault(primary, others, reload=read_key_files)


def prepare_rotation(settings: Settings, env: dict[str, str] | None = None) -> tuple[Vault, bytes]:
    """The vault that can open every secret now, and the key to re-seal them with."""
    env = dict(os.environ if env is None else env)
    if settings.secret_key_b64:
        raw = env.get("SWITCHBOARD_NEW_SECRET_KEY", "")
        if not raw:
            raise ConfigurationError(
                "The key comes from SWITCHBOARD_SECRET_KEY, so the new key must be given too.",
                fix="Set SWITCHBOARD_NEW_SECRET_KEY (python -m core.vault new-key) and run again.",
            )
        new_key = _decode_key(raw, "SWITCHBOARD_NEW_SECRET_KEY")
    else:
        pending = settings.key_file.with_name(settings.key_file.name + ".new")
        if not pending.exists():
            create_private_file(pending, new_key_text())
        new_key = _decode_key(pending.read_text(errors="replace"), f"The key file {pending}")
    return load_vault(settings, env), new_key


def finish_rotation(settings: Settings) -> None:
    """After the store committed: the new key file becomes the key file."""
    if settings.secret_key_b64:
        return
    pending = settings.key_file.with_name(settings.key_file.name + ".new")
    if pending.exists():
        os.replace(pending, settings.key_file)


def main(argv: list[str]) -> int:
    """``python -m core.vault new-key | rotate``."""
    if argv[:1] == ["new-key"]:
        print(new_key_text())
        return 0
    if argv[:1] == ["rotate"]:
        from core.connectors.secrets import rotate_secrets
        from core.workspace import open_workspace

        try:
            workspace = open_workspace()
            count = rotate_secrets(workspace, actor="cli")
        except ConfigurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"Re-encrypted {count} secret(s) under the new key.")
        if workspace.settings.secret_key_b64:
            print("Now set SWITCHBOARD_SECRET_KEY to the value of SWITCHBOARD_NEW_SECRET_KEY.")
        return 0
    print("usage: python -m core.vault new-key | rotate", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
