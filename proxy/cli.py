"""Command line for engineers who flip routes: `python -m proxy.cli COMMAND`.

    routes                      routes with mode, target and figures (totals of all serving processes)
    set NAME MODE [PERCENT]     flip a route (legacy | shadow | canary N | new | retired)
    validate [FILE]             check a route table file without applying it
    report [--route R] [--json] shadow comparison report (live, or --file RECORDS.jsonl)
    records [--route R] [--result mismatch]   recent shadow records with their diffs
    audit [-n N]                who changed which route when
    reload                      re-read the route table file now (same as SIGHUP)
    ownership NAME [OWNER]      who accepts a write route's writes (service | monolith); set it
    coverage [--json]           every monolith endpoint with the route that covers it, totals per mode
    replay CORPUS --route R --candidate URL   replay a recorded regression corpus against legacy and URL

Talks to the running proxy's admin API (PROXY_ADMIN_URL, PROXY_ADMIN_TOKEN). `set --offline`
edits the file directly when no proxy is running; a running proxy would pick the edit up anyway.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from proxy.compare import ShadowReport, render_text, route_figures
from proxy.routing.audit_log import AuditLog, current_actor, describe_changes
from proxy.routing.handover import (MONOLITH, OWNERSHIP_TIMEOUT, SERVICE, HandbackFailed, OwnershipClient,
                                    OwnershipError, flip_route, hand_back, ownership_route, set_ownership)
from proxy.routing.table import WRITES_TO_TARGET, RouteTableError, load_route_table
from proxy.settings import ProxySettings


class AdminError(Exception):
    def __init__(self, message: str, body: Optional[dict] = None):
        super().__init__(message)
        self.body = body or {}


class AdminClient:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0):
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout

    def call(self, method: str, path: str, payload: Optional[dict] = None, text: bool = False,
             timeout: Optional[float] = None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            "X-Proxy-Actor": current_actor()})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                body = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = raw = exc.read().decode()
            try:
                parsed = json.loads(raw)
                detail = parsed.get("detail", raw)
            except (ValueError, AttributeError):
                parsed = None
            raise AdminError(f"HTTP {exc.code}: {detail}", parsed if isinstance(parsed, dict) else None) from None
        except (urllib.error.URLError, OSError) as exc:
            raise AdminError(f"cannot reach the proxy at {self.base_url}: {exc}") from None
        return body if text else json.loads(body)


def _client(args) -> AdminClient:
    return AdminClient(args.url, args.token)


def cmd_routes(args) -> int:
    """Routes with their mode and live figures, from the running proxy."""
    data = _client(args).call("GET", "/_proxy/routes")
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"route table {data['file']} sha256 {data['sha256'][:12]}")
    if data.get("last_error"):
        print(f"  LAST RELOAD REJECTED: {data['last_error']}")
    header = f"{'ROUTE':<16} {'MODE':<12} {'TARGET':<9} {'REQS':>8} {'2xx':>7} {'4xx':>6} {'5xx':>6} {'p50ms':>7} {'p99ms':>7}  SHADOW"
    print(header)
    for route in data["routes"]:
        stats = route["stats"]
        classes = stats["by_status_class"]
        mode = route["mode"] + (f" {route['percent']:g}%" if route["percent"] is not None else "")
        shadow = route.get("shadow")
        shadow_text = ""
        if shadow and shadow["requests"]:
            shadow_text = f"{shadow['requests']} mirrored: {route_figures(shadow)}"
        print(f"{route['name']:<16} {mode:<12} {route['target'] or '-':<9} {stats['requests']:>8} "
              f"{classes.get('2xx', 0):>7} {classes.get('4xx', 0):>6} {classes.get('5xx', 0):>6} "
              f"{_ms(stats['p50_ms']):>7} {_ms(stats['p99_ms']):>7}  {shadow_text}")
    return 0


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def cmd_set(args) -> int:
    """Flip one route. Rollback is the same command with the previous mode. A route with
    `write_owner` hands its writes over in the same step (docs/runbooks/flip-a-route.md)."""
    if args.mode == "canary" and args.percent is None:
        print("mode canary needs a percentage: set NAME canary 5", file=sys.stderr)
        return 2
    who = args.who or current_actor()
    if args.offline:
        audit = AuditLog(args.audit_log)
        flip = flip_route(args.file, args.name, args.mode, args.percent, who, "cli-offline", audit)
        if flip.handover == MONOLITH:
            try:
                hand_back(flip, audit)
            except HandbackFailed as exc:
                return _handback_failed(str(exc))
        changes, ownership = describe_changes(flip.old, flip.new), flip.ownership
    else:
        payload = {"mode": args.mode, "percent": args.percent, "who": who}
        try:
            # a write-ownership handover waits for the service to catch up
            result = _client(args).call("PUT", f"/_proxy/routes/{args.name}", payload,
                                        timeout=OWNERSHIP_TIMEOUT + 30)
        except AdminError as exc:
            if exc.body.get("handback_failed"):
                return _handback_failed(exc.body["detail"])
            raise
        changes, ownership = result["changes"], result.get("ownership")
    for change in changes:
        print(f"{change.get('route') or change.get('upstream')}: {change['old']} -> {change['new']}")
    if ownership:
        print(f"{args.name}: write ownership confirmed by the service: {json.dumps(ownership)}")
    if not changes:
        print(f"{args.name}: already {args.mode}; nothing changed")
    return 0


def _handback_failed(message: str) -> int:
    banner = "!" * 78
    print(f"{banner}\nWRITE OWNERSHIP NOT HANDED BACK\n{message}\n{banner}", file=sys.stderr)
    return 3


def cmd_ownership(args) -> int:
    """Show who accepts a write route's writes, or set it (finishing a hand-back that failed)."""
    table = load_route_table(args.file)
    route = ownership_route(table, args.name)
    client = OwnershipClient()
    url = table.upstreams[route.spec.target].url
    if args.owner is None:
        print(json.dumps(client.show(url), indent=2))
        return 0
    on_service = route.mode in WRITES_TO_TARGET
    if (args.owner == SERVICE) != on_service and not args.force:
        print(f"route {args.name!r} is {route.mode.value}: its writes go to the "
              f"{'service' if on_service else 'monolith'}, so giving them to the {args.owner} would refuse them "
              f"all. Flip the route instead (`set {args.name} {'legacy' if on_service else 'new'}`), or pass "
              f"--force.", file=sys.stderr)
        return 2
    answer = set_ownership(table, args.name, args.owner, args.who or current_actor(), "cli-ownership",
                           AuditLog(args.audit_log), client)
    print(json.dumps(answer, indent=2))
    return 0


