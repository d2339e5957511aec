"""Network Registry models (seed 004): profiles, their per-CSP status, catalogue entries.

A create body and the profile it returns share their fields, so each pair derives from one
private field set; the request classes add ``validate()``, the answers add what the server owns.
Fields the docs mark as required default to ``None`` in the shared sets (a request may omit them
only to fail ``validate()``), and to ``""`` in answer-only models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from .. import _validation as check
from .._converter import OpenEnum, get_converter, register_structure_hook_func
from ..errors import ValidationError
from . import _checks


class OrganisationType(OpenEnum):
    """Organisation type of the business (catalogue ``organisation-types``)."""

    ACADEMIC_SCIENTIFIC_ORGANISATION = "academicScientificOrganisation"
    FOR_PROFIT_ORGANISATION = "forProfitOrganisation"
    GOVERNMENTAL_ORGANISATION = "governmentalOrganisation"
    INDUSTRY_CONSORTIUM = "industryConsortium"
    INTERNATIONAL_ORGANISATION = "internationalOrganisation"
    NON_PROFIT_ORGANISATION = "nonProfitOrganisation"
    NON_GOVERNMENTAL_ORGANISATION = "nonGovernmentalOrganisation"
    ORGANISATIONAL_UNIT = "organisationalUnit"


class Category(OpenEnum):
    """A category of the network Application Profile (catalogue ``categories``)."""

    ART_AND_DESIGN = "artAndDesign"
    AUTO_AND_VEHICLE = "autoAndVehicle"
    BEAUTY = "beauty"
    BOOKS_AND_REFERENCE = "booksAndReference"
    BUSINESS = "business"
    DEVELOPER_TOOLS = "developerTools"
    EDUCATION = "education"
    EVENTS_AND_ENTERTAINMENT = "eventsAndEntertainment"
    FINANCE = "finance"
    FOOD_AND_DRINK = "foodAndDrink"
    GAMES = "games"
    HEALTH_AND_FITNESS = "healthAndFitness"
    KIDS = "kids"
    LIBRARIES_AND_DEMO = "librariesAndDemo"
    LIFESTYLE = "lifestyle"
    MAPS_AND_NAVIGATION = "mapsAndNavigation"
    MEDICAL = "medical"
    MUSIC_AND_AUDIO = "musicAndAudio"
    NEWS_AND_MAGAZINES = "newsAndMagazines"
    PHOTO_AND_VIDEO = "photoAndVideo"
    PRODUCTIVITY = "productivity"
    SHOPPING = "shopping"
    SOCIAL_NETWORKING_AND_COMMUNICATIONS = "socialNetworkingAndCommunications"
    SPORTS = "sports"
    UTILITIES = "utilities"
    TRAVEL_AND_LOCAL = "travelAndLocal"
    WEATHER = "weather"


class BusinessProfileStatus(OpenEnum):
    """Overall registration status of a Business Profile."""

    PENDING = "pending"
    REVIEWED = "reviewed"
    READY_TO_PROVISION = "ready-to-provision"
    PROVISIONING = "provisioning"
    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially-accepted"
    REJECTED = "rejected"
    FAILED = "failed"


class ApplicationProfileStatus(OpenEnum):
    """Overall network Application Profile status."""

    PENDING = "pending"
    PROVISIONING = "provisioning"
    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially-accepted"
    REJECTED = "rejected"
    FAILED = "failed"


class ChangeRequestStatus(OpenEnum):
    """Status of change request for business profile."""

    REJECTED = "rejected"
    PENDING = "pending"
    ACCEPTED = "accepted"


class BusinessCspStatus(OpenEnum):
    """Registration status of a Business Profile within a CSP."""

    NOT_SUBMITTED = "not-submitted"
    WAITING_FOR_VETTING = "waiting-for-vetting"
    READY_TO_PROVISION = "ready-to-provision"
    READY_TO_UPDATE = "ready-to-update"
    PROVISIONING = "provisioning"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"


class ApplicationCspStatus(OpenEnum):
    """Registration status of a Application Profile within a CSP."""

    NOT_SUBMITTED = "not-submitted"
    READY_FOR_PROVISIONING = "ready-for-provisioning"
    READY_TO_UPDATE = "ready-to-update"
    PROVISIONING_APPLICATION = "provisioning-application"
    APPLICATION_ACCEPTED = "application-accepted"
    PROVISIONING_ORDER = "provisioning-order"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"


class ConnectivityStatus(OpenEnum):
    """Connectivity status of an Application Profile with a CSP."""

    # Not named UNKNOWN: OpenEnum gives that name to values it does not know.
    NOT_KNOWN = "UNKNOWN"
    OK = "OK"
    ERROR = "ERROR"


class VettingConsent(OpenEnum):
    """Acknowledgement to proceed with the vetting process."""

    NOT_REQUIRED = "not_required"
    CONSENTED = "consented"
    NOT_CONSENTED = "not_consented"


class VettingOutcome(OpenEnum):
    """Outcome of the vetting process."""

    SUCCESSFUL = "successful"
    UNSUCCESSFUL = "unsuccessful"


class NetworkApiRequirement(OpenEnum):
    """What a Network API requires of an application."""

    NV_REDIRECT_URL = "nv_redirect_url"
    QOD_CALLBACK_URL = "qod_callback_url"
    VERIFY_CALLBACK_URL = "verify_callback_url"


# -- parts ----------------------------------------------------------------------------------


@attrs.frozen
class BusinessInformation:
    """Where the business is: its address."""

    address_street_1: str | None = None
    address_street_2: str | None = None
    postal_code: str | None = None
    country: str | None = None
    city: str | None = None
    province: str | None = None

    def validate(self, prefix: str = "business_information") -> None:
        """Check the documented limits; raises ValidationError naming the field."""
        _checks.text(f"{prefix}.address_street_1", self.address_street_1, 500, required=True)
        _checks.text(f"{prefix}.address_street_2", self.address_street_2, 500)
        _checks.text(f"{prefix}.postal_code", self.postal_code, 500, required=True)
        check.country_code(f"{prefix}.country", self.country)
        _checks.text(f"{prefix}.city", self.city, 500, required=True)
        _checks.text(f"{prefix}.province", self.province, 500)


@attrs.frozen
class Notification:
    """Custom Notification for a Business or Application Profile."""

    created_at: datetime | None = None
    message: str = ""
    dismissed: bool = False
    require_changes: bool | None = None


@attrs.frozen
class VettingInfo:
    """Information regarding vetting process."""

    consent: VettingConsent | None = None
    vetting_levels: list[str] = attrs.Factory(list)


@attrs.frozen
class VettingResult:
    """Information regarding the outcome of the vetting process."""

    result: VettingOutcome | None = None
    message: str | None = None


@attrs.frozen
class BusinessProfileState:
    """The ``status`` object of a Business Profile: its status and why."""

    status: BusinessProfileStatus | None = None
    message: str | None = None


@attrs.frozen
class ApplicationProfileState:
    """The ``status`` object of an Application Profile: its status and why."""

    status: ApplicationProfileStatus | None = None
    message: str | None = None


@attrs.frozen
class ChangeRequestState:
    """The ``status`` object of a change request: its status and why."""

    status: ChangeRequestStatus | None = None
    message: str | None = None


@attrs.frozen
class NetworkApiUse:
    """A Network API an Application Profile uses, and the purposes it uses it for."""

    network_api_id: str = ""
    purpose_ids: list[str] = attrs.Factory(list)


# -- converters that let requests take plain strings and dicts ------------------------------


def _organisation_type(value: OrganisationType | str | None) -> OrganisationType | None:
    return None if value is None else OrganisationType(value)


def _category(value: Category | str | None) -> Category | None:
    return None if value is None else Category(value)


def _business_information(
    value: BusinessInformation | Mapping[str, Any] | None,
) -> BusinessInformation | None:
    if isinstance(value, Mapping):
        return get_converter().structure(value, BusinessInformation)
    return value


def _network_apis(
    value: Iterable[NetworkApiUse | Mapping[str, Any]] | None,
) -> list[NetworkApiUse] | None:
    if value is None:
        return None
    return [
        get_converter().structure(v, NetworkApiUse) if isinstance(v, Mapping) else v for v in value
    ]


def _requirements(value: Any, _: Any) -> list[NetworkApiRequirement]:
    # The docs list plain values but their example nests them: [["nv_redirect_url"]].
    def walk(item: Any) -> Iterable[Any]:
        if isinstance(item, (list, tuple)):
            for inner in item:
                yield from walk(inner)
        elif item is not None:
            yield item

    return [NetworkApiRequirement(str(v)) for v in walk(value)]


register_structure_hook_func(lambda t: t == list[NetworkApiRequirement], _requirements)


# -- business profiles -----------------------------------------------------------------------


@attrs.frozen
class _BusinessProfileFields:
    countries: list[str] | None = None
    contact_role: str | None = None
    name: str | None = None
    trading_name: str | None = None
    organisation_type: OrganisationType | None = attrs.field(
        default=None, converter=_organisation_type
    )
    tax_number: str | None = None
    business_registration_id: str | None = None
    issuing_authority: str | None = None
    privacy_policy_url: str | None = None
    privacy_policy_manager_email: str | None = None
    dpo_email: str | None = None
    dpo_required: bool | None = None
    terms_and_conditions_accepted: bool | None = None
    business_information: BusinessInformation | None = attrs.field(
        default=None, converter=_business_information
    )
    email_notifications_enabled: bool | None = None
    vetting_terms_and_conditions_accepted: bool | None = None
    vetting_extra_fields: dict[str, Any] | None = None

    def _check(self, *, complete: bool) -> None:
        """The documented limits; ``complete`` for a create, where the required fields apply."""
        _checks.countries("countries", self.countries, required=complete)
        _checks.text("contact_role", self.contact_role, 100, required=complete)
        _checks.text("name", self.name, 100, required=complete)
        _checks.text("trading_name", self.trading_name, 100)
        if complete:
            _checks.enum_member("organisation_type", self.organisation_type, OrganisationType)
        else:  # a change request documents no enum (its example is "For-Profit Organisation")
            _checks.text("organisation_type", self.organisation_type, 100)
        _checks.text("tax_number", self.tax_number, 100, required=complete)
        _checks.text("business_registration_id", self.business_registration_id, 100)
        _checks.text("issuing_authority", self.issuing_authority, 100)
        if complete or self.privacy_policy_url is not None:
            check.url("privacy_policy_url", self.privacy_policy_url, max_len=500)
        if complete or self.privacy_policy_manager_email is not None:
            check.email("privacy_policy_manager_email", self.privacy_policy_manager_email)
        if self.dpo_email is not None:
            check.email("dpo_email", self.dpo_email)
        _checks.flag("dpo_required", self.dpo_required)
        _checks.must_accept(
            "terms_and_conditions_accepted", self.terms_and_conditions_accepted, required=complete
        )
        if self.business_information is not None:
            self.business_information.validate()
        elif complete:
            raise ValidationError("business_information", "is required")
        _checks.flag("email_notifications_enabled", self.email_notifications_enabled)
        _checks.flag(
            "vetting_terms_and_conditions_accepted", self.vetting_terms_and_conditions_accepted
        )
        _checks.mapping("vetting_extra_fields", self.vetting_extra_fields)


@attrs.frozen
class BusinessProfileRequest(_BusinessProfileFields):
    """The body of "Create a new network Business Profile registration"."""

    def validate(self) -> None:
        """Check every documented limit; raises ValidationError naming the field."""
        self._check(complete=True)


@attrs.frozen
class BusinessProfileChangeRequest(_BusinessProfileFields):
    """The body of "Create or update a change request": only the fields to change."""

    def validate(self) -> None:
        """Check the documented limits of the fields given; raises ValidationError."""
        self._check(complete=False)


@attrs.frozen
class ChangeRequest(_BusinessProfileFields):
    """A pending change on an existing network Business Profile, as the server keeps it."""

    status: ChangeRequestState | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class BusinessProfile(_BusinessProfileFields):
    """A network Business Profile registration."""

    id: str = ""
    account_id: str = ""
    status: BusinessProfileState | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    delete_at: datetime | None = None
    change_request: ChangeRequest | None = None
    notification: Notification | None = None
    nr_notifications: int = 0
    vetting_info: VettingInfo | None = None
    vetting_result: VettingResult | None = None


@attrs.frozen
class BusinessProfileCspStatus:
    """Registration status of a Business Profile within one CSP."""

    csp_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    status: BusinessCspStatus | None = None
    message: str | None = None
    business_profile_id: str = ""
    account_id: str = ""


# -- application profiles --------------------------------------------------------------------


@attrs.frozen
class _ApplicationProfileFields:
    business_profile_id: str | None = None
    name: str | None = None
    description: str | None = None
    category_id: Category | None = attrs.field(default=None, converter=_category)
    network_apis: list[NetworkApiUse] | None = attrs.field(default=None, converter=_network_apis)
    terms_and_conditions_accepted: bool | None = None
    infrastructure_locations: list[str] | None = None
    privacy_policy_url: str | None = None


@attrs.frozen
class ApplicationProfileRequest(_ApplicationProfileFields):
    """The body of "Create a new network Application Profile"."""

    def validate(self) -> None:
        """Check every documented limit; raises ValidationError naming the field."""
        _checks.text("business_profile_id", self.business_profile_id, 100, required=True)
        _checks.text("name", self.name, 100, required=True)
        _checks.text("description", self.description, 1000)
        _checks.enum_member("category_id", self.category_id, Category)
        if not self.network_apis:
            raise ValidationError("network_apis", "at least one Network API is required")
        for i, use in enumerate(self.network_apis):
            where = f"network_apis[{i}]"
            if not isinstance(use, NetworkApiUse):
                raise ValidationError(where, "expected a NetworkApiUse or a mapping")
            check.text(f"{where}.network_api_id", use.network_api_id)
            _checks.strings(f"{where}.purpose_ids", use.purpose_ids, required=True)
        # Optional here, unlike for Business Profiles, but never False on a create.
        _checks.must_accept(
            "terms_and_conditions_accepted", self.terms_and_conditions_accepted, required=False
        )
        _checks.strings("infrastructure_locations", self.infrastructure_locations, required=True)
        if self.privacy_policy_url is not None:
            check.url("privacy_policy_url", self.privacy_policy_url, max_len=500)


@attrs.frozen
class ApplicationProfile(_ApplicationProfileFields):
    """A network Application Profile."""

    id: str = ""
    account_id: str = ""
    status: ApplicationProfileState | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    delete_at: datetime | None = None
    notification: Notification | None = None


@attrs.frozen
class ApplicationProfileCspStatus:
    """Registration status of an Application Profile within one CSP."""

    csp_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    delete_at: datetime | None = None
    status: ApplicationCspStatus | None = None
    previous_status: ApplicationCspStatus | None = None
    message: str | None = None
    application_profile_id: str = ""
    business_profile_id: str = ""
    account_id: str = ""
    allowlist_check_required: bool | None = None
    network_apis: list[str] = attrs.Factory(list)
    connectivity_status: ConnectivityStatus | None = None


# -- shared by both profile kinds ------------------------------------------------------------


@attrs.frozen
class SharedAccount:
    """An account a profile has been shared with."""

    account_id: str = ""


@attrs.frozen
class LinkedApplication:
    """A Vonage Application linked to a profile."""

    account_id: str = ""
    vonage_application_id: str = ""


# -- catalogue -------------------------------------------------------------------------------


@attrs.frozen
class Country:
    """A supported country."""

    code: str = ""
    name: str = ""


@attrs.frozen
class CatalogueEntry:
    """A supported Organisation Type or Category: its id and English display name."""

    id: str = ""
    name: str = ""


@attrs.frozen
class Csp:
    """A Communications Service Provider."""

    id: str = ""
    name: str = ""
    country: str = ""
    supported_network_apis: list[str] = attrs.Factory(list)
    vetting_level: str | None = None


@attrs.frozen
class NetworkApi:
    """A supported Network API."""

    id: str = ""
    name: str = ""
    requires: list[NetworkApiRequirement] = attrs.Factory(list)


@attrs.frozen
class Purpose:
    """A supported Purpose of a Network API."""

    id: str = ""
    name: str = ""
    network_api_id: str = ""


@attrs.frozen
class VettingLevel:
    """A vetting level and the extra fields it requires."""

    id: str = ""
    name: str = ""
    description: str = ""
    extra_fields: list[str] = attrs.Factory(list)


@attrs.frozen
class TermsAndConditions:
    """Terms and Conditions."""

    id: str = ""
    name: str = ""
    text: str = ""
