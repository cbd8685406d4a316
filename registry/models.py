"""Models arrive with the module's issue; the app is registered so migrations start clean."""
