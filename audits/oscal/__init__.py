"""Internal audits as OSCAL assessment results."""
