#!/usr/bin/env bash
# Sets up the controller toolchain without Ansible Galaxy; safe to run again.
#  1. .venv with the pinned Python requirements (requirements-controller.txt)
#  2. the stock collections of requirements.yml, unpacked from the `ansible`
#     PyPI wheel into build/collections (Galaxy is often unreachable)
#  3. ansible-test's pip bootstrap, prepared offline (it would download get-pip)
#  4. this collection copied, with its .git (ansible-test lists files through git),
#     to build/collections/ansible_collections/acgs/platform
#     (ansible-test needs a real path there; a symlink is not enough), without
#     playbooks/collections, the symlink back to the checkout that lets a bare checkout
#     (AWX, ansible-runner) find acgs.platform: ansible-test forbids directory symlinks
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
ansible_pkg_version=12.3.0
pip_bootstrap_version=24.2
collections_dir=$root/build/collections/ansible_collections
# The collections of requirements.yml (all bundled in the ansible wheel); grafana.grafana needs
# community.grafana and ansible.posix, community.docker community.library_inventory_filtering_v1
# (their galaxy.yml dependencies: Molecule installs this collection with them, offline); awx.awx for
# playbooks/awx_configure.yml (an admin's playbook, not a dependency of the collection).
stock_collections=(community/general community/postgresql community/crypto community/docker community/library_inventory_filtering_v1 kubernetes/core grafana/grafana community/grafana ansible/posix awx/awx)

step() { printf '== %s\n' "$*"; }

# A fresh Debian machine may lack these; the rest comes from PyPI.
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v git >/dev/null || need+=(git)
"$python" -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  step "apt: installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-controller.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "venv: installing requirements-controller.txt"
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-controller.txt
  echo "$want" > "$stamp"
fi

mkdir -p .cache "$collections_dir"
missing=()
for c in "${stock_collections[@]}"; do
  [ -f "$collections_dir/$c/MANIFEST.json" ] || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "collections: unpacking ${missing[*]} from ansible==$ansible_pkg_version"
  wheel=$(find .cache -maxdepth 1 -name "ansible-$ansible_pkg_version-*.whl" | head -n1)
  if [ -z "$wheel" ]; then
    .venv/bin/pip download --quiet --disable-pip-version-check --no-deps -d .cache "ansible==$ansible_pkg_version"
    wheel=$(find .cache -maxdepth 1 -name "ansible-$ansible_pkg_version-*.whl" | head -n1)
  fi
  .venv/bin/python - "$wheel" "$root/build/collections" "${missing[@]}" <<'PY'
import sys, zipfile
wheel, dest, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
prefixes = tuple("ansible_collections/%s/" % c for c in wanted)
with zipfile.ZipFile(wheel) as zf:
    members = [m for m in zf.namelist() if m.startswith(prefixes)]
    zf.extractall(dest, members)
print("unpacked %d files" % len(members))
PY
fi

bash scripts/pip_bootstrap.sh "$pip_bootstrap_version"

step "sync: $collections_dir/acgs/platform"
mkdir -p "$collections_dir/acgs/platform"
rsync -a --delete \
  --exclude .venv --exclude build --exclude .cache --exclude results \
  --exclude tests/output --exclude .pytest_cache --exclude __pycache__ --exclude '.molecule' \
  --exclude playbooks/collections \
  ./ "$collections_dir/acgs/platform/"
