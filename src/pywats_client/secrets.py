"""Keeping an instance's API token out of its configuration file in clear.

:func:`seal` stores a token and returns what the file's ``api_token`` holds instead; :func:`unseal` turns that
back into the token. A sealed value is one of:

``keyring:pywats/<instance>-<hash>``
    The token is in the system keyring (Windows Credential Manager, macOS Keychain, Secret Service / KWallet on
    Linux) under service ``pywats``. The user name is the instance name plus a hash of the instance folder, so
    two ``PYWATS_HOME`` trees with an instance of the same name keep separate entries. Used when the ``keyring``
    package is installed, its backend is a real one (not the ``fail`` / ``null`` placeholders, not a ``chainer``
    of nothing, not the ``keyrings.alt`` file backends, which are plain text or prompt for a password) and
    storing then reading the token back works. ``PYWATS_KEYRING=0`` turns the keyring off (headless stations,
    tests).

``enc:v1:<Fernet token>``
    Otherwise the token is encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived with
    HKDF-SHA256 from two things:

    * a random 32-byte secret in ``machine.key`` at the top of the tree (``$PYWATS_HOME/machine.key``, else the
      per-user data folder, e.g. ``~/.local/share/pywats/machine.key``), created on first use, owner-only (0600
      on POSIX; on Windows the per-user folder's ACL), never inside an instance folder or the configuration;
    * the machine's identifier (:func:`machine_id`): ``/etc/machine-id`` or ``/var/lib/dbus/machine-id`` on
      Linux, the ``IOPlatformUUID`` that ``ioreg`` reports on macOS, the registry's ``MachineGuid`` on Windows;
      the host name where none of these can be read.

Any other value (no prefix) is a token in clear, as older files and ``PYWATS_API_TOKEN`` have it; :func:`unseal`
returns it unchanged.

What "machine-bound" means, and its limits
------------------------------------------
An ``enc:v1`` value decrypts only where both ``machine.key`` and the same machine identifier are found. A
configuration file copied elsewhere, attached to a ticket, shown on screen or written to a log is useless
without the key file; the configuration plus the key file copied to another machine are useless without that
machine's identifier. It does **not** protect against anyone who can read ``machine.key`` on the same machine:
the owner, root / administrators, or malware running as the owner. Machine identifiers are not secret (any local
user can read them), so the key file's permissions are what really guard the token; a full-disk backup or a
cloned virtual machine (same machine-id) carries everything needed to decrypt it. Where only the host name is
available (some containers) the binding is weak: host names are easy to guess, and a container that gets a new
host name on re-creation can no longer decrypt (set the token again, or pass ``PYWATS_API_TOKEN``). The
keyring, where there is one, is stronger: the OS encrypts it and ties it to the user's login.

When a value cannot be unsealed (other machine, key file gone, keyring entry gone), :class:`SecretError` says so
without showing the token or the sealed value, and tells how to set the token again.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .instance import DEFAULT_INSTANCE, InstancePaths, home

SERVICE = "pywats"
KEYRING_PREFIX = "keyring:"
ENC_PREFIX = "enc:v1:"
KEY_FILE_NAME = "machine.key"
_SECRET_SIZE = 32
_HKDF_INFO = b"pywats-client api_token enc:v1"
_OFF = {"0", "false", "no", "off"}
_LINUX_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")


class SecretError(ValueError):
    """A sealed token cannot be stored or unsealed. The message never holds the token or the sealed value."""


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a sealed token (``keyring:`` or ``enc:v1:``) rather than one in clear."""
    return isinstance(value, str) and value.startswith((KEYRING_PREFIX, ENC_PREFIX))


