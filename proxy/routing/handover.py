"""Route flips, with the write-ownership handover of single-writer routes as part of the same step.

A route with `write_owner: <domain>` carries that domain's writes, and exactly one side accepts
them: the monolith while the route is legacy or shadow, the target service while it is new or
retired. Flipping across that line is one audited step, in an order that never leaves two writers:

- towards the service: the new table is validated, then the target is asked to take the writes
  over (`POST {target}/internal/write-ownership {"owner": "service"}`; it answers once it has
  caught up with the monolith), and only on its 200 is the file changed. Any other answer changes
  nothing.
- back to the monolith: the file is changed first (writes stop reaching the service), and once
  the new table is served the service is told to give the writes back (`{"owner": "monolith"}`).
  If that call fails the route stays on the monolith and HandbackFailed says what to re-run.

Every flip goes through flip_route (the CLI offline, the admin API in the serving processes) and,
after a flip back, hand_back. The file stays locked from validation to write, so no other edit
lands between the ownership call and the change it belongs to."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from proxy.routing.audit_log import AuditLog
from proxy.routing.file import edit_route, locked, write_atomically
from proxy.routing.table import WRITES_TO_TARGET, Route, RouteTable, RouteTableError

OWNERSHIP_PATH = "/internal/write-ownership"
OWNERSHIP_TIMEOUT = 120.0  # seconds: the service answers once it has caught up with the monolith
SERVICE, MONOLITH = "service", "monolith"


class OwnershipError(Exception):
    """The service did not confirm the ownership change. `status` is its HTTP status (None: no
    answer at all); `detail` what it said."""

    def __init__(self, url: str, status: Optional[int], detail: str):
        where = f"{url} answered {status}" if status is not None else f"no answer from {url}"
        super().__init__(f"{where}: {detail}")
        self.url, self.status, self.detail = url, status, detail


class HandbackFailed(Exception):
    """The route is back on the monolith, but the service did not give its write ownership up."""

    def __init__(self, route: str, error: OwnershipError):
        super().__init__(
            f"route {route!r} is back on legacy (writes go to the monolith), but the service did not give "
            f"write ownership back: {error}. Re-run `python -m proxy.cli ownership {route} monolith` until it "
            f"answers 200; until then the service's outbox may still be replaying into the monolith.")
        self.route, self.error = route, error


@dataclass
class Flip:
    old: RouteTable
    new: RouteTable
    route: str
    who: str
    source: str
    audit_id: str
    handover: Optional[str]  # who owns the writes after this flip, when that changes (MONOLITH: call hand_back)
    ownership: Optional[dict] = None  # the service's answer to the handover


# The services' default for the local stack (services/common/settings.py, which production refuses).
DEV_INTERNAL_TOKEN = "dev-only-internal-api-token-change-me-32b"


def internal_api_token() -> str:
    """The secret the services' /internal/* endpoints expect (X-Internal-Token)."""
    return os.environ.get("INTERNAL_API_TOKEN", DEV_INTERNAL_TOKEN)


class OwnershipClient:
    """The service side of the contract: GET/POST {upstream}/internal/write-ownership with the
    internal token (INTERNAL_API_TOKEN)."""

    def __init__(self, token: Optional[str] = None, timeout: float = OWNERSHIP_TIMEOUT):
        self.token = internal_api_token() if token is None else token
        self.timeout = timeout

    def show(self, upstream_url: str) -> dict:
        return self._call(upstream_url + OWNERSHIP_PATH, None)

    def set(self, upstream_url: str, owner: str, who: str) -> dict:
        return self._call(upstream_url + OWNERSHIP_PATH, {"owner": owner, "who": who})

    def _call(self, url: str, payload: Optional[dict]) -> dict:
        request = urllib.request.Request(
            url, data=None if payload is None else json.dumps(payload).encode(), method="GET" if payload is None else "POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "X-Internal-Token": self.token})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            raise OwnershipError(url, exc.code, _detail(exc.read())) from None
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out
            raise OwnershipError(url, None, str(getattr(exc, "reason", exc))) from None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if status != 200 or not isinstance(body, dict) or "owner" not in body:
            raise OwnershipError(url, status, f"not an ownership answer: {raw[:200]!r}")
        return body


def _detail(raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:500] or "(empty body)"
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)


def handover_direction(old: Route, new: Route) -> Optional[str]:
    """Which side has to own the route's writes after the flip, if that changes."""
    if new.spec.write_owner is None:
        return None
    before, after = old.mode in WRITES_TO_TARGET, new.mode in WRITES_TO_TARGET
    if before == after:
        return None
    return SERVICE if after else MONOLITH


def target_url(table: RouteTable, route: Route) -> str:
    return table.upstreams[route.spec.target].url


