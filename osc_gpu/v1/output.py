"""``--output FILE``: write a generated file whole or not at all.

The text goes to a temporary file in the same directory, which then takes
the name in one rename: a write that fails half-way (a full disk, a file
size limit) leaves the old file as it was and no half file behind. Without
``force`` the name is taken with a hard link, which fails when the file
exists, even one created a moment ago.
"""

import errno
import os
import tempfile

from osc_gpu.rules.echo import quoted_path

# Filesystems without hard links answer these; there the existence check
# and the rename are two steps.
_NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK)


class OutputError(ValueError):
    """The file cannot be written; the message says why, in one line."""


def _mode(path, force):
    """The existing file's mode with force, else what open() would give."""
    if force:
        try:
            return os.stat(path).st_mode & 0o7777
        except OSError:
            pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _take_name(temporary, path, force):
    if force:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, 'File exists', path)
        os.replace(temporary, path)
    else:
        os.unlink(temporary)


def write_file(path, text, force=False, option='--output'):
    """Write ``text`` to ``path`` atomically; refuse with ``OutputError``."""
    name = quoted_path(path)
    if not path:
        raise OutputError(f'invalid {option} {name}: give a file name, e.g. '
                          f'{option} /tmp/nova-pci.conf')
    if os.path.isdir(path):
        raise OutputError(f'{option} {name} is a directory: give the name '
                          'of a file (--force never replaces a directory)')
    if not force and os.path.lexists(path):
        raise OutputError(f'{option} {name} exists: give a new file name, or '
                          'add --force to overwrite it')
    directory = os.path.dirname(os.path.abspath(path))
    mode = _mode(path, force)
    temporary = None
    try:
        fd, temporary = tempfile.mkstemp(
            dir=directory, prefix=f'.{os.path.basename(path)}.')
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, mode)
        _take_name(temporary, path, force)
        temporary = None
    except FileExistsError:
        raise OutputError(f'{option} {name} exists: give a new file name, or '
                          'add --force to overwrite it') from None
    except OSError as exc:
        raise OutputError(f'cannot write {option} {name}: '
                          f'{exc.strerror or exc}') from None
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
