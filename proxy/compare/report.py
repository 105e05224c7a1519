"""The shadow report: per route, requests compared, match rate and the top differing fields with
examples, with noise (fields that differ between two legacy answers) told apart from regressions.

Built only from comparison records, so the live proxy and `python -m proxy.cli report --file`
(reading the JSON-lines record file) produce the same report.

Record shapes (one JSON object per line):
    {"type": "shadow", "route": ..., "result": "match|mismatch|noise|error|timeout|skipped",
     "request": {"method", "path", "query", "request_id", ...}, "differences": [Difference...], ...}
    {"type": "noise", "route": ..., "request": {...}, "differences": [Difference...]}
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from html import escape
from typing import Iterable, Optional

from proxy.compare.noise import MATCH, MISMATCH, NOISE, NoiseModel

COMPARED = (MATCH, MISMATCH, NOISE)
RESULTS = (MATCH, MISMATCH, NOISE, "error", "timeout", "skipped")


@dataclass
class _FieldStats:
    count: int = 0
    kinds: Counter = field(default_factory=Counter)
    examples: deque = field(default_factory=lambda: deque(maxlen=3))


@dataclass
class _RouteStats:
    noise: NoiseModel
    results: Counter = field(default_factory=Counter)
    fields: dict = field(default_factory=dict)  # field -> _FieldStats
    # Differing-field sets of compared requests, to re-classify them as the noise model learns.
    field_sets: Counter = field(default_factory=Counter)
    last_errors: deque = field(default_factory=lambda: deque(maxlen=5))


class ShadowReport:
    def __init__(self, noise_min_hits: int = 1, examples_per_field: int = 3, max_field_sets: int = 10_000):
        self.noise_min_hits = noise_min_hits
        self.examples_per_field = examples_per_field
        self.max_field_sets = max_field_sets
        self.routes: dict[str, _RouteStats] = {}

    def route(self, name: str) -> _RouteStats:
        stats = self.routes.get(name)
        if stats is None:
            stats = self.routes[name] = _RouteStats(NoiseModel(self.noise_min_hits))
        return stats

    def noise_model(self, route: str) -> NoiseModel:
        return self.route(route).noise

    def add(self, record: dict) -> None:
        stats = self.route(record["route"])
        fields = [d["field"] for d in record.get("differences") or ()]
        if record.get("type") == "noise":
            stats.noise.observe(fields)
            return
        result = record.get("result", MISMATCH)
        if result not in COMPARED:
            stats.results[result] += 1
            if record.get("error"):
                stats.last_errors.append({"result": result, "error": record["error"],
                                          "request": record.get("request")})
            return
        stats.results["compared"] += 1
        key = frozenset(fields)
        if key in stats.field_sets or len(stats.field_sets) < self.max_field_sets:
            stats.field_sets[key] += 1
        for difference in record.get("differences") or ():
            field_stats = stats.fields.get(difference["field"])
            if field_stats is None:
                field_stats = stats.fields[difference["field"]] = _FieldStats(
                    examples=deque(maxlen=self.examples_per_field))
            field_stats.count += 1
            field_stats.kinds[difference["kind"]] += 1
            field_stats.examples.append({
                "request": record.get("request"),
                "path": difference["path"],
                "legacy": difference.get("legacy"),
                "candidate": difference.get("candidate"),
            })

    def add_all(self, records: Iterable[dict]) -> "ShadowReport":
        for record in records:
            self.add(record)
        return self

    def to_dict(self, route: Optional[str] = None, top: int = 10) -> dict:
        names = [route] if route else sorted(self.routes)
        return {"routes": {name: self._route_dict(self.routes[name], top) for name in names if name in self.routes}}

    def _route_dict(self, stats: _RouteStats, top: int) -> dict:
        noisy = stats.noise.noisy_fields()
        outcome = Counter()
        for fields, count in stats.field_sets.items():
            outcome[stats.noise.classify(fields)] += count
        compared = stats.results["compared"]
        results = {MATCH: outcome[MATCH], MISMATCH: outcome[MISMATCH], NOISE: outcome[NOISE],
                   **{r: stats.results[r] for r in RESULTS if r not in COMPARED}}
        ranked = sorted(stats.fields.items(), key=lambda item: (item[0] in noisy, -item[1].count))
        return {
            "requests": compared + sum(stats.results[r] for r in RESULTS if r not in COMPARED),
            "compared": compared,
            "results": results,
            # Exact equality; and equality once known-noise fields are discounted (what to act on).
            "match_rate": round(outcome[MATCH] / compared, 4) if compared else None,
            "match_rate_excluding_noise": round((outcome[MATCH] + outcome[NOISE]) / compared, 4) if compared else None,
            "top_fields": [
                {"field": name, "count": fs.count, "share": round(fs.count / compared, 4) if compared else None,
                 "noisy": name in noisy, "kinds": dict(fs.kinds), "examples": list(fs.examples)}
                for name, fs in ranked[:top]
            ],
            "noise": stats.noise.to_dict(),
            "last_errors": list(stats.last_errors),
        }


def render_text(report: dict) -> str:
    """The report as a terminal page."""
    lines = []
    for name, route in report["routes"].items():
        r = route["results"]
        rate = "-" if route["match_rate"] is None else f"{route['match_rate']:.1%}"
        rate_ex = "-" if route["match_rate_excluding_noise"] is None else f"{route['match_rate_excluding_noise']:.1%}"
        lines.append(f"route {name}: {route['compared']} compared, match {rate} "
                     f"({rate_ex} excluding noise); mismatch {r['mismatch']}, noise {r['noise']}, "
                     f"error {r['error']}, timeout {r['timeout']}, skipped {r['skipped']}; "
                     f"noise samples {route['noise']['samples']}")
        for f in route["top_fields"]:
            tag = "noise" if f["noisy"] else "DIFF "
            lines.append(f"  {tag} {f['field']:<48} {f['count']:>6}  {f['share'] or 0:.1%}  {dict(f['kinds'])}")
            for example in f["examples"][:1]:
                req = example.get("request") or {}
                query = f"?{req['query']}" if req.get("query") else ""
                lines.append(f"        e.g. {req.get('method', '')} {req.get('path', '')}{query} "
                             f"{example['path']}: {example['legacy']!r} -> {example['candidate']!r}")
        for error in route["last_errors"][:3]:
            req = error.get("request") or {}
            lines.append(f"  {error['result']}: {req.get('method', '')} {req.get('path', '')}: {error['error']}")
    return "\n".join(lines) if lines else "no shadow comparisons recorded"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shadow comparison report</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }} td.n {{ text-align: right; }} code {{ font-size: 13px; }}
.noise {{ color: #777; }} .diff {{ color: #b00; font-weight: 600; }}
</style></head><body>
<h1>Shadow comparison report</h1>
{routes}
</body></html>
"""


