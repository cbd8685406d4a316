"""Single sign-on per organisation: OpenID Connect or SAML 2.0 through allauth's providers."""
