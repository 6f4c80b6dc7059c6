"""The browser side over plain HTTP: `GET /`, `/static/...` from the package, the vendored files and their record."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import httpx
import pytest

from chatserver.transport.web import WEB_DIR
from tests.helpers import HTTP
from tests.server import RunningServer, run_server

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = json.loads((WEB_DIR / "vendor" / "VERSIONS.json").read_text())["packages"]
OWN_FILES = sorted(p for p in WEB_DIR.rglob("*") if p.is_file() and "vendor" not in p.parts)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("web") / "data", auto_confirm=True) as running:
        yield running


def get(server: RunningServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers=headers, **HTTP)


def test_root_serves_the_demo_app_page(server: RunningServer) -> None:
    response = get(server, "/", Accept="text/html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert '<script type="module" src="/static/app/main.js">' in response.text
    assert httpx.head(f"{server.url}/", **HTTP).status_code == 200


def test_post_to_root_is_not_the_demo_app(server: RunningServer) -> None:
    """`POST /` belongs to the Cognito JSON API; the page answers GET only."""
    response = httpx.post(f"{server.url}/", content=b"{}", **HTTP)
    assert "text/html" not in response.headers.get("content-type", "")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/app/main.js", "text/javascript; charset=utf-8"),
        ("/static/app/pcm-tap-worklet.js", "text/javascript; charset=utf-8"),
        ("/static/app/app.css", "text/css; charset=utf-8"),
        ("/static/playground/playground.js", "text/javascript; charset=utf-8"),
    ],
)
def test_own_files_are_typed_and_revalidated(server: RunningServer, path: str, content_type: str) -> None:
    response = get(server, path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    again = get(server, path, **{"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_vendored_files_are_served_byte_for_byte_and_cached_for_good(server: RunningServer) -> None:
    for package in VERSIONS:
        for name, digest in package["files"].items():
            response = get(server, f"/static/vendor/{package['directory']}/{name}")
            assert response.status_code == 200, name
            assert hashlib.sha256(response.content).hexdigest() == digest, name
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            if name.endswith(".js"):
                assert response.headers["content-type"] == "text/javascript; charset=utf-8"


def test_versions_record_names_exact_versions_licences_and_integrity() -> None:
    names = {p["name"] for p in VERSIONS}
    assert names == {"graphiql", "react", "react-dom", "graphql-ws"}
    for package in VERSIONS:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"]), package
        assert package["directory"] == f"{package['name']}-{package['version']}"
        assert package["license"] == "MIT"
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package["integrity"]), package
        assert any(n.startswith("LICENSE") for n in package["files"]), package  # the licence text ships too
        for name, digest in package["files"].items():
            path = WEB_DIR / "vendor" / package["directory"] / name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, (
                f"{path} differs from VERSIONS.json"
            )


def test_playground_page_loads_only_recorded_vendored_files(server: RunningServer) -> None:
    page = get(server, "/graphql", Accept="text/html").text
    vendored = re.findall(r'(?:src|href)="/static/vendor/([^"]+)"', page)
    recorded = {f"{p['directory']}/{name}" for p in VERSIONS for name in p["files"]}
    assert vendored and set(vendored) <= recorded, set(vendored) - recorded
    assert "graphiql-3.8.3/graphiql.min.js" in vendored


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: str(p.relative_to(WEB_DIR)))
def test_own_files_load_nothing_from_outside(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path
    assert not re.search(r"""(import|from)\s*\(?\s*["'](https?:)?//""", text), path
    assert "unpkg" not in text and "jsdelivr" not in text, path


@pytest.mark.parametrize(
    "path",
    [
        "/static/../transport/web.py",
        "/static/%2e%2e/transport/web.py",
        "/static/..%2fconfig.py",
        "/static/app/",
        "/static/app/missing.js",
        "/static/vendor/VERSIONS.json/x",
    ],
)
def test_static_refuses_paths_outside_the_web_folder(server: RunningServer, path: str) -> None:
    response = httpx.get(server.url + path, **HTTP)
    assert response.status_code == 404, (path, response.status_code)
    assert "from __future__" not in response.text


def test_package_data_ships_every_web_file() -> None:
    """A non-editable `pip install .` must carry chatserver/web: each file matches a package-data pattern."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package_data = setuptools["package-data"]

    def shipped(path: Path) -> bool:
        for package, patterns in package_data.items():
            if package not in setuptools["packages"] or not package.startswith("chatserver.web"):
                continue
            base = ROOT / package.replace(".", "/")
            if base not in path.parents:
                continue
            relative = PurePosixPath(path.relative_to(base).as_posix())
            for pattern in patterns:
                parts = PurePosixPath(pattern).parts
                if len(parts) == len(relative.parts) and all(map(fnmatch, relative.parts, parts)):
                    return True
        return False

    files = [p for p in WEB_DIR.rglob("*") if p.is_file()]
    assert len(files) > 15
    assert [str(f.relative_to(WEB_DIR)) for f in files if not shipped(f)] == []
