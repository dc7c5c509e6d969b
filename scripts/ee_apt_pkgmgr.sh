#!/bin/sh
# $PKGMGR of the offline EE build (scripts/ee_offline_definition.py) on a Debian base image:
# ansible-builder's scripts call it as they call dnf, `install [-y] PKGS...` and `clean all`.
set -e
verb=$1
shift
case $verb in
  install)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive exec apt-get install -y -qq --no-install-recommends "$@" ;;
  clean)
    apt-get clean
    exec rm -rf /var/lib/apt/lists/* ;;
  *)
    exec apt-get "$verb" "$@" ;;
esac
