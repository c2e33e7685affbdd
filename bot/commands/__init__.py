"""Commands that belong to the framework itself."""
