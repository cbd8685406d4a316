"""Security log: sign-ins, failures, lockouts, MFA and SSO changes, tokens and memberships."""
