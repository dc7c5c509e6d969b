#!/usr/bin/env bash
# pip_bootstrap.sh VERSION: prepares ansible-test's pip bootstrap offline. ansible-test
# downloads get-pip-VERSION.py from the internet on its first run (each ansible-core
# line pins its own pip); it looks for ~/.ansible/test/cache/get_pip_VERSION.py first.
set -euo pipefail
version=$1
cache=$HOME/.ansible/test/cache
bootstrap=$cache/get_pip_${version//./_}.py
if [ ! -f "$bootstrap" ] || ! ls "$cache"/pip-"$version"-*.whl >/dev/null 2>&1; then
  echo "== ansible-test: preparing the pip $version bootstrap offline"
  mkdir -p "$cache"
  "$(dirname "$0")/../.venv/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$cache" "pip==$version"
  # Stand-in for get-pip.py: runs pip from its own wheel, as get-pip does.
  cat > "$bootstrap" <<PY
import glob, os, sys
wheel = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-$version-*.whl"))[0]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--find-links", os.path.dirname(wheel)] + args))
PY
fi
