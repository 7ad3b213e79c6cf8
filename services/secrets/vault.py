"""Encryption at rest of the secrets the store keeps (refresh tokens, client secrets): MultiFernet.

Where the keys come from, first match wins (`vault.key_source` says which):
1. `secret_keys` passed by the caller (the UI reads them from .streamlit/secrets.toml; services never import streamlit),
2. env `DASHBOARD_SECRET_KEYS`,
3. a key file beside the database, `<db>.key` (mode 0600), created once.
Keys are comma-separated Fernet keys; the first one encrypts, all of them decrypt.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV_VAR = "DASHBOARD_SECRET_KEYS"

# every encrypted column of the store: table -> (primary key column, [secret columns])
SECRET_COLUMNS: dict[str, tuple[str, list[str]]] = {
    "accounts": ("account_id", ["client_secret_enc", "refresh_token_enc"]),
    "oauth_states": ("state_hash", ["verifier_enc", "client_secret_enc"]),
}
SECRETS_TOML = Path(".streamlit") / "secrets.toml"


def keys_from_secrets_toml(path: str | Path = SECRETS_TOML) -> str | None:
    """`DASHBOARD_SECRET_KEYS` from a secrets.toml (for command-line tools; the UI reads st.secrets)."""
    import tomllib

    try:
        with open(path, "rb") as f:
            value = tomllib.load(f).get(ENV_VAR)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return value if isinstance(value, str) and value.strip() else None


class VaultError(Exception):
    pass


def _split(keys: str | Sequence[str]) -> list[str]:
    if isinstance(keys, str):
        keys = keys.split(",")
    return [k.strip() for k in keys if k and k.strip()]


def key_file_for(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".key")


def _load_or_create_key_file(path: Path) -> list[str]:
    if path.exists():
        if os.name == "posix" and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # owner only, even if someone loosened it
        return _split(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return _split(path.read_text())
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return [key]


class Vault:
    def __init__(self, secret_keys: str | Sequence[str] | None = None, db_path: str | Path | None = None):
        self.key_file: Path | None = None
        if secret_keys and _split(secret_keys):
            keys, self.key_source = _split(secret_keys), "argument"
        elif os.environ.get(ENV_VAR, "").strip():
            keys, self.key_source = _split(os.environ[ENV_VAR]), "env"
        elif db_path is not None and str(db_path) != ":memory:":
            self.key_file = key_file_for(db_path)
            keys, self.key_source = _load_or_create_key_file(self.key_file), "key_file"
        else:
            raise VaultError(
                f"no encryption key: pass secret_keys, set {ENV_VAR}, or give the database path for a key file"
            )
        try:
            self._keys = keys
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as e:
            raise VaultError(f"invalid Fernet key ({self.key_source}): {e}") from None

    def describe(self) -> str:
        """One sentence for the UI about where the keys come from (never the keys)."""
        if self.key_source == "key_file":
            return (
                f"Secrets are encrypted with a key file created beside the database ({self.key_file}, readable by "
                f"this user only). Back it up separately from the database, or set {ENV_VAR} in "
                ".streamlit/secrets.toml or the environment."
            )
        where = "the environment" if self.key_source == "env" else ".streamlit/secrets.toml"
        return f"Secrets are encrypted at rest with the key(s) from {where}."

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise VaultError("cannot decrypt a stored secret with the configured keys") from None

    def with_new_primary(self, new_key: str | None = None) -> Vault:
        """A vault whose first (encrypting) key is `new_key` (generated when None), old keys still decrypt."""
        new_key = new_key or Fernet.generate_key().decode()
        return Vault([new_key] + self._keys)

    def rotate(self, db, new_key: str | None = None) -> Vault:
        """Re-encrypt every secret column with a new primary key; returns the new vault.

        When the keys came from the key file, the file is rewritten (new key first). With env/argument keys
        the caller must put the returned `vault.keys_csv` in its configuration.
        """
        from services.store import write

        new = self.with_new_primary(new_key)
        with write(db):
            for table, (pk, cols) in SECRET_COLUMNS.items():
                if not db[table].exists():
                    continue
                rows = db.conn.execute(
                    "SELECT [{}], {} FROM [{}]".format(pk, ", ".join(f"[{c}]" for c in cols), table)
                ).fetchall()
                for row in rows:
                    values = [new._fernet.rotate(v.encode()).decode() if v else v for v in row[1:]]
                    db.conn.execute(
                        "UPDATE [{}] SET {} WHERE [{}] = ?".format(table, ", ".join(f"[{c}] = ?" for c in cols), pk),
                        values + [row[0]],
                    )
        if self.key_source == "key_file" and self.key_file is not None:
            tmp = self.key_file.with_suffix(".key.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(",".join(new._keys) + "\n")
            os.replace(tmp, self.key_file)
            new.key_source, new.key_file = "key_file", self.key_file
        else:
            new.key_source = self.key_source
        return new

    @property
    def keys_csv(self) -> str:
        return ",".join(self._keys)

    def __repr__(self) -> str:  # never print keys
        return f"<Vault source={self.key_source} keys={len(self._keys)}>"
