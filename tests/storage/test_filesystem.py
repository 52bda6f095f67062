"""The start-up check of the database's file system: network mounts refused, local disks kept.

The machine running the tests has no NFS, so the mount table is fake text in the kernel's
format; one test reads the real table and accepts a local temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.app import open_services
from bot.core.errors import StorageUnavailable
from bot.settings import Settings
from bot.storage import fs
from bot.storage.fs import (
    Mount,
    ensure_local_filesystem,
    filesystem_of,
    mount_for,
    parse_mount_output,
    parse_mountinfo,
)


def mountinfo(*mounts: tuple[str, str, str]) -> str:
    """Lines as /proc/self/mountinfo writes them, with an optional field before the dash."""
    lines = ["22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw"]
    for number, (point, fs_type, source) in enumerate(mounts, start=30):
        lines.append(
            f"{number} 22 0:{number} / {point} rw,relatime shared:{number} - {fs_type} {source} rw"
        )
    return "\n".join(lines) + "\n"


TABLE = mountinfo(
    ("/srv/nfs", "nfs4", "files.example:/export/haven"),
    ("/mnt/share", "cifs", "//nas.example/share"),
    ("/srv/nfs/local-cache", "ext4", "/dev/sdb1"),
    ("/mnt/with\\040space", "fuse.sshfs", "me@host:/data"),
    ("/home", "ext4", "/dev/sda2"),
)


def test_mountinfo_is_read_field_by_field() -> None:
    mounts = parse_mountinfo(TABLE + "a line that is not a mount\n")
    assert mounts[0] == Mount("/", "ext4", "/dev/sda1")
    assert Mount("/srv/nfs", "nfs4", "files.example:/export/haven") in mounts
    assert Mount("/mnt/with space", "fuse.sshfs", "me@host:/data") in mounts
    assert len(mounts) == 6


@pytest.mark.parametrize(
    ("folder", "fs_type"),
    [
        ("/srv/nfs", "nfs4"),
        ("/srv/nfs/haven/data", "nfs4"),
        ("/srv/nfs/local-cache/haven", "ext4"),  # a local disk mounted inside the share
        ("/srv/nfsish/haven", "ext4"),  # a prefix of the name is not a parent folder
        ("/mnt/share/haven", "cifs"),
        ("/mnt/with space/haven", "fuse.sshfs"),
        ("/home/haven", "ext4"),
        ("/var/lib/haven", "ext4"),
    ],
)
def test_the_longest_mount_point_that_holds_the_folder_wins(folder: str, fs_type: str) -> None:
    found = mount_for(folder, parse_mountinfo(TABLE))
    assert found is not None and found.fs_type == fs_type


def test_of_two_mounts_on_one_point_the_later_is_on_top() -> None:
    table = mountinfo(("/data", "ext4", "/dev/sdb1"), ("/data", "nfs", "nas:/data"))
    found = mount_for("/data/haven", parse_mountinfo(table))
    assert found is not None and found.fs_type == "nfs"


@pytest.mark.parametrize(
    ("fs_type", "network"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("smbfs", True),
        ("9p", True),
        ("fuse.sshfs", True),
        ("vboxsf", True),
        ("ext4", False),
        ("xfs", False),
        ("btrfs", False),
        ("zfs", False),
        ("tmpfs", False),
        ("overlay", False),
        ("apfs", False),
        ("fuse.gocryptfs", False),
    ],
)
def test_which_types_are_network_file_systems(fs_type: str, network: bool) -> None:
    assert Mount("/x", fs_type, "src").is_network is network


def test_a_network_mount_is_refused_with_the_reason_and_the_fix(tmp_path: Path) -> None:
    share = Mount("/srv/nfs", "nfs4", "files.example:/export/haven")
    with pytest.raises(StorageUnavailable) as raised:
        ensure_local_filesystem(tmp_path / "haven.db", share)
    assert "network file system" in raised.value.message
    assert "nfs4" in raised.value.message and "files.example:/export/haven" in raised.value.message
    assert str(tmp_path) in raised.value.message
    assert "local disk" in raised.value.hint
    assert "HAVEN_DATABASE_URL=sqlite:////" in raised.value.hint
    assert "haven db backup" in raised.value.hint


def test_a_local_mount_is_accepted(tmp_path: Path) -> None:
    local = Mount("/", "ext4", "/dev/sda1")
    assert ensure_local_filesystem(tmp_path / "haven.db", local) == local


LINUX_ONLY = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/mountinfo"
)


@LINUX_ONLY
def test_a_real_local_temporary_folder_is_accepted(tmp_path: Path) -> None:
    found = ensure_local_filesystem(tmp_path / "not-yet-created" / "haven.db")
    assert found is not None, "the real mount table should name the folder's file system"
    assert not found.is_network
    assert str(tmp_path).startswith(found.mount_point)


@pytest.fixture
def fake_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that the (fake) mount table says is an NFS share."""
    share = tmp_path / "share"
    share.mkdir()
    table = tmp_path / "mountinfo"
    table.write_text(mountinfo((str(share.resolve()), "nfs", "nas.example:/export")))
    monkeypatch.setattr(fs, "MOUNTINFO", table)
    return share


@LINUX_ONLY
def test_a_folder_reached_through_a_symlink_is_judged_where_it_really_is(
    tmp_path: Path, fake_share: Path
) -> None:
    link = tmp_path / "data"
    link.symlink_to(fake_share, target_is_directory=True)
    found = filesystem_of(link / "haven" / "haven.db")
    assert found is not None and found.fs_type == "nfs"


@LINUX_ONLY
async def test_haven_does_not_start_on_a_network_share_and_creates_nothing_there(
    fake_share: Path,
) -> None:
    with pytest.raises(StorageUnavailable) as raised:
        async with open_services(Settings(database_path=fake_share / "haven.db")):
            pass
    assert "network file system (nfs" in raised.value.message
    assert list(fake_share.iterdir()) == []


@LINUX_ONLY
def test_an_unreadable_mount_table_lets_haven_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fs, "MOUNTINFO", tmp_path / "missing")
    assert ensure_local_filesystem(tmp_path / "haven.db") is None


def test_macos_mount_output_is_read() -> None:
    output = (
        "/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)\n"
        "/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse)\n"
        "//me@nas.local/haven on /Volumes/haven (smbfs, nodev, nosuid, mounted by me)\n"
        "nas:/export on /Volumes/nfs share (nfs, asynchronous)\n"
    )
    mounts = parse_mount_output(output)
    assert Mount("/Volumes/haven", "smbfs", "//me@nas.local/haven") in mounts
    share = mount_for("/Volumes/nfs share/haven", mounts)
    assert share is not None and share.is_network
    local = mount_for("/System/Volumes/Data/Users/me/haven", mounts)
    assert local is not None and local.fs_type == "apfs" and not local.is_network
