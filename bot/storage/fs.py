"""Which file system holds the database, checked at start-up: SQLite is unsafe on network ones.

SQLite's write-ahead log keeps its index in shared memory (the -shm file, mapped by every
process) and relies on file locks; network file systems (NFS, SMB/CIFS, sshfs, VM shared
folders) provide neither reliably, so two processes, or one process and the server's cache,
can corrupt the database. Haven refuses to start there and says how to fix it (a local disk).

Why refuse rather than fall back to `journal_mode=DELETE`: the rollback journal still depends
on the same POSIX locks, which are the part most often broken on network mounts, so the
fallback trades a certain refusal for possible corruption of the audit trail and schedules.
Moving the file to a local disk is one command and always possible for a self-hosted bot.

How the type is found: on Linux from /proc/self/mountinfo (the mount point that is the longest
prefix of the folder's real path); on macOS and the BSDs from the output of `mount`; on Windows
from the drive type (a UNC path or a mapped network drive). Where none of these answers, Haven
starts: this is best effort, the README says to keep the database on a local disk.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import StorageUnavailable

log = logging.getLogger(__name__)

# Network and shared-folder file systems, as Linux (mountinfo) and macOS (`mount`) name them.
# 9p covers WSL 2's Windows drives (/mnt/c) and QEMU shares; vboxsf, vmhgfs and prl_fs are the
# VirtualBox, VMware and Parallels shared folders. Local FUSE file systems are not listed.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "afpfs",
        "webdav",
        "davfs",
        "9p",
        "afs",
        "ncpfs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "vboxsf",
        "vmhgfs",
        "prl_fs",
        "fuse.sshfs",
        "sshfs",
        "fuse.ceph",
        "fuse.glusterfs",
        "fuse.s3fs",
        "fuse.rclone",
        "fuse.gcsfuse",
        "fuse.davfs",
        "fuse.vmhgfs-fuse",
    }
)

MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True, slots=True)
class Mount:
    mount_point: str
    fs_type: str
    source: str

    @property
    def is_network(self) -> bool:
        return self.fs_type.lower() in NETWORK_FILESYSTEMS


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    # The kernel writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
    return _OCTAL.sub(lambda match: chr(int(match.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts in /proc/self/mountinfo text, in order (a later mount covers an earlier one
    on the same point). Lines that do not have the documented shape are skipped.

    Shape: `id parent major:minor root mount-point options [optional...] - type source opts`.
    """
    mounts: list[Mount] = []
    for line in text.splitlines():
        before, separator, after = line.partition(" - ")
        if not separator:
            continue
        left = before.split()
        right = after.split()
        if len(left) < 6 or not right:
            continue
        source = _unescape(right[1]) if len(right) > 1 else ""
        mounts.append(Mount(_unescape(left[4]), right[0], source))
    return mounts


_MOUNT_LINE = re.compile(r"^(?P<source>.+?) on (?P<point>/.*?) \((?P<type>[^,)]+)")


def parse_mount_output(text: str) -> list[Mount]:
    """The mounts in the output of macOS/BSD `mount`: `SOURCE on POINT (TYPE, options...)`."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        match = _MOUNT_LINE.match(line.strip())
        if match:
            mounts.append(Mount(match["point"], match["type"].strip(), match["source"]))
    return mounts


def mount_for(path: str, mounts: Sequence[Mount]) -> Mount | None:
    """The mount holding `path` (absolute, symlinks resolved): the longest mount point that is
    `path` or one of its parents; of equal ones the last, which is mounted on top."""
    best: Mount | None = None
    for mount in mounts:
        point = mount.mount_point.rstrip("/") or "/"
        inside = point == "/" or path == point or path.startswith(point + "/")
        if inside and (best is None or len(point) >= len(best.mount_point.rstrip("/") or "/")):
            best = mount
    return best


def _existing_real_folder(path: Path) -> str:
    # The folder may not exist yet (Haven creates it); the mount is that of its nearest
    # existing parent, with symlinks resolved so /data -> /mnt/nfs/data is seen as NFS.
    return os.path.realpath(path.expanduser().absolute().parent)


def _windows_network_drive(folder: str) -> Mount | None:
    if folder.startswith(("\\\\", "//")):
        return Mount(folder, "smb", folder)
    if sys.platform == "win32":
        import ctypes

        drive = os.path.splitdrive(folder)[0] + "\\"
        drive_remote = 4  # GetDriveTypeW: DRIVE_REMOTE
        if ctypes.windll.kernel32.GetDriveTypeW(drive) == drive_remote:
            return Mount(drive, "network drive", drive)
    return None


def filesystem_of(database_path: Path) -> Mount | None:
    """The file system that holds (or will hold) the database's folder; None when unknown."""
    folder = _existing_real_folder(database_path)
    try:
        if sys.platform.startswith("linux"):
            return mount_for(folder, parse_mountinfo(MOUNTINFO.read_text("utf-8", "replace")))
        if sys.platform == "win32":
            return _windows_network_drive(folder)
        output = subprocess.run(
            ["mount"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
        return mount_for(folder, parse_mount_output(output))
    except (OSError, subprocess.SubprocessError) as error:
        log.debug("Could not tell the file system of %s (%s)", folder, error)
        return None


def ensure_local_filesystem(database_path: Path, mount: Mount | None = None) -> Mount | None:
    """Refuse a database on a network file system with the reason and the fix.

    `mount` is the answer of `filesystem_of` (looked up when not given). Returns the mount
    accepted, or None when the type could not be told (Haven then starts).
    """
    found = mount if mount is not None else filesystem_of(database_path)
    if found is None or not found.is_network:
        return found
    folder = database_path.expanduser().absolute().parent
    raise StorageUnavailable(
        f"Haven's database folder {folder} is on a network file system "
        f"({found.fs_type}, {found.source} mounted at {found.mount_point}).",
        "SQLite needs file locks and shared memory that network file systems do not provide "
        "reliably, so the database could be corrupted there. Keep it on a local disk: copy it "
        "with `haven db backup /a/local/folder/haven.db`, then set "
        "HAVEN_DATABASE_URL=sqlite:////a/local/folder/haven.db.",
    )
