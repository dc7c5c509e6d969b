# The two commands: `make local` (toolchain + all-in-one stack) and `make test`.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
COLLECTION := $(CURDIR)/build/collections/ansible_collections/acgs/platform
PY := 3.11

.PHONY: release local test venv sync site health sanity units lint molecule monitoring-tests integration deploy-tests remediation-tests backup-tests release-image drill bench build clean

local: venv site health

venv:
	bash scripts/toolchain.sh

sync:
	bash scripts/toolchain.sh >/dev/null

site: sync
	ansible-playbook -i inventories/local playbooks/site.yml

# The runbook's health check: summary table, JSON under acgs_results_dir.
health: sync
	ansible-playbook -i inventories/local playbooks/check.yml

# molecule leaves the converged stack running for the integration targets.
# scripts/timed_make.sh runs each suite in order and prints what each cost (wall and CPU); suites
# joined by + run side by side. On 2 cores the CPU is the limit. The suites that need no live stack
# of their own run at nice 19 (~name) beside live-stack suites that mostly wait and keep their time
# bounds: the niced suites take only the CPU those leave. The runner turns off autogroup so that this
# holds for the daemons they start too (dockerd, the Kubernetes node's: each in a session of its own;
# with autogroup on a live-stack target beside them took 1.8x as long as alone); their containers and
# pods share dockerd's cpu group, as heavy as one nice-0 process (lighter, the multi-host scenario's
# load test failed). The multi-host scenario (~multihost@deploy-tests) starts beside Molecule's converge
# and runs on through the integration targets until the deploy target's step ends: it takes the CPU
# three steps leave (it must end before the docker target, which kills dockerd). Beside Molecule what
# needs only the toolchain; beside the integration targets the Kubernetes target, backup's scratch
# servers and release-image; beside the deploy target units (the Docker engine is up); beside the
# docker target lint and monitoring-tests (no Docker; promtool and amtool come with the converge);
# beside remediation (it waits about 2 min for its alerts and its Level 1 mail has a 3-minute bound)
# sanity-matrix and secrets-tests.
# ee-context makes the artifact first (build is its prerequisite, never a second member:
# two builds into build/dist at once race).
test: venv k8s-node
	bash scripts/timed_make.sh molecule+sanity+ee-context+~awx-config-check+~changelog+~multihost@deploy-tests \
	  integration+~backup-tests+~release-image+~kubernetes-tests deploy-tests+~units \
	  docker-tests+~lint+~monitoring-tests remediation-tests+~sanity-matrix+~secrets-tests awx-tests drill

sanity: sync
	cd $(COLLECTION) && ansible-test sanity --venv --python $(PY) --color no

units: sync
	cd $(COLLECTION) && ansible-test units --venv --python $(PY) --color no

# ansible-lint, and each fact (hash, ports) written once in code that runs.
lint: sync
	# ansible-lint installs the collection under ~/.ansible once and then reuses it: drop
	# a copy another checkout left, so the roles linted are this checkout's.
	rm -rf $(HOME)/.ansible/collections/ansible_collections/acgs
	ansible-lint
	python3 tests/structure/facts_once.py

molecule: sync
	molecule test -s default

# site.yml across 7 containers in inventories/staging's layout (Molecule's Docker driver, molecule/multihost):
# HAProxy reaching instances on other hosts, pg_hba, check.yml and a second converge changed=0 verified from
# here. The driver asks the engine before each playbook, so dockerd is started (and the debootstrap base
# image made, once) before Molecule runs. Its own containers and network only; destroyed at the end.
.PHONY: multihost
multihost: sync
	ansible-playbook molecule/multihost/engine.yml
	molecule test -s multihost

# $(call integration_copy,NAME,TARGETS): ansible-test integration from a copy of the collections
# of its own (build/NAME-collections), as two ansible-test runs never share tests/output.
define integration_copy
	rsync -a --delete --exclude 'ansible_collections/acgs/platform/tests/output' build/collections/ build/$(1)-collections/
	cd build/$(1)-collections/ansible_collections/acgs/platform && ansible-test integration --local --python $(PY) --color no $(2)
endef

integration: sync
	cd $(COLLECTION) && ansible-test integration --local --python $(PY) --color no --exclude deploy --exclude remediation --exclude acgs_backup \
	  --exclude release_image --exclude docker_runtime --exclude kubernetes_runtime --exclude common_secrets

# The common role's secrets on localhost with scratch secrets files: no live stack, so not on the
# integration targets' critical path.
.PHONY: secrets-tests
secrets-tests: sync
	$(call integration_copy,secrets,common_secrets)

# A hung service replaced by Level 1 remediation with the default alert timings (waits about 2 min).
remediation-tests: sync
	cd $(COLLECTION) && ansible-test integration --local --python $(PY) --color no remediation

# acgs_backup on scratch PostgreSQL and Redis servers it starts itself (not the live stack), so it
# runs beside other suites; it needs the PostgreSQL and Redis packages the converge installs.
backup-tests: sync
	$(call integration_copy,backup,acgs_backup)