def seal(token: str, paths: InstancePaths) -> str:
    """Store ``token`` and return the text the configuration file keeps instead of it.

    The keyring when it is usable, else ``enc:v1:`` encryption. A value already sealed is returned unchanged,
    so saving a configuration twice does not seal twice.

    Raises:
        SecretError: the key file cannot be created or read.
    """
    if is_sealed(token):
        return token
    keyring = _keyring()
    if keyring is not None:
        username = _username(paths)
        try:
            keyring.set_password(SERVICE, username, token)
            if keyring.get_password(SERVICE, username) == token:
                return f"{KEYRING_PREFIX}{SERVICE}/{username}"
        except Exception:  # a locked or broken keyring: fall back to encryption
            pass
        _delete_quietly(keyring, username)
    return ENC_PREFIX + _fernet(paths, create=True).encrypt(token.encode("utf-8")).decode("ascii")


def unseal(value: str, paths: InstancePaths) -> str:
    """The token in clear from the configuration file's ``api_token`` value; a plain value as it is.

    Raises:
        SecretError: the value cannot be unsealed here.
    """
    if not is_sealed(value):
        return value
    if value.startswith(ENC_PREFIX):
        try:
            return _fernet(paths, create=False).decrypt(value[len(ENC_PREFIX):].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretError(_problem(paths, "was sealed on another machine or with another machine key")) from None
    service, username = _keyring_entry(value, paths)
    keyring = _keyring()
    if keyring is None:
        raise SecretError(_problem(paths, "is kept in the system keyring, which is not usable here (no keyring "
                                          "backend, or PYWATS_KEYRING=0)"))  # fmt: skip
    try:
        token = keyring.get_password(service, username)
    except Exception as error:
        raise SecretError(_problem(paths, f"could not be read from the system keyring ({type(error).__name__})")) \
            from None  # fmt: skip
    if token is None:
        raise SecretError(_problem(paths, "is kept in the system keyring, but its entry there is gone"))
    return token


def forget(value: str | None, paths: InstancePaths) -> bool:
    """Delete the keyring entry ``value`` names, when a token is replaced or removed. True if one was deleted.

    Only this instance's own entry is deleted: a configuration copied from another instance names that
    instance's entry, which stays. Encrypted and plain values need nothing deleted. :func:`seal` overwrites
    this instance's entry in place, so call this only when the new value differs from the old one (token
    removed, or now sealed with ``enc:v1``): forgetting an old value equal to the new one deletes the new token.
    """
    if not isinstance(value, str) or not value.startswith(KEYRING_PREFIX):
        return False
    try:
        service, username = _keyring_entry(value, paths)
    except SecretError:
        return False
    keyring = _keyring()
    if keyring is None or username != _username(paths):
        return False
    return _delete_quietly(keyring, username)


# -- the keyring -----------------------------------------------------------------------------------------------


def _keyring() -> ModuleType | None:
    """The ``keyring`` module when it is installed, allowed and has a real backend; else None."""
    if os.environ.get("PYWATS_KEYRING", "").strip().lower() in _OFF:
        return None
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception:  # not installed, or a backend that fails to load
        return None
    return keyring if _real_backend(backend) else None


def _real_backend(backend: object) -> bool:
    from keyring.backends import chainer, fail, null

    if isinstance(backend, chainer.ChainerBackend):
        return any(_real_backend(each) for each in backend.backends)
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    return not type(backend).__module__.startswith("keyrings.alt")


def _username(paths: InstancePaths) -> str:
    folder = os.path.normcase(str(Path(paths.root).expanduser().resolve()))
    return f"{paths.name}-{hashlib.sha256(folder.encode('utf-8')).hexdigest()[:12]}"


def _keyring_entry(value: str, paths: InstancePaths) -> tuple[str, str]:
    service, _, username = value[len(KEYRING_PREFIX):].partition("/")
    if service != SERVICE or not username:  # never read another program's entries
        raise SecretError(_problem(paths, "names a keyring entry that is not pywats's"))
    return service, username


def _delete_quietly(keyring: ModuleType, username: str) -> bool:
    try:
        keyring.delete_password(SERVICE, username)
        return True
    except Exception:  # already gone, or the keyring is locked
        return False


# -- the machine-bound key ------------------------------------------------------------------------------------


def key_file(paths: InstancePaths | None = None) -> Path:
    """Where the random half of the machine-bound key lives: at the top of the tree the instance is in
    (``<tree>/machine.key`` for ``<tree>/instances/<name>``), so the key follows the configuration's tree and not
    whatever ``PYWATS_HOME`` the process happens to have; else ``$PYWATS_HOME/machine.key`` or the per-user one."""
    if paths is not None and paths.root.parent.name == "instances":
        return paths.root.parent.parent / KEY_FILE_NAME
    return home() / KEY_FILE_NAME


@functools.cache
def machine_id() -> str:
    """An identifier of this machine (see the module's notes); ``hostname:<name>`` where the OS gives none."""
    reader = {"win32": _windows_machine_guid, "darwin": _macos_platform_uuid}.get(sys.platform, _linux_machine_id)
    try:
        found = reader().strip()
    except Exception:  # no registry access, no ioreg...: the host name below
        found = ""
    return found.lower() if found else "hostname:" + socket.gethostname().lower()


def _linux_machine_id() -> str:
    for candidate in _LINUX_ID_FILES:
        try:
            found = Path(candidate).read_text(encoding="ascii").strip()
        except (OSError, UnicodeError):
            continue
        if found:
            return found
    return ""


def _macos_platform_uuid() -> str:
    report = subprocess.run(["/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], capture_output=True,
                            text=True, timeout=10, check=False).stdout  # fmt: skip
    match = re.search(r'"IOPlatformUUID"\s*=\s*"([^"]+)"', report)
    return match.group(1) if match else ""


def _windows_machine_guid() -> str:
    import winreg

    access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography", 0, access) as key:
        return str(winreg.QueryValueEx(key, "MachineGuid")[0])


def _fernet(paths: InstancePaths, *, create: bool) -> Fernet:
    material = _machine_secret(paths, create=create) + b"\0" + machine_id().encode("utf-8")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def _machine_secret(paths: InstancePaths, *, create: bool) -> bytes:
    path = key_file(paths)
    try:
        return _read_secret(path)
    except FileNotFoundError:
        if not create:
            raise SecretError(_problem(paths, f"was sealed with a machine key, and {path} is missing")) from None
    try:
        _create_secret(path)
        return _read_secret(path)
    except OSError as error:
        raise SecretError(f"cannot create the machine key {path}: {error.strerror or error}") from None


def _read_secret(path: Path) -> bytes:
    """The secret in ``path``. Raises FileNotFoundError, or SecretError for a damaged or unreadable file."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise SecretError(f"cannot read the machine key {path}: {error.strerror or error}") from None
    try:
        secret = base64.urlsafe_b64decode(text.strip())
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != _SECRET_SIZE:
        raise SecretError(f"{path} is not a pywats machine key (damaged?); tokens sealed with it are lost")
    return secret


def _create_secret(path: Path) -> None:
    """Create ``path`` with a new random secret unless it exists, atomically: whoever comes first wins.

    The secret is written to a temporary file (mkstemp: 0600) and hard-linked into place, which fails when the
    file exists; so no one ever reads a half-written key. Where hard links are not supported the file is
    created with O_EXCL instead.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = base64.urlsafe_b64encode(_random_secret()) + b"\n"
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another thread or process was first: its key is the one
        except OSError:  # no hard links on this file system
            _create_exclusive(path, data)
    finally:
        os.unlink(temporary)


def _create_exclusive(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _random_secret() -> bytes:
    return os.urandom(_SECRET_SIZE)


def _problem(paths: InstancePaths, what: str) -> str:
    instance = "" if paths.name == DEFAULT_INSTANCE else f" --instance {paths.name}"
    return (f"the API token in {paths.config_file} {what}; set it again with "
            f"`pywats-client{instance} config set api_token ...`")  # fmt: skip


__all__ = ["ENC_PREFIX", "KEYRING_PREFIX", "SERVICE", "SecretError", "forget", "is_sealed", "key_file",
           "machine_id", "seal", "unseal"]  # fmt: skip