def cmd_validate(args) -> int:
    """Check a route table file; exit 1 with the reasons if it is invalid."""
    try:
        table = load_route_table(args.path or args.file)
    except RouteTableError as exc:
        print(f"INVALID: {exc}", file=sys.stderr)
        return 1
    for route in table.routes:
        mode = route.mode.value + (f" {route.spec.percent:g}%" if route.spec.percent is not None else "")
        print(f"  {route.name:<16} {mode:<12} {route.spec.target or '-':<9} {route.spec.path}")
    print(f"valid: {len(table.routes)} routes, {len(table.upstreams)} upstreams, {len(table.profiles)} compare profiles")
    return 0


def cmd_report(args) -> int:
    """Shadow comparison report, from the live proxy or offline from a records file."""
    if args.records_file:
        report = ShadowReport(noise_settings=_noise_settings(args.file))
        with open(args.records_file, encoding="utf-8") as handle:
            report.add_all(json.loads(line) for line in handle if line.strip())
        data = report.to_dict(args.route, top=args.top)
    else:
        query = f"?top={args.top}" + (f"&route={args.route}" if args.route else "")
        data = _client(args).call("GET", "/_proxy/shadow/report" + query)
    print(json.dumps(data, indent=2) if args.json else render_text(data))
    return 0


def _noise_settings(path) -> dict:
    """Route -> its compare profile's noise settings, from the route table (defaults if unreadable)."""
    try:
        table = load_route_table(path)
    except (RouteTableError, OSError):
        return {}
    return {route.name: route.profile.noise for route in table.routes}


def cmd_records(args) -> int:
    """Recent shadow records (newest first) with request context and differences."""
    query = f"?limit={args.limit}" + (f"&route={args.route}" if args.route else "") + (
        f"&result={args.result}" if args.result else "")
    print(json.dumps(_client(args).call("GET", "/_proxy/shadow/records" + query)["records"], indent=2))
    return 0


def cmd_audit(args) -> int:
    """The last route table changes: when, who, how, what."""
    entries = AuditLog(args.audit_log).tail(args.n) if args.offline else _client(args).call(
        "GET", f"/_proxy/audit?limit={args.n}")["entries"]
    for entry in entries:
        what = "; ".join(f"{c.get('route') or c.get('upstream') or 'profiles'}: {c.get('old')} -> {c.get('new')}"
                         for c in entry["changes"])
        if entry.get("ownership"):
            own = entry["ownership"]
            what = "; ".join(filter(None, (what, f"{own['route']}: write ownership -> {own['owner']} ({own['result']})")))
        what = what or entry.get("note", "no change")
        print(f"{entry['ts']}  {entry['who']:<28} {entry['source']:<12} {what}")
    return 0


