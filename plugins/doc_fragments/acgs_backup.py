# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options shared by acgs_backup and acgs_backup_info: where the backup store is
    # and the key that opens encrypted sets.
    DOCUMENTATION = r"""
options:
  backup_dir:
    description:
      - The backup store, a directory on the managed host holding one directory per set, C(backup-<epoch>).
      - Created with mode C(0700) if missing. Sets are built in C(.backup-<epoch>.partial) and renamed into place
        only once their manifest is complete, so a set without a complete manifest is never listed.
    type: path
    required: true
  encryption_key_file:
    description:
      - File with a 256-bit key (32 raw bytes, or 64 hexadecimal or 44 base64 characters).
      - When given while taking a set, every data file is encrypted at rest (AES-256-GCM in authenticated chunks,
        from the Python library C(cryptography)); the manifest records the key's fingerprint, never the key.
      - Required to verify or restore an encrypted set; a wrong key fails cleanly before anything changes.
    type: path
requirements:
  - Python library C(cryptography) on the managed host, only for encryption.
"""
