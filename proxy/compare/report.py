"""The shadow report: per route, every mirrored request counted once as match, mismatch, noise,
error, timeout, lagging or skipped, each rate with its denominator; the top differing fields with
examples; the noisy fields with both of their rates (legacy vs legacy, legacy vs candidate) and an
example; and the checks the verdicts rest on.

Noise is never folded into a match rate. The go/no-go figure is the mismatch rate over compared
requests, with the noise rate beside it; errored, timed-out and lagging mirrors are shown over all
mirrored requests, so a candidate that fails most mirrors cannot look good on the few compared.

Built only from comparison records, so the live proxy and `python -m proxy.cli report --file`
(reading the JSON-lines record file) produce the same report.

Record shapes (one JSON object per line):
    {"type": "shadow", "route": ..., "result": "match|mismatch|noise|error|timeout|lagging|skipped",
     "request": {"method", "path", "query", "request_id", ...}, "differences": [Difference...],
     "checks": [...], "legacy": {"status", ...}, "candidate": {"status", ...}, ...}
    {"type": "noise", "route": ..., "request": {...}, "differences": [Difference...]}
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from html import escape
from typing import Iterable, Optional

from proxy.compare.noise import MATCH, MISMATCH, NOISE, NoiseModel, NoiseSettings

ERROR, TIMEOUT, LAGGING, SKIPPED = "error", "timeout", "lagging", "skipped"
COMPARED = (MATCH, MISMATCH, NOISE)
NOT_COMPARED = (ERROR, TIMEOUT, LAGGING, SKIPPED)
RESULTS = COMPARED + NOT_COMPARED


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
    noise_examples: dict = field(default_factory=dict)  # field -> one legacy-vs-legacy example
    checks: Counter = field(default_factory=Counter)
    last_errors: deque = field(default_factory=lambda: deque(maxlen=5))


def _rate(count: int, of: int) -> dict:
    return {"count": count, "of": of, "rate": round(count / of, 4) if of else None}


def _example(record: dict, difference: dict) -> dict:
    return {"request": record.get("request"), "path": difference["path"],
            "legacy": difference.get("legacy"), "candidate": difference.get("candidate")}


class ShadowReport:
    def __init__(self, noise_min_hits: int = 1, examples_per_field: int = 3, max_field_sets: int = 10_000,
                 noise_settings: Optional[dict[str, NoiseSettings]] = None):
        """`noise_settings`: route -> its profile's noise settings (routes not named use the
        defaults until `noise_model(route, settings)` configures them). `max_field_sets` is
        accepted for callers of the earlier, re-classifying report and unused."""
        self.noise_min_hits = noise_min_hits
        self.examples_per_field = examples_per_field
        self.noise_settings = dict(noise_settings or {})
        self.routes: dict[str, _RouteStats] = {}

    def route(self, name: str) -> _RouteStats:
        stats = self.routes.get(name)
        if stats is None:
            stats = self.routes[name] = _RouteStats(NoiseModel(self.noise_min_hits, self.noise_settings.get(name)))
        return stats

    def noise_model(self, route: str, settings: Optional[NoiseSettings] = None) -> NoiseModel:
        model = self.route(route).noise
        if settings is not None:
            self.noise_settings[route] = settings
            model.configure(settings)
        return model

    def add(self, record: dict) -> None:
        stats = self.route(record["route"])
        differences = record.get("differences") or ()
        fields = [d["field"] for d in differences]
        if record.get("type") == "noise":
            stats.noise.observe(fields)
            for difference in differences:
                stats.noise_examples.setdefault(difference["field"], _example(record, difference))
            return
        result = record.get("result") or stats.noise.classify(fields)
        stats.results[result] += 1
        if result not in COMPARED:
            if record.get("error"):
                stats.last_errors.append({"result": result, "error": record["error"],
                                          "request": record.get("request")})
        else:
            stats.noise.observe_candidate(fields)
        stats.checks.update(record.get("checks") or ())
        for difference in differences:
            field_stats = stats.fields.get(difference["field"])
            if field_stats is None:
                field_stats = stats.fields[difference["field"]] = _FieldStats(
                    examples=deque(maxlen=self.examples_per_field))
            field_stats.count += 1
            field_stats.kinds[difference["kind"]] += 1
            field_stats.examples.append(_example(record, difference))

    def add_all(self, records: Iterable[dict]) -> "ShadowReport":
        for record in records:
            self.add(record)
        return self

    def to_dict(self, route: Optional[str] = None, top: int = 10) -> dict:
        names = [route] if route else sorted(self.routes)
        return {"routes": {name: self._route_dict(self.routes[name], top) for name in names if name in self.routes}}

    def _route_dict(self, stats: _RouteStats, top: int) -> dict:
        model = stats.noise
        noisy = model.noisy_fields()
        results = {r: stats.results[r] for r in RESULTS}
        compared = sum(results[r] for r in COMPARED)
        requests = compared + sum(results[r] for r in NOT_COMPARED)
        ranked = sorted(stats.fields.items(), key=lambda item: (item[0] in noisy, -item[1].count))
        noisy_fields = []
        for name in sorted(set(model.to_dict()["fields"]) | set(noisy)):
            rates = model.field_rates(name)
            field_stats = stats.fields.get(name)
            noisy_fields.append({
                "field": name, **rates,
                "example": stats.noise_examples.get(name),
                "candidate_example": field_stats.examples[-1] if field_stats and field_stats.examples else None,
            })
        noisy_fields.sort(key=lambda f: (not f["noisy"], f["field"]))
        return {
            "requests": requests,
            "compared": compared,
            "results": results,
            # Every rate with its denominator: verdicts over compared requests, the rest over all mirrored.
            "rates": {**{r: _rate(results[r], compared) for r in COMPARED},
                      **{r: _rate(results[r], requests) for r in NOT_COMPARED}},
            # The go/no-go figure, and noise beside it (never counted as a match).
            "mismatch_rate": _rate(results[MISMATCH], compared)["rate"],
            "noise_rate": _rate(results[NOISE], compared)["rate"],
            "match_rate": _rate(results[MATCH], compared)["rate"],
            "not_compared_rate": _rate(requests - compared, requests)["rate"],
            "top_fields": [
                {"field": name, "count": fs.count, "share": round(fs.count / compared, 4) if compared else None,
                 "noisy": name in noisy, "kinds": dict(fs.kinds), "examples": list(fs.examples)}
                for name, fs in ranked[:top]
            ],
            "noisy_fields": noisy_fields[:max(top, 0) or len(noisy_fields)],
            "checks": dict(stats.checks.most_common()),
            "noise": model.to_dict(),
            "last_errors": list(stats.last_errors),
        }


def _pct(rate: dict) -> str:
    return f"{rate['count']}/{rate['of']}" + ("" if rate["rate"] is None else f" ({rate['rate']:.1%})")


def route_figures(route: dict) -> str:
    """One line of a route's figures, as `proxy.cli routes` and the text report print them."""
    rates = route["rates"]
    return (f"mismatch {_pct(rates['mismatch'])}, noise {_pct(rates['noise'])}, match {_pct(rates['match'])}; "
            f"errored {_pct(rates['error'])}, timed out {_pct(rates['timeout'])}, "
            f"lagging {_pct(rates['lagging'])}, skipped {_pct(rates['skipped'])}")


