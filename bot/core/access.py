"""Who may use the web chat, and which host names and origins secbot answers to.

Nothing here looks at the peer address or at ``X-Forwarded-For`` and friends: behind a
reverse proxy every request comes from the proxy, so a network position proves nothing.
A person is known by a secret only they hold; a request is for us only if its ``Host``
header names us (a page elsewhere can point its own name at our address: DNS rebinding);
a browser's state-changing request is ours only if its ``Origin`` is one of our names.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

# The names of this machine, as a browser puts them in Host and Origin.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_USER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
_NAME = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
MAX_SECRET = 512


class UsersFileError(ValueError):
    """The users file can't be used; the message says where, never what a line holds."""


@dataclass(frozen=True)
class WebUser:
    user_id: str
    name: str
    digest: bytes  # SHA-256 of the person's secret; the secret itself is never kept


def secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def users_file_line(user_id: str, name: str, secret: str) -> str:
    """The users file line for a person (what ``secbot webchat-user`` prints)."""
    return f"{user_id} {name} sha256:{secret_digest(secret).hex()}"


def parse_users(text: str, source: str) -> tuple[WebUser, ...]:
    """``user_id Display Name sha256:<hex>`` per line; blank lines and ``#`` comments skipped.

    Errors name the line number only: a mistaken line could hold a secret in clear."""
    users: list[WebUser] = []
    ids: set[str] = set()
    digests: set[bytes] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        where = f"{source} line {number}"
        if len(parts) < 3 or not _DIGEST.match(parts[-1]):
            raise UsersFileError(
                f"{where} must be: user_id, display name, sha256:<64 hex digits of the "
                "SHA-256 of the secret> (secbot webchat-user makes one)"
            )
        user_id, name = parts[0], " ".join(parts[1:-1])
        if not _USER_ID.match(user_id):
            raise UsersFileError(
                f"{where}: the user id must be 1 to 64 letters, digits, '.', '_' or '-'"
            )
        if len(name) > 64:
            raise UsersFileError(f"{where}: the display name must be at most 64 characters")
        digest = bytes.fromhex(_DIGEST.match(parts[-1]).group(1))  # type: ignore[union-attr]
        if user_id in ids:
            raise UsersFileError(f"{where}: user id {user_id!r} is listed twice")
        if digest in digests:
            raise UsersFileError(f"{where}: two people have the same secret; give each their own")
        ids.add(user_id)
        digests.add(digest)
        users.append(WebUser(user_id, name, digest))
    if not users:
        raise UsersFileError(f"{source} lists nobody: add one line per person")
    return tuple(users)


def load_users(path: str) -> tuple[WebUser, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsersFileError(f"{path} is not UTF-8 text") from None
    except OSError as e:
        raise UsersFileError(f"{path} can't be read ({e.strerror or e})") from None
    return parse_users(text, path)


def bearer_secret(authorization: str | None) -> str | None:
    """The secret from ``Authorization: Bearer <secret>``, or None."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > MAX_SECRET:
        return None
    # Secrets are printable ASCII (secbot webchat-user makes them); anything else, such as
    # bytes that are not UTF-8 (kept by aiohttp as surrogates), can match nobody.
    if not (secret.isascii() and secret.isprintable()):
        return None
    return secret


def find_user(users: tuple[WebUser, ...], secret: str | None) -> WebUser | None:
    """The person whose secret this is. Every digest is compared, in constant time, so
    the answer's timing says nothing about which entry came close."""
    if secret is None:
        return None
    digest = secret_digest(secret)
    found = None
    for user in users:
        if hmac.compare_digest(user.digest, digest):
            found = user
    return found


def host_name(value: str) -> str | None:
    """``Example.org:8443`` → ``example.org``; ``[::1]:3978`` → ``[::1]``; junk → None."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or not _port_ok(value[end + 1 :]):
            return None
        return value[: end + 1]
    if value.count(":") > 1:  # a bare IPv6 address
        return f"[{value}]"
    name = value.partition(":")[0]
    # Only a port may follow the name: "127.0.0.1:80@evil.example" is no name of ours,
    # whatever a proxy in front might make of it.
    if not _port_ok(value[len(name) :]):
        return None
    name = name.rstrip(".")
    return name if _NAME.match(name) else None


def _port_ok(rest: str) -> bool:
    """Whether what follows a host name is nothing, or ``:`` and a port number."""
    found = re.fullmatch(r"(?::([0-9]{0,5}))?", rest)
    return found is not None and int(found.group(1) or 0) <= 65535


def parse_allowed_hosts(text: str) -> tuple[str, ...]:
    """``SECBOT_ALLOWED_HOSTS``: comma-separated host names, any port ignored."""
    names: list[str] = []
    for item in text.split(","):
        if not item.strip():
            continue
        name = host_name(item)
        if name is None or "/" in item:
            raise ValueError(item.strip())
        if name not in names:
            names.append(name)
    return tuple(names)


def host_allowed(host_header: str | None, allowed: tuple[str, ...]) -> bool:
    name = host_name(host_header or "")
    return name is not None and name in allowed


def origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    """An ``Origin`` header naming one of our hosts over http or https."""
    try:  # yarl parses lazily: a bad host can fail at .host as well as at URL()
        url = URL(origin.strip())
        if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/"):
            return False
        if url.user is not None or url.password is not None or url.query_string or url.fragment:
            return False  # an Origin is scheme://host[:port] and nothing else
        host = url.host.lower()
    except (ValueError, UnicodeError, TypeError):
        return False
    name = f"[{host}]" if ":" in host else host.rstrip(".")
    return name in allowed