def flip_route(path: str | Path, name: str, mode: str, percent: Optional[float], who: str, source: str,
               audit: AuditLog, client: Optional[OwnershipClient] = None) -> Flip:
    """Flip `name` to `mode` in the file, handing write ownership to the service first where the
    flip needs it, and audit it as one entry. Raises RouteTableError (invalid flip) or
    OwnershipError (the service refused): the file is then unchanged. When the result's
    `handover` is MONOLITH, call hand_back once the new table is served."""
    path = Path(path)
    client = client or OwnershipClient()
    flip_id = uuid.uuid4().hex[:16]
    with locked(path):
        old, new_text, new = edit_route(path.read_text(encoding="utf-8"), str(path), name, mode, percent)
        direction = handover_direction(old.route(name), new.route(name))
        flip = Flip(old, new, name, who, source, flip_id, direction)
        extra: dict = {"id": flip_id}
        if direction == SERVICE:
            flip.ownership = client.set(target_url(new, new.route(name)), SERVICE, who)
            extra["ownership"] = _ownership_entry(new, name, SERVICE, flip.ownership)
        elif direction == MONOLITH:
            extra["ownership"] = {"route": name, "owner": MONOLITH, "result": "pending (after the flip)"}
        try:
            write_atomically(path, new_text)
        except OSError as exc:
            if direction == SERVICE:  # the service took the writes but the route does not send them: undo
                raise RouteTableError(_undo_handover(client, new, name, who, exc)) from None
            raise
        if new.sha256 != old.sha256:
            audit.record(who, source, old, new, extra=extra)
    return flip


def hand_back(flip: Flip, audit: AuditLog, client: Optional[OwnershipClient] = None) -> dict:
    """The second half of a flip back to the monolith: the service gives write ownership up.
    Audited under the flip's id, success or not; raises HandbackFailed if the service did not
    confirm."""
    client = client or OwnershipClient()
    route = flip.new.route(flip.route)
    try:
        answer = client.set(target_url(flip.new, route), MONOLITH, flip.who)
    except OwnershipError as exc:
        audit.record(flip.who, flip.source, flip.new, flip.new, changes=[], extra={
            "id": flip.audit_id, "ownership": _ownership_entry(flip.new, flip.route, MONOLITH, None, exc)})
        raise HandbackFailed(flip.route, exc) from None
    audit.record(flip.who, flip.source, flip.new, flip.new, changes=[], extra={
        "id": flip.audit_id, "ownership": _ownership_entry(flip.new, flip.route, MONOLITH, answer)})
    flip.ownership = answer
    return answer


def set_ownership(table: RouteTable, name: str, owner: str, who: str, source: str, audit: AuditLog,
                  client: Optional[OwnershipClient] = None) -> dict:
    """Ownership alone, without a flip (`cli ownership NAME OWNER`: finishing a failed hand-back)."""
    client = client or OwnershipClient()
    route = ownership_route(table, name)
    try:
        answer = client.set(target_url(table, route), owner, who)
    except OwnershipError as exc:
        audit.record(who, source, table, table, changes=[], extra={
            "id": uuid.uuid4().hex[:16], "ownership": _ownership_entry(table, name, owner, None, exc)})
        raise
    audit.record(who, source, table, table, changes=[], extra={
        "id": uuid.uuid4().hex[:16], "ownership": _ownership_entry(table, name, owner, answer)})
    return answer


def ownership_route(table: RouteTable, name: str) -> Route:
    route = table.route(name)
    if route is None:
        raise RouteTableError(f"no route named {name!r}; routes: {', '.join(r.name for r in table.routes)}")
    if route.spec.write_owner is None:
        raise RouteTableError(f"route {name!r} declares no write_owner: its writes have no ownership to hand over")
    return route


def _ownership_entry(table: RouteTable, name: str, owner: str, answer: Optional[dict],
                     error: Optional[OwnershipError] = None) -> dict:
    route = table.route(name)
    entry = {"route": name, "domain": route.spec.write_owner, "upstream": route.spec.target, "owner": owner,
             "result": "ok" if error is None else "failed"}
    if error is not None:
        entry["detail"] = str(error)
    elif answer is not None:
        entry["answer"] = answer
    return entry


def _undo_handover(client: OwnershipClient, table: RouteTable, name: str, who: str, exc: OSError) -> str:
    try:
        client.set(target_url(table, table.route(name)), MONOLITH, who)
    except OwnershipError as undo:
        return (f"the route file could not be written ({exc}) after the service took write ownership, and "
                f"giving it back failed: {undo}. Run `python -m proxy.cli ownership {name} monolith`.")
    return f"the route file could not be written ({exc}); write ownership was given back to the monolith"
