"""secbot's framework layer: platform adapters, routing, rendering, storage and scheduling."""

__version__ = "0.1.0"