def render_text(report: dict) -> str:
    """The report as a terminal page."""
    lines = []
    for name, route in report["routes"].items():
        noise = route["noise"]
        settings = noise.get("settings", {})
        lines.append(f"route {name}: {route['requests']} mirrored, {route['compared']} compared")
        lines.append(f"  go/no-go: {route_figures(route)}")
        lines.append(f"  noise model: {noise['samples']} legacy-vs-legacy and {noise.get('candidate_samples', 0)} "
                     f"legacy-vs-candidate comparisons in the window (window {settings.get('window')}, "
                     f"min {settings.get('min_samples')}, thresholds {settings.get('relative_threshold')} relative, "
                     f"{settings.get('absolute_threshold')} absolute)")
        for f in route["top_fields"]:
            tag = "noise" if f["noisy"] else "DIFF "
            lines.append(f"  {tag} {f['field']:<48} {f['count']:>6}/{route['compared']}  {f['share'] or 0:.1%}  "
                         f"{dict(f['kinds'])}")
            for example in f["examples"][:1]:
                lines.append(f"        e.g. {_request_text(example)} {example['path']}: "
                             f"{example['legacy']!r} -> {example['candidate']!r}")
        for f in route.get("noisy_fields", []):
            tag = "noisy field" if f["noisy"] else "legacy differs too, but not noise"
            lines.append(f"  {tag}: {f['field']}: legacy vs legacy {_field_rate(f, 'noise')}, "
                         f"legacy vs candidate {_field_rate(f, 'candidate')}")
            example = f.get("example")
            if example:
                lines.append(f"        e.g. {_request_text(example)} {example['path']}: "
                             f"{example['legacy']!r} vs {example['candidate']!r} (two legacy answers)")
        for check, count in list(route.get("checks", {}).items())[:10]:
            lines.append(f"  check {count:>6}x  {check}")
        for error in route["last_errors"][:3]:
            req = error.get("request") or {}
            lines.append(f"  {error['result']}: {req.get('method', '')} {req.get('path', '')}: {error['error']}")
    return "\n".join(lines) if lines else "no shadow comparisons recorded"


