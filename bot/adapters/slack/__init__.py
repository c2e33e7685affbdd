"""Slack: the HTTP and Socket Mode front doors, the inbox intake and the transport."""
