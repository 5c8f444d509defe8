#!/usr/bin/env bash
# The gates of the hand-written Python runtime: ruff (lint and format),
# mypy --strict (runtime and tests, Python 3.10), pytest. Run with the
# pinned environment of tests/python/requirements.txt:
#   PYTHON=.venv/bin/python tests/python/runtime/check.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
py=${PYTHON:-python3}
here=tests/python/runtime

"$py" -m ruff check --line-length 100 --target-version py310 runtime/python "$here"
"$py" -m ruff format --check --line-length 100 --target-version py310 runtime/python "$here"

# mypy needs the package: generated/python once its messages exist, else a
# scratch build (see pkgbuild.py).
package=$("$py" -c "import sys; sys.path.insert(0, '$here'); import pkgbuild; print(pkgbuild.GENERATED if pkgbuild.use_generated() else '')")
if [ -z "$package" ]; then
  package=$(mktemp -d)
  trap 'rm -rf "$package"' EXIT
  "$py" "$here/pkgbuild.py" "$package"
fi
modules=()
for f in runtime/python/mattermost_plugin/*.py; do
  modules+=("$package/mattermost_plugin/$(basename "$f")")
done
MYPYPATH="$package:$here" "$py" -m mypy --config-file "$here/mypy.ini" "${modules[@]}" "$here"

"$py" -m pytest -q "$here"