def _field_rate(f: dict, side: str) -> str:
    rate = f[f"{side}_rate"]
    text = f"{f[f'{side}_hits']}/{f[f'{side}_samples']}"
    return text + ("" if rate is None else f" ({rate:.1%})")


def _request_text(example: dict) -> str:
    req = example.get("request") or {}
    query = f"?{req['query']}" if req.get("query") else ""
    return f"{req.get('method', '')} {req.get('path', '')}{query}"


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


def _html_rate(rate: dict) -> str:
    return escape(_pct(rate))


def _value(value) -> str:
    text = repr(value)
    return escape(text if len(text) <= 200 else text[:200] + "…")


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page (every value escaped)."""
    sections = []
    for name, route in report["routes"].items():
        rates = route["rates"]
        noise = route["noise"]
        rows = [f"<h2>Route <code>{escape(name)}</code></h2>",
                "<table><tr><th>mirrored</th><th>compared</th><th>mismatch (go/no-go)</th><th>noise</th>"
                "<th>match</th><th>errored</th><th>timed out</th><th>lagging</th><th>skipped</th>"
                "<th>noise samples</th></tr>",
                f"<tr><td class=n>{route['requests']}</td><td class=n>{route['compared']}</td>"
                + "".join(f"<td class=n>{_html_rate(rates[k])}</td>"
                          for k in ("mismatch", "noise", "match", "error", "timeout", "lagging", "skipped"))
                + f"<td class=n>{noise['samples']} legacy-vs-legacy, {noise.get('candidate_samples', 0)} "
                  f"legacy-vs-candidate</td></tr></table>"]
        if route["top_fields"]:
            rows.append("<table><tr><th></th><th>field</th><th>count</th><th>share</th><th>kinds</th>"
                        "<th>example request</th><th>at</th><th>legacy</th><th>candidate</th></tr>")
            for f in route["top_fields"]:
                tag = '<span class="noise">noise</span>' if f["noisy"] else '<span class="diff">DIFF</span>'
                example = f["examples"][0] if f["examples"] else {}
                kinds = ", ".join(f"{k} {n}" for k, n in f["kinds"].items())
                share = "-" if f["share"] is None else f"{f['share']:.1%}"
                rows.append(
                    f"<tr><td>{tag}</td><td><code>{escape(f['field'])}</code></td>"
                    f"<td class=n>{f['count']}/{route['compared']}</td>"
                    f"<td class=n>{share}</td><td>{escape(kinds)}</td>"
                    f"<td><code>{escape(_request_text(example))}</code></td>"
                    f"<td><code>{escape(example.get('path', ''))}</code></td>"
                    f"<td><code>{_value(example.get('legacy'))}</code></td>"
                    f"<td><code>{_value(example.get('candidate'))}</code></td></tr>")
            rows.append("</table>")
        if route.get("noisy_fields"):
            rows.append("<table><tr><th>field</th><th>noise?</th><th>legacy vs legacy</th>"
                        "<th>legacy vs candidate</th><th>example (two legacy answers)</th></tr>")
            for f in route["noisy_fields"]:
                example = f.get("example") or {}
                rows.append(
                    f"<tr><td><code>{escape(f['field'])}</code></td>"
                    f"<td>{'noise' if f['noisy'] else 'not noise'}</td>"
                    f"<td class=n>{escape(_field_rate(f, 'noise'))}</td>"
                    f"<td class=n>{escape(_field_rate(f, 'candidate'))}</td>"
                    f"<td><code>{escape(_request_text(example))} {escape(example.get('path', ''))}: "
                    f"{_value(example.get('legacy'))} vs {_value(example.get('candidate'))}</code></td></tr>")
            rows.append("</table>")
        if route.get("checks"):
            rows.append("<table><tr><th>verdicts</th><th>rest on the check</th></tr>")
            for check, count in route["checks"].items():
                rows.append(f"<tr><td class=n>{count}</td><td>{escape(check)}</td></tr>")
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