def cmd_reload(args) -> int:
    """Ask the proxy to re-read its route table file."""
    print(_client(args).call("POST", "/_proxy/reload"))
    return 0


def cmd_coverage(args) -> int:
    """Every monolith endpoint (URL pattern x method) with the route that covers it, totals per mode."""
    from proxy.routing import coverage  # imports Django, for this command only

    result = coverage.monolith_coverage(load_route_table(args.path or args.file), args.settings)
    print(json.dumps(result.to_dict(), indent=2) if args.json else coverage.render_text(result, args.admin))
    return 0


def cmd_replay(args) -> int:
    """Replay a regression corpus (proxy/corpus/) against legacy and a candidate under the route's
    compare profile; exit 1 when anything mismatched or failed, 0 when all compared requests match."""
    import asyncio

    from proxy.compare import render_html
    from proxy.corpus.replay import ReplayOptions, replay
    from proxy.corpus.store import read_entries

    table = load_route_table(args.file)
    route = table.route(args.route)
    if route is None:
        print(f"error: no route {args.route!r} in {args.file}", file=sys.stderr)
        return 2
    legacy = args.legacy or table.upstreams[table.legacy].url
    options = ReplayOptions(route=args.route, legacy=legacy, candidate=args.candidate, profile=route.profile,
                            token=args.replay_token, allow_writes=args.allow_writes, timeout=args.timeout,
                            concurrency=args.concurrency, noise=args.noise,
                            wait_for_candidate=_replay_cdc_wait(table, route, args.cdc_wait))
    result = asyncio.run(replay(read_entries(args.corpus, args.route), options))
    data = result.to_dict(top=args.top)
    if args.html:
        args.html.write_text(render_html(data), encoding="utf-8")
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        summary = result.summary()
        print(f"replayed {summary['replayed']} of {summary['entries']} corpus entries of route {args.route} "
              f"({summary['skipped_writes']} writes skipped; legacy {legacy}, candidate {args.candidate}); "
              f"{summary['compared']} compared")
        if summary["status_drift"]:
            print(f"  legacy answered {summary['status_drift']} requests with another status than recorded, e.g. "
                  + "; ".join(f"{d['method']} {d['target']} {d['recorded']} -> {d['now']}"
                              for d in summary["status_drift_examples"][:3]))
        print(render_text(data))
    results = data["routes"].get(args.route, {}).get("results", {})
    failed = sum(results.get(kind, 0) for kind in ("mismatch", "error", "timeout"))
    return 1 if failed or not result.compared else 0


def _replay_cdc_wait(table, route, seconds: Optional[float]):
    """The shadow worker's CDC-aware wait for a replay: as the route table sets it for the route's
    target (its `cdc` block, the route's shadow.cdc_wait / cdc_tables), or `--cdc-wait SECONDS`;
    None (no wait) for a target without `cdc` or with --cdc-wait 0."""
    from proxy.shadow.cdc_wait import CandidateWait

    upstream = table.upstreams.get(route.spec.target) if route.spec.target else None
    cdc = upstream.cdc if upstream is not None else None
    if seconds is None:
        if cdc is None:
            return None
        seconds = route.spec.shadow.cdc_wait if route.spec.shadow.cdc_wait is not None else cdc.wait
    if seconds <= 0:
        return None
    tables = tuple(route.spec.shadow.cdc_tables) if route.spec.shadow.cdc_tables else None
    if cdc is None:
        return CandidateWait(wait=seconds, tables=tables)
    return CandidateWait(wait=seconds, tables=tables, poll_interval=cdc.poll_interval, status_path=cdc.status_path)