# The reference service's image built on this machine's Docker engine (started if need be; the
# debootstrap base is made once and kept) and run: needs no live stack.
release-image: sync
	$(call integration_copy,image,release_image)

# The single-node Kubernetes the kubernetes_runtime target runs on (scripts/k8s-node.sh: etcd, the
# control plane, kubelet on this machine's dockerd, kube-proxy, kubectl, from Debian's kubernetes source
# package), built once into K8S_W and kept: about 6 minutes cold, nothing when kept. .ci/run builds it
# before make test, as it installs packages.
K8S_W ?= /var/cache/acgs-k8s
.PHONY: k8s-node
k8s-node:
	@if [ -x $(K8S_W)/bin/kubelet ] && [ -x $(K8S_W)/bin/kubectl ] && [ -f $(K8S_W)/images/pause.tar ]; then \
	  echo "== k8s node: kept in $(K8S_W)"; else W=$(K8S_W) bash scripts/k8s-node.sh build; fi

# The Kubernetes runtime (inventories/production) on that node: up, the 7 services deployed, checked through
# their NodePorts, a rolling update under load, Flagger's Canaries, scale to 0 and back, down. No live stack.
.PHONY: kubernetes-tests
# ansible-test passes no environment variable through: the node's folder goes to the target in a file.
kubernetes-tests: sync k8s-node
	echo "$(K8S_W)" > $(COLLECTION)/tests/integration/targets/kubernetes_runtime/files/k8s_w.txt
	$(call integration_copy,k8s,kubernetes_runtime)

# The services' docker runtime on the live stack: site.yml switches the slots to containers, a deploy
# under load, stop/start, then the services role switches them back (needs the live stack alone).
.PHONY: docker-tests
# Its containers are the live stack: dockerd and containerd (started by a niced suite in make test) get a
# live-stack suite's niceness back (as root; the containers it starts inherit it).
docker-tests: sync
	-[ "$$(id -u)" != 0 ] || renice -n 0 -p $$(pgrep -x 'dockerd|containerd') >/dev/null 2>&1
	cd $(COLLECTION) && ansible-test integration --local --python $(PY) --color no docker_runtime

# Deploys, canaries and rollbacks on the live stack under load (the slowest target, on its own).
deploy-tests: sync
	cd $(COLLECTION) && ansible-test integration --local --python $(PY) --color no deploy

# The committed dashboards are what scripts/grafana_dashboards.py renders; promtool and
# amtool on what the prometheus and alertmanager roles render with their defaults
# (build/monitoring): rules and configuration valid, the rules' unit tests
# (every alert at every escalation level), and each level routed to its receiver
# (a service down at Level 1 to the remediation receiver too).
# amtool comes with prometheus-alertmanager (the alertmanager role installs it).
monitoring-tests: sync
	ansible-playbook tests/monitoring/render.yml
	python3 scripts/grafana_dashboards.py --check
	promtool check rules build/monitoring/prometheus/rules/acgs.yml
	promtool check config build/monitoring/prometheus/prometheus.yml
	promtool test rules tests/monitoring/acgs-rules.test.yml
	amtool check-config build/monitoring/alertmanager/alertmanager.yml
	for level in 1 2 3; do amtool config routes test --config.file=build/monitoring/alertmanager/alertmanager.yml \
	  --verify.receivers=$$([ $$level = 1 ] && echo acgs-remediation,)acgs-level-$$level alertname=ACGSServiceDown level=$$level 2>/dev/null || exit 1; done
	# Level 1 remediation (roles/remediator) hears of a service down only, the other alerts page people alone
	amtool config routes test --config.file=build/monitoring/alertmanager/alertmanager.yml \
	  --verify.receivers=acgs-level-1 alertname=ACGSResponseTimeSLABreach level=1 >/dev/null

# Back up, destroy, restore and compare on the live stack; prints RTO and RPO.
drill: sync
	ansible-playbook -i inventories/local playbooks/dr_drill.yml -e acgs_drill_confirm=true

# A release of the reference service in the release store: make release VERSION=0.2.0
release: sync
	ansible-playbook playbooks/build_release.yml -e acgs_release=$(VERSION)

# The reference service's container image of a release, built offline on this machine's Docker engine
# (installed and started when missing; the release is built first when not in the store):
# make image VERSION=0.2.0 -> acgs/reference-service:0.2.0
.PHONY: image
image: sync
	ansible-playbook playbooks/build_image.yml -e acgs_release=$(VERSION)

bench: sync
	bash benchmarks/reference_service.sh
	bash benchmarks/health_probe.sh
	bash benchmarks/backup.sh
	bash benchmarks/deploy.sh

# Build the artifact, install it into an empty path and check it is usable.
build: sync
	rm -rf build/dist build/installed
	ansible-galaxy collection build --output-path build/dist .
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/installed ansible-galaxy collection install --offline --no-deps --force \
	  -p build/installed build/dist/acgs-platform-*.tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/installed ansible-doc -l acgs.platform > build/dist/modules.txt
	cat build/dist/modules.txt
	for m in acgs_health acgs_hash_check; do grep -q "acgs.platform.$$m" build/dist/modules.txt || { echo "artifact lacks $$m"; exit 1; }; done
	python3 tests/release/check_artifact.py build/dist/acgs-platform-*.tar.gz

