"""Signed webhooks: per-organisation endpoints told of changes to AIMS records (Standard Webhooks)."""