def _rate(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1%}"


def _value(value) -> str:
    text = repr(value)
    return escape(text if len(text) <= 200 else text[:200] + "…")


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page (every value escaped)."""
    sections = []
    for name, route in report["routes"].items():
        r = route["results"]
        rows = [f"<h2>Route <code>{escape(name)}</code></h2>",
                "<table><tr><th>requests</th><th>compared</th><th>match rate</th><th>match excluding noise</th>"
                "<th>mismatch</th><th>noise</th><th>error</th><th>timeout</th><th>skipped</th>"
                "<th>noise samples</th></tr>",
                f"<tr><td class=n>{route['requests']}</td><td class=n>{route['compared']}</td>"
                f"<td class=n>{_rate(route['match_rate'])}</td>"
                f"<td class=n>{_rate(route['match_rate_excluding_noise'])}</td>"
                + "".join(f"<td class=n>{r[k]}</td>" for k in ("mismatch", "noise", "error", "timeout", "skipped"))
                + f"<td class=n>{route['noise']['samples']}</td></tr></table>"]
        if route["top_fields"]:
            rows.append("<table><tr><th></th><th>field</th><th>count</th><th>share</th><th>kinds</th>"
                        "<th>example request</th><th>at</th><th>legacy</th><th>candidate</th></tr>")
            for f in route["top_fields"]:
                tag = '<span class="noise">noise</span>' if f["noisy"] else '<span class="diff">DIFF</span>'
                example = f["examples"][0] if f["examples"] else {}
                req = example.get("request") or {}
                query = f"?{req['query']}" if req.get("query") else ""
                kinds = ", ".join(f"{k} {n}" for k, n in f["kinds"].items())
                rows.append(
                    f"<tr><td>{tag}</td><td><code>{escape(f['field'])}</code></td><td class=n>{f['count']}</td>"
                    f"<td class=n>{_rate(f['share'])}</td><td>{escape(kinds)}</td>"
                    f"<td><code>{escape(req.get('method', ''))} {escape(req.get('path', '') + query)}</code></td>"
                    f"<td><code>{escape(example.get('path', ''))}</code></td>"
                    f"<td><code>{_value(example.get('legacy'))}</code></td>"
                    f"<td><code>{_value(example.get('candidate'))}</code></td></tr>")
            rows.append("</table>")
        if route["last_errors"]:
            rows.append("<table><tr><th>result</th><th>request</th><th>error</th></tr>")
            for error in route["last_errors"]:
                req = error.get("request") or {}
                rows.append(f"<tr><td>{escape(error['result'])}</td>"
                            f"<td><code>{escape(req.get('method', ''))} {escape(req.get('path', ''))}</code></td>"
                            f"<td>{escape(str(error['error']))}</td></tr>")
            rows.append("</table>")
        sections.append("\n".join(rows))
    return _PAGE.format(routes="\n".join(sections) or "<p>No shadow comparisons recorded.</p>")
