"""``api.software`` end to end against the emulator over loopback, once with each client.

A package's whole life (create, versions, zip upload, files and attributes, edit, status moves, lookups by
name and tag, delete), virtual folders, and the rules WATS enforces, answered 400 or 404.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from domain_helpers import MODES, call, run

import pywats
from pywats import BadRequestError, ErrorMode, NotFoundError
from pywats.domains._mes import settings_of
from pywats.domains.software import FileAttribute, Package, PackageFile, PackageStatus, VirtualFolder

mode = pytest.mark.parametrize("mode", MODES)


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@mode
async def test_package_life(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        folders = await call(api.software.get_virtual_folders())
        assert all(isinstance(folder, VirtualFolder) for folder in folders)
        tests_folder = next(folder for folder in folders if folder.name == "Test programs")
        assert tests_folder.parent_id == next(f.id for f in folders if f.name == "Software")

        first = await call(api.software.create_package("ICT image", description="v1", tags={"Station": "ICT"},
                                                       virtual_folder_id=tests_folder.id, priority=5))  # fmt: skip
        assert isinstance(first, Package) and (first.version, first.status) == (1, PackageStatus.DRAFT.value)
        assert first.tag("Station") == "ICT" and first.virtual_folder_id == tests_folder.id
        assert first.created_by == "pywats"  # the user of the emulator's token
        second = await call(api.software.create_package("ict IMAGE"))  # same name, any case: next version
        assert (second.name, second.version) == ("ICT image", 2)
        assert [(p.name, p.version) for p in await call(api.software.get_packages())] == [("ICT image", 1),
                                                                                          ("ICT image", 2)]
        assert (await call(api.software.get_package(first.package_id))).description == "v1"

        # Files: merge by default, replace on clean install; attributes only in Draft.
        await call(api.software.upload_zip(first.package_id, make_zip({"bin/flash.exe": b"MZ", "cfg/a.ini": b"x"})))
        await call(api.software.upload_zip(first.package_id, make_zip({"cfg/a.ini": b"y", "cfg/b.ini": b"z"})))
        files = await call(api.software.get_package_files(first.package_id))
        assert all(isinstance(f, PackageFile) for f in files)
        assert [(f.package_folder_name, f.name, f.attributes) for f in files] == [
            ("bin", "flash.exe", "None"), ("cfg", "a.ini", "None"), ("cfg", "b.ini", "None")]
        await call(api.software.set_file_attribute(files[0].package_file_id, FileAttribute.EXECUTE_ONCE))
        await call(api.software.set_file_attribute(files[1].package_file_id, "overwritenever"))
        files = await call(api.software.get_package_files(first.package_id))
        assert [f.attributes for f in files] == ["ExecuteOnce", "OverwriteNever", "None"]
        await call(api.software.upload_zip(second.package_id, make_zip({"seq/main.seq": b"1"}), clean_install=True))
        await call(api.software.upload_zip(second.package_id, make_zip({"seq/other.seq": b"2"}), clean_install=True))
        assert [f.name for f in await call(api.software.get_package_files(second.package_id))] == ["other.seq"]

        # Draft: anything can be edited. update_package reads the stored package back.
        changed = first.model_copy(update={"description": "v1.1", "root_directory": "C:/ICT"})
        edited = await call(api.software.update_package(changed))
        assert (edited.description, edited.root_directory, edited.version) == ("v1.1", "C:/ICT", 1)

        # Status: Draft -> Pending -> Released; then only status and tags may change.
        pending = await call(api.software.set_package_status(first.package_id, PackageStatus.PENDING))
        assert pending.status == "Pending"
        released = await call(api.software.set_package_status(first.package_id, "released"))
        assert released.status == "Released" and released.released_by == "pywats" and released.released is not None
        with pytest.raises(BadRequestError, match="only status and tags can be edited, not description"):
            await call(api.software.update_package(released.model_copy(update={"description": "sneaky"})))
        retagged = released.model_copy(update={"tags": settings_of({"Station": "ICT", "Line": "2"})})
        assert (await call(api.software.update_package(retagged))).tag("Line") == "2"
        with pytest.raises(BadRequestError, match="files can be uploaded only in Draft"):
            await call(api.software.upload_zip(first.package_id, make_zip({"bin/x": b""})))

        found = await call(api.software.get_package_by_name("ICT image"))  # Released, highest version
        assert found.package_id == first.package_id
        draft = await call(api.software.get_package_by_name("ICT image", PackageStatus.DRAFT))
        assert draft.version == 2
        assert (await call(api.software.get_package_by_name("ICT image", "Draft", version=2))).package_id == \
            second.package_id  # fmt: skip
        by_tag = await call(api.software.get_packages_by_tag("Line", "2"))
        assert [p.package_id for p in by_tag] == [first.package_id]
        assert await call(api.software.get_packages_by_tag("line", "2")) == []  # tag names are compared exactly
        assert len(await call(api.software.get_packages_by_tag("Station", "ict", PackageStatus.RELEASED))) == 1

        # Delete: only Draft or Revoked.
        with pytest.raises(BadRequestError, match="only Draft or Revoked packages can be deleted"):
            await call(api.software.delete_package(first.package_id))
        with pytest.raises(BadRequestError, match="can move to Revoked, not to Draft"):
            await call(api.software.set_package_status(first.package_id, PackageStatus.DRAFT))
        revoked = await call(api.software.set_package_status(first.package_id, PackageStatus.REVOKED))
        assert revoked.revoked_by == "pywats"
        await call(api.software.delete_package(first.package_id))
        await call(api.software.delete_package_by_name("ICT image", 2))
        assert await call(api.software.get_packages()) == []
        with pytest.raises(NotFoundError):
            await call(api.software.get_package(first.package_id))
        return True

    assert await run(mode, fresh_emulator, scenario)


@mode
async def test_refusals_and_missing(mode: str, fresh_emulator) -> None:
    async def scenario(api):
        package = await call(api.software.create_package("Burn-in"))
        with pytest.raises(BadRequestError, match="on the root of the zip"):
            await call(api.software.upload_zip(package.package_id, make_zip({"flash.exe": b"MZ"})))
        with pytest.raises(BadRequestError, match="not a zip file"):
            await call(api.software.upload_zip(package.package_id, b"not a zip"))
        with pytest.raises(BadRequestError, match="can move to Pending, not to Released"):
            await call(api.software.set_package_status(package.package_id, PackageStatus.RELEASED))
        with pytest.raises(BadRequestError, match="name cannot change"):
            await call(api.software.update_package(package.model_copy(update={"name": "Other"})))
        with pytest.raises(BadRequestError, match="virtualFolderId"):
            await call(api.software.create_package("X", virtual_folder_id="6f1d2c3b-0000-4000-8000-000000000000"))
        with pytest.raises(NotFoundError):
            await call(api.software.get_package("6f1d2c3b-0000-4000-8000-000000000000"))
        with pytest.raises(NotFoundError):
            await call(api.software.get_package_by_name("Burn-in"))  # no Released version
        with pytest.raises(NotFoundError):
            await call(api.software.delete_package_by_name("Burn-in", 7))
        with pytest.raises(NotFoundError):
            await call(api.software.set_file_attribute("6f1d2c3b-0000-4000-8000-000000000000", "None"))
        with pytest.raises(NotFoundError):
            await call(api.software.get_package_files("6f1d2c3b-0000-4000-8000-000000000000"))
        return True

    assert await run(mode, fresh_emulator, scenario)
    async def lenient(api):
        return await call(api.software.get_package_by_name("Nothing"))

    assert await run(mode, fresh_emulator, lenient, error_mode=ErrorMode.LENIENT) is None


def test_arguments_are_checked_before_sending() -> None:
    with pywats.pyWATS("http://127.0.0.1:9", "dG9rZW4=") as api:  # nothing is sent
        with pytest.raises(ValueError, match="package_id must be a UUID"):
            api.software.get_package("12")
        with pytest.raises(ValueError, match="status must be one of"):
            api.software.get_package_by_name("X", "Shipped")
        with pytest.raises(ValueError, match="attribute must be one of"):
            api.software.set_file_attribute("f", "Sometimes")
        with pytest.raises(ValueError, match="give the value as value="):
            api.software.get_packages_by_tag("Station=ICT", "ICT")
        with pytest.raises(ValueError, match="package_id"):
            api.software.update_package(Package(name="X"))
        with pytest.raises(ValueError, match="version"):
            api.software.delete_package_by_name("X", 0)


def test_emulator_answers_readable_400s(fresh_emulator) -> None:
    with fresh_emulator.client() as http:
        answer = http.get("/api/Software/Package/not-a-guid")
        assert answer.status_code == 400 and "is not a package id" in answer.json()["Message"]
        answer = http.post("/api/Software/Package", json={"description": "no name"})
        assert answer.status_code == 400 and answer.json()["Message"] == "package.name is required."
        answer = http.get("/api/Software/PackagesByTag", params={"tag": "Station", "status": "Released"})
        assert answer.status_code == 400 and "tagName=tagValue" in answer.json()["Message"]
        created = http.post("/api/Software/Package", json={"name": "P"}).json()
        answer = http.post(f"/api/Software/Package/UploadZip/{created['packageId']}", content=b"PK",
                           headers={"Content-Type": "application/zip"})  # fmt: skip
        assert answer.status_code == 400 and "multipart/form-data" in answer.json()["Message"]
        answer = http.post("/api/Software/Package/FileAttribute/x", params={"attribute": "Often"})
        assert answer.status_code == 400 and "attribute must be one of" in answer.json()["Message"]
