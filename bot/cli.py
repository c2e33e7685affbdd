"""The ``secbot`` command (and ``python app.py …``): run the bot, upgrade or inspect the
database's schema, lint content, build the Teams app package."""

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
    report = content_sub.add_parser(
        "report", help="counts, readability, oldest source dates and lint findings"
    )
    report.add_argument("dir", nargs="?", help="a folder of extra content packs to include")
    db = sub.add_parser("db", help="the database: schema, backups, tables (SECBOT_DB)")
    db_sub = db.add_subparsers(dest="db_cmd", required=True)
    db_sub.add_parser("upgrade", help="apply every schema revision the database lacks")
    db_sub.add_parser("current", help="say which schema revision the database is at")
    backup = db_sub.add_parser(
        "backup", help="copy the SQLite database to a new file, safely while secbot runs"
    )
    backup.add_argument("path", help="the new file (secbot never overwrites one)")
    restore = db_sub.add_parser(
        "restore", help="replace the SQLite database with a backup (stop secbot first)"
    )
    restore.add_argument("path", help="a file made by db backup")
    db_sub.add_parser("tables", help="how many rows each table holds, and the file's size")
    db_sub.add_parser("vacuum", help="give back the space deleted rows left (stop secbot first)")
    pkg = sub.add_parser("teams-package", help="write the Teams app package zip")
    pkg.add_argument("--app-id", help="the bot's Microsoft app id (default: MICROSOFT_APP_ID)")
    pkg.add_argument("--out", default="secbot-teams.zip", help="where to write the zip")
    pkg.add_argument("--host", help="the public host name the bot is served from")
    user = sub.add_parser(
        "webchat-user",
        help="make a web chat secret for one person and its SECBOT_WEBCHAT_USERS_FILE line",
    )
    user.add_argument("user_id", help="their id: letters, digits, '.', '_' or '-'")
    user.add_argument("name", nargs="+", help="the name people see")
    args = parser.parse_args(argv)

    if args.cmd in (None, "run"):
        import app

        return app.main()
    if args.cmd == "content":
        if args.content_cmd == "report":
            from content.library.report import main as report_main

            return report_main([args.dir] if args.dir else [])
        from content.library.lint import main as lint_main

        return lint_main([args.dir] if args.dir else [])
    if args.cmd == "db":
        from bot.settings import ConfigError, load_settings
        from bot.storage.operator import main as db_main

        try:
            settings = load_settings()
        except ConfigError as e:
            print(f"secbot: {e}", file=sys.stderr)
            return 2
        if args.db_cmd in ("backup", "restore", "tables", "vacuum"):
            from bot.storage.backup import main as file_main

            path = getattr(args, "path", None)
            return file_main(args.db_cmd, path, settings.db_path, settings.database_url)
        target = settings.database_url or settings.db_path
        return db_main(args.db_cmd, target, settings.database_shown)
    if args.cmd == "teams-package":
        from bot.packaging import write_teams_package

        return write_teams_package(args.app_id, args.out, args.host)
    if args.cmd == "webchat-user":
        return _webchat_user(args.user_id, " ".join(args.name))
    parser.print_help()
    return 2


def _webchat_user(user_id: str, name: str) -> int:
    """Print a new random secret (to hand to the person) and the line for the users file
    (which holds only its SHA-256, so the file is no use to someone who reads it)."""
    import secrets

    from bot.core.access import UsersFileError, parse_users, users_file_line

    secret = secrets.token_urlsafe(32)
    line = users_file_line(user_id, " ".join(name.split()), secret)
    try:
        (user,) = parse_users(line, "that user")
    except UsersFileError as e:
        print(f"secbot can't make that user: {e}", file=sys.stderr)
        return 2
    if user.user_id != user_id:
        print(
            "secbot can't make that user: the id must be 1 to 64 letters, digits, "
            "'.', '_' or '-'",
            file=sys.stderr,
        )
        return 2
    print(f"Secret for {name} (give it to them privately; it is not stored): {secret}")
    print("Line for SECBOT_WEBCHAT_USERS_FILE:")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