# changelogs/ is the changelog's source: fragments and changelog.yaml must lint, and the
# committed CHANGELOG.rst must be what they generate (a stale one is left regenerated).
.PHONY: changelog awx-tests ee-context
changelog: sync
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	cp CHANGELOG.rst build/CHANGELOG.rst.committed
	antsibull-changelog generate
	diff -u build/CHANGELOG.rst.committed CHANGELOG.rst || { echo "CHANGELOG.rst is stale: commit the regenerated one"; exit 1; }

clean:
	rm -rf build .cache

# The project as AWX runs it: a `git archive` with only the stock collections, AWX's
# project sync of collections/requirements.yml, then ansible-runner with health_check.yml
# against the live stack (read-only), checked from the job's artifacts.
awx-tests: sync
	bash tests/awx/runner.sh

# The execution environment's build context (execution-environment.yml, ansible-builder v3)
# around the artifact build installs, checked: Containerfile, the collection, its Python and
# system requirements as ansible-builder's introspection sees them.
ee-context: build
	rm -rf build/ee
	ansible-builder create --file execution-environment.yml --context build/ee --output-filename Containerfile
	python3 tests/awx/ee_context.py build/ee

# The execution environment built for real on this machine's Docker engine (dockerd started if
# need be; a debootstrap base image, kept once made) and health_check.yml run inside it by
# ansible-runner --process-isolation against the live stack (scripts/ee_image.sh). Not in make
# test: see the README's "AWX and the execution environment" for what it costs.
.PHONY: ee-image
ee-image: build
	bash scripts/ee_image.sh

# ansible-test sanity under each older ansible-core that meta/runtime.yml claims, in pinned
# venvs under build/ (make sanity is the newest, the toolchain's).
.PHONY: sanity-matrix awx-config-check
sanity-matrix: sync
	bash scripts/sanity_matrix.sh

# AWX as code (playbooks/awx_configure.yml) without an AWX server: syntax, every awx.awx
# call's arguments against a controller URL that refuses, the schedules, credential type
# and surveys (tests/awx/awx_config.py).
awx-config-check: sync
	ansible-playbook --syntax-check playbooks/awx_configure.yml
	python3 tests/awx/awx_config.py

# The HTML collection docs: antsibull-docs and Sphinx (pinned in tests/docs/requirements.txt, in
# their own venv build/docs-venv; ansible-doc is .venv's) build `antsibull-docs sphinx-init`'s
# project in build/docs (HTML in build/docs/build/html), headless Chromium takes a screenshot of the
# acgs_canary page (build/docs/acgs_canary_module.png), then tests/docs/check_docs.py: a page that
# is not an error page for every module, filter, lookup and documented role, and no warning but
# the links an offline build cannot resolve. build.sh's `sphinx-build -W` fails on those, so
# check_docs.py judges its log (build.log, build.rc) instead of its exit status.
.PHONY: docs
DOCS := $(CURDIR)/build/docs
DOCS_VENV := $(CURDIR)/build/docs-venv
DOCS_PAGE := collections/acgs/platform/acgs_canary_module.html
docs: sync
	want=$$(sha256sum tests/docs/requirements.txt | cut -d' ' -f1); \
	if [ ! -x $(DOCS_VENV)/bin/antsibull-docs ] || [ "$$(cat $(DOCS_VENV)/.requirements.sha256 2>/dev/null)" != "$$want" ]; then \
	  echo "== docs venv: installing tests/docs/requirements.txt"; rm -rf $(DOCS_VENV) && python3 -m venv $(DOCS_VENV) && \
	  $(DOCS_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/docs/requirements.txt && \
	  echo "$$want" > $(DOCS_VENV)/.requirements.sha256; fi
	command -v chromium >/dev/null || { echo "== apt: installing chromium"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	rm -rf $(DOCS) && mkdir -m 755 $(DOCS)
	PATH=$(DOCS_VENV)/bin:$$PATH antsibull-docs sphinx-init --use-current --dest-dir $(DOCS) acgs.platform >/dev/null
	$(DOCS_VENV)/bin/pip install --quiet --disable-pip-version-check --no-index -r $(DOCS)/requirements.txt
	cd $(DOCS) && PATH=$(DOCS_VENV)/bin:$$PATH ./build.sh > build.log 2>&1; echo $$? > $(DOCS)/build.rc
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	  --disable-background-networking --disable-component-update --disable-sync --user-data-dir=$(DOCS)/.chromium \
	  --screenshot=$(DOCS)/acgs_canary_module.png --window-size=1280,1600 file://$(DOCS)/build/html/$(DOCS_PAGE) \
	  > $(DOCS)/chromium.log 2>&1 || { tail -5 $(DOCS)/chromium.log; exit 1; }
	rm -rf $(DOCS)/.chromium
	python3 tests/docs/check_docs.py --docs $(DOCS) --collection $(COLLECTION) --screenshot $(DOCS)/acgs_canary_module.png
