"""A minimal HTTP stand-in for an Elasticsearch node, only for the Elasticsearch backend's unit
tests: it records every request the official client sends and keeps just enough state (indices,
aliases, mapping _meta) to answer them. It does not search; search responses are canned."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    body: object


@dataclass
class StubState:
    requests: list[Recorded] = field(default_factory=list)
    indices: dict[str, dict] = field(default_factory=dict)     # name -> {"meta": {...}, "body": create body}
    aliases: dict[str, str] = field(default_factory=dict)      # alias -> index
    search_hits: list[dict] = field(default_factory=list)

    def find(self, method: str, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]


def _names(state: StubState, expression: str) -> list[str]:
    names = []
    for part in expression.split(","):
        if part.endswith("*"):
            names += [n for n in state.indices if n.startswith(part[:-1])]
        elif part in state.aliases:
            names.append(state.aliases[part])
        elif part in state.indices:
            names.append(part)
    return names


def make_handler(state: StubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _reply(self, status: int, body=None):
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _handle(self):
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if url.path.endswith("/_bulk"):
                body = [json.loads(line) for line in raw.splitlines() if line.strip()]
            else:
                body = json.loads(raw) if raw else None
            state.requests.append(Recorded(self.command, url.path, parse_qs(url.query), body))
            parts = [p for p in url.path.split("/") if p]
            status, answer = self.route(self.command, parts, body)
            self._reply(status, answer)

        def route(self, method, parts, body):
            if not parts:
                return 200, {"version": {"number": "9.0.0"}, "tagline": "You Know, for Search"}
            if parts == ["_aliases"]:
                for action in body["actions"]:
                    (verb, spec), = action.items()
                    if verb == "add":
                        state.aliases[spec["alias"]] = spec["index"]
                    elif state.aliases.get(spec["alias"]) == spec["index"]:
                        del state.aliases[spec["alias"]]
                return 200, {"acknowledged": True}
            if parts[0] == "_alias":
                alias = parts[1]
                if alias not in state.aliases:
                    return 404, {"error": "alias missing", "status": 404}
                return 200, {state.aliases[alias]: {"aliases": {alias: {}}}}
            if parts == ["_bulk"]:
                items, lines = [], iter(body)
                for line in lines:
                    (op, meta), = line.items()
                    if op == "index":
                        next(lines)  # the document
                    items.append({op: {"_index": meta["_index"], "_id": meta["_id"],
                                       "status": 404 if op == "delete" else 201}})
                return 200, {"errors": any(i.get("delete", {}).get("status") == 404 for i in items), "items": items}
            target = parts[0]
            action = parts[1] if len(parts) > 1 else None
            if action == "_search":
                hits = [{"_id": str(h["id"]), "_score": 1.0, "_source": {"source": h}} for h in state.search_hits]
                return 200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}
            if action == "_count":
                return 200, {"count": len(state.search_hits)}
            if action == "_mapping":
                if method == "PUT":
                    for name in _names(state, target):
                        state.indices[name]["meta"] = body.get("_meta", {})
                    return 200, {"acknowledged": True}
                return 200, {n: {"mappings": {"_meta": state.indices[n]["meta"]}} for n in _names(state, target)}
            if action in ("_settings", "_refresh"):
                return 200, {"acknowledged": True}
            if method == "PUT" and action is None:
                state.indices[target] = {"meta": {}, "body": body}
                return 200, {"acknowledged": True, "index": target}
            if method == "DELETE":
                for name in _names(state, target):
                    state.indices.pop(name, None)
                return 200, {"acknowledged": True}
            if method == "GET" and action is None:
                return 200, {n: {} for n in _names(state, target)}
            return 400, {"error": f"stub does not know {method} {'/'.join(parts)}"}

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    return Handler


class ElasticsearchStub:
    def __init__(self):
        self.state = StubState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
