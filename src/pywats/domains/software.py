"""``api.software``: software packages that WATS distributes to test stations (Production Manager).

Endpoints (``wats-api/openapi_public_v3.json``, tag Software):

==================================  =================================================================
method                              endpoint
==================================  =================================================================
``get_packages``                    ``GET /api/Software/Packages``
``get_package``                     ``GET /api/Software/Package/{id}``
``get_package_by_name``             ``GET /api/Software/PackageByName``
``get_packages_by_tag``             ``GET /api/Software/PackagesByTag``
``create_package``                  ``POST /api/Software/Package``
``update_package``                  ``PUT /api/Software/Package/{id}`` (then reads it back)
``set_package_status``              ``POST /api/Software/PackageStatus/{id}``
``delete_package``                  ``DELETE /api/Software/Package/{id}``
``delete_package_by_name``          ``DELETE /api/Software/PackageByName``
``upload_zip``                      ``POST /api/Software/Package/UploadZip/{id}``
``get_package_files``               ``GET /api/Software/PackageFiles/{id}``
``set_file_attribute``              ``POST /api/Software/Package/FileAttribute/{id}``
``get_virtual_folders``             ``GET /api/Software/VirtualFolders``
==================================  =================================================================

A package's life: created in **Draft** (a name that exists gets the next version), files uploaded as a zip,
then **Pending** → **Released**; later **Revoked**. Status moves only Draft → Pending, Pending → Draft or
Released, Released → Revoked. A Draft package can be edited freely; a Pending or Released one only in status
and tags. Only Draft or Revoked packages can be deleted.
"""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from pydantic import Field

from .._ops import Op, as_uuid, encode_json, json_as, path_segment
from ._domain import Domain, Flow, M, endpoint
from ._mes import Setting, TagsInput, file_upload, list_of, no_content, required_text, settings_of
from ._models import ApiModel, WatsDateTime


class PackageStatus(str, Enum):
    """Where a package is in its life."""

    DRAFT = "Draft"
    PENDING = "Pending"
    RELEASED = "Released"
    REVOKED = "Revoked"


class FileAttribute(str, Enum):
    """What a station does with a package file (``POST /api/Software/Package/FileAttribute/{id}``)."""

    NONE = "None"
    EXECUTE_ONCE = "ExecuteOnce"
    EXECUTE_ALWAYS = "ExecuteAlways"
    TOP_LEVEL_FILE = "TopLevelFile"
    OVERWRITE_NEVER = "OverwriteNever"
    OVERWRITE_ON_NEW_PACKAGE_VERSION = "OverwriteOnNewPackageVersion"
    EXECUTE_ONCE_PER_VERSION = "ExecuteOncePerVersion"


class Package(ApiModel):
    """A software package (``Software.Public.Package``). ``status`` is a :class:`PackageStatus` value."""

    package_id: UUID | None = None
    name: str | None = None
    install_on_root: bool | None = None
    version: int | None = None
    description: str | None = None
    root_directory: str | None = None
    tags: list[Setting] | None = None
    modified: WatsDateTime | None = None
    modified_by: str | None = None
    status: str | None = None
    priority: int | None = None
    virtual_folder_id: UUID | None = None
    created: WatsDateTime | None = None
    created_by: str | None = None
    released: WatsDateTime | None = None
    released_by: str | None = None
    revoked: WatsDateTime | None = None
    revoked_by: str | None = None

    def tag(self, key: str) -> str | None:
        """The value of tag ``key`` (compared exactly), or None."""
        return next((tag.value for tag in self.tags or () if tag.key == key), None)


class PackageFile(ApiModel):
    """A file in a package (no content): its id for :meth:`SoftwareService.set_file_attribute`."""

    package_file_id: str | None = None
    name: str | None = None
    package_folder_name: str | None = None
    attributes: str | None = None
    description: str | None = Field(default=None, alias="Description")  # capitalised in WATS's schema


class VirtualFolder(ApiModel):
    """A folder of Production Manager that packages can be placed in."""

    id: UUID | None = None
    parent_id: UUID | None = None
    name: str | None = None
    description: str | None = None


def _status(value: PackageStatus | str) -> str:
    text = value.value if isinstance(value, PackageStatus) else str(value)
    try:
        return PackageStatus(text.capitalize()).value  # WATS reads the status without regard to case
    except ValueError:
        raise ValueError(f"status must be one of Draft, Pending, Released, Revoked; not {value!r}") from None


def _version(value: int | None, required: bool = False) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"version must be a whole number >= 1, not {value!r}")
    return value


def _attribute(value: FileAttribute | str) -> str:
    if isinstance(value, FileAttribute):
        return value.value
    for attribute in FileAttribute:
        if attribute.value.lower() == str(value).lower():
            return attribute.value
    names = ", ".join(attribute.value for attribute in FileAttribute)
    raise ValueError(f"attribute must be one of {names}; not {value!r}")


