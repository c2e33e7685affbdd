"""Renderers: the neutral :class:`~bot.model.Message` as each platform shows it."""
