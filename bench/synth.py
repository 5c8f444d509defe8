#!/usr/bin/env python3
"""Write a synthetic proto tree N times the size of a real one.

Copy 1 is the real tree as it is. Copies 2 to N of every .proto file each get
their own path and package: copy 3 of `mattermost/plugin/v1/x.proto` is
`synth/c03/mattermost/plugin/v1/c03_x.proto`, in package
`synth.c03.mattermost.plugin.v1`. Imports of copied files and fully-qualified
type references (`mattermost.plugin.v1.Post`, `.mattermost.plugin.v1.Post`)
are rewritten to match, so each copy is a self-contained API that only shares
the option vocabulary, `mmbindgen/v1/options.proto`, which is written once,
as it is.

Names that generators derive outputs from are made unique per copy, so that
neither mm-bindgen nor protoc with its plugins writes two files to one path:

- file names get the copy's tag (`c03_x.proto`): mm-bindgen names its Go
  converters after the file (`convert_c03_x.go`), protoc-gen-go its output
  (`c03_x.pb.go`);
- services get it too, `PluginAPI` -> `C03PluginAPI`: mm-bindgen names its
  per-service docs after the service's short name;
- `go_package` gets the copy's path, `example.com/go/pluginpb` ->
  `example.com/go/synth/c03/pluginpb`.

mm-bindgen bridges one API: its Go and Python targets take one service
mirroring `plugin.API` and one mirroring `plugin.Hooks` (`go_interface`), in
the Go package the bridge is written for, and the Python SDK's runtime needs
the messages of that API under their own names (`mattermost.plugin.v1.AppError`).
Copy 1 is that API. The other copies drop `go_interface` (and `go_param`,
which only responses of bridged RPCs may set), so they are what a proto tree
holds besides the bridged API: their messages, Go converters, message
modules and docs are generated (the work that grows with the input), their
services only documented and, by protoc, stubbed.

Text inside string literals is left alone (a Go type such as "model.Post" is
not a proto name), except the paths of `import` statements and the value of
`go_package`, which are rewritten on purpose.

Usage: python3 bench/synth.py [--proto DIR] [--factor N] OUT_DIR
"""

import argparse
import re
import sys
from pathlib import Path

SHARED = ("mmbindgen/v1/options.proto",)

PACKAGE_RE = re.compile(r"^(\s*package\s+)([A-Za-z_][\w.]*)(\s*;)", re.MULTILINE)
SYNTAX_RE = re.compile(r"^\s*(syntax|edition)\s*=\s*[^;]*;[^\n]*\n?", re.MULTILINE)
IMPORT_RE = re.compile(r'^(\s*import\s+(?:public\s+|weak\s+)?)"([^"]+)"', re.MULTILINE)
SERVICE_RE = re.compile(r"(\bservice\s+)([A-Za-z_]\w*)(?=\s*\{)")
GO_PACKAGE_RE = re.compile(r'(\boption\s+go_package\s*=\s*)"([^"]*)"')
# The options that make a service a bridged one: `go_interface` as a
# statement of its own, and `go_interface` and `go_param` (a response field
# the callee writes) as fields of an aggregate value,
# `option (mmbindgen.v1.service) = {go_interface: "plugin.Hooks" hooks: true};`.
GO_INTERFACE_STATEMENT_RE = re.compile(
    r'^[ \t]*option\s+\(mmbindgen\.v1\.service\)\.go_interface\s*=\s*"[^"]*"\s*;[ \t]*\n?',
    re.MULTILINE,
)
BRIDGE_FIELD_RE = re.compile(r'\b(?:go_interface\s*:\s*"[^"]*"|go_param\s*:\s*\d+)\s*[,;]?[ \t]*')
# String literals and comments, which the type-reference pass skips.
PROTECTED_RE = re.compile(
    r'"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|//[^\n]*"
    r"|/\*.*?\*/",
    re.DOTALL,
)


class SynthError(Exception):
    pass


def copy_name(index, factor):
    """The directory and package component of copy `index` (1-based): c01, c02..."""
    return f"c{index:0{max(2, len(str(factor)))}d}"


