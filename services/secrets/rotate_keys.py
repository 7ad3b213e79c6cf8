"""Rotate the encryption keys of the store: `python -m services.rotate_keys --db PATH [--keys-out FILE]`.

A new Fernet key becomes the primary one and every encrypted column (services/vault.py SECRET_COLUMNS) is
re-encrypted with it in one transaction; the old keys keep decrypting until you drop them.

- Keys in a key file beside the database (the default): the file is rewritten, new key first. Done.
- Keys from DASHBOARD_SECRET_KEYS or .streamlit/secrets.toml: the command cannot edit your configuration, so
  it writes the new key list to `--keys-out` (created owner-only) and you put it in the configuration;
  it refuses to run without `--keys-out` rather than leave rows nobody can decrypt. Keys are never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from services.secrets.logsafe import install_redaction


def rotate(db_path: str | Path, keys_out: str | Path | None = None, secrets_toml: str | Path | None = None) -> dict:
    from services.secrets.vault import SECRET_COLUMNS, SECRETS_TOML, Vault, keys_from_secrets_toml
    from services.store import open_db

    configured = keys_from_secrets_toml(secrets_toml or SECRETS_TOML)
    vault = Vault(secret_keys=configured, db_path=db_path)
    if vault.key_source != "key_file" and not keys_out:
        raise SystemExit(
            "The keys come from the environment or secrets.toml: pass --keys-out FILE to receive the "
            "new key list, then put it in DASHBOARD_SECRET_KEYS. Nothing was changed."
        )
    if keys_out and Path(keys_out).exists():
        raise SystemExit(f"{keys_out} already exists; choose a new file. Nothing was changed.")
    db = open_db(db_path)
    counts = {}
    for table in SECRET_COLUMNS:
        counts[table] = db[table].count if db[table].exists() else 0
    new = vault.rotate(db)
    if vault.key_source != "key_file":
        fd = os.open(keys_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new.keys_csv + "\n")
    return {"source": vault.key_source, "rows": counts, "keys": len(new.keys_csv.split(","))}


def main(argv: list[str] | None = None) -> int:
    install_redaction()
    ap = argparse.ArgumentParser(prog="python -m services.rotate_keys", description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="path of the SQLite database")
    ap.add_argument("--keys-out", default=None, help="file for the new key list (keys from env/secrets.toml)")
    ap.add_argument("--secrets-toml", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        print(f"no database at {args.db}", file=sys.stderr)
        return 2
    result = rotate(args.db, args.keys_out, args.secrets_toml)
    rows = ", ".join(f"{n} {t}" for t, n in result["rows"].items())
    where = "key file updated" if result["source"] == "key_file" else f"new key list written to {args.keys_out}"
    print(f"Re-encrypted every secret ({rows}) with a new primary key; {result['keys']} key(s) in use; {where}.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
