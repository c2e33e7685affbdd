"""Renderers: the neutral :class:`~bot.core.model.Message` as each platform shows it."""
