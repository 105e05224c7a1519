"""Scrubbing rules of the regression corpus: nothing that identifies a user or lets anyone act as
one is written to disk. Applied to every sampled request before its line is written (the rules are
listed in docs/proxy.md, "Regression corpus").

Every secret or personal value becomes a deterministic placeholder: HMAC-SHA256 of the value, keyed
by `PROXY_CORPUS_SECRET` (a development default otherwise), so one input always scrubs to the same
placeholder (two requests by the same user or for the same email still look alike) while the
placeholder says nothing about the input without the key:

    Authorization: Bearer eyJ...   ->  Bearer <token:3f9a1c2b7d4e5f60>
    "password": "hunter2"          ->  "password": "<secret:8c1d...>"
    "refresh": "eyJ..."            ->  "refresh": "<token:...>"
    "email": "ann@example.org"     ->  "email": "user-1a2b3c4d5e6f@example.invalid"

Emails stay syntactically valid (a replayed write passes validation); tokens keep their scheme so
that replay can swap a real token in (`proxy.corpus.replay`)."""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

DEV_SECRET = "dev-corpus-scrub-secret-change-me"

# Key names (lower-case, any depth of a JSON or form body, or a query parameter) whose values are secrets.
SECRET_KEYS = re.compile(r"pass(word|wd)?|secret|token|refresh|access|api[_-]?key|otp|pin|credential|session",
                         re.IGNORECASE)
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# Local part without '/', '=', '&' and '?' (legal, but they bound emails inside paths and queries).
EMAIL = re.compile(r"[A-Za-z0-9.!#$%'*+^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
TOKEN_PLACEHOLDER = re.compile(r"<token:[0-9a-f]{16}>")
PLACEHOLDER_EMAIL_DOMAIN = "example.invalid"


class Scrubber:
    def __init__(self, secret: str = DEV_SECRET):
        self._key = secret.encode()

    def digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:16]

    def token(self, value: str) -> str:
        return f"<token:{self.digest('token', value)}>"

    def secret(self, value: str) -> str:
        return f"<secret:{self.digest('secret', value)}>"

    def email(self, value: str) -> str:
        if value.endswith("@" + PLACEHOLDER_EMAIL_DOMAIN):
            return value  # already a placeholder: scrubbing twice changes nothing
        return f"user-{self.digest('email', value.lower())[:12]}@{PLACEHOLDER_EMAIL_DOMAIN}"

    def text(self, value: str) -> str:
        """Free text (paths, query values, string fields): JWTs and emails found anywhere."""
        if "eyJ" in value:
            value = JWT.sub(lambda m: self.token(m.group()), value)
        if "@" in value:
            value = EMAIL.sub(lambda m: self.email(m.group()), value)
        return value

    def authorization(self, value: str) -> str:
        """`Bearer <token:...>`: the scheme kept, the credentials never."""
        scheme, _, credentials = value.strip().partition(" ")
        if not credentials:
            return self.token(scheme)
        if TOKEN_PLACEHOLDER.fullmatch(credentials.strip()):
            return value
        return f"{scheme} {self.token(credentials.strip())}"

    def value(self, key: str, value: Any) -> Any:
        """A JSON value under `key`: a secret key's value is replaced whatever its type."""
        if SECRET_KEYS.search(key) and value not in (None, "", [], {}):
            if isinstance(value, str):
                if TOKEN_PLACEHOLDER.fullmatch(value) or value.startswith("<secret:"):
                    return value
                return self.token(value) if JWT.fullmatch(value) else self.secret(value)
            return self.secret(repr(value))
        return self.json(value)

    def forwarded_for(self, value: str) -> str:
        """Client addresses become stable stand-ins in 198.18.0.0/15 (the benchmarking range)."""
        out = []
        for address in value.split(","):
            address = address.strip()
            if not address:
                continue
            n = int(self.digest("address", address)[:5], 16) % (2 * 65536)
            out.append(f"198.{18 + n // 65536}.{n // 256 % 256}.{n % 256}")
        return ", ".join(out)

    def json(self, document: Any) -> Any:
        if isinstance(document, dict):
            return {k: self.value(str(k), v) for k, v in document.items()}
        if isinstance(document, list):
            return [self.json(item) for item in document]
        if isinstance(document, str):
            return self.text(document)
        return document

    def query(self, query: str) -> str:
        """A query string, parameter by parameter (order and repeats kept)."""
        if not query:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        scrubbed = [(k, self._form_value(k, v)) for k, v in pairs]
        if scrubbed == pairs:
            return query  # nothing secret: keep the client's exact encoding
        return urlencode(scrubbed)

    def _form_value(self, key: str, value: str) -> str:
        if SECRET_KEYS.search(key) and value:
            return self.token(value) if JWT.fullmatch(value) else self.secret(value)
        return self.text(value)

    def form(self, body: str) -> str:
        return urlencode([(k, self._form_value(k, v)) for k, v in parse_qsl(body, keep_blank_values=True)])
