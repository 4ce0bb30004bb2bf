"""A repository file as text: what can be read, and the message when it cannot."""

from __future__ import annotations

from impact_check.model import FileContent

_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def unreadable_rule(content: FileContent) -> str:
    """The rule of a file that cannot be read: AN915 when git named a blob this clone
    lacks, else AN901."""
    return "AN915" if content.missing else "AN901"


def decode_file(content: FileContent, max_file_bytes: int) -> tuple[str | None, str, int | None]:
    """A repository file as text, or (None, why not, line): symlinks, size, LFS, binary."""
    if content.data is None:
        return None, content.reason or "unreadable", None
    data = content.data
    if len(data) > max_file_bytes:
        reason = f"file is {len(data):,} bytes, over limits.max_file_bytes ({max_file_bytes:,})"
        return None, reason, None
    if data.startswith(_LFS_POINTER):
        return None, "git LFS pointer: the content is not in the repository (git lfs pull)", 1
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "", None
        except UnicodeDecodeError:
            return None, "UTF-16 byte-order mark but not UTF-16 text", 1
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, "binary file (NUL bytes)", line
    try:
        return data.decode("utf-8-sig"), "", None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return None, f"not UTF-8 text (byte 0x{data[err.start]:02x}; re-save as UTF-8)", line
