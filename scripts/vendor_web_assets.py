#!/usr/bin/env python3
"""Refresh the playground's vendored browser assets from the npm registry.

Each package below is fetched with `npm pack NAME@VERSION` (the registry tarball, nothing from a CDN), its
integrity checked against what the registry reports, and the listed files copied into
`chatserver/web/vendor/NAME-VERSION/` with the package's licence file. `chatserver/web/vendor/VERSIONS.json` records
name, exact version, licence, tarball integrity and the sha256 of every copied file; tests check the files against it.

To move to another version: edit PACKAGES (and the paths in chatserver/web/playground/index.html), run
`python scripts/vendor_web_assets.py`, commit the result.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "chatserver" / "web" / "vendor"

# name -> (exact version, files inside the package to ship)
PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "react": ("18.3.1", ("umd/react.production.min.js",)),
    "react-dom": ("18.3.1", ("umd/react-dom.production.min.js",)),
    "graphql-ws": ("5.16.0", ("umd/graphql-ws.min.js",)),
    "graphiql": ("3.8.3", ("graphiql.min.js", "graphiql.min.css")),
}
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE")


def npm_pack(spec: str, into: Path) -> dict[str, str]:
    """`npm pack SPEC` into a folder; returns npm's record of the tarball (filename, integrity, ...)."""
    done = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(done.stdout)[0]


def sri_sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendor_package(name: str, version: str, files: tuple[str, ...], work: Path) -> dict[str, object]:
    packed = npm_pack(f"{name}@{version}", work)
    tarball = work / packed["filename"]
    integrity = sri_sha512(tarball)
    if integrity != packed["integrity"]:
        raise SystemExit(
            f"{name}@{version}: tarball integrity {integrity} != registry's {packed['integrity']}"
        )
    unpacked = work / f"{name}-{version}"
    with tarfile.open(tarball) as archive:
        archive.extractall(unpacked, filter="data")
    package_dir = unpacked / "package"
    manifest = json.loads((package_dir / "package.json").read_text())
    if manifest["version"] != version:
        raise SystemExit(f"{name}: asked for {version}, npm gave {manifest['version']}")
    target = VENDOR / f"{name}-{version}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    licence = next((package_dir / n for n in LICENCE_NAMES if (package_dir / n).is_file()), None)
    if licence is None:
        raise SystemExit(f"{name}@{version} ships no licence file")
    shipped: dict[str, str] = {}
    for relative in (*files, licence.name):
        source = package_dir / relative
        destination = target / Path(relative).name
        shutil.copyfile(source, destination)
        shipped[destination.name] = sha256(destination)
    return {
        "name": name,
        "version": version,
        "license": manifest.get("license"),
        "tarball": packed["filename"],
        "integrity": integrity,
        "directory": target.name,
        "files": shipped,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    if shutil.which("npm") is None:
        print("npm is needed (it fetches the registry tarballs)", file=sys.stderr)
        return 1
    VENDOR.mkdir(parents=True, exist_ok=True)
    records = []
    with tempfile.TemporaryDirectory() as temp:
        for name, (version, files) in PACKAGES.items():
            record = vendor_package(name, version, files, Path(temp))
            records.append(record)
            print(f"{name}@{version} ({record['license']}): {', '.join(record['files'])}")  # type: ignore[arg-type]
    wanted = {r["directory"] for r in records}
    for stale in VENDOR.iterdir():
        if stale.is_dir() and stale.name not in wanted:
            shutil.rmtree(stale)
    (VENDOR / "VERSIONS.json").write_text(json.dumps({"packages": records}, indent=2) + "\n")
    print(f"wrote {VENDOR / 'VERSIONS.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
