"""The local web chat: its routes, store and transport."""
