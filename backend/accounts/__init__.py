"""Trading accounts: cash flows, equity in the account's currency, FX rates (docs/accounts.md)."""
