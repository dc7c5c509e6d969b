#!/usr/bin/env bash
# make sanity-matrix: `ansible-test sanity` under each older ansible-core that
# meta/runtime.yml's requires_ansible claims; `make sanity` is the newest (the toolchain's).
# One pinned venv per version under build/ (ansible-core only; ansible-test --venv makes
# the sanity tools' own venvs, cached under ~/.ansible/test/venv), built once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
# The newest patch release of each older minor line (PyPI).
cores=(2.17.14 2.18.19)

# The claim and this list must agree: from the claimed minimum up to the toolchain's minor.
claim=$(sed -n 's/^requires_ansible: *">=\([0-9]*\.[0-9]*\).*"/\1/p' meta/runtime.yml)
newest=$(.venv/bin/python -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))')
want=$(python3 -c 'import sys; lo, hi = (int(v.split(".")[1]) for v in sys.argv[1:]); print(" ".join("2.%d" % m for m in range(lo, hi)))' "$claim" "$newest")
have=$(printf '%s\n' "${cores[@]}" | cut -d. -f1,2 | paste -sd' ')
if [ "$want" != "$have" ]; then
  echo "meta/runtime.yml claims >=$claim, make sanity covers $newest: the matrix needs '$want', has '$have'" >&2
  exit 1
fi

# A copy of the collections tree of its own: make test runs this beside an integration target,
# and two ansible-test runs must not share the collection's tests/output.
rsync -a --delete --exclude 'ansible_collections/acgs/platform/tests/output' \
  "$root/build/collections/" "$root/build/matrix-collections/"
collection=$root/build/matrix-collections/ansible_collections/acgs/platform
for core in "${cores[@]}"; do
  venv=$root/build/venv-${core%.*}
  if [ "$("$venv/bin/python" -c 'from ansible.release import __version__ as v; print(v)' 2>/dev/null)" != "$core" ]; then
    echo "== venv: ansible-core $core"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "ansible-core==$core"
  fi
  bash scripts/pip_bootstrap.sh "$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)"
  echo "== ansible-test sanity, ansible-core $core"
  (cd "$collection" && PATH=$venv/bin:$PATH "$venv/bin/ansible-test" sanity --venv --python 3.11 --color no)
done
