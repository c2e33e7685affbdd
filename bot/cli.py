"""The ``secbot`` command: run the bot, lint content, build the Teams app package."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="secbot", description="secbot chatbot")
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("run", help="start the bot (the default)")
    content = sub.add_parser("content", help="training content tools")
    content_sub = content.add_subparsers(dest="content_cmd", required=True)
    lint = content_sub.add_parser("lint", help="check content files and report every problem")
    lint.add_argument("dir", nargs="?", help="a folder of extra content packs to check")
    pkg = sub.add_parser("teams-package", help="write the Teams app package zip")
    pkg.add_argument("--app-id", help="the bot's Microsoft app id (default: MICROSOFT_APP_ID)")
    pkg.add_argument("--out", default="secbot-teams.zip", help="where to write the zip")
    pkg.add_argument("--host", help="the public host name the bot is served from")
    args = parser.parse_args(argv)

    if args.cmd in (None, "run"):
        import app

        return app.main()
    if args.cmd == "content":
        from content.lint import main as lint_main

        return lint_main([args.dir] if args.dir else [])
    if args.cmd == "teams-package":
        from bot.packaging import write_teams_package

        return write_teams_package(args.app_id, args.out, args.host)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
