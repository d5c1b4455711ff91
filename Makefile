# Sekisho — the two commands a newcomer needs are `make run` and `make test`.
GO     ?= go
CONFIG ?= configs/demo-factory.yaml
# Debian packages the tests drive for real: a Mosquitto broker, Chromium,
# and a Japanese font so the pages (and failure screenshots) are readable.
# systemd-analyze checks the service units. Head office's tests run a
# private PostgreSQL server. The OSDP tests build libosdp's reader, whose
# Secure Channel uses OpenSSL's libcrypto.
TEST_PACKAGES := mosquitto mosquitto-clients chromium fonts-noto-cjk systemd postgresql libssl-dev
# The tests run on a machine clock that is not the demo site's (Asia/Tokyo):
# whatever reads the machine's day instead of the site's fails at any hour.
TEST_TZ ?= America/Los_Angeles
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Every build says which it is: `controller version`, `firmware-bridge
# --version` and /api/health.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/sekisho/sekisho/firmware-bridge/release.Version=$(VERSION) \
           -X github.com/sekisho/sekisho/firmware-bridge/release.Commit=$(COMMIT)
# Where `make install` puts things; DESTDIR stages them (a package, an image).
PREFIX  ?= /usr/local
# Where `make build` and `make pi` put the programs (the tests build into a
# temporary OUT, never over a developer's bin/).
OUT     ?= bin
# The programs to install: this machine's build, or BINDIR=bin/linux-arm64
# after `make pi` to stage a Pi's files elsewhere (with DESTDIR).
BINDIR  ?= $(OUT)
UNITDIR ?= /lib/systemd/system

# The Pi's programs are cross-compiled with Debian's cross compilers (cgo:
# SQLite is C); the tests run the arm64 ones under qemu-user.
CROSS_PACKAGES := gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user

.PHONY: run build install pi pi-arm64 pi-armv7 cross-deps test test-deps bench check-config verify

## run: the demo factory on simulated doors; dashboard on http://localhost:8080
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./controller run --config $(CONFIG)

## build: bin/controller and bin/firmware-bridge, stamped with the version
## (cgo is needed for SQLite)
build:
	CGO_ENABLED=1 $(GO) build -ldflags "$(LDFLAGS)" -o $(OUT)/controller ./controller
	CGO_ENABLED=1 $(GO) build -ldflags "$(LDFLAGS)" -o $(OUT)/firmware-bridge ./firmware-bridge

## pi: controller and firmware-bridge for the Pi, stamped with the version:
## bin/linux-arm64/ (64-bit Raspberry Pi OS: Pi 3, 4, 5, Zero 2) and
## bin/linux-armv7/ (32-bit); installs the cross compilers if missing
pi: pi-arm64 pi-armv7

pi-arm64: cross-deps
	CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc $(GO) build -ldflags "$(LDFLAGS)" -o $(OUT)/linux-arm64/controller ./controller
	CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc $(GO) build -ldflags "$(LDFLAGS)" -o $(OUT)/linux-arm64/firmware-bridge ./firmware-bridge

pi-armv7: cross-deps
	CGO_ENABLED=1 GOOS=linux GOARCH=arm GOARM=7 CC=arm-linux-gnueabihf-gcc $(GO) build -ldflags "$(LDFLAGS)" -o $(OUT)/linux-armv7/controller ./controller
	CGO_ENABLED=1 GOOS=linux GOARCH=arm GOARM=7 CC=arm-linux-gnueabihf-gcc $(GO) build -ldflags "$(LDFLAGS)" -o $(OUT)/linux-armv7/firmware-bridge ./firmware-bridge

cross-deps:
	@missing=""; \
	command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing="$$missing gcc-aarch64-linux-gnu"; \
	command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || missing="$$missing gcc-arm-linux-gnueabihf"; \
	command -v qemu-aarch64 >/dev/null 2>&1 || missing="$$missing qemu-user"; \
	if [ -n "$$missing" ]; then \
		echo "installing cross compilers:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## install: the binaries, systemd units, the sekisho user (sysusers.d), the
