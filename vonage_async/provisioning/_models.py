"""Models of the Provisioning API (seed 000, specs/provisioning.yml) and Extension API (seed 001).

Every field is optional: the server leaves fields out, and the Extension API's older shape lacks
some (``user.id``, ``service_type_name``). ``links`` holds the HAL envelope's ``_links`` of a
``get`` (rel to ``Link``); it takes no part in equality.
"""

from __future__ import annotations

import attrs

from .._converter import wire


@attrs.frozen
class Link:
    href: str | None = None


@attrs.frozen
class _Resource:
    """A model a ``get`` returns: ``links`` is filled from the HAL envelope's ``_links``."""

    links: dict[str, Link] = attrs.field(
        factory=dict, eq=False, repr=False, kw_only=True, metadata=wire("_links")
    )


@attrs.frozen
class Address:
    """A postal address; ``time_zone`` is only given for locations."""

    address_1: str | None = None
    address_2: str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    postal_code: str | None = None
    time_zone: str | None = None


@attrs.frozen
class Account(_Resource):
    """A VBC account."""

    id: int | None = None
    name: str | None = None
    status: str | None = None  # "ACTIVE" in the docs; no list of values is documented
    address: Address | None = None


@attrs.frozen
class Location(_Resource):
    """A location (site) of an account."""

    id: int | None = None
    name: str | None = None
    address: Address | None = None


@attrs.frozen
class ExtensionUser:
    """The user an extension is assigned to (``BasicUser``)."""

    id: int | None = None
    email: str | None = None
    login_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@attrs.frozen
class Did:
    """A phone number (DID) assigned to an extension."""

    phone_number: str | None = None
    custom_tag: str | None = None


@attrs.frozen
class Handset:
    """A handset (``Line``) assigned to an extension."""

    handset_name: str | None = None
    sip_id: str | None = None


@attrs.frozen
class Extension(_Resource):
    """An extension (``EndUserRoute``)."""

    extension_number: str | None = None
    user: ExtensionUser | None = None
    location_id: int | None = None
    vtt_enabled: bool | None = None
    dnd_enabled: bool | None = None
    caller_id: str | None = None
    external_id: str | None = None
    service_type_name: str | None = None
    block_caller_id: bool | None = None
    dids: list[Did] = attrs.field(factory=list)
    extension_handsets: list[Handset] = attrs.field(factory=list)


@attrs.frozen
class ContactNumber:
    """One of a user's contact numbers (``Contact``): ``type`` is free text such as "Home"."""

    type: str | None = None
    value: str | None = None


@attrs.frozen
class UserExtension:
    """An extension as listed on a user."""

    extension_number: str | None = None
    dids: list[Did] = attrs.field(factory=list)


@attrs.frozen
class User(_Resource):
    """A user of an account."""

    id: int | None = None
    email: str | None = None
    login_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    contact_numbers: list[ContactNumber] = attrs.field(factory=list)
    extensions: list[UserExtension] = attrs.field(factory=list)
