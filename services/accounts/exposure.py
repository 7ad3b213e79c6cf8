"""Who can reach the dashboard over the network: loopback only, unless people must sign in.

Anyone who can open the port can read every connected seller's data and apply bid changes, so without a
login (`[auth]` in `.streamlit/secrets.toml`, Streamlit's OpenID Connect) the app serves only on a loopback
address. `make run` and `.streamlit/config.toml` bind 127.0.0.1; this check catches an override.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost. An empty address means every interface (Streamlit's default)."""
    text = (address or "").strip().strip("[]").lower()
    if not text:
        return False
    if text in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False  # a host name or an interface address: reachable from elsewhere


def serve_refusal(address: str | None, login_configured: bool) -> str | None:
    """None when the app may serve on `address`; otherwise the sentence the operator sees, saying why and what to do."""
    if login_configured or is_loopback(address):
        return None
    where = f"address {address}" if (address or "").strip() else "every network interface"
    return (
        f"This dashboard is set to listen on {where}, but no login is configured, so anyone who can reach it "
        "could read every seller's data and change live bids. It serves only on 127.0.0.1 without a login: "
        "remove the server.address override (or use 127.0.0.1), or configure a login ([auth] in "
        ".streamlit/secrets.toml) before sharing it with a team."
    )