## config in /etc/sekisho (an existing site.yaml is kept) and the data dir.
## With DESTDIR it only stages the files; without, as root, it also makes
## the user and reloads systemd. BINDIR=bin/linux-arm64 installs `make pi`'s.
install: $(if $(filter $(OUT),$(BINDIR)),build)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)/usr/lib/sysusers.d \
		$(DESTDIR)/etc/sekisho/hardware $(DESTDIR)$(PREFIX)/share/doc/sekisho
	install -d -m 0750 $(DESTDIR)/var/lib/sekisho
	install -m 0755 $(BINDIR)/controller $(BINDIR)/firmware-bridge $(DESTDIR)$(PREFIX)/bin/
	for unit in configs/systemd/*.service; do \
		sed 's#/usr/local/#$(PREFIX)/#g' $$unit > $(DESTDIR)$(UNITDIR)/$$(basename $$unit) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$unit); \
	done
	install -m 0644 configs/systemd/sekisho.sysusers $(DESTDIR)/usr/lib/sysusers.d/sekisho.conf
	install -m 0644 hardware/pi-reference.yaml $(DESTDIR)/etc/sekisho/hardware/
	[ -e $(DESTDIR)/etc/sekisho/site.yaml ] || install -m 0640 configs/pi-two-doors.yaml $(DESTDIR)/etc/sekisho/site.yaml
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/sekisho/
	install -m 0644 hardware/README.md $(DESTDIR)$(PREFIX)/share/doc/sekisho/hardware.md
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		systemd-sysusers && chown -R sekisho:sekisho /var/lib/sekisho && chgrp sekisho /etc/sekisho/site.yaml && \
		systemctl daemon-reload && echo "installed: systemctl enable --now sekisho-controller (or sekisho-bridge on a door Pi)"; \
	fi

## test: install what the tests need if missing, then every test, race-checked;
## a failing browser test leaves its screenshot in test-artifacts/
test: test-deps cross-deps
	$(GO) vet ./...
	@mkdir -p test-artifacts
	TZ=$(TEST_TZ) SEKISHO_SCREENSHOTS=$(CURDIR)/test-artifacts $(GO) test -race -count=1 -timeout 20m ./...

test-deps:
	@missing=""; \
	command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	command -v mosquitto_sub >/dev/null 2>&1 || missing="$$missing mosquitto-clients"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list :lang=ja 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -f /usr/include/openssl/aes.h ] || missing="$$missing libssl-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing test tools:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## bench: Go benchmarks; the README reports their numbers. The "Year" ones
## run on a filled year of BENCH_EVENTS events (made once in the temp dir,
## about 6 GB for 10 million; the first run spends a minute filling)
BENCH_EVENTS ?= 10000000
bench:
	$(GO) test -run='^$$' -bench=. -skip='LastBitToStrike|OSDPCardToStrike|PollCycle|Year|Fleet|CSVMillion|HQ|Ingest' -benchmem ./...
	SEKISHO_BIG_CORPUS=1 $(GO) test -count=1 -run=TestRobustness ./firmware-bridge/wiegand/
	$(GO) test -run='^$$' -bench=Fleet -benchtime=1x -timeout 20m ./controller/fleet/
	$(GO) test -run='^$$' -bench='FleetCardAnswer|FleetSoak' -benchtime=1x -timeout 30m ./controller/site/
	$(GO) test -run='^$$' -bench=LastBitToStrike -benchtime=300x ./controller/site/
	$(GO) test -run='^$$' -bench=OSDPCardToStrike -benchtime=300x ./controller/site/
	$(GO) test -run='^$$' -bench=PollCycle -benchtime=2000x ./firmware-bridge/osdp/
	$(GO) test -run='^$$' -bench=EventsCSVMillion -benchtime=3x -timeout 20m ./controller/site/
	SEKISHO_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run='^$$' -bench='Year.*Log' -benchtime=300x -timeout 60m ./controller/store/
	SEKISHO_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run='^$$' -bench='YearVerify|YearCSV|YearOpen' -benchtime=3x -timeout 60m ./controller/store/
	SEKISHO_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run='^$$' -bench='YearTreeBuildAtStart' -benchtime=1x -timeout 60m ./controller/site/
	SEKISHO_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run='^$$' -bench='YearLogProof' -benchtime=300x -timeout 60m ./controller/site/
	SEKISHO_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run='^$$' -bench='YearCustomerReport' -benchtime=3x -timeout 60m ./controller/site/
	SEKISHO_HQ_BENCH_EVENTS=$$(( $(BENCH_EVENTS) / 20 )) $(GO) test -run='^$$' -bench='HQYear' -benchtime=1x -timeout 60m ./controller/hq/
	$(GO) test -run='^$$' -bench='HQCatchUp' -benchtime=1x -timeout 20m ./controller/hq/

check-config:
	$(GO) run ./controller check-config $(CONFIG)

verify:
	$(GO) run ./controller verify --config $(CONFIG)
