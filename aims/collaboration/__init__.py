"""Collaboration on AIMS records: comments with @mentions, ad-hoc tasks, notifications and the
weekly digest.

Which records can be discussed is registered by the app that owns them (:mod:`.registry`), from
its ``AppConfig.ready``, so the core never imports a higher module.
"""
