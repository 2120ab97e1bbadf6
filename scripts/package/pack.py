#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Pack this repository the way each registry receives it, without the
registries' own tools (not installable here: idf-component-manager and
platformio come only from PyPI). Each packer follows its tool's documented
file rules; docs/install.md lists them.

    pack.py arduino    REPO OUT   -> OUT/fota-VERSION.zip
    pack.py platformio REPO OUT   -> OUT/fota-VERSION.tar.gz
    pack.py esp-idf    REPO OUT   -> OUT/fota_VERSION.tgz

What a registry starts from is a release checkout: the files git tracks
(plus, in a work tree, new files not ignored, so that a change can be tried
before it is committed), never build folders or other local files.

- arduino: the Arduino Library Manager indexes a release tag of the
  repository and serves the whole tree of that tag (no .git); the IDE
  unpacks it into libraries/ and compiles src/ recursively.
- platformio: `pio pkg pack` keeps what library.json `export.include`
  names (a folder with everything under it; all when absent), drops
  `export.exclude` and its defaults (._*, .DS_Store, .git, .hg, .svn,
  .pio), and always keeps the manifests (library.json, library.properties).
- esp-idf: `compote component upload` starts from every file of the
  component folder (here the repository root), drops its built-in
  exclusions (build and dist folders, VCS and IDE folders, sdkconfig,
  managed_components, dependencies.lock, Python caches), then
  idf_component.yml `files.exclude`, then adds `files.include` back
  (include wins); patterns are Python pathlib globs from the root.
"""
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# compote's built-in exclusions (idf_component_tools.file_tools).
IDF_DEFAULT_EXCLUDE = [
    "**/__pycache__", "**/*.pyc", "**/*.pyd", "**/*.pyo", "**/.DS_Store",
    "**/.git/**/*", "**/.svn/**/*", "**/dist/**/*", "**/build/**/*",
    "**/managed_components/**/*", "**/dependencies.lock", "**/.github/**/*",
    "**/.gitlab-ci.yml", "**/.idea/**/*", "**/.vscode/**/*", "**/.settings/**/*",
    "**/sdkconfig", "**/sdkconfig.old", "**/.component_hash",
]
# pio pkg pack's default exclusions and the manifests it always keeps.
PIO_DEFAULT_EXCLUDE = ["._*", ".DS_Store", ".git", ".hg", ".svn", ".pio"]
PIO_MANIFESTS = ["library.json", "library.properties", "module.json", "package.json"]


def die(msg):
    sys.stderr.write("pack.py: %s\n" % msg)
    sys.exit(1)


def release_files(repo):
    """Relative paths of the files a release checkout of REPO holds."""
    try:
        out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        die("%s is not a git work tree (%s)" % (repo, e))
    files = sorted({f for f in out.decode().split("\0") if f})
    return [f for f in files if os.path.isfile(os.path.join(repo, f))]


def stage(repo, files, dest):
    """Copy FILES of REPO into DEST (a release checkout to apply rules to)."""
    for f in files:
        target = os.path.join(dest, f)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(os.path.join(repo, f), "rb") as src, open(target, "wb") as dst:
            dst.write(src.read())
        os.chmod(target, os.stat(os.path.join(repo, f)).st_mode & 0o777)


def version_of(repo):
    props = Path(repo, "library.properties").read_text()
    m = re.search(r"^version=(\S+)$", props, re.M)
    if not m:
        die("library.properties has no version=")
    return m.group(1)


def idf_files(root):
    """compote's selection: all, minus defaults, minus exclude, plus include."""
    manifest = Path(root, "idf_component.yml").read_text()
    rules = parse_files_block(manifest)
    base = Path(root)
    paths = set(base.glob("**/*"))
    for pattern in IDF_DEFAULT_EXCLUDE:
        paths.difference_update(base.glob(pattern))
        if pattern.endswith("/**/*"):
            paths.difference_update(base.glob(pattern[: -len("/**/*")]))
    for pattern in rules.get("exclude", []):
        paths.difference_update(base.glob(pattern))
    for pattern in rules.get("include", []):
        paths.update(base.glob(pattern))
    return sorted(str(p.relative_to(base)) for p in paths if p.is_file())


def parse_files_block(text):
    """The `files:` block of idf_component.yml (exclude/include lists of
    strings): enough YAML for this manifest, no PyYAML needed."""
    rules, key, in_files = {}, None, False
    for line in text.splitlines():
        if re.match(r"^\S", line):
            in_files = line.startswith("files:")
            key = None
            continue
        if not in_files or not line.strip() or line.strip().startswith("#"):
            continue
        m = re.match(r"^  (\w+):\s*$", line)
        if m:
            key = m.group(1)
            rules[key] = []
            continue
        m = re.match(r"^\s+-\s+\"?([^\"]+?)\"?\s*$", line)
        if m and key:
            rules[key].append(m.group(1))
        else:
            die("idf_component.yml: cannot read files: line %r" % line)
    return rules


def pio_files(root):
    """pio pkg pack's selection from library.json export rules, applied in
    order as its source filter: +include, -exclude, -defaults, +manifests."""
    manifest = json.loads(Path(root, "library.json").read_text())
    export = manifest.get("export", {})
    filters = [("+", p) for p in export.get("include", ["*", ".*"])]
    filters += [("-", p) for p in export.get("exclude", [])]
    filters += [("-", p) for p in PIO_DEFAULT_EXCLUDE]
    filters += [("+", p) for p in PIO_MANIFESTS]
    selected = set()
    for sign, pattern in filters:
        hits = set()
        for match in glob.glob(os.path.join(root, pattern), recursive=True):
            if os.path.isdir(match):
                for dirpath, _, names in os.walk(match):
                    hits.update(os.path.join(dirpath, n) for n in names)
            else:
                hits.add(match)
        # a default exclusion names a file or folder anywhere below the root
        if sign == "-" and pattern in PIO_DEFAULT_EXCLUDE:
            hits = {h for h in selected
                    if any(fnmatch.fnmatch(part, pattern)
                           for part in os.path.relpath(h, root).split(os.sep))}
        if sign == "+":
            selected |= hits
        else:
            selected -= hits
    return sorted(os.path.relpath(p, root) for p in selected)


def write_zip(path, root, files, prefix):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(os.path.join(root, f), prefix + f)


def write_tar(path, root, files):
    with tarfile.open(path, "w:gz") as t:
        for f in files:
            t.add(os.path.join(root, f), f)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("arduino", "platformio", "esp-idf"):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    kind, repo, out = argv[1], os.path.abspath(argv[2]), os.path.abspath(argv[3])
    os.makedirs(out, exist_ok=True)
    version = version_of(repo)
    checkout = os.path.join(out, "checkout")
    if os.path.exists(checkout):
        die("%s exists: give an empty OUT" % checkout)
    stage(repo, release_files(repo), checkout)
    if kind == "arduino":
        name = "fota-%s.zip" % version
        files = release_files(repo)
        write_zip(os.path.join(out, name), checkout, files, "fota-%s/" % version)
    elif kind == "platformio":
        name = "fota-%s.tar.gz" % version
        files = pio_files(checkout)
        write_tar(os.path.join(out, name), checkout, files)
    else:
        name = "fota_%s.tgz" % version
        files = idf_files(checkout)
        write_tar(os.path.join(out, name), checkout, files)
    shutil.rmtree(checkout)
    print("pack.py: %s: %d files in %s" % (kind, len(files), os.path.join(out, name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
