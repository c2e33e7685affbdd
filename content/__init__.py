"""Quiz items and tips: the YAML format, its loader and its lint.

Kept separate from the bot so content can be checked (and extended by an organisation)
without starting Slack or Teams.
"""
