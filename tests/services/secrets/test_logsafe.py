import logging

from services.secrets.logsafe import REDACTED, RedactingFilter, redact

SECRETS = [
    "Atzr|IwEBIExampleRefreshTokenThatIsLong-_abc123",
    "Atza|IwEBIExampleAccessToken-xyz",
    "amzn1.oa2-cs.v1.0123456789abcdef0123456789abcdef",
]


def test_redact_token_shapes():
    line = (
        f"POST grant_type=refresh_token&refresh_token={SECRETS[0]}&client_secret=topsecret&code=ANcode123 "
        f"Authorization: Bearer {SECRETS[1]} secret {SECRETS[2]}"
    )
    out = redact(line)
    for s in SECRETS + ["topsecret", "ANcode123"]:
        assert s not in out
    assert "client_secret=" + REDACTED in out and "code=" + REDACTED in out
    assert "grant_type=refresh_token" in out  # harmless words survive


def test_filter_cleans_args_and_exceptions(caplog):
    log = logging.getLogger("test.logsafe")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        log.info("token %s for %s", SECRETS[0], "profile 1")
        try:
            raise ValueError(f"bad {SECRETS[1]}")
        except ValueError:
            log.exception("failed")
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "profile 1" in text
    for s in SECRETS[:2]:
        assert s not in text
