"""SCIM 2.0 provisioning (RFC 7643/7644): an organisation's identity provider creates, updates and
deactivates its members and maps its groups to portal roles, authenticated by the organisation's
SCIM token. See :mod:`aims.scim.api` for why the service is built on plain Django views."""
