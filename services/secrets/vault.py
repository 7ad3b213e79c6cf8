"""Encryption at rest of the secrets the store keeps (refresh tokens, client secrets): MultiFernet.

Where the keys come from, first match wins (`vault.key_source` says which):
1. `secret_keys` passed by the caller (the UI reads them from .streamlit/secrets.toml; services never import streamlit),
2. env `DASHBOARD_SECRET_KEYS`,
3. a key file beside the database, `<db>.key` (mode 0600), created once, and only while the database holds no
   encrypted value: a missing key file beside encrypted secrets is an error, never a silently created new key.
Keys are comma-separated Fernet keys; the first one encrypts, all of them decrypt.

Rotation never loses a secret (issue 12): the destination is checked first, the new key list (new key first, old
keys kept) is written durably and atomically, and only then is every secret re-encrypted, in one transaction.
A process killed at any point leaves every secret decryptable with the key list it will load next. Dropping the
old keys is a later, separate step (`drop_old_keys`), refused while any secret still needs them.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV_VAR = "DASHBOARD_SECRET_KEYS"
KILL_AT_ENV = "DASHBOARD_ROTATE_KILL_AT"  # tests only: SIGKILL this process at the named step of a rotation
KILL_POINTS = ("checked", "key_tmp_written", "key_replaced", "key_saved", "mid_reencrypt", "reencrypted")

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


def _kill_point(name: str) -> None:
    """The crash test's hook: with DASHBOARD_ROTATE_KILL_AT=name, die here exactly as a power cut would."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def stored_secrets(db_path: str | Path):
    """Every non-empty encrypted value of the store: (class "table.column", ciphertext). Read only; no migration."""
    path = Path(db_path)
    if str(db_path) == ":memory:" or not path.is_file():
        return
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        for table, (_, cols) in SECRET_COLUMNS.items():
            for col in cols:
                try:
                    rows = conn.execute(f"SELECT [{col}] FROM [{table}] WHERE COALESCE([{col}], '') != ''").fetchall()
                except sqlite3.OperationalError:  # a store older than this table
                    continue
                for (value,) in rows:
                    yield f"{table}.{col}", value
    finally:
        conn.close()


def _load_or_create_key_file(path: Path, db_path: str | Path, create: bool = True) -> list[str]:
    if path.exists():
        if os.name == "posix" and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # owner only, even if someone loosened it
        return _split(path.read_text())
    if next(iter(stored_secrets(db_path)), None) is not None:
        raise VaultError(
            f"The key file {path} is missing, but the database holds encrypted tokens that only its keys can read. "
            f"Restore the key file from your backup (or set {ENV_VAR}); no new key was created, so nothing is lost."
        )
    if not create:
        raise VaultError(f"There is no key file at {path} and no secret is stored yet.")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return _split(path.read_text())
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(path.parent)
    return [key]


