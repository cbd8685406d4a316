"""Sign-in: django-allauth's account, MFA and SSO flows fitted to organisations and roles."""
