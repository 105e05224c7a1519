"""Every mode with real upstream processes: legacy, new, shadow (recording and noise), canary."""
import time

import httpx
import jwt

from proxy.tests.conftest import wait_for

SIGNING_KEY = "dev-only-jwt-signing-key-change-me-please-32b"


def token(user_id: int) -> str:
    return jwt.encode({"user_id": user_id, "token_type": "access", "exp": int(time.time()) + 600},
                      SIGNING_KEY, algorithm="HS256")


def served_by(response: httpx.Response) -> str:
    return response.headers["x-served-by"]


def test_legacy_mode_passes_requests_through_faithfully(proxy, legacy):
    response = httpx.get(proxy.url + "/echo/a%2Fb/?x=1&x=2&y=%20", headers=[
        ("Cookie", "a=1"), ("Cookie", "b=2"), ("X-Multi", "one"), ("X-Multi", "two"),
        ("Connection", "keep-alive, X-Hop"), ("X-Hop", "secret"), ("TE", "trailers"),
        ("Proxy-Authorization", "Basic x"), ("X-Forwarded-For", "6.6.6.6")], timeout=30)
    assert response.status_code == 200 and served_by(response) == "legacy"
    echo = response.json()
    assert echo["raw_path"] == "/echo/a%2Fb/" and echo["query"] == "x=1&x=2&y=%20"
    headers = echo["headers"]
    names = [name for name, _ in headers]
    assert [v for n, v in headers if n == "cookie"] == ["a=1", "b=2"]
    assert [v for n, v in headers if n == "x-multi"] == ["one", "two"]
    for hop in ("x-hop", "te", "proxy-authorization", "connection"):
        assert hop not in names, hop
    host = proxy.url.removeprefix("http://")
    assert dict(headers)["host"] == host  # the original Host reaches the upstream
    assert dict(headers)["x-forwarded-host"] == host
    assert dict(headers)["x-forwarded-proto"] == "http"
    assert dict(headers)["x-forwarded-for"] == "127.0.0.1"  # a client's own value is not trusted
    assert len(dict(headers)["x-request-id"]) == 32


def test_repeated_set_cookie_and_methods(proxy):
    response = httpx.get(proxy.url + "/cookies", timeout=30)
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        echoed = httpx.request(method, proxy.url + "/echo/x", content=b"payload", timeout=30).json()
        assert echoed["method"] == method and echoed["body_bytes"] == 7
    head = httpx.head(proxy.url + "/api/v1/tracks/", timeout=30)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0


def test_new_mode_serves_from_the_target(proxy):
    assert served_by(httpx.get(proxy.url + "/api/v1/tracks/", timeout=30)) == "legacy"
    proxy.flip("catalog-read", "new")
    assert served_by(httpx.get(proxy.url + "/api/v1/tracks/", timeout=30)) == "catalog"
    # writes are another route and stay on legacy
    assert served_by(httpx.post(proxy.url + "/api/v1/tracks/", json={}, timeout=30)) == "legacy"


def test_shadow_records_differences_and_tells_noise_apart(proxy):
    proxy.flip("catalog-read", "shadow")
    for i in range(5):
        response = httpx.get(proxy.url + f"/api/v1/tracks/?page={i}", headers={"Authorization": f"Bearer {token(7)}"},
                             timeout=30)
        assert served_by(response) == "legacy"  # the client always gets legacy's answer

    def five_compared():
        report = proxy.admin("GET", "/_proxy/shadow/report").json()["routes"].get("catalog-read")
        return report if report and report["compared"] >= 5 and report["noise"]["samples"] >= 5 else None

    report = wait_for(five_compared, timeout=60, what="shadow comparisons")
    fields = {f["field"]: f for f in report["top_fields"]}
    assert not fields["$.results[*].title"]["noisy"]  # a real regression of the candidate
    assert fields["$.generated_at"]["noisy"]  # differs between two legacy answers too
    example = fields["$.results[*].title"]["examples"][0]
    assert example["path"] == "$.results[id=2].title"
    assert (example["legacy"], example["candidate"]) == ("Track 2", "Track two")
    assert example["request"]["path"] == "/api/v1/tracks/" and example["request"]["user"] == "7"
    assert report["results"]["mismatch"] == report["compared"]

    records = proxy.admin("GET", "/_proxy/shadow/records?route=catalog-read&result=mismatch").json()["records"]
    assert records and records[0]["request"]["query"].startswith("page=")
    assert records[0]["legacy"]["status"] == records[0]["candidate"]["status"] == 200

    text = proxy.cli("report", "--route", "catalog-read")
    assert text.returncode == 0 and "$.results[*].title" in text.stdout and "noise" in text.stdout
    offline = proxy.cli("report", "--records-file", str(proxy.data_dir / "shadow-records.jsonl"), "--json")
    assert offline.returncode == 0 and '"catalog-read"' in offline.stdout

    metrics = httpx.get(proxy.url + "/metrics", timeout=30).text
    assert 'proxy_shadow_results_total{result="mismatch",route="catalog-read"}' in metrics


