"""Connected Amazon accounts (one seller authorization each), the API clients built from them, and the consent
flow that connects them.

May import `services.amazon`, `services.store` and `services.secrets`; never the analytics, optimizer or sync.
"""

from services.accounts.authorize import authorized_profiles, save_authorization  # noqa: F401
from services.accounts.registry import (  # noqa: F401 - the package's public API
    DEMO_ACCOUNT_NAME,
    AccountClients,
    AccountNotFound,
    RefusedProfile,
    SellerConflict,
    add_account,
    check_profiles,
    claim_profiles,
    clients_for,
    connect_demo,
    find_account,
    get_account,
    list_accounts,
    mark_ok,
    mark_reconnect_needed,
    remove_account,
    update_refresh_token,
)
