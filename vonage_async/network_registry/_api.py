"""Network Registry (seed 004): ``client.network_registry``, authenticated with ``BasicAuth``.

Every listing is an ``AsyncPager`` over the opaque ``_links.next.href`` cursor; endpoints that
answer with no body return None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import attrs
from yarl import URL

from .. import _validation as check, errors
from .._converter import unstructure
from .._paging import AsyncPager, CursorPages
from .._service import Service
from . import _checks
from ._models import (
    ApplicationCspStatus,
    ApplicationProfile,
    ApplicationProfileCspStatus,
    ApplicationProfileRequest,
    ApplicationProfileStatus,
    BusinessCspStatus,
    BusinessProfile,
    BusinessProfileChangeRequest,
    BusinessProfileCspStatus,
    BusinessProfileRequest,
    CatalogueEntry,
    Country,
    Csp,
    LinkedApplication,
    NetworkApi,
    Purpose,
    SharedAccount,
    TermsAndConditions,
    VettingLevel,
)

T = TypeVar("T")
R = TypeVar("R", BusinessProfileRequest, BusinessProfileChangeRequest, ApplicationProfileRequest)
P = TypeVar("P", BusinessProfile, ApplicationProfile)
Q = TypeVar("Q", BusinessProfileRequest, ApplicationProfileRequest)
S = TypeVar("S", BusinessProfileCspStatus, ApplicationProfileCspStatus)

ALL = "*"
"""The id that means every profile, in the CSP status listings."""


def _request(kind: type[R], request: R | None, fields: dict[str, Any]) -> R:
    """The request object to send: ``request``, with any keyword ``fields`` laid over it."""
    if request is None:
        built = kind(**fields)
    elif not isinstance(request, kind):
        raise TypeError(f"request must be a {kind.__name__}, got {type(request).__name__}")
    else:
        built = attrs.evolve(request, **fields) if fields else request
    built.validate()
    return built


def _cursor(value: Any) -> str | None:
    """A cursor from an earlier pager's ``next_cursor``: opaque, but one printable token."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= 2048
        or not value.isascii()
        or not value.isprintable()
        or " " in value
    ):
        raise errors.ValidationError("cursor", "expected a next_cursor from an earlier listing")
    return value


class _Family:
    """What every namespace here shares: paths under one root, pagers, bodiless calls."""

    _root = ""

    def __init__(self, service: Service) -> None:
        self._service = service

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._service.base_url}/{self._root}>"

    def _url(self, *parts: tuple[str, Any] | str) -> URL:
        return self._service.path(self._root, *parts)

    def _pager(
        self,
        url: URL,
        key: str,
        model: type[T],
        max_items: int | None,
        cursor: str | None,
        **params: Any,
    ) -> AsyncPager[T]:
        # Seed 004's ``next``: "Opaque token for retrieving next results page". A pager's
        # ``next_cursor`` resumes here.
        query = check.query(**params, next=_cursor(cursor))
        return self._service.pager(url, query, model, style=CursorPages(key), max_items=max_items)

    async def _no_body(self, method: str, url: URL, json: Any = None) -> None:
        await self._service.request(method, url, json=json)


