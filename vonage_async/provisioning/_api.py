"""Provisioning API (seed 000) and Extension API (seed 001): accounts, locations, extensions, users.

Every operation lives under ``/api/accounts/{account_id}``; ``account_id`` may be ``"self"``, the
authenticated user's account. A ``get`` answers a HAL envelope: the model comes from
``_embedded.data`` (or ``_embedded.extension``), its ``links`` from the envelope's ``_links``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard, TypeVar

from yarl import URL

from .. import _validation as check, errors
from .._converter import structure
from .._paging import AsyncPager, HalPages
from .._service import Service
from ._models import Account, Extension, Location, User

T = TypeVar("T")

_HAL = HalPages()


class _Resource:
    def __init__(self, service: Service) -> None:
        self._service = service

    def _url(self, account_id: str, *rest: tuple[str, Any] | str) -> URL:
        return self._service.path("api", "accounts", ("account_id", account_id), *rest)

    async def _one(self, url: URL, model: type[T]) -> T:
        response = await self._service.request("GET", url)
        return structure(_hal_item(response.json(), model.__name__, url), model)

    def _pages(
        self,
        url: URL,
        model: type[T],
        *,
        page_size: int | None,
        concurrency: int,
        max_items: int | None,
        **filters: Any,
    ) -> AsyncPager[T]:
        if page_size is not None:
            check.int_range("page_size", page_size, 1)
        params = check.query(page_size=page_size, **filters)
        return self._service.pager(
            url, params, model, style=_HAL, concurrency=concurrency, max_items=max_items
        )


def _names(email: str | None, **names: str | None) -> dict[str, str | None]:
    """The free-text filters, checked: names must not be blank, ``email`` must be an address."""
    for name, value in names.items():
        if value is not None:
            check.text(name, value)
    if email is not None:
        check.email("email", email)
    return {**names, "email": email}


def _hal_item(body: Any, what: str, url: URL) -> Mapping[str, Any]:
    """The one resource inside a HAL envelope, with the envelope's ``_links``."""
    if not _is_object(body):
        raise errors.DecodeError(f"expected a HAL object holding a {what}", method="GET", url=url)
    embedded = body.get("_embedded")
    if not _is_object(embedded):  # a bare resource: take it as it is
        return body
    item = embedded.get("data")
    if item is None:
        item = embedded.get("extension")
    if isinstance(item, list):  # the Extension API documents an object but may send a list
        if not item:
            raise errors.DecodeError(f"the answer holds no {what}", method="GET", url=url)
        item = item[0]
    if not _is_object(item):
        raise errors.DecodeError(f"expected _embedded.data to hold a {what}", method="GET", url=url)
    links = body.get("_links")
    if not _is_object(links) or "_links" in item:
        return item
    # The body was decoded for this call alone: the item takes the links in place, uncopied.
    item = item if item.__class__ is dict else dict(item)
    item["_links"] = links
    return item


def _is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # JSON objects are dicts: skip the slow ABC check for them.
    return value.__class__ is dict or isinstance(value, Mapping)


class Accounts(_Resource):
    async def get(self, account_id: str = "self") -> Account:
        """Get account data by ID."""
        return await self._one(self._url(account_id), Account)


class Locations(_Resource):
    def list(
        self, account_id: str = "self", *, concurrency: int = 4, max_items: int | None = None
    ) -> AsyncPager[Location]:
        """Get account locations data by account ID."""
        return self._pages(
            self._url(account_id, "locations"),
            Location,
            page_size=None,
            concurrency=concurrency,
            max_items=max_items,
        )

    async def get(self, account_id: str, location_id: int | str) -> Location:
        """Get location data by account ID and location ID."""
        return await self._one(
            self._url(account_id, "locations", ("location_id", location_id)), Location
        )


class Extensions(_Resource):
    def list(
        self,
        account_id: str = "self",
        *,
        page_size: int | None = None,
        location_id: int | str | None = None,
        phone_number: str | None = None,
        login_name: str | None = None,
        email: str | None = None,
        concurrency: int = 4,
        max_items: int | None = None,
    ) -> AsyncPager[Extension]:
        """Get account extensions data by account ID."""
        if location_id is not None:
            location_id = check.digits("location_id", location_id, min_len=1, max_len=20)
        if phone_number is not None:
            phone_number = check.phone_number("phone_number", phone_number)
        return self._pages(
            self._url(account_id, "extensions"),
            Extension,
            page_size=page_size,
            concurrency=concurrency,
            max_items=max_items,
            location_id=location_id,
            phone_number=phone_number,
            **_names(email, login_name=login_name),
        )

    async def get(self, account_id: str, external_id: str) -> Extension:
        """Get extension data by account ID and extension ID (the extension's ``external_id``)."""
        return await self._one(
            self._url(account_id, "extensions", ("external_id", external_id)), Extension
        )

    async def get_by_number(self, account_id: str, extension_number: str | int) -> Extension:
        """Get extension data by account ID and extension number (Extension API).

        The same path as ``get``: the server tells an extension number from an external id.
        """
        number = check.extension_number("extension_number", extension_number)
        return await self._one(self._url(account_id, "extensions", number), Extension)


class Users(_Resource):
    def list(
        self,
        account_id: str = "self",
        *,
        page_size: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        login_name: str | None = None,
        email: str | None = None,
        concurrency: int = 4,
        max_items: int | None = None,
    ) -> AsyncPager[User]:
        """Get account users data by account ID."""
        return self._pages(
            self._url(account_id, "users"),
            User,
            page_size=page_size,
            concurrency=concurrency,
            max_items=max_items,
            **_names(email, first_name=first_name, last_name=last_name, login_name=login_name),
        )

    async def get(self, account_id: str, user_id: int | str) -> User:
        """Get user data by account ID and user ID."""
        return await self._one(self._url(account_id, "users", ("user_id", user_id)), User)


class Provisioning:
    """VBC Provisioning and the Extension API: ``accounts``, ``locations``, ``extensions``,
    ``users``."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self.accounts = Accounts(service)
        self.locations = Locations(service)
        self.extensions = Extensions(service)
        self.users = Users(service)

    def __repr__(self) -> str:
        return f"<Provisioning {self._service.base_url}>"
