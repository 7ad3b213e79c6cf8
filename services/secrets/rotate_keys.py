"""Rotate the encryption keys of the store: `python -m services.rotate_keys --db PATH [--keys-out FILE]`.

The order that cannot lose a secret (issue 12):
1. check that the destination of the new key list can be written (else: a sentence, nothing changed);
2. write the new key list, new key first and the old keys kept, durably and atomically (temp file in the same
   folder, fsync, rename, fsync the folder);
3. re-encrypt every encrypted column (services/secrets/vault.py SECRET_COLUMNS) in one transaction.
A kill at any point leaves every secret decryptable by the key list saved in step 2 (and, before step 3 commits,
by the old keys too). Dropping the old keys is a later, separate step: `--drop-old-keys`, refused while any
secret still needs them.

- Keys in a key file beside the database (the default): that file is rewritten. Done.
- Keys from DASHBOARD_SECRET_KEYS or .streamlit/secrets.toml: the command cannot edit your configuration, so it
  writes the new key list to `--keys-out` (a new file, owner-only) and you put it in the configuration; it refuses
  to run without `--keys-out` rather than leave rows nobody can decrypt. Keys are never printed.

`--verify` checks that every stored secret decrypts with the configured keys, changes nothing, and exits 0 only
if all do: run it after a restore or a rotation.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from services.secrets.logsafe import install_redaction


def _vault(db_path: str | Path, secrets_toml: str | Path | None, create: bool = True):
    from services.secrets.vault import SECRETS_TOML, Vault, keys_from_secrets_toml

    return Vault(
        secret_keys=keys_from_secrets_toml(secrets_toml or SECRETS_TOML), db_path=db_path, create_key_file=create
    )


def rotate(db_path: str | Path, keys_out: str | Path | None = None, secrets_toml: str | Path | None = None) -> dict:
    from services.secrets.vault import SECRET_COLUMNS
    from services.store import open_db

    vault = _vault(db_path, secrets_toml)
    if vault.key_source != "key_file" and not keys_out:
        raise SystemExit(
            "The keys come from the environment or secrets.toml: pass --keys-out FILE to receive the "
            "new key list, then put it in DASHBOARD_SECRET_KEYS. Nothing was changed."
        )
    db = open_db(db_path)
    counts = {table: (db[table].count if db[table].exists() else 0) for table in SECRET_COLUMNS}
    new = vault.rotate(db, keys_out=keys_out if vault.key_source != "key_file" else None)
    return {"source": vault.key_source, "rows": counts, "keys": len(new.keys_csv.split(","))}


def verify(db_path: str | Path, secrets_toml: str | Path | None = None) -> tuple[int, Counter]:
    """(secrets checked, failures per "table.column"); reads only, never creates a key file or migrates."""
    from services.secrets.vault import stored_secrets

    vault = _vault(db_path, secrets_toml, create=False)
    checked, failures = 0, Counter()
    for where, value in stored_secrets(db_path):
        checked += 1
        if not vault.can_decrypt(value):
            failures[where] += 1
    return checked, failures


def main(argv: list[str] | None = None) -> int:
    from services.secrets.vault import VaultError, stored_secrets

    install_redaction()
    ap = argparse.ArgumentParser(prog="python -m services.rotate_keys", description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="path of the SQLite database")
    ap.add_argument("--keys-out", default=None, help="new file for the new key list (keys from env/secrets.toml)")
    ap.add_argument("--verify", action="store_true", help="check every stored secret decrypts; change nothing")
    ap.add_argument("--drop-old-keys", action="store_true", help="key file only: keep just the primary key")
    ap.add_argument("--secrets-toml", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"There is no database at {args.db}; nothing was changed.", file=sys.stderr)
        return 2
    try:
        if args.verify:
            if next(iter(stored_secrets(args.db)), None) is None:
                print("No secret is stored yet; nothing to check.")
                return 0
            checked, failures = verify(args.db, args.secrets_toml)
            for where, n in sorted(failures.items()):
                print(f"{n} secret(s) in {where} cannot be decrypted with the configured keys.", file=sys.stderr)
            if failures:
                return 1
            print(f"All {checked} stored secret(s) decrypt with the configured keys.")
            return 0
        if args.drop_old_keys:
            _vault(args.db, args.secrets_toml).drop_old_keys(args.db)
            print("Old keys dropped: the key file now holds only the primary key.")
            return 0
        result = rotate(args.db, args.keys_out, args.secrets_toml)
    except VaultError as e:
        print(str(e), file=sys.stderr)
        return 2
    rows = ", ".join(f"{n} {t}" for t, n in result["rows"].items())
    where = "key file updated" if result["source"] == "key_file" else f"new key list written to {args.keys_out}"
    print(f"Re-encrypted every secret ({rows}) with a new primary key; {result['keys']} key(s) in use; {where}.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
