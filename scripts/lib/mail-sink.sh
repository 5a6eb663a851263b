#!/bin/sh
# scripts/lib/mail-sink.sh -- the TENANTRY_SENDMAIL of the dev/test stacks:
# stores the RFC 5322 message it gets on stdin as one .eml file in
# $TENANTRY_MAIL_DIR (<state>/mail), instead of sending it anywhere.
# Tests read invitation mails from there (TENANTRY_TEST_MAIL_DIR).
set -eu
dir="${TENANTRY_MAIL_DIR:?TENANTRY_MAIL_DIR is not set}"
mkdir -p "$dir"
name="$(date -u +%Y%m%dT%H%M%S.%N)-$$"
umask 077
cat >"$dir/$name.eml.tmp"
mv -f "$dir/$name.eml.tmp" "$dir/$name.eml"