def build_parser() -> argparse.ArgumentParser:
    settings = ProxySettings()
    parser = argparse.ArgumentParser(prog="python -m proxy.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("PROXY_ADMIN_URL", f"http://127.0.0.1:{settings.port}"),
                        help="the running proxy (PROXY_ADMIN_URL)")
    parser.add_argument("--token", default=settings.admin_token, help="admin token (PROXY_ADMIN_TOKEN)")
    parser.add_argument("--file", type=Path, default=settings.routes_file, help="route table (PROXY_ROUTES_FILE)")
    parser.add_argument("--audit-log", type=Path, default=settings.audit_log_path)
    commands = parser.add_subparsers(dest="command", required=True)

    routes = commands.add_parser("routes", help=cmd_routes.__doc__)
    routes.add_argument("--json", action="store_true")
    routes.set_defaults(func=cmd_routes)

    flip = commands.add_parser("set", help=cmd_set.__doc__)
    flip.add_argument("name")
    flip.add_argument("mode", choices=["legacy", "shadow", "canary", "new", "retired"])
    flip.add_argument("percent", nargs="?", type=float)
    flip.add_argument("--who", help="name recorded in the audit log (default: user@host)")
    flip.add_argument("--offline", action="store_true", help="edit the file directly (no running proxy)")
    flip.set_defaults(func=cmd_set)

    validate = commands.add_parser("validate", help=cmd_validate.__doc__)
    validate.add_argument("path", nargs="?", type=Path)
    validate.set_defaults(func=cmd_validate)

    report = commands.add_parser("report", help=cmd_report.__doc__)
    report.add_argument("--route")
    report.add_argument("--top", type=int, default=10)
    report.add_argument("--json", action="store_true")
    report.add_argument("--records-file", type=Path, help="build the report from a shadow records file")
    report.set_defaults(func=cmd_report)

    records = commands.add_parser("records", help=cmd_records.__doc__)
    records.add_argument("--route")
    records.add_argument("--result", choices=["match", "mismatch", "noise", "error", "timeout", "skipped"])
    records.add_argument("--limit", type=int, default=20)
    records.set_defaults(func=cmd_records)

    audit = commands.add_parser("audit", help=cmd_audit.__doc__)
    audit.add_argument("-n", type=int, default=20)
    audit.add_argument("--offline", action="store_true", help="read the audit file instead of the proxy")
    audit.set_defaults(func=cmd_audit)

    ownership = commands.add_parser("ownership", help=cmd_ownership.__doc__)
    ownership.add_argument("name", help="a route with write_owner, e.g. catalog-write")
    ownership.add_argument("owner", nargs="?", choices=[SERVICE, MONOLITH], help="absent: show the current owner")
    ownership.add_argument("--who", help="name recorded in the audit log (default: user@host)")
    ownership.add_argument("--force", action="store_true", help="set it even where the route's mode disagrees")
    ownership.set_defaults(func=cmd_ownership)

    covered = commands.add_parser("coverage", help=cmd_coverage.__doc__)
    covered.add_argument("path", nargs="?", type=Path, help="route table (default: --file)")
    covered.add_argument("--json", action="store_true")
    covered.add_argument("--admin", action="store_true", help="list Django admin's endpoints one by one")
    covered.add_argument("--settings", help="Django settings module (default: DJANGO_SETTINGS_MODULE, "
                                            "else vobemusic.settings.dev)")
    covered.set_defaults(func=cmd_coverage)

    replayer = commands.add_parser(
        "replay", help=cmd_replay.__doc__, description=cmd_replay.__doc__ + (
            "\n\nReads only by default. --allow-writes replays POST/PUT/PATCH/DELETE too: they really write, "
            "on legacy AND the candidate, so point it only at throwaway copies (never the live stack)."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    replayer.add_argument("corpus", type=Path, help="corpus directory (one folder per route) or one .jsonl file")
    replayer.add_argument("--route", required=True, help="route whose entries and compare profile are used")
    replayer.add_argument("--candidate", required=True, help="base URL of the new service, e.g. http://127.0.0.1:8101")
    replayer.add_argument("--legacy", help="base URL of the monolith (default: the route table's legacy upstream)")
    replayer.add_argument("--token", dest="replay_token", default=os.environ.get("PROXY_REPLAY_TOKEN"),
                          help="bearer token swapped in for the corpus' token placeholders (PROXY_REPLAY_TOKEN); "
                               "without it authenticated requests are replayed anonymously")
    replayer.add_argument("--allow-writes", action="store_true",
                          help="also replay writes: ONLY against throwaway copies of legacy and the candidate")
    replayer.add_argument("--noise", action="store_true", help="ask legacy twice to tell noise apart")
    replayer.add_argument("--cdc-wait", type=float, metavar="SECONDS",
                          help="wait up to this long for a CDC-fed candidate to apply legacy's WAL position "
                               "(the shadow worker's wait; default: as the route table sets it for the target, "
                               "0: never wait, e.g. against static snapshot copies)")
    replayer.add_argument("--concurrency", type=int, default=4)
    replayer.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    replayer.add_argument("--top", type=int, default=10)
    replayer.add_argument("--json", action="store_true", help="the report as JSON")
    replayer.add_argument("--html", type=Path, help="also write the HTML report here")
    replayer.set_defaults(func=cmd_replay)

    reload = commands.add_parser("reload", help=cmd_reload.__doc__)
    reload.set_defaults(func=cmd_reload)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (AdminError, RouteTableError, OwnershipError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