def _fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` survive a power cut (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_writable(path: Path, *, new_file: bool) -> None:
    """Refuse a key destination that cannot be written, before anything changes (a real probe: root ignores modes)."""
    folder = path.parent
    if not folder.is_dir():
        raise VaultError(
            f"The folder {folder} does not exist, so the new keys could not be saved there. "
            "Create it or choose another place; nothing was changed."
        )
    if new_file and (path.exists() or path.is_symlink()):
        raise VaultError(f"{path} already exists; choose a new file. Nothing was changed.")
    probe = folder / f".{path.name}.{os.getpid()}.probe"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError:
        raise VaultError(
            f"The new keys cannot be written in {folder} (no permission, or the disk is full or read-only). "
            "Nothing was changed."
        ) from None


def write_key_file(path: Path, keys: Sequence[str], *, new_file: bool = False) -> None:
    """Write a key list durably and atomically: a temp file in the same folder, fsync, rename, fsync the folder.

    A reader sees the old list or the new one, never a torn file. `new_file` never replaces an existing file.
    """
    _remove_stale_temp_files(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(",".join(keys) + "\n")
            f.flush()
            os.fsync(f.fileno())
        _kill_point("key_tmp_written")
        if new_file:
            os.link(tmp, path)  # fails if the file appeared meanwhile
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _kill_point("key_replaced")
    _fsync_dir(path.parent)


def _remove_stale_temp_files(path: Path) -> None:
    """Temp key lists of processes killed mid-write: never loaded (the real file was not yet replaced), so they go."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 : -4]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def keys_fingerprint(db_path: str | Path, secret_keys: str | None = None) -> str:
    """Changes whenever the keys a Vault would load change, so a cached vault is rebuilt after a rotation.

    A hash of the configured keys and the key file's identity (inode, size, mtime); never the keys themselves.
    """
    h = hashlib.sha256(f"{secret_keys or ''}|{os.environ.get(ENV_VAR, '')}".encode())
    try:
        st = key_file_for(db_path).stat()
        h.update(f"|{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode())
    except OSError:
        h.update(b"|no key file")
    return h.hexdigest()


class Vault:
    def __init__(
        self,
        secret_keys: str | Sequence[str] | None = None,
        db_path: str | Path | None = None,
        *,
        create_key_file: bool = True,
    ):
        self.key_file: Path | None = None
        if secret_keys and _split(secret_keys):
            keys, self.key_source = _split(secret_keys), "argument"
        elif os.environ.get(ENV_VAR, "").strip():
            keys, self.key_source = _split(os.environ[ENV_VAR]), "env"
        elif db_path is not None and str(db_path) != ":memory:":
            self.key_file = key_file_for(db_path)
            keys = _load_or_create_key_file(self.key_file, db_path, create_key_file)
            self.key_source = "key_file"
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

    def rotate(self, db, new_key: str | None = None, keys_out: str | Path | None = None) -> Vault:
        """Put a new primary key first and re-encrypt every secret with it; returns the new vault.

        Keys from the key file: the file is rewritten (new key first, old keys kept). Keys from the environment or
        secrets.toml: the new list goes to the new file `keys_out`, for the operator to put in the configuration.
        Order: check the destination, save the list durably, then re-encrypt in one transaction.
        """
        if keys_out is not None:
            dest, new_file = Path(keys_out), True
        elif self.key_source == "key_file" and self.key_file is not None:
            dest, new_file = self.key_file, False
        else:
            raise VaultError("The keys come from the configuration: give a new file for the new key list.")
        check_writable(dest, new_file=new_file)
        _kill_point("checked")
        new = self.with_new_primary(new_key)
        write_key_file(dest, new._keys, new_file=new_file)
        _kill_point("key_saved")
        self.reencrypt(db, new)
        _kill_point("reencrypted")
        new.key_source = self.key_source
        if self.key_source == "key_file":
            new.key_file = self.key_file
        return new

    def reencrypt(self, db, new: Vault) -> int:
        """Every secret column re-encrypted with `new`'s primary key, in one transaction; returns the values done."""
        from services.store import write

        done = 0
        with write(db):
            for table, (pk, cols) in SECRET_COLUMNS.items():
                if not db[table].exists():
                    continue
                rows = db.conn.execute(
                    "SELECT [{}], {} FROM [{}]".format(pk, ", ".join(f"[{c}]" for c in cols), table)
                ).fetchall()
                for i, row in enumerate(rows):
                    values = [new._fernet.rotate(v.encode()).decode() if v else v for v in row[1:]]
                    db.conn.execute(
                        "UPDATE [{}] SET {} WHERE [{}] = ?".format(table, ", ".join(f"[{c}] = ?" for c in cols), pk),
                        values + [row[0]],
                    )
                    done += sum(1 for v in row[1:] if v)
                    if i == len(rows) // 2:
                        _kill_point("mid_reencrypt")
        return done

    def drop_old_keys(self, db_path: str | Path) -> Vault:
        """The later step of a rotation: keep only the primary key, once every secret decrypts with it alone."""
        if self.key_source != "key_file" or self.key_file is None:
            raise VaultError(f"The keys come from the configuration: remove the old ones from {ENV_VAR} yourself.")
        primary = Vault([self._keys[0]])
        failed = sum(1 for _, value in stored_secrets(db_path) if not primary.can_decrypt(value))
        if failed:
            raise VaultError(f"{failed} stored secret(s) still need an old key; rotate first. The old keys were kept.")
        check_writable(self.key_file, new_file=False)
        write_key_file(self.key_file, [self._keys[0]])
        out = Vault([self._keys[0]])
        out.key_source, out.key_file = "key_file", self.key_file
        return out

    def can_decrypt(self, token: str) -> bool:
        try:
            self._fernet.decrypt(token.encode())
        except (InvalidToken, ValueError, TypeError):
            return False
        return True

    @property
    def keys_csv(self) -> str:
        return ",".join(self._keys)

    def __repr__(self) -> str:  # never print keys
        return f"<Vault source={self.key_source} keys={len(self._keys)}>"