def proto_files(root):
    """Every .proto file under `root`, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.proto") if p.is_file())


def package_of(text):
    m = PACKAGE_RE.search(strip_comments(text))
    return m.group(2) if m else ""


def strip_comments(text):
    """`text` with comments blanked out (string literals kept)."""
    return PROTECTED_RE.sub(lambda m: m.group(0) if m.group(0)[0] in "\"'" else " ", text)


def rewrite_go_package(value, prefix_path):
    """`example.com/go/pluginpb` -> `example.com/go/synth/c03/pluginpb`.

    The Go package name (the last path element, or the part after `;`) stays.
    """
    path, sep, name = value.partition(";")
    head, slash, last = path.rpartition("/")
    new_path = f"{head}/{prefix_path}/{last}" if slash else f"{prefix_path}/{last}"
    return new_path + sep + name


def copy_path(prefix, rel):
    """Where copy `prefix` ("synth.c03") of `rel` goes:
    `mattermost/plugin/v1/x.proto` -> `synth/c03/mattermost/plugin/v1/c03_x.proto`."""
    head, slash, base = rel.rpartition("/")
    tag = prefix.rpartition(".")[2]
    return f"{prefix.replace('.', '/')}/{head}{slash}{tag}_{base}"


def drop_bridge_options(text):
    """`text` without the options that only a bridged service may carry."""
    return BRIDGE_FIELD_RE.sub("", GO_INTERFACE_STATEMENT_RE.sub("", text))


def rewrite(text, prefix, copied_files, copied_packages):
    """Rewrite one file's text into the copy whose package prefix is `prefix`
    ("synth.c03"), which bridges nothing: its own `go_package`, no
    `go_interface` or `go_param`."""
    prefix_path = prefix.replace(".", "/")

    def import_sub(m):
        path = m.group(2)
        if path in copied_files:
            path = copy_path(prefix, path)
        return f'{m.group(1)}"{path}"'

    def go_package_sub(m):
        return f'{m.group(1)}"{rewrite_go_package(m.group(2), prefix_path)}"'

    # Fully-qualified references to a copied package, with or without the
    # leading dot; the longest package first so `a.b.c` wins over `a.b`.
    ref_re = None
    if copied_packages:
        alternatives = "|".join(
            re.escape(p) for p in sorted(copied_packages, key=len, reverse=True)
        )
        ref_re = re.compile(r"(?<![\w.])(\.?)(" + alternatives + r")(?=\s*\.\s*[A-Za-z_])")

    service_prefix = prefix.rpartition(".")[2].capitalize()  # "C03"

    def code_sub(code):
        code = SERVICE_RE.sub(lambda m: f"{m.group(1)}{service_prefix}{m.group(2)}", code)
        if ref_re is None:
            return code
        return ref_re.sub(lambda m: f"{m.group(1)}{prefix}.{m.group(2)}", code)

    # The package statement first (its name is not followed by `.Ident`, so the
    # reference pass below leaves it alone either way).
    text, count = PACKAGE_RE.subn(
        lambda m: f"{m.group(1)}{prefix}.{m.group(2)}{m.group(3)}", text, count=1
    )
    if count == 0:
        # A file without a package gets the copy's prefix as its package.
        m = SYNTAX_RE.search(text)
        at = m.end() if m else 0
        text = f"{text[:at]}package {prefix};\n{text[at:]}"
    text = IMPORT_RE.sub(import_sub, text)
    text = GO_PACKAGE_RE.sub(go_package_sub, text)
    text = drop_bridge_options(text)

    out, pos = [], 0
    for m in PROTECTED_RE.finditer(text):
        out.append(code_sub(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(code_sub(text[pos:]))
    return "".join(out)


def synthesize(proto_root, out_dir, factor=10):
    """Write the synthetic tree into `out_dir` (created; must be empty). Returns the written paths."""
    proto_root, out_dir = Path(proto_root), Path(out_dir)
    if factor < 1:
        raise SynthError("the factor must be at least 1")
    if not proto_root.is_dir():
        raise SynthError(f"{proto_root}: not a directory")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise SynthError(f"{out_dir}: exists and is not empty")

    files = proto_files(proto_root)
    if not files:
        raise SynthError(f"{proto_root}: no .proto files")
    texts = {f: (proto_root / f).read_text(encoding="utf-8") for f in files}
    shared = [f for f in files if f in SHARED]
    copied = [f for f in files if f not in SHARED]
    shared_packages = {package_of(texts[f]) for f in shared}
    copied_packages = {package_of(texts[f]) for f in copied} - {""}
    clash = copied_packages & shared_packages
    if clash:
        raise SynthError(
            f"package {min(clash)} is declared both by a shared file and by a copied one"
        )

    written = []

    def write(rel, text):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # newline="" keeps the line ends the source has.
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        written.append(path)

    for f in shared:
        write(f, texts[f])
    # Copy 1 is the bridged API as it is: the Python SDK's runtime needs its
    # messages under their own names (`mattermost.plugin.v1.AppError`, ...).
    for f in copied:
        write(f, texts[f])
    for i in range(2, factor + 1):
        prefix = f"synth.{copy_name(i, factor)}"
        for f in copied:
            write(copy_path(prefix, f), rewrite(texts[f], prefix, set(copied), copied_packages))
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Write a synthetic proto tree N times the size of a real one."
    )
    ap.add_argument(
        "out", metavar="OUT_DIR", help="where to write the tree (created; must be empty)"
    )
    ap.add_argument(
        "--proto", default="proto", metavar="DIR", help="the proto root to copy (default: proto)"
    )
    ap.add_argument(
        "--factor", "-n", type=int, default=10, metavar="N", help="how many copies (default: 10)"
    )
    args = ap.parse_args(argv)
    try:
        written = synthesize(args.proto, args.out, args.factor)
    except (SynthError, OSError) as e:
        print(f"synth: {e}", file=sys.stderr)
        return 2
    print(f"synth: wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
