#!/usr/bin/env bash
# Where each secret comes from: variables, then the secrets file, then generated once.
set -euxo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
secrets=$tmp/etc/secrets.yml

run() {
  ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$(command -v python)" \
    -e "acgs_secrets_file=$secrets" -e "out=$tmp/out.json" secrets.yml "$@" | tee "$tmp/log"
}
# resolved KEY: the value the role resolved for KEY (postgresql, redis, missing).
resolved() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/out.json" "$1"; }
from_file() { python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$secrets" "$1"; }
recap_changed() { grep -Eo 'changed=[0-9]+' "$tmp/log" | tail -n1; }

# AWX: every secret as an extra var. The file is a world-readable non-mapping, which
# reading it would fail on: it must be neither read nor written.
mkdir -p "$tmp/etc"
echo 'not: [a, mapping' > "$secrets"
chmod 0644 "$secrets"
before=$(sha256sum "$secrets")
run -e acgs_postgresql_password=pg-from-awx -e acgs_redis_password=redis-from-awx
[ "$(resolved postgresql)" = pg-from-awx ] && [ "$(resolved redis)" = redis-from-awx ]
[ "$(resolved missing)" = "[]" ]
[ "$(sha256sum "$secrets")" = "$before" ]
[ "$(recap_changed)" = changed=1 ]  # the output file only
rm -r "${tmp:?}/etc"

# All-in-one: no variable, no file: generated once (mode 0600), the same on the next run.
run
[ "$(stat -c %a "$secrets")" = 600 ]
[ "$(resolved postgresql)" = "$(from_file acgs_postgresql_password)" ]
[ "$(resolved redis)" = "$(from_file acgs_redis_password)" ]
[ "$(resolved postgresql)" != "$(resolved redis)" ]
[ "$(resolved postgresql | wc -c)" -eq 33 ]  # 32 characters
before=$(sha256sum "$secrets")
run
[ "$(sha256sum "$secrets")" = "$before" ]
[ "$(resolved postgresql)" = "$(from_file acgs_postgresql_password)" ]

# Controller: a variable, even an inventory one (which the file's values would outrank if
# loaded as variables), wins over the file; the file gives the rest and stays as it is.
printf 'all:\n  hosts:\n    localhost:\n      acgs_redis_password: redis-from-inventory\n' > "$tmp/hosts.yml"
run -i "$tmp/hosts.yml"
[ "$(resolved redis)" = redis-from-inventory ]
[ "$(resolved postgresql)" = "$(from_file acgs_postgresql_password)" ]
[ "$(sha256sum "$secrets")" = "$before" ]

# A file that lacks a secret no variable gives fails, naming the secret.
grep acgs_postgresql_password "$secrets" > "$tmp/partial.yml"
chmod 0600 "$tmp/partial.yml"
if run -e "acgs_secrets_file=$tmp/partial.yml"; then exit 1; fi
grep -q 'No acgs_redis_password' "$tmp/log"

# Check mode with no file yet: throw-away secrets, nothing written.
rm "$secrets"
run --check
[ ! -e "$secrets" ]
[ -n "$(resolved postgresql)" ] && [ -n "$(resolved redis)" ]