class _Profiles(_Family, Generic[P, Q, S]):
    """What business and application profiles share: the same calls on their own models."""

    _profile: type[P]
    _request: type[Q]
    _csp_status: type[S]

    async def create(self, request: Q | None = None, **fields: Any) -> P:
        """Create a new profile registration (at most 50 of each kind per account).

        Pass the family's request object (``BusinessProfileRequest``,
        ``ApplicationProfileRequest``), or its fields as keywords (which override the
        request's).
        """
        body = _request(self._request, request, fields)
        return await self._service.call("POST", self._url(), self._profile, json=unstructure(body))

    async def get(self, id: str) -> P:
        """Get a profile registration."""
        return await self._service.call("GET", self._url(("id", id)), self._profile)

    async def delete(self, id: str) -> None:
        """Delete a profile registration (a Business Profile's Application Profiles too)."""
        await self._no_body("DELETE", self._url(("id", id)))

    async def undelete(self, id: str) -> None:
        """Undelete a profile registration."""
        await self._no_body("POST", self._url(("id", id), "undelete"))

    async def dismiss_notification(self, id: str) -> None:
        """Dismiss the Custom Notification (marks it as dismissed)."""
        await self._no_body("POST", self._url(("id", id), "notification", "dismiss"))

    async def csp_status(self, id: str, csp_id: str) -> S:
        """Detailed information of the profile's registration status for the given CSP."""
        url = self._url(("id", id), "csps", ("csp_id", csp_id))
        return await self._service.call("GET", url, self._csp_status)

    def shared_with(
        self,
        id: str,
        *,
        limit: int | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[SharedAccount]:
        """Get a list of accounts the profile is shared with."""
        url = self._url(("id", id), "shared")
        return self._pager(
            url, "account_ids", SharedAccount, max_items, cursor, limit=_checks.limit(limit)
        )

    def linked_applications(
        self, id: str, *, max_items: int | None = None, cursor: str | None = None
    ) -> AsyncPager[LinkedApplication]:
        """Get a list of linked Vonage Applications under the profile."""
        url = self._url(("id", id), "linked-applications")
        return self._pager(url, "linked_applications", LinkedApplication, max_items, cursor)


class BusinessProfiles(
    _Profiles[BusinessProfile, BusinessProfileRequest, BusinessProfileCspStatus]
):
    """``client.network_registry.business_profiles``."""

    _root = "business-profiles"
    _profile = BusinessProfile
    _request = BusinessProfileRequest
    _csp_status = BusinessProfileCspStatus

    def list(
        self,
        *,
        shared: bool | None = None,
        limit: int | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[BusinessProfile]:
        """List network Business Profile registrations.

        ``shared`` selects profiles shared with you; ``limit`` (1..100) is the page size.
        """
        return self._pager(
            self._url(),
            "business_profiles",
            BusinessProfile,
            max_items,
            cursor,
            shared=_checks.flag("shared", shared),
            limit=_checks.limit(limit),
        )

    def csp_statuses(
        self,
        id: str = ALL,
        *,
        status: BusinessCspStatus | str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[BusinessProfileCspStatus]:
        """Detailed information of Business Profile registration status per CSP.

        ``id`` is a Business Profile id, or ``"*"`` (the default) for all of them.
        """
        return self._pager(
            self._url(("id", id), "csps"),
            "business_profile_csp_statuses",
            BusinessProfileCspStatus,
            max_items,
            cursor,
            status=None
            if status is None
            else _checks.enum_member("status", status, BusinessCspStatus),
            limit=_checks.limit(limit),
        )

    async def put_change_request(
        self, id: str, request: BusinessProfileChangeRequest | None = None, **fields: Any
    ) -> BusinessProfile:
        """Create or update a change request.

        Creates a change request for the profile, or updates its pending one. Pass a
        ``BusinessProfileChangeRequest`` or the fields to change as keywords.
        """
        url = self._url(("id", id), "change-request")
        body = _request(BusinessProfileChangeRequest, request, fields)
        return await self._service.call("PUT", url, BusinessProfile, json=unstructure(body))

    async def delete_change_request(self, id: str) -> None:
        """Delete Business Profile Change Request (NotFoundError if there is none)."""
        await self._no_body("DELETE", self._url(("id", id), "change-request"))


class ApplicationProfiles(
    _Profiles[ApplicationProfile, ApplicationProfileRequest, ApplicationProfileCspStatus]
):
    """``client.network_registry.application_profiles``."""

    _root = "application-profiles"
    _profile = ApplicationProfile
    _request = ApplicationProfileRequest
    _csp_status = ApplicationProfileCspStatus

    def list(
        self,
        *,
        status: ApplicationProfileStatus | str | None = None,
        business_profile_id: str | None = None,
        shared: bool | None = None,
        limit: int | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[ApplicationProfile]:
        """List network Application Profile registrations."""
        if business_profile_id is not None:
            check.path_segment("business_profile_id", business_profile_id, max_len=100)
        return self._pager(
            self._url(),
            "application_profiles",
            ApplicationProfile,
            max_items,
            cursor,
            status=None
            if status is None
            else _checks.enum_member("status", status, ApplicationProfileStatus),
            business_profile_id=business_profile_id,
            shared=_checks.flag("shared", shared),
            limit=_checks.limit(limit),
        )

    def csp_statuses(
        self,
        id: str = ALL,
        *,
        status: ApplicationCspStatus | str | None = None,
        plmn_id: str | None = None,
        csp_id: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[ApplicationProfileCspStatus]:
        """Detailed information of Application Profile registration status per CSP.

        ``id`` is an Application Profile id, or ``"*"`` (the default) for all of them;
        ``plmn_id`` (14 or 15 characters), ``status`` and ``csp_id`` filter.
        """
        if csp_id is not None:
            check.path_segment("csp_id", csp_id)
        return self._pager(
            self._url(("id", id), "csps"),
            "application_profile_csp_statuses",
            ApplicationProfileCspStatus,
            max_items,
            cursor,
            status=None
            if status is None
            else _checks.enum_member("status", status, ApplicationCspStatus),
            plmn_id=_checks.plmn_id(plmn_id),
            csp_id=csp_id,
            limit=_checks.limit(limit),
        )

    async def share(self, id: str) -> None:
        """Share network Application Profile."""
        await self._no_body("POST", self._url(("id", id), "shared"), json={})

    async def unshare(self, id: str, account_id: str) -> None:
        """Unshare network Application Profile."""
        await self._no_body("DELETE", self._url(("id", id), "shared", ("account_id", account_id)))


def _csv(name: str, values: str | Sequence[str] | None, *, countries: bool = False) -> str | None:
    """A comma separated filter: ISO country codes or ids."""
    if values is None:
        return None
    items = (_checks.countries if countries else _checks.ids)(name, values, required=True)
    return ",".join(items)


class Catalogue(_Family):
    """``client.network_registry.catalogue``: what the registry supports."""

    _root = "catalogue"

    def countries(
        self, *, max_items: int | None = None, cursor: str | None = None
    ) -> AsyncPager[Country]:
        """List supported countries."""
        return self._pager(self._url("countries"), "countries", Country, max_items, cursor)

    def organisation_types(
        self, *, max_items: int | None = None, cursor: str | None = None
    ) -> AsyncPager[CatalogueEntry]:
        """List supported Organisation Types."""
        url = self._url("organisation-types")
        return self._pager(url, "organisation_types", CatalogueEntry, max_items, cursor)

    def categories(
        self, *, max_items: int | None = None, cursor: str | None = None
    ) -> AsyncPager[CatalogueEntry]:
        """List supported Categories."""
        return self._pager(self._url("categories"), "categories", CatalogueEntry, max_items, cursor)

    def csps(
        self,
        *,
        countries: str | Sequence[str] | None = None,
        all: bool | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[Csp]:
        """List Communications Service Providers (CSP).

        ``countries`` filters by ISO 3166 codes; ``all=True`` lists every CSP of the platform.
        """
        return self._pager(
            self._url("csps"),
            "csps",
            Csp,
            max_items,
            cursor,
            countries=_csv("countries", countries, countries=True),
            all=_checks.flag("all", all),
        )

    def network_apis(
        self,
        *,
        countries: str | Sequence[str] | None = None,
        all: bool | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[NetworkApi]:
        """List supported Network APIs.

        ``countries`` filters by ISO 3166 codes; ``all=True`` lists every Network API.
        """
        return self._pager(
            self._url("network-apis"),
            "network_apis",
            NetworkApi,
            max_items,
            cursor,
            countries=_csv("countries", countries, countries=True),
            all=_checks.flag("all", all),
        )

    def purposes(
        self,
        *,
        network_apis: str | Sequence[str] | None = None,
        max_items: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPager[Purpose]:
        """List supported Purposes (of the given Network API ids, if any)."""
        params = {"network-apis": _csv("network_apis", network_apis)}
        return self._pager(self._url("purposes"), "purposes", Purpose, max_items, cursor, **params)

    def vetting_levels(
        self, *, max_items: int | None = None, cursor: str | None = None
    ) -> AsyncPager[VettingLevel]:
        """List supported Vetting levels."""
        url = self._url("vetting-levels")
        return self._pager(url, "vetting_levels", VettingLevel, max_items, cursor)

    async def vetting_level(self, id: str) -> VettingLevel:
        """Get a Vetting Level."""
        url = self._url("vetting-levels", ("id", id))
        return await self._service.call("GET", url, VettingLevel)

    def terms_and_conditions(
        self, *, max_items: int | None = None, cursor: str | None = None
    ) -> AsyncPager[TermsAndConditions]:
        """List supported Terms and Conditions."""
        url = self._url("terms-and-conditions")
        return self._pager(url, "terms_and_conditions", TermsAndConditions, max_items, cursor)

    async def terms_and_condition(self, id: str) -> TermsAndConditions:
        """Get Terms and Conditions."""
        url = self._url("terms-and-conditions", ("id", id))
        return await self._service.call("GET", url, TermsAndConditions)


class NetworkRegistry:
    """The Network Registry: business and application profiles, and the catalogue."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self.business_profiles = BusinessProfiles(service)
        self.application_profiles = ApplicationProfiles(service)
        self.catalogue = Catalogue(service)

    def __repr__(self) -> str:
        return f"<NetworkRegistry {self._service.base_url}>"


__all__ = [
    "ALL",
    "ApplicationProfiles",
    "BusinessProfiles",
    "Catalogue",
    "NetworkRegistry",
]
