"""``pywats_client.secrets``: the API token sealed in the keyring or with the machine-bound key, never in clear.

Every test works in its own ``PYWATS_HOME`` (a tmp_path) with real files. The keyring is off
(``PYWATS_KEYRING=0``) unless a test installs the in-memory backend below with ``keyring.set_keyring``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import PasswordDeleteError, PasswordSetError

from pywats_client import secrets
from pywats_client.config import write_private
from pywats_client.instance import InstancePaths
from pywats_client.secrets import ENC_PREFIX, KEYRING_PREFIX, SecretError, forget, is_sealed, seal, unseal

TOKEN = "dG9rZW4tVDBLRU4tdmFsdWU6c2VjcmV0LXBhcnQ="


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps entries in a dict. Negative priority: never chosen by keyring on its own."""

    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class BrokenKeyring(MemoryKeyring):
    """A keyring that is there but refuses to store (locked, no session bus...)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("locked")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("PYWATS_") and name.upper() != "PYWATS_SAMPLES":
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYWATS_KEYRING", "0")
    return tmp_path / "home"


@pytest.fixture
def paths(home: Path) -> InstancePaths:
    return InstancePaths.of("line1").ensure()


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch, home: Path):
    """The in-memory keyring installed as keyring's backend, keyring allowed; the previous one restored after."""
    monkeypatch.delenv("PYWATS_KEYRING")
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def assert_no_leak(message: str, sealed: str) -> None:
    assert TOKEN not in message
    body = sealed.split(":", 2)[-1] if sealed.startswith(ENC_PREFIX) else sealed
    assert body[:12] not in message and body[-12:] not in message


# -- enc:v1 ------------------------------------------------------------------------------------------------------


def test_enc_round_trip_through_a_real_config_file(paths: InstancePaths) -> None:
    sealed = seal(TOKEN, paths)
    assert sealed.startswith(ENC_PREFIX) and is_sealed(sealed)
    write_private(paths.config_file, json.dumps({"api_token": sealed}))

    text = paths.config_file.read_text(encoding="utf-8")
    assert TOKEN not in text and TOKEN not in sealed
    assert base64.b64decode(TOKEN) not in text.encode()
    assert unseal(json.loads(text)["api_token"], paths) == TOKEN
    assert secrets.key_file().is_file()


def test_each_seal_is_different_and_all_unseal(paths: InstancePaths) -> None:
    first, second = seal(TOKEN, paths), seal(TOKEN, paths)
    assert first != second
    assert unseal(first, paths) == unseal(second, paths) == TOKEN
    assert unseal(seal("", paths), paths) == ""
    assert unseal(seal("påß wörd ✓", paths), paths) == "påß wörd ✓"


def test_a_sealed_value_is_not_sealed_again(paths: InstancePaths) -> None:
    sealed = seal(TOKEN, paths)
    assert seal(sealed, paths) == sealed


