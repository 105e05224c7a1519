"""services.common.public_url against Django: host validation (ALLOWED_HOSTS), build_absolute_uri behind the
proxy (USE_X_FORWARDED_HOST, SECURE_PROXY_SSL_HEADER), and the AllowedHosts middleware's 400 page."""
from __future__ import annotations

import pytest
from django.http.request import split_domain_port as django_split_domain_port
from django.http.request import validate_host
from django.test import RequestFactory
from django.views import defaults as django_defaults
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from services.common.app import PROBE_PATHS
from services.common.public_url import AllowedHosts, absolute_uri, host_allowed, raw_host, scheme, split_domain_port
from services.common.settings import DEV_ALLOWED_HOSTS

ALLOWED = ["localhost", "127.0.0.1", "[::1]", "testserver", ".example.com", "exact.org"]
HOSTS = ["localhost", "LOCALHOST:8080", "localhost.", "localhost.:80", "127.0.0.1:8101", "[::1]", "[::1]:8000",
         "[::1", "::1", "evil.com", "a.example.com", "A.B.Example.COM:1", "example.com", "badexample.com",
         "exact.org", "sub.exact.org", "localhost, proxy", "", "local host", "localhost:abc", "localhost:",
         "xn--bcher-kva.example.com", "a_b.example.com", "testserver", "127.0.0.1:99999", "[fe80::1%eth0]"]


def django_allows(host, allowed):
    domain, _port = django_split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


@pytest.mark.parametrize("host", HOSTS)
def test_host_allowed_equals_django(host):
    assert split_domain_port(host) == django_split_domain_port(host)
    assert host_allowed(host, ALLOWED) == django_allows(host, ALLOWED)
    assert host_allowed(host, ["*"]) == django_allows(host, ["*"])
    assert host_allowed(host, []) is False


def test_default_allowed_hosts_equal_the_monoliths():
    import os

    from vobemusic.settings import base   # pytest-django appends "testserver" to the live settings; read the module
    if os.environ.get("DJANGO_ALLOWED_HOSTS"):
        pytest.skip("DJANGO_ALLOWED_HOSTS overrides the monolith's default here")
    assert [h for h in DEV_ALLOWED_HOSTS.split(",") if h] == base.ALLOWED_HOSTS


def scope_of(path="/api/v1/tracks/", query="", headers=(), server=("testserver", 80), **extra):
    return {"type": "http", "method": "GET", "path": path, "query_string": query.encode("latin-1"),
            "scheme": "http", "server": server, "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers], **extra}


HEADER_SETS = [
    (), (("Host", "localhost"),), (("Host", "localhost:8080"),), (("Host", "localhost"), ("X-Forwarded-Host", "a.example.com")),
    (("X-Forwarded-Host", "a.example.com:8443"), ("X-Forwarded-Proto", "https")),
    (("Host", "localhost"), ("X-Forwarded-Proto", "https,http")), (("Host", "localhost"), ("X-Forwarded-Proto", "http")),
    (("Host", "localhost"), ("X-Forwarded-Proto", "Https")), (("Host", "localhost"), ("X-Forwarded-Proto", "")),
]


@pytest.mark.parametrize("headers", HEADER_SETS)
@pytest.mark.parametrize("path, query", [("/api/v1/tracks/", ""), ("/api/v1/tracks/", "b=2&a=1&a=0"),
                                          ("/api/v1/tracks/a b/é/", "q=a%20b&r=a+b"), ("/x/", "q=[1]&s=~'!")])
def test_absolute_uri_equals_build_absolute_uri(headers, path, query, settings):
    settings.ALLOWED_HOSTS = ["*"]
    django = RequestFactory().get(path + ("?" + query if query else ""), headers=dict(headers))
    ours = Request(scope_of(path, query, headers))
    assert absolute_uri(ours) == django.build_absolute_uri()
    assert raw_host(ours.scope) == django._get_raw_host()
    assert scheme(ours.scope) == django.scheme


def test_raw_host_without_host_header_uses_the_server_address():
    assert raw_host(scope_of(server=("10.0.0.5", 8101))) == "10.0.0.5:8101"
    assert raw_host(scope_of(server=("10.0.0.5", 443))) == "10.0.0.5"
    assert raw_host(scope_of(server=None)) == "localhost"
    assert scheme(scope_of(scheme="https")) == "https"


def test_absolute_uri_uses_root_path_and_the_clients_public_path():
    request = Request(scope_of("/api/v1/tracks/", "page=2", [("Host", "localhost")], root_path="/svc",
                               public_path="/api/v1/tracks.json"))
    assert absolute_uri(request) == "http://localhost/svc/api/v1/tracks.json?page=2"


def guarded():
    inner = Starlette()
    inner.add_route("/{rest:path}", lambda request: PlainTextResponse("ok"))
    return TestClient(AllowedHosts(inner, ["localhost", ".example.com"], exempt_prefixes=PROBE_PATHS),
                      base_url="http://localhost")


def test_disallowed_host_gets_djangos_400_page():
    page = django_defaults.bad_request(RequestFactory().get("/"), Exception())
    client = guarded()
    for headers in ({"Host": "evil.com"}, {"Host": "localhost", "X-Forwarded-Host": "evil.com"},
                    {"Host": "localhost, evil.com"}, {"Host": "local_host"}):
        response = client.get("/api/v1/tracks/", headers=headers)
        assert response.status_code == 400, headers
        assert response.content == page.content
        assert response.headers["content-type"] == page["Content-Type"]


def test_allowed_hosts_and_exempt_probes_pass():
    client = guarded()
    assert client.get("/api/v1/tracks/").text == "ok"
    assert client.get("/api/v1/tracks/", headers={"Host": "LOCALHOST:9"}).text == "ok"
    assert client.get("/api/v1/tracks/", headers={"Host": "evil.com", "X-Forwarded-Host": "api.example.com"}).text == "ok"
    for probe in ("/healthz", "/readyz", "/metrics", "/internal/sync-status"):
        assert client.get(probe, headers={"Host": "10.1.2.3:8101"}).text == "ok", probe
    # An exempt prefix is a prefix of the path, not a substring anywhere in it.
    assert client.get("/api/v1/healthz", headers={"Host": "10.1.2.3:8101"}).status_code == 400