def test_shadow_matches_when_candidate_agrees(start_upstream, start_proxy, legacy):
    twin = start_upstream("catalog")  # same answers as legacy, apart from served_by
    proxy = start_proxy(legacy, twin, read_mode="shadow")
    for _ in range(4):
        httpx.get(proxy.url + "/api/v1/tracks/", timeout=30)

    def compared():
        report = proxy.admin("GET", "/_proxy/shadow/report?route=catalog-read").json()["routes"].get("catalog-read")
        return report if report and report["compared"] >= 4 else None

    report = wait_for(compared, timeout=60, what="shadow comparisons")
    assert {f["field"] for f in report["top_fields"] if not f["noisy"]} == {"$.served_by"}


def test_shadow_mirrors_only_safe_methods_by_default(proxy):
    text = proxy.routes_file.read_text().replace(
        "  - name: catalog-write\n    path: ^/api/v1/(tracks|albums)(/|$)\n    methods: [POST, PUT, PATCH, DELETE]\n    mode: legacy",
        "  - name: catalog-write\n    path: ^/api/v1/(tracks|albums)(/|$)\n    methods: [POST, PUT, PATCH, DELETE]\n    mode: shadow")
    proxy.routes_file.write_text(text)
    wait_for(lambda: proxy.route_mode("catalog-write") == "shadow", what="reload")
    httpx.post(proxy.url + "/api/v1/tracks/", json={"title": "x"}, timeout=30)
    time.sleep(1)
    assert "catalog-write" not in proxy.admin("GET", "/_proxy/shadow/report").json()["routes"]

    proxy.routes_file.write_text(text.replace("    mode: shadow\n", "    mode: shadow\n    shadow: {unsafe_methods: true}\n", 1))
    wait_for(lambda: "unsafe_methods" in proxy.admin("GET", "/_proxy/audit").text, what="reload")
    httpx.post(proxy.url + "/api/v1/tracks/", json={"title": "x"}, timeout=30)
    wait_for(lambda: "catalog-write" in proxy.admin("GET", "/_proxy/shadow/report").json()["routes"],
             what="unsafe method mirrored")


def test_canary_is_sticky_per_user_cookie_and_address(proxy):
    proxy.flip("catalog-read", "canary", 50)
    sides = {}
    for user in range(1, 41):
        seen = {served_by(httpx.get(proxy.url + "/api/v1/tracks/", headers={"Authorization": f"Bearer {token(user)}"},
                                    timeout=30)) for _ in range(3)}
        assert len(seen) == 1, f"user {user} moved between sides: {seen}"
        sides[user] = seen.pop()
    assert set(sides.values()) == {"legacy", "catalog"}  # 40 users at 50%: both sides in use

    # A fresh token for the same user (new expiry, new signature) keeps the user's side.
    again = httpx.get(proxy.url + "/api/v1/tracks/", headers={"Authorization": f"Bearer {token(1)}"}, timeout=30)
    assert served_by(again) == sides[1]

    cookie_sides = {}
    for client in range(20):
        seen = {served_by(httpx.get(proxy.url + "/api/v1/tracks/", headers={"Cookie": f"sessionid=s{client}"},
                                    timeout=30)) for _ in range(3)}
        assert len(seen) == 1
        cookie_sides[client] = seen.pop()
    assert set(cookie_sides.values()) == {"legacy", "catalog"}

    anonymous = {served_by(httpx.get(proxy.url + "/api/v1/tracks/", timeout=30)) for _ in range(5)}
    assert len(anonymous) == 1  # same address, same side

    # Growing the canary keeps everyone already on the new side there.
    proxy.flip("catalog-read", "canary", 80)
    for user, side in sides.items():
        if side == "catalog":
            response = httpx.get(proxy.url + "/api/v1/tracks/", headers={"Authorization": f"Bearer {token(user)}"},
                                 timeout=30)
            assert served_by(response) == "catalog"
    proxy.flip("catalog-read", "canary", 0)
    assert served_by(httpx.get(proxy.url + "/api/v1/tracks/", headers={"Authorization": f"Bearer {token(3)}"},
                               timeout=30)) == "legacy"
    metrics = httpx.get(proxy.url + "/metrics", timeout=30).text
    assert 'proxy_canary_decisions_total{key="user",route="catalog-read",side="new"}' in metrics


def test_one_access_log_line_per_request(proxy):
    import json
    response = httpx.get(proxy.url + "/api/v1/tracks/?page=2", headers={"X-Request-ID": "trace-me-42"}, timeout=30)
    assert response.status_code == 200

    def line():
        for text in proxy.process.log().splitlines():
            if '"trace-me-42"' in text:
                return json.loads(text)

    entry = wait_for(line, timeout=30, what="access log line")
    assert entry["logger"] == "proxy.access" and entry["level"] == "INFO" and entry["msg"] == "request"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/api/v1/tracks/", 200)
    assert (entry["route"], entry["upstream"], entry["client"]) == ("catalog-read", "legacy", "127.0.0.1")
    assert entry["ms"] > 0 and entry["ts"][:2] == "20"