class SoftwareService(Domain[M]):
    """Software packages: ``api.software``."""

    @endpoint
    def get_packages(self) -> Op[list[Package]]:
        """Every package, all versions and statuses."""
        return Op("GET", "/api/Software/Packages", parser=list_of(Package))

    @endpoint
    def get_package(self, package_id: UUID | str) -> Op[Package]:
        """One package by id. Missing: ``NotFoundError`` (None when LENIENT)."""
        return Op("GET", f"/api/Software/Package/{as_uuid(package_id, 'package_id')}", parser=json_as(Package),
                  missing_ok=True)  # fmt: skip

    @endpoint
    def get_package_by_name(
        self, name: str, status: PackageStatus | str = PackageStatus.RELEASED, version: int | None = None
    ) -> Op[Package]:
        """The package called ``name`` with ``status`` (Released unless told), its highest version unless
        ``version`` is given.

        >>> api.software.get_package_by_name("ICT station image").version
        3
        """
        params = {"name": required_text("name", name), "status": _status(status), "version": _version(version)}
        return Op("GET", "/api/Software/PackageByName", params=params, parser=json_as(Package), missing_ok=True)

    @endpoint
    def get_packages_by_tag(
        self, tag: str, value: str, status: PackageStatus | str = PackageStatus.RELEASED
    ) -> Op[list[Package]]:
        """Packages whose tag ``tag`` has ``value`` (tag name compared exactly, value ignoring case)."""
        if "=" in required_text("tag", tag):
            raise ValueError(f"tag is the tag's name alone, not {tag!r}; give the value as value=")
        params = {"tag": f"{tag}={value}", "status": _status(status)}
        return Op("GET", "/api/Software/PackagesByTag", params=params, parser=list_of(Package))

    @endpoint
    def create_package(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: TagsInput = None,
        virtual_folder_id: UUID | str | None = None,
        install_on_root: bool | None = None,
        root_directory: str | None = None,
        priority: int | None = None,
    ) -> Op[Package]:
        """A new package in Draft: version 1, or the next version when ``name`` exists.

        >>> package = api.software.create_package("ICT station image", tags={"Station": "ICT"})
        """
        package = Package(
            name=required_text("name", name), description=description, tags=settings_of(tags),
            virtual_folder_id=as_uuid(virtual_folder_id, "virtual_folder_id") if virtual_folder_id else None,
            install_on_root=install_on_root, root_directory=root_directory, priority=priority,
        )  # fmt: skip
        # Not idempotent: sent twice, it would make two versions.
        return Op("POST", "/api/Software/Package", body=encode_json(package), content_type="application/json",
                  parser=json_as(Package))  # fmt: skip

    @endpoint
    def update_package(self, package: Package) -> Flow[Package]:
        """Overwrite a package with ``package`` (found by its ``package_id``); returns it as now stored.

        WATS answers the PUT with nothing, so the package is read back.
        """
        if not isinstance(package, Package) or package.package_id is None:
            raise ValueError("update_package takes a Package with its package_id (get it with get_package)")
        path = f"/api/Software/Package/{package.package_id}"
        yield Op("PUT", path, body=encode_json(package), content_type="application/json", parser=no_content)
        stored = yield Op("GET", path, parser=json_as(Package))
        return stored

    @endpoint
    def set_package_status(self, package_id: UUID | str, status: PackageStatus | str) -> Op[Package]:
        """Move a package to ``status`` (Draft → Pending → Released → Revoked; Pending may go back to Draft)."""
        path = f"/api/Software/PackageStatus/{as_uuid(package_id, 'package_id')}"
        return Op("POST", path, params={"status": _status(status)}, parser=json_as(Package))

    @endpoint
    def delete_package(self, package_id: UUID | str) -> Op[None]:
        """Delete a package (it must be in Draft or Revoked)."""
        return Op("DELETE", f"/api/Software/Package/{as_uuid(package_id, 'package_id')}", parser=no_content)

    @endpoint
    def delete_package_by_name(self, name: str, version: int) -> Op[None]:
        """Delete version ``version`` of package ``name`` (it must be in Draft or Revoked)."""
        params = {"name": required_text("name", name), "version": _version(version, required=True)}
        return Op("DELETE", "/api/Software/PackageByName", params=params, parser=no_content)

    @endpoint
    def upload_zip(self, package_id: UUID | str, content: bytes, *, clean_install: bool = False) -> Op[None]:
        """Add the files of a zip archive to a Draft package.

        Every file must be inside a folder in the archive (``tools/flash.exe``, not ``flash.exe``). Files
        merge with those already there unless ``clean_install`` removes them all first.
        """
        body, content_type = file_upload(content, "package.zip", "application/zip")
        path = f"/api/Software/Package/UploadZip/{as_uuid(package_id, 'package_id')}"
        params = {"cleanInstall": clean_install or None}
        # The same zip sent again leaves the same files: safe to retry.
        return Op("POST", path, params=params, body=body, content_type=content_type, parser=no_content,
                  idempotent=True)  # fmt: skip

    @endpoint
    def get_package_files(self, package_id: UUID | str) -> Op[list[PackageFile]]:
        """The files of a package (names, folders, attributes; not their content)."""
        path = f"/api/Software/PackageFiles/{as_uuid(package_id, 'package_id')}"
        return Op("GET", path, parser=list_of(PackageFile))

    @endpoint
    def set_file_attribute(self, file_id: str, attribute: FileAttribute | str) -> Op[None]:
        """Set what stations do with a package file (``PackageFile.package_file_id``)."""
        path = f"/api/Software/Package/FileAttribute/{path_segment(file_id)}"
        return Op("POST", path, params={"attribute": _attribute(attribute)}, parser=no_content, idempotent=True)

    @endpoint
    def get_virtual_folders(self) -> Op[list[VirtualFolder]]:
        """The virtual folders of Production Manager."""
        return Op("GET", "/api/Software/VirtualFolders", parser=list_of(VirtualFolder))


__all__ = ["FileAttribute", "Package", "PackageFile", "PackageStatus", "SoftwareService", "VirtualFolder"]
