"""Incident response: the /compromised conversation (incidents.feature) and paging."""