def test_another_machine_id_cannot_unseal(paths: InstancePaths, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = seal(TOKEN, paths)
    monkeypatch.setattr(secrets, "machine_id", lambda: "0123456789abcdef0123456789abcdef")
    with pytest.raises(SecretError) as caught:
        unseal(sealed, paths)
    message = str(caught.value)
    assert "another machine" in message and "config set api_token" in message and str(paths.config_file) in message
    assert "--instance line1" in message
    assert_no_leak(message, sealed)
    assert isinstance(caught.value, ValueError)


def test_config_and_key_copied_elsewhere(paths: InstancePaths, home: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    write_private(paths.config_file, json.dumps({"api_token": seal(TOKEN, paths)}))
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    monkeypatch.setenv("PYWATS_HOME", str(copy))
    copied = InstancePaths.of("line1")
    sealed = json.loads(copied.config_file.read_text(encoding="utf-8"))["api_token"]

    assert unseal(sealed, copied) == TOKEN  # same machine, another folder: the key is the file + the machine
    monkeypatch.setattr(secrets, "machine_id", lambda: "hostname:elsewhere")
    with pytest.raises(SecretError) as caught:
        unseal(sealed, copied)
    assert_no_leak(str(caught.value), sealed)


def test_missing_key_file(paths: InstancePaths) -> None:
    sealed = seal(TOKEN, paths)
    secrets.key_file().unlink()
    with pytest.raises(SecretError, match="is missing") as caught:
        unseal(sealed, paths)
    assert_no_leak(str(caught.value), sealed)
    assert "config set api_token" in str(caught.value)
    assert not secrets.key_file().exists()  # unseal never makes a new key


def test_a_new_key_does_not_open_old_values(paths: InstancePaths) -> None:
    sealed = seal(TOKEN, paths)
    secrets.key_file().unlink()
    seal("another", paths)  # creates a fresh key
    with pytest.raises(SecretError, match="another machine key"):
        unseal(sealed, paths)


@pytest.mark.parametrize("content", [b"", b"not base64 !!", base64.urlsafe_b64encode(b"short")])
def test_damaged_key_file(paths: InstancePaths, content: bytes) -> None:
    sealed = seal(TOKEN, paths)
    secrets.key_file().write_bytes(content)
    with pytest.raises(SecretError, match="not a pywats machine key") as caught:
        unseal(sealed, paths)
    assert_no_leak(str(caught.value), sealed)


@pytest.mark.parametrize("change", ["flip", "cut", "garbage", "non-ascii"])
def test_tampered_value(paths: InstancePaths, change: str) -> None:
    sealed = seal(TOKEN, paths)
    body = sealed[len(ENC_PREFIX):]
    body = {
        "flip": body[:30] + ("A" if body[30] != "A" else "B") + body[31:], "cut": body[:-5], "garbage": "%%%",
        "non-ascii": body[:-1] + "é",
    }[change]  # fmt: skip
    with pytest.raises(SecretError) as caught:
        unseal(ENC_PREFIX + body, paths)
    assert_no_leak(str(caught.value), sealed)


@pytest.mark.parametrize("value", [TOKEN, "", "enc:v2:something", "Keyring:upper", "plain:colon"])
def test_plain_values_pass_through(paths: InstancePaths, value: str) -> None:
    assert not is_sealed(value)
    assert unseal(value, paths) == value
    assert not forget(value, paths)
    assert not secrets.key_file().exists()


def test_none_is_not_sealed(paths: InstancePaths) -> None:
    assert not is_sealed(None)
    assert not forget(None, paths)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_key_file_is_owner_only_and_outside_the_instance(paths: InstancePaths, home: Path) -> None:
    seal(TOKEN, paths)
    key = secrets.key_file()
    assert key == home / "machine.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(base64.urlsafe_b64decode(key.read_bytes().strip())) == 32
    assert paths.root not in key.parents


@pytest.mark.parametrize("links", [True, False], ids=["hard-link", "o-excl"])
def test_concurrent_first_use_makes_one_key(paths: InstancePaths, home: Path, monkeypatch: pytest.MonkeyPatch,
                                            links: bool) -> None:  # fmt: skip
    barrier = threading.Barrier(2, timeout=10)
    made: list[bytes] = []
    real_random = secrets._random_secret

    def random_after_both_looked() -> bytes:  # both threads found no key file before either writes one
        barrier.wait()
        made.append(real_random())
        return made[-1]

    monkeypatch.setattr(secrets, "_random_secret", random_after_both_looked)
    if not links:
        def no_links(source: object, target: object) -> None:
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(secrets.os, "link", no_links)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            results[number] = seal(f"{TOKEN}-{number}", paths)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors and len(made) == 2 and made[0] != made[1]

    key = base64.urlsafe_b64decode(secrets.key_file().read_bytes().strip())
    assert key in made
    assert sorted(path.name for path in home.iterdir()) == ["instances", "machine.key"]  # no temporary left
    for number in range(2):
        assert unseal(results[number], paths) == f"{TOKEN}-{number}"


# -- machine identifiers --------------------------------------------------------------------------------------


def test_machine_id_is_stable_and_not_empty() -> None:
    assert secrets.machine_id() == secrets.machine_id.__wrapped__() != ""


def test_linux_machine_id_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty, dbus = tmp_path / "machine-id", tmp_path / "dbus-machine-id"
    empty.write_text("\n")
    dbus.write_text("ABCDEF0123456789abcdef0123456789\n")
    monkeypatch.setattr(secrets, "_LINUX_ID_FILES", (str(tmp_path / "absent"), str(empty), str(dbus)))
    assert secrets._linux_machine_id() == "ABCDEF0123456789abcdef0123456789"
    monkeypatch.setattr(secrets, "_LINUX_ID_FILES", (str(tmp_path / "absent"), str(empty)))
    assert secrets._linux_machine_id() == ""
    monkeypatch.setattr(secrets.sys, "platform", "linux")
    monkeypatch.setattr(secrets.socket, "gethostname", lambda: "Station-7")
    assert secrets.machine_id.__wrapped__() == "hostname:station-7"


def test_macos_platform_uuid(monkeypatch: pytest.MonkeyPatch) -> None:
    report = ('+-o J316sAP  <class IOPlatformExpertDevice>\n    {\n      "IOPlatformSerialNumber" = "C02XX"\n'
              '      "IOPlatformUUID" = "12345678-9ABC-DEF0-1234-56789ABCDEF0"\n    }\n')  # fmt: skip

    class Finished:
        stdout = report

    monkeypatch.setattr(secrets.subprocess, "run", lambda *args, **kwargs: Finished())
    assert secrets._macos_platform_uuid() == "12345678-9ABC-DEF0-1234-56789ABCDEF0"
    Finished.stdout = "nothing useful"
    assert secrets._macos_platform_uuid() == ""


# -- the keyring -------------------------------------------------------------------------------------------------


def test_keyring_seal_unseal_forget(paths: InstancePaths, memory: MemoryKeyring) -> None:
    sealed = seal(TOKEN, paths)
    assert sealed.startswith(KEYRING_PREFIX + "pywats/line1-") and is_sealed(sealed) and TOKEN not in sealed
    [(service, username)] = memory.entries
    assert (service, username, memory.entries[service, username]) == ("pywats", sealed.split("/", 1)[1], TOKEN)
    assert not secrets.key_file().exists()  # nothing encrypted: no machine key needed
    assert unseal(sealed, paths) == TOKEN
    assert seal("replacement", paths) == sealed and unseal(sealed, paths) == "replacement"  # same entry

    assert forget(sealed, paths) is True
    assert memory.entries == {}
    assert forget(sealed, paths) is False
    with pytest.raises(SecretError, match="entry there is gone") as caught:
        unseal(sealed, paths)
    assert_no_leak(str(caught.value), sealed)
    assert username not in str(caught.value)


def test_two_homes_keep_separate_entries(home: Path, tmp_path: Path, memory: MemoryKeyring,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    first = seal("first", InstancePaths.of("line1"))
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path / "other-home"))
    second = seal("second", InstancePaths.of("line1"))
    assert first != second and len(memory.entries) == 2
    assert unseal(first, InstancePaths.of("line1")) == "first"


def test_forget_leaves_another_instances_entry(home: Path, memory: MemoryKeyring) -> None:
    line1, line2 = InstancePaths.of("line1"), InstancePaths.of("line2")
    sealed = seal(TOKEN, line1)
    assert forget(sealed, line2) is False  # a config copied from line1 into line2, its token then replaced
    assert unseal(sealed, line1) == TOKEN


def test_keyring_value_of_another_service_is_not_read(paths: InstancePaths, memory: MemoryKeyring) -> None:
    memory.set_password("github", "someone", "their-password")
    for value in ("keyring:github/someone", "keyring:pywats", "keyring:pywats/"):
        with pytest.raises(SecretError, match="not pywats's") as caught:
            unseal(value, paths)
        assert "their-password" not in str(caught.value)
        assert forget(value, paths) is False
    assert memory.entries == {("github", "someone"): "their-password"}


def test_keyring_off_forces_enc(paths: InstancePaths, memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed_in_keyring = seal(TOKEN, paths)
    for off in ("0", "false", "OFF"):
        monkeypatch.setenv("PYWATS_KEYRING", off)
        sealed = seal("other", paths)
        assert sealed.startswith(ENC_PREFIX) and unseal(sealed, paths) == "other"
        with pytest.raises(SecretError, match="PYWATS_KEYRING=0") as caught:
            unseal(sealed_in_keyring, paths)
        assert_no_leak(str(caught.value), sealed_in_keyring)
    assert list(memory.entries.values()) == [TOKEN]


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_placeholder_backends_are_not_used(paths: InstancePaths, memory: MemoryKeyring, backend) -> None:
    keyring.set_keyring(backend)
    assert secrets._keyring() is None  # not even tried
    assert seal(TOKEN, paths).startswith(ENC_PREFIX)


def test_chainer_counts_only_real_backends(paths: InstancePaths, memory: MemoryKeyring,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [fail.Keyring(), null.Keyring()])
    keyring.set_keyring(chainer.ChainerBackend())
    assert secrets._keyring() is None
    assert seal(TOKEN, paths).startswith(ENC_PREFIX)

    monkeypatch.setattr(chainer.ChainerBackend, "backends", [memory, fail.Keyring()])
    sealed = seal(TOKEN, paths)
    assert sealed.startswith(KEYRING_PREFIX) and unseal(sealed, paths) == TOKEN
    assert list(memory.entries.values()) == [TOKEN]


def test_a_keyring_that_refuses_falls_back_to_enc(paths: InstancePaths, memory: MemoryKeyring) -> None:
    keyring.set_keyring(BrokenKeyring())
    sealed = seal(TOKEN, paths)
    assert sealed.startswith(ENC_PREFIX) and unseal(sealed, paths) == TOKEN


def test_a_keyring_that_reads_back_something_else_falls_back(paths: InstancePaths, memory: MemoryKeyring,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(memory, "get_password", lambda service, username: None)
    sealed = seal(TOKEN, paths)
    assert sealed.startswith(ENC_PREFIX) and unseal(sealed, paths) == TOKEN
    assert memory.entries == {}  # the half-stored entry is removed


def test_keyring_read_error(paths: InstancePaths, memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = seal(TOKEN, paths)

    def locked(service: str, username: str) -> str:
        raise RuntimeError(f"locked, was asked for {username}")

    monkeypatch.setattr(memory, "get_password", locked)
    with pytest.raises(SecretError, match=r"could not be read from the system keyring \(RuntimeError\)") as caught:
        unseal(sealed, paths)
    assert_no_leak(str(caught.value), sealed)
