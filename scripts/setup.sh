#!/usr/bin/env bash
# Prepare a fresh Debian 12 + Python 3.11 machine: Debian packages, then .venv with the project.
# Idempotent: each step says what it did, or that there was nothing to do, with its duration.
# NCC_SETUP_FORCE=1 reinstalls the Python packages even when setup.py has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=4
START=$SECONDS
STEP_START=$SECONDS
step() {  # step N "what is being done"
  STEP_START=$SECONDS
  echo "setup: [$1/$STEPS] $2"
}
done_step() {  # done_step N "what was done"
  echo "setup: [$1/$STEPS] $2 ($((SECONDS - STEP_START))s)"
}

# chromium: the real browser of tests/browser (driven by Playwright through executablePath;
# Playwright's own browser download does not work on our machines).
# simplesamlphp, php-cli, apache2, libapache2-mod-auth-openidc, libapache2-mod-auth-mellon: the
# real partner software of tests/interop (each test runs its own private instance on a loopback
# port). php-xml and php-mbstring: SimpleSAMLphp needs them, but Debian's package does not
# depend on them. libapache2-mod-shib: Shibboleth SP 3 (mod_shib, and shibd by its dependency
# shibboleth-sp-utils), another partner of tests/interop, each test with its own shibd.
# liblemonldap-ng-portal-perl: LemonLDAP::NG's portal (OIDC provider and SAML IdP) of
# tests/interop, run under plackup (libplack-perl); liblasso-perl: its SAML roles (Debian
# only suggests it).
DEBIAN_PACKAGES=(xmlsec1 redis-server redis-sentinel python3-venv chromium
                 simplesamlphp php-cli php-xml php-mbstring
                 apache2 libapache2-mod-auth-openidc libapache2-mod-auth-mellon
                 libapache2-mod-shib
                 liblemonldap-ng-portal-perl libplack-perl liblasso-perl
                 slapd ldap-utils)
# redis-sentinel: Redis Sentinel for tests/ha (each test starts its own primary, replicas and
# three sentinels on loopback ports; Debian's service is never started).
# slapd, ldap-utils: a real OpenLDAP for the citizen accounts source and the directories
# (tests, benchmark and demo each start their own on a loopback port; Debian's is never started).
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step 1 "Debian packages: installing ${#missing[@]} of ${#DEBIAN_PACKAGES[@]}: ${missing[*]} (apt-get update, then install: several minutes on a fresh machine)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # No service may start while installing (apache2 would take port 80): policy-rc.d says no,
  # and is removed afterwards if we created it. (NCC_POLICY_RC_D: tests/config only.)
  POLICY_RC_D=${NCC_POLICY_RC_D:-/usr/sbin/policy-rc.d}
  created_policy=""
  if [ ! -e "$POLICY_RC_D" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY_RC_D" >/dev/null
    $SUDO chmod 755 "$POLICY_RC_D"
    created_policy=1
    trap '$SUDO rm -f "$POLICY_RC_D"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ -n "$created_policy" ]; then
    $SUDO rm -f "$POLICY_RC_D"
    trap - EXIT
  fi
  done_step 1 "Debian packages: installed ${missing[*]}"
else
  step 1 "Debian packages: all ${#DEBIAN_PACKAGES[@]} already installed (${DEBIAN_PACKAGES[*]})"
fi
# redis-server's Debian service is not needed: tests start their own on free loopback ports.

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  step 2 "Python: creating .venv with $PYTHON ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv .venv
  done_step 2 "Python: .venv created"
else
  step 2 "Python: .venv already there ($(.venv/bin/python --version 2>&1))"
fi

# The project and its test tools (pytest, Playwright's Python package, ruff...), installed
# again only when setup.py changed since the last install that succeeded, or when .venv
# cannot import them.
STAMP=.venv/.ncconnect-setup.sha256
wanted="$(sha256sum setup.py | cut -d' ' -f1)"
if [ "${NCC_SETUP_FORCE:-}" != "1" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ] \
   && [ -x .venv/bin/ncconnect ] \
   && .venv/bin/python -c "import idp, satosa, playwright, pytest" >/dev/null 2>&1; then
  step 3 "Python packages: up to date with setup.py, nothing to install"
else
  step 3 "Python packages: pip install -e '.[test]' into .venv (a few minutes on a fresh machine)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$wanted" > "$STAMP"
  done_step 3 "Python packages: installed"
fi

# axe-core for the accessibility tests: pinned, checked against its registry hash, cached in
# .cache/axe/ (no Node.js needed). Fetched only when the cache is missing or does not match.
step 4 "axe-core (accessibility tests): checking the pinned copy in .cache/axe/"
axe="$(.venv/bin/python -m idp.testbed.axe)"
done_step 4 "${axe}"

echo "setup: done in $((SECONDS - START))s"
