"""``python -m bot.settings --markdown > docs/configuration.md``"""

import sys

from bot.settings import markdown

if sys.argv[1:] != ["--markdown"]:
    sys.exit("usage: python -m bot.settings --markdown")
sys.stdout.write(markdown())
