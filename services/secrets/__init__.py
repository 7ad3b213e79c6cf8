"""Secrets at rest and in logs: the Fernet vault (`vault`), key rotation (`rotate_keys`), log redaction
(`logsafe`) and the age of a seller's authorization (`token_life`).

May import `services.store` (to re-encrypt rows); never the Amazon clients, analytics or pages.
"""
