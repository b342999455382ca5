#!/usr/bin/env bash
# Prepare a fresh Debian 12 + Python 3.11 machine: Debian packages, then .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

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
DEBIAN_PACKAGES=(xmlsec1 redis-server python3-venv chromium
                 simplesamlphp php-cli php-xml php-mbstring
                 apache2 libapache2-mod-auth-openidc libapache2-mod-auth-mellon
                 libapache2-mod-shib
                 liblemonldap-ng-portal-perl libplack-perl liblasso-perl
                 slapd ldap-utils)
# slapd, ldap-utils: a real OpenLDAP for the citizen accounts source and the directories
# (tests, benchmark and demo each start their own on a loopback port; Debian's is never started).
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}"
  # No service may start while installing (apache2 would take port 80): policy-rc.d says no,
  # and is removed afterwards if we created it.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ -n "$created_policy" ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi
# redis-server's Debian service is not needed: tests start their own on free loopback ports.

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# axe-core for the accessibility tests: pinned, checked against its registry hash, cached in
# .cache/axe/ (no Node.js needed). Fetched only when the cache is missing or does not match.
.venv/bin/python -m idp.testbed.axe >/dev/null
