"""Microsoft Teams: the Bot Framework front door, its authentication and the transport."""
