# The two commands: `make local` (toolchain + all-in-one stack) and `make test`.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
COLLECTION := $(CURDIR)/build/collections/ansible_collections/acgs/platform
PY := 3.11

.PHONY: local test venv sync site sanity units lint molecule integration bench build clean

local: venv site

venv:
	bash scripts/toolchain.sh

sync:
	bash scripts/toolchain.sh >/dev/null

site: sync
	ansible-playbook -i inventories/local playbooks/site.yml

# molecule leaves the converged stack running for the integration targets.
test: venv sanity units lint molecule integration

sanity: sync
	cd $(COLLECTION) && ansible-test sanity --venv --python $(PY) --color no

units: sync
	cd $(COLLECTION) && ansible-test units --venv --python $(PY) --color no

lint: sync
	ansible-lint

molecule: sync
	molecule test --all

integration: sync
	cd $(COLLECTION) && ansible-test integration --local --python $(PY) --color no

bench: sync
	bash benchmarks/reference_service.sh
	bash benchmarks/health_probe.sh

build: sync
	ansible-galaxy collection build --force --output-path build/dist .

clean:
	rm -rf build .cache
