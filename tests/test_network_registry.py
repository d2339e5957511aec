"""Network Registry (seed 004) against a loopback server that answers with the seed's examples."""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import attrs
import hypothesis
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import strategies as st

from vonage_async import Vonage, errors
from vonage_async.auth import BasicAuth
from vonage_async.network_registry import (
    ApplicationCspStatus,
    ApplicationProfile,
    ApplicationProfileRequest,
    ApplicationProfileStatus,
    BusinessCspStatus,
    BusinessInformation,
    BusinessProfile,
    BusinessProfileChangeRequest,
    BusinessProfileRequest,
    BusinessProfileStatus,
    Category,
    ConnectivityStatus,
    NetworkApiRequirement,
    NetworkApiUse,
    OrganisationType,
    VettingConsent,
    VettingOutcome,
)

KEY, SECRET = "abcd1234", "s3cr3t-Secret"
BASIC = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
ROOT = "/v1/network-registry"

# -- the seed's example bodies ---------------------------------------------------------------

BUSINESS_INFORMATION = {
    "address_street_1": "Main Street 5",
    "address_street_2": "Extra long address",
    "postal_code": "W1 5DU",
    "country": "ES",
    "city": "London",
    "province": "City of London",
}
VETTING_EXTRA = {"tax_number_type": "NIF", "duns_number": "123456789"}
CREATE_BUSINESS_PROFILE = {
    "countries": ["ES", "DE"],
    "contact_role": "A Business Profile",
    "name": "A Business Profile",
    "trading_name": "A Business Profile Ltd.",
    "organisation_type": "forProfitOrganisation",
    "tax_number": "98284687G",
    "business_registration_id": "15-048-3782",
    "issuing_authority": "National Government",
    "privacy_policy_url": "https://www.businessinc.com/privacy_policy",
    "privacy_policy_manager_email": "privacy.manager@business.com",
    "dpo_email": "dpo@business.com",
    "dpo_required": True,
    "terms_and_conditions_accepted": True,
    "business_information": BUSINESS_INFORMATION,
    "email_notifications_enabled": True,
    "vetting_terms_and_conditions_accepted": True,
    "vetting_extra_fields": VETTING_EXTRA,
}
BUSINESS_PROFILE = {
    "id": "2hothFWw2ssb3y3lhh5Fu3tzfqV",
    "account_id": "acc102846",
    **{k: v for k, v in CREATE_BUSINESS_PROFILE.items() if k != "vetting_extra_fields"},
    "status": {"status": "reviewed", "message": "string"},
    "created_at": "2023-11-07T07:20:50.52Z",
    "updated_at": "2023-11-08T10:12:20.52Z",
    "delete_at": "2023-11-08T10:12:20.52Z",
    "change_request": None,
    "notification": {
        "created_at": "2023-11-07T07:20:50.52Z",
        "message": "This profile requires your attention. Please modify it.",
        "dismissed": True,
        "require_changes": True,
    },
    "nr_notifications": 1,
    "vetting_extra_fields": VETTING_EXTRA,
    "vetting_info": {"consent": "consented", "vetting_levels": ["standard", "escalated_plus"]},
    "vetting_result": {"result": "successful", "message": "Vetting finished successfully."},
}
CHANGE_REQUEST = {
    **CREATE_BUSINESS_PROFILE,
    "countries": ["ES"],
    "organisation_type": "For-Profit Organisation",
}
BP_CSP_STATUS = {
    "csp_id": "telefonica_es",
    "created_at": "2023-11-07T07:20:50.52Z",
    "updated_at": "2023-11-08T10:12:20.52Z",
    "status": "not-submitted",
    "message": "Some message",
    "business_profile_id": "2hothFWw2ssb3y3lhh5Fu3tzfqV",
    "account_id": "acc102846",
}
CREATE_APPLICATION_PROFILE = {
    "business_profile_id": "2hothFWw2ssb3y3lhh5Fu3tzfqV",
    "name": "Network Application Profile",
    "description": "This Network Application Profile main use case is for Fraud Prevention",
    "category_id": "finance",
    "network_apis": [
        {"network_api_id": "sim-swap", "purpose_ids": ["FraudPreventionAndDetection"]}
    ],
    "terms_and_conditions_accepted": True,
    "infrastructure_locations": ["ES"],
    "privacy_policy_url": "https://www.businessinc.com/application_privacy_policy",
}
APPLICATION_PROFILE = {
    "id": "2hotg2Wzoy65nG6VKNaap4VFQvC",
    "account_id": "acc102846",
    **CREATE_APPLICATION_PROFILE,
    "status": {"status": "pending", "message": "string"},
    "created_at": "2023-11-07T07:20:50.52Z",
    "updated_at": "2023-11-08T10:12:20.52Z",
    "delete_at": "2023-11-08T10:12:20.52Z",
    "notification": {
        "created_at": "2023-11-07T07:20:50.52Z",
        "message": "This profile requires your attention. Please modify it.",
        "dismissed": True,
    },
}
AP_CSP_STATUS = {
    "csp_id": "telefonica_es",
    "created_at": "2023-11-07T07:20:50.52Z",
    "updated_at": "2023-11-08T10:12:20.52Z",
    "delete_at": "2023-11-08T10:12:20.52Z",
    "status": "not-submitted",
    "previous_status": "not-submitted",
    "message": "Some message",
    "application_profile_id": "2hotg2Wzoy65nG6VKNaap4VFQvC",
    "business_profile_id": "2hothFWw2ssb3y3lhh5Fu3tzfqV",
    "account_id": "acc102846",
    "allowlist_check_required": False,
    "network_apis": ["sim-swap", "number-verification"],
    "connectivity_status": "UNKNOWN",
}
TERMS = {
    "id": "general",
    "name": "General terms and conditions",
    "text": "T&Cs are determined by Network Registry. You may retrieve the latest version of those"
    " terms and \nconditions using the Network Registry T&C endpoint.\n",
}
VETTING_LEVEL = {
    "id": "standard_level",
    "name": "Standard level",
    "description": "Standard vetting level",
    "extra_fields": ["legal_company_name", "business_registration_registrar"],
}
SEED_SELF = {"href": "https://example.com/resource?next=19284743"}


def page(key: str, *items: Any, next_href: str | None = None) -> dict[str, Any]:
    """A listing as the seed shows it (its self link is the seed's own example)."""
    links: dict[str, Any] = {"self": SEED_SELF}
    if next_href is not None:
        links["next"] = {"href": next_href}
    return {"_links": links, "_embedded": {key: list(items)}}


# -- the loopback registry -------------------------------------------------------------------


@attrs.frozen
class Seen:
    method: str
    path: str  # as sent, undecoded
    query: dict[str, str]
    body: Any
    authorization: str | None


Reply = tuple[int, Any]


@attrs.define
class Registry:
    """Answers ``(method, path)`` with a canned reply and records every request it gets."""

    replies: dict[tuple[str, str], Reply | Callable[[web.Request], Reply]] = attrs.Factory(dict)
    seen: list[Seen] = attrs.Factory(list)
    base: str = ""

    def on(self, method: str, path: str, status: int = 200, body: Any = None) -> None:
        self.replies[(method, ROOT + path)] = (status, body)

    def on_call(self, method: str, path: str, fn: Callable[[web.Request], Reply]) -> None:
        self.replies[(method, ROOT + path)] = fn

    def only(self) -> Seen:
        assert len(self.seen) == 1, self.seen
        return self.seen[0]

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.seen.append(
            Seen(
                request.method,
                request.raw_path.split("?")[0],
                dict(request.query),
                json.loads(raw) if raw else None,
                request.headers.get("Authorization"),
            )
        )
        reply = self.replies.get((request.method, request.raw_path.split("?")[0]))
        if reply is None:
            reply = (404, {"title": "Not Found", "detail": "no such resource"})
        status, body = reply(request) if callable(reply) else reply
        if body is None:
            return web.Response(status=status)
        return web.json_response(body, status=status)


@pytest.fixture
async def registry() -> Any:
    fake = Registry()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.base = str(server.make_url(ROOT))
    yield fake
    await server.close()


@pytest.fixture
async def client(registry: Registry) -> Any:
    async with Vonage(
        network_registry_auth=BasicAuth(KEY, SECRET), network_registry_url=registry.base
    ) as vonage:
        yield vonage


WHEN = datetime(2023, 11, 7, 7, 20, 50, 520000, tzinfo=timezone.utc)


def assert_seed_business_profile(profile: BusinessProfile) -> None:
    assert profile.id == "2hothFWw2ssb3y3lhh5Fu3tzfqV"
    assert profile.account_id == "acc102846"
    assert profile.countries == ["ES", "DE"]
    assert profile.organisation_type is OrganisationType.FOR_PROFIT_ORGANISATION
    assert profile.privacy_policy_manager_email == "privacy.manager@business.com"
    assert profile.dpo_required is True
    assert profile.status is not None
    assert profile.status.status is BusinessProfileStatus.REVIEWED
    assert profile.created_at == WHEN
    assert profile.business_information == BusinessInformation(**BUSINESS_INFORMATION)
    assert profile.change_request is None
    assert profile.notification is not None and profile.notification.require_changes is True
    assert profile.nr_notifications == 1
    assert profile.vetting_extra_fields == VETTING_EXTRA
    assert profile.vetting_info is not None
    assert profile.vetting_info.consent is VettingConsent.CONSENTED
    assert profile.vetting_info.vetting_levels == ["standard", "escalated_plus"]
    assert profile.vetting_result is not None
    assert profile.vetting_result.result is VettingOutcome.SUCCESSFUL


def assert_seed_application_profile(profile: ApplicationProfile) -> None:
    assert profile.id == "2hotg2Wzoy65nG6VKNaap4VFQvC"
    assert profile.business_profile_id == "2hothFWw2ssb3y3lhh5Fu3tzfqV"
    assert profile.category_id is Category.FINANCE
    assert profile.status is not None
    assert profile.status.status is ApplicationProfileStatus.PENDING
    assert profile.network_apis == [
        NetworkApiUse(network_api_id="sim-swap", purpose_ids=["FraudPreventionAndDetection"])
    ]
    assert profile.infrastructure_locations == ["ES"]
    assert profile.notification is not None and profile.notification.dismissed is True
    assert profile.delete_at == datetime(2023, 11, 8, 10, 12, 20, 520000, tzinfo=timezone.utc)


# -- business profiles -----------------------------------------------------------------------


async def test_create_business_profile_sends_the_seed_body(registry: Registry, client: Vonage):
    registry.on("POST", "/business-profiles", 201, BUSINESS_PROFILE)
    request = BusinessProfileRequest(**CREATE_BUSINESS_PROFILE)

    profile = await client.network_registry.business_profiles.create(request)

    seen = registry.only()
    assert (seen.method, seen.path, seen.query) == ("POST", f"{ROOT}/business-profiles", {})
    assert seen.authorization == BASIC
    assert seen.body == CREATE_BUSINESS_PROFILE
    assert_seed_business_profile(profile)


async def test_create_business_profile_from_keywords(registry: Registry, client: Vonage):
    registry.on("POST", "/business-profiles", 201, BUSINESS_PROFILE)
    fields = {**CREATE_BUSINESS_PROFILE, "organisation_type": OrganisationType.INDUSTRY_CONSORTIUM}

    await client.network_registry.business_profiles.create(**fields)

    assert registry.only().body == {
        **CREATE_BUSINESS_PROFILE,
        "organisation_type": "industryConsortium",
    }


async def test_keywords_override_the_request_object(registry: Registry, client: Vonage):
    registry.on("POST", "/business-profiles", 201, BUSINESS_PROFILE)
    request = BusinessProfileRequest(**CREATE_BUSINESS_PROFILE)

    await client.network_registry.business_profiles.create(request, name="Renamed")

    assert registry.only().body == {**CREATE_BUSINESS_PROFILE, "name": "Renamed"}


async def test_list_business_profiles_with_filters(registry: Registry, client: Vonage):
    registry.on("GET", "/business-profiles", body=page("business_profiles", BUSINESS_PROFILE))

    profiles = await client.network_registry.business_profiles.list(shared=True, limit=25).all()

    seen = registry.only()
    assert (seen.method, seen.path) == ("GET", f"{ROOT}/business-profiles")
    assert seen.query == {"shared": "true", "limit": "25"}
    assert seen.authorization == BASIC
    assert len(profiles) == 1
    assert_seed_business_profile(profiles[0])


async def test_get_business_profile(registry: Registry, client: Vonage):
    registry.on("GET", "/business-profiles/2hothFWw2ssb3y3lhh5Fu3tzfqV", body=BUSINESS_PROFILE)

    profile = await client.network_registry.business_profiles.get("2hothFWw2ssb3y3lhh5Fu3tzfqV")

    seen = registry.only()
    assert (seen.method, seen.authorization, seen.body) == ("GET", BASIC, None)
    assert_seed_business_profile(profile)


@pytest.mark.parametrize(
    ("operation", "method", "path"),
    [
        ("delete", "DELETE", "/business-profiles/bp1"),
        ("undelete", "POST", "/business-profiles/bp1/undelete"),
        ("dismiss_notification", "POST", "/business-profiles/bp1/notification/dismiss"),
        ("delete_change_request", "DELETE", "/business-profiles/bp1/change-request"),
    ],
)
async def test_business_profile_actions_without_a_body_return_none(
    registry: Registry, client: Vonage, operation: str, method: str, path: str
):
    registry.on(method, path, 204)

    result = await getattr(client.network_registry.business_profiles, operation)("bp1")

    assert result is None
    seen = registry.only()
    assert (seen.method, seen.path, seen.authorization) == (method, ROOT + path, BASIC)


async def test_csp_statuses_of_all_profiles_sends_the_literal_star(
    registry: Registry, client: Vonage
):
    registry.on(
        "GET",
        "/business-profiles/*/csps",
        body=page("business_profile_csp_statuses", BP_CSP_STATUS),
    )

    statuses = await client.network_registry.business_profiles.csp_statuses(
        status=BusinessCspStatus.NOT_SUBMITTED, limit=100
    ).all()

    seen = registry.only()
    assert seen.path == f"{ROOT}/business-profiles/*/csps"
    assert seen.query == {"status": "not-submitted", "limit": "100"}
    assert seen.authorization == BASIC
    [status] = statuses
    assert status.csp_id == "telefonica_es"
    assert status.status is BusinessCspStatus.NOT_SUBMITTED
    assert status.business_profile_id == "2hothFWw2ssb3y3lhh5Fu3tzfqV"
    assert status.updated_at == datetime(2023, 11, 8, 10, 12, 20, 520000, tzinfo=timezone.utc)


async def test_csp_statuses_of_one_profile(registry: Registry, client: Vonage):
    registry.on("GET", "/business-profiles/bp1/csps", body=page("business_profile_csp_statuses"))

    assert await client.network_registry.business_profiles.csp_statuses("bp1").all() == []
    assert registry.only().query == {}


async def test_csp_status_for_one_csp(registry: Registry, client: Vonage):
    registry.on("GET", "/business-profiles/bp1/csps/telefonica_es", body=BP_CSP_STATUS)

    status = await client.network_registry.business_profiles.csp_status("bp1", "telefonica_es")

    assert registry.only().authorization == BASIC
    assert status.message == "Some message"
    assert status.account_id == "acc102846"


async def test_business_profile_shared_with(registry: Registry, client: Vonage):
    registry.on(
        "GET",
        "/business-profiles/bp1/shared",
        body=page("account_ids", {"account_id": "acc102846"}),
    )

    accounts = await client.network_registry.business_profiles.shared_with("bp1", limit=1).all()

    assert registry.only().query == {"limit": "1"}
    assert [a.account_id for a in accounts] == ["acc102846"]


async def test_put_change_request(registry: Registry, client: Vonage):
    answered = copy.deepcopy(BUSINESS_PROFILE)
    answered["change_request"] = {
        **CHANGE_REQUEST,
        "status": {"status": "pending"},
        "created_at": "2023-11-07T07:20:50.52Z",
    }
    registry.on("PUT", "/business-profiles/bp1/change-request", body=answered)

    profile = await client.network_registry.business_profiles.put_change_request(
        "bp1", BusinessProfileChangeRequest(**CHANGE_REQUEST)
    )

    seen = registry.only()
    assert (seen.method, seen.authorization) == ("PUT", BASIC)
    assert seen.body == CHANGE_REQUEST  # the seed's example, display-name organisation type kept
    change = profile.change_request
    assert change is not None and change.status is not None
    assert change.status.status.value == "pending"
    assert change.organisation_type is not None and not change.organisation_type.known
    assert change.organisation_type.value == "For-Profit Organisation"


async def test_change_request_sends_only_what_changes(registry: Registry, client: Vonage):
    registry.on("PUT", "/business-profiles/bp1/change-request", body=BUSINESS_PROFILE)

    await client.network_registry.business_profiles.put_change_request(
        "bp1", trading_name="New Trading Ltd.", dpo_required=False
    )

    assert registry.only().body == {"trading_name": "New Trading Ltd.", "dpo_required": False}


async def test_linked_applications_of_a_business_profile(registry: Registry, client: Vonage):
    registry.on(
        "GET",
        "/business-profiles/bp1/linked-applications",
        body=page(
            "linked_applications", {"account_id": "acc102846", "vonage_application_id": "d65hx4ghh"}
        ),
    )

    [app] = await client.network_registry.business_profiles.linked_applications("bp1").all()

    assert registry.only().method == "GET"
    assert (app.account_id, app.vonage_application_id) == ("acc102846", "d65hx4ghh")


# -- application profiles --------------------------------------------------------------------


async def test_create_application_profile(registry: Registry, client: Vonage):
    registry.on("POST", "/application-profiles", 201, APPLICATION_PROFILE)

    profile = await client.network_registry.application_profiles.create(
        ApplicationProfileRequest(**CREATE_APPLICATION_PROFILE)
    )

    seen = registry.only()
    assert (seen.method, seen.path, seen.authorization) == (
        "POST",
        f"{ROOT}/application-profiles",
        BASIC,
    )
    assert seen.body == CREATE_APPLICATION_PROFILE
    assert_seed_application_profile(profile)


async def test_create_application_profile_from_keywords(registry: Registry, client: Vonage):
    registry.on("POST", "/application-profiles", 201, APPLICATION_PROFILE)

    await client.network_registry.application_profiles.create(
        business_profile_id="bp1",
        name="Fraud checks",
        category_id=Category.FINANCE,
        network_apis=[NetworkApiUse("sim-swap", ["fraudPreventionAndDetection"])],
        infrastructure_locations=["ES"],
    )

    assert registry.only().body == {
        "business_profile_id": "bp1",
        "name": "Fraud checks",
        "category_id": "finance",
        "network_apis": [
            {"network_api_id": "sim-swap", "purpose_ids": ["fraudPreventionAndDetection"]}
        ],
        "infrastructure_locations": ["ES"],
    }


async def test_list_application_profiles_with_filters(registry: Registry, client: Vonage):
    registry.on(
        "GET", "/application-profiles", body=page("application_profiles", APPLICATION_PROFILE)
    )

    profiles = await client.network_registry.application_profiles.list(
        status="Partially-Accepted", business_profile_id="bp1", shared=False, limit=10
    ).all()

    seen = registry.only()
    assert seen.query == {
        "status": "partially-accepted",
        "business_profile_id": "bp1",
        "shared": "false",
        "limit": "10",
    }
    assert seen.authorization == BASIC
    assert_seed_application_profile(profiles[0])


async def test_get_application_profile(registry: Registry, client: Vonage):
    registry.on("GET", "/application-profiles/ap1", body=APPLICATION_PROFILE)

    profile = await client.network_registry.application_profiles.get("ap1")

    assert registry.only().authorization == BASIC
    assert_seed_application_profile(profile)


@pytest.mark.parametrize(
    ("operation", "args", "method", "path", "body"),
    [
        ("delete", ("ap1",), "DELETE", "/application-profiles/ap1", None),
        ("undelete", ("ap1",), "POST", "/application-profiles/ap1/undelete", None),
        (
            "dismiss_notification",
            ("ap1",),
            "POST",
            "/application-profiles/ap1/notification/dismiss",
            None,
        ),
        ("share", ("ap1",), "POST", "/application-profiles/ap1/shared", {}),
        ("unshare", ("ap1", "acc9"), "DELETE", "/application-profiles/ap1/shared/acc9", None),
    ],
)
async def test_application_profile_actions_without_a_body_return_none(
    registry: Registry,
    client: Vonage,
    operation: str,
    args: tuple[str, ...],
    method: str,
    path: str,
    body: Any,
):
    registry.on(method, path, 204)

    result = await getattr(client.network_registry.application_profiles, operation)(*args)

    assert result is None
    seen = registry.only()
    assert (seen.method, seen.path, seen.body, seen.authorization) == (
        method,
        ROOT + path,
        body,
        BASIC,
    )


async def test_application_csp_statuses_with_every_filter(registry: Registry, client: Vonage):
    registry.on(
        "GET",
        "/application-profiles/*/csps",
        body=page("application_profile_csp_statuses", AP_CSP_STATUS),
    )

    [status] = await client.network_registry.application_profiles.csp_statuses(
        status=ApplicationCspStatus.PROVISIONING_ORDER,
        plmn_id="21407" + "0" * 9,
        csp_id="telefonica_es",
        limit=5,
    ).all()

    seen = registry.only()
    assert seen.path == f"{ROOT}/application-profiles/*/csps"
    assert seen.query == {
        "status": "provisioning-order",
        "plmn_id": "21407000000000",
        "csp_id": "telefonica_es",
        "limit": "5",
    }
    assert status.status is ApplicationCspStatus.NOT_SUBMITTED
    assert status.previous_status is ApplicationCspStatus.NOT_SUBMITTED
    assert status.connectivity_status is ConnectivityStatus.NOT_KNOWN
    assert status.connectivity_status.known  # "UNKNOWN" is a documented value
    assert status.network_apis == ["sim-swap", "number-verification"]
    assert status.allowlist_check_required is False


async def test_application_csp_status_for_one_csp(registry: Registry, client: Vonage):
    registry.on("GET", "/application-profiles/ap1/csps/telefonica_es", body=AP_CSP_STATUS)

    status = await client.network_registry.application_profiles.csp_status("ap1", "telefonica_es")

    assert registry.only().authorization == BASIC
    assert status.application_profile_id == "2hotg2Wzoy65nG6VKNaap4VFQvC"


async def test_application_profile_shared_with(registry: Registry, client: Vonage):
    registry.on(
        "GET",
        "/application-profiles/ap1/shared",
        body=page("account_ids", {"account_id": "acc102846"}),
    )

    accounts = await client.network_registry.application_profiles.shared_with("ap1").all()

    assert registry.only().query == {}
    assert accounts[0].account_id == "acc102846"


async def test_linked_applications_of_an_application_profile(registry: Registry, client: Vonage):
    registry.on(
        "GET",
        "/application-profiles/ap1/linked-applications",
        body=page(
            "linked_applications", {"account_id": "acc102846", "vonage_application_id": "d65hx4ghh"}
        ),
    )

    apps = await client.network_registry.application_profiles.linked_applications("ap1").all()

    assert [a.vonage_application_id for a in apps] == ["d65hx4ghh"]


# -- catalogue -------------------------------------------------------------------------------


async def test_catalogue_listings(registry: Registry, client: Vonage):
    catalogue = client.network_registry.catalogue
    registry.on(
        "GET", "/catalogue/countries", body=page("countries", {"code": "ES", "name": "Spain"})
    )
    registry.on(
        "GET",
        "/catalogue/organisation-types",
        body=page(
            "organisation_types", {"id": "forProfitOrganisation", "name": "For-Profit Organisation"}
        ),
    )
    registry.on(
        "GET",
        "/catalogue/categories",
        body=page("categories", {"id": "autoAndVehicle", "name": "Auto and Vehicle"}),
    )
    registry.on(
        "GET",
        "/catalogue/vetting-levels",
        body=page("vetting_levels", VETTING_LEVEL),
    )
    registry.on("GET", "/catalogue/terms-and-conditions", body=page("terms_and_conditions", TERMS))

    [country] = await catalogue.countries().all()
    [organisation_type] = await catalogue.organisation_types().all()
    [category] = await catalogue.categories().all()
    [level] = await catalogue.vetting_levels().all()
    [terms] = await catalogue.terms_and_conditions().all()

    assert [(s.method, s.path, s.authorization) for s in registry.seen] == [
        ("GET", f"{ROOT}/catalogue/countries", BASIC),
        ("GET", f"{ROOT}/catalogue/organisation-types", BASIC),
        ("GET", f"{ROOT}/catalogue/categories", BASIC),
        ("GET", f"{ROOT}/catalogue/vetting-levels", BASIC),
        ("GET", f"{ROOT}/catalogue/terms-and-conditions", BASIC),
    ]
    assert (country.code, country.name) == ("ES", "Spain")
    assert OrganisationType(organisation_type.id) is OrganisationType.FOR_PROFIT_ORGANISATION
    assert (category.id, category.name) == ("autoAndVehicle", "Auto and Vehicle")
    assert level.extra_fields == ["legal_company_name", "business_registration_registrar"]
    assert terms.text.endswith("T&C endpoint.\n")


async def test_catalogue_csps_with_filters(registry: Registry, client: Vonage):
    registry.on(
        "GET",
        "/catalogue/csps",
        body=page(
            "csps",
            {
                "id": "telefonica_es",
                "name": "Telefonica",
                "country": "ES",
                "supported_network_apis": ["sim-swap", "number-verification"],
                "vetting_level": "standard_vetting",
            },
        ),
    )

    [csp] = await client.network_registry.catalogue.csps(countries=["ES", "DE"], all=True).all()

    assert registry.only().query == {"countries": "ES,DE", "all": "true"}
    assert (csp.id, csp.name, csp.country, csp.vetting_level) == (
        "telefonica_es",
        "Telefonica",
        "ES",
        "standard_vetting",
    )
    assert csp.supported_network_apis == ["sim-swap", "number-verification"]


async def test_catalogue_network_apis_reads_the_seeds_nested_requirements(
    registry: Registry, client: Vonage
):
    registry.on(
        "GET",
        "/catalogue/network-apis",
        body=page(
            "network_apis",
            {"id": "sim-swap", "name": "SIM Swap", "requires": [["nv_redirect_url"]]},
            {"id": "qod", "name": "QoD", "requires": ["qod_callback_url", "teleport_url"]},
        ),
    )

    apis = await client.network_registry.catalogue.network_apis(countries="ES").all()

    assert registry.only().query == {"countries": "ES"}
    assert apis[0].requires == [NetworkApiRequirement.NV_REDIRECT_URL]
    assert apis[1].requires[0] is NetworkApiRequirement.QOD_CALLBACK_URL
    assert apis[1].requires[1].value == "teleport_url" and not apis[1].requires[1].known


async def test_catalogue_purposes_filtered_by_network_apis(registry: Registry, client: Vonage):
    registry.on(
        "GET",
        "/catalogue/purposes",
        body=page(
            "purposes",
            {
                "id": "fraudPreventionAndDetection",
                "name": "Fraud Prevention and Detection",
                "network_api_id": "sim-swap",
            },
        ),
    )

    [purpose] = await client.network_registry.catalogue.purposes(
        network_apis=["sim-swap", "qod"]
    ).all()

    assert registry.only().query == {"network-apis": "sim-swap,qod"}
    assert purpose.network_api_id == "sim-swap"


async def test_catalogue_single_entries(registry: Registry, client: Vonage):
    registry.on("GET", "/catalogue/vetting-levels/standard_level", body=VETTING_LEVEL)
    registry.on("GET", "/catalogue/terms-and-conditions/general", body=TERMS)

    level = await client.network_registry.catalogue.vetting_level("standard_level")
    terms = await client.network_registry.catalogue.terms_and_condition("general")

    assert [s.authorization for s in registry.seen] == [BASIC, BASIC]
    assert (level.name, level.description) == ("Standard level", "Standard vetting level")
    assert terms.name == "General terms and conditions"


# -- paging ----------------------------------------------------------------------------------


async def test_cursor_paging_follows_next_across_pages(registry: Registry, client: Vonage):
    def listing(request: web.Request) -> Reply:
        cursor = request.query.get("next")
        after = {None: "c1", "c1": "c2", "c2": None}[cursor]
        href = f"{registry.base}/business-profiles?next={after}&limit=2" if after else None
        ids = {None: ["a", "b"], "c1": ["c", "d"], "c2": ["e"]}[cursor]
        return 200, page("business_profiles", *({"id": i} for i in ids), next_href=href)

    registry.on_call("GET", "/business-profiles", listing)

    ids = [p.id async for p in client.network_registry.business_profiles.list(limit=2)]

    assert ids == ["a", "b", "c", "d", "e"]
    assert [s.query for s in registry.seen] == [
        {"limit": "2"},
        {"next": "c1", "limit": "2"},
        {"next": "c2", "limit": "2"},
    ]
    assert all(s.authorization == BASIC for s in registry.seen)


async def test_a_listing_stops_and_resumes_from_its_next_cursor(registry: Registry, client: Vonage):
    def listing(request: web.Request) -> Reply:
        cursor = request.query.get("next")
        after = {None: "c1", "c1": "c2", "c2": None}[cursor]
        href = f"{registry.base}/business-profiles?next={after}&limit=2" if after else None
        ids = {None: ["a", "b"], "c1": ["c", "d"], "c2": ["e"]}[cursor]
        return 200, page("business_profiles", *({"id": i} for i in ids), next_href=href)

    registry.on_call("GET", "/business-profiles", listing)
    profiles = client.network_registry.business_profiles

    first = profiles.list(limit=2)
    assert first.next_cursor is None  # nothing read yet
    async for p in first.pages():
        assert [x.id for x in p.items] == ["a", "b"]
        break  # the job stops after one page...
    assert first.next_cursor == "c1"

    resumed = profiles.list(limit=2, cursor=first.next_cursor)  # ...and resumes later
    assert [p.id async for p in resumed] == ["c", "d", "e"]
    assert resumed.next_cursor is None  # the end
    assert registry.seen[1].query == {"limit": "2", "next": "c1"}


REGISTRY_LISTINGS: list[Callable[[Any], Any]] = [
    lambda r: r.business_profiles.list,
    lambda r: r.business_profiles.csp_statuses,
    lambda r: functools.partial(r.business_profiles.shared_with, "bp1"),
    lambda r: functools.partial(r.business_profiles.linked_applications, "bp1"),
    lambda r: r.application_profiles.list,
    lambda r: r.application_profiles.csp_statuses,
    lambda r: functools.partial(r.application_profiles.shared_with, "ap1"),
    lambda r: functools.partial(r.application_profiles.linked_applications, "ap1"),
    lambda r: r.catalogue.countries,
    lambda r: r.catalogue.organisation_types,
    lambda r: r.catalogue.categories,
    lambda r: r.catalogue.csps,
    lambda r: r.catalogue.network_apis,
    lambda r: r.catalogue.purposes,
    lambda r: r.catalogue.vetting_levels,
    lambda r: r.catalogue.terms_and_conditions,
]


@pytest.mark.parametrize("listing", REGISTRY_LISTINGS)
async def test_every_listing_takes_a_cursor(
    registry: Registry, client: Vonage, listing: Callable[[Any], Any]
):
    method = listing(client.network_registry)
    with contextlib.suppress(errors.NotFoundError):  # any answer will do: the query counts
        await method(cursor="opaque-19284743").first()
    assert registry.only().query.get("next") == "opaque-19284743"

    for bad in ("", "two words", "line\n", "ümlaut", 19284743, "x" * 3000):
        with pytest.raises(errors.ValidationError):
            method(cursor=bad)
    assert len(registry.seen) == 1


async def test_a_scheme_relative_next_link_is_refused(registry: Registry, client: Vonage):
    href = "//elsewhere.example/v1/network-registry/business-profiles?next=c1"
    registry.on(
        "GET", "/business-profiles", body=page("business_profiles", {"id": "a"}, next_href=href)
    )
    with pytest.raises(errors.UnsafeURLError):
        await client.network_registry.business_profiles.list().all()
    assert len(registry.seen) == 1


async def test_max_items_stops_paging_early(registry: Registry, client: Vonage):
    href = f"{registry.base}/catalogue/countries?next=more"
    registry.on(
        "GET",
        "/catalogue/countries",
        body=page("countries", {"code": "ES"}, {"code": "DE"}, next_href=href),
    )

    countries = await client.network_registry.catalogue.countries(max_items=1).all()

    assert [c.code for c in countries] == ["ES"]
    assert len(registry.seen) == 1


async def test_a_next_link_to_another_host_is_refused(registry: Registry, client: Vonage):
    # The seed's own example link points at example.com: it must never be followed.
    registry.on(
        "GET",
        "/business-profiles",
        body=page("business_profiles", BUSINESS_PROFILE, next_href=SEED_SELF["href"]),
    )
    pager = client.network_registry.business_profiles.list()
    got: list[BusinessProfile] = []

    with pytest.raises(errors.UnsafeURLError):
        async for profile in pager:
            got.append(profile)

    assert len(got) == 1
    assert len(registry.seen) == 1


# -- errors ----------------------------------------------------------------------------------


async def test_not_found_maps_to_a_typed_error(registry: Registry, client: Vonage):
    registry.on(
        "DELETE",
        "/business-profiles/bp1/change-request",
        404,
        {"title": "Not Found", "detail": "There is no change request for this business profile"},
    )

    with pytest.raises(errors.NotFoundError) as caught:
        await client.network_registry.business_profiles.delete_change_request("bp1")

    assert caught.value.status == 404
    assert "no change request" in caught.value.message


async def test_invalid_request_lists_the_servers_invalid_parameters(
    registry: Registry, client: Vonage
):
    registry.on(
        "POST",
        "/application-profiles",
        400,
        {
            "title": "Bad Request",
            "detail": "The request failed validation",
            "invalid_parameters": [{"name": "business_profile_id", "reason": "not found"}],
        },
    )

    with pytest.raises(errors.InvalidRequestError) as caught:
        await client.network_registry.application_profiles.create(**CREATE_APPLICATION_PROFILE)

    assert caught.value.invalid_parameters == [
        {"name": "business_profile_id", "reason": "not found"}
    ]
    assert len(registry.seen) == 1  # a POST is never retried


async def test_wrong_credentials_raise_authentication_error(registry: Registry, client: Vonage):
    registry.on("GET", "/catalogue/vetting-levels/x", 401, {"title": "Unauthorized"})

    with pytest.raises(errors.AuthenticationError):
        await client.network_registry.catalogue.vetting_level("x")


async def test_unknown_enum_values_from_the_server_still_decode(registry: Registry, client: Vonage):
    odd = {
        **BUSINESS_PROFILE,
        "organisation_type": "cooperative",
        "status": {"status": "on-hold"},
        "vetting_info": {"consent": "maybe"},
    }
    registry.on("GET", "/business-profiles/bp1", body=odd)

    profile = await client.network_registry.business_profiles.get("bp1")

    assert profile.organisation_type is not None and not profile.organisation_type.known
    assert profile.organisation_type.value == "cooperative"
    assert profile.status is not None and profile.status.status is not None
    assert profile.status.status.value == "on-hold" and not profile.status.status.known
    assert profile.vetting_info is not None and profile.vetting_info.consent is not None
    assert not profile.vetting_info.consent.known


# -- bad input is refused before anything is sent ------------------------------------------


def business(**changes: Any) -> dict[str, Any]:
    fields = copy.deepcopy(CREATE_BUSINESS_PROFILE)
    for key, value in changes.items():
        if value is ...:
            del fields[key]
        else:
            fields[key] = value
    return fields


def application(**changes: Any) -> dict[str, Any]:
    fields = copy.deepcopy(CREATE_APPLICATION_PROFILE)
    for key, value in changes.items():
        if value is ...:
            del fields[key]
        else:
            fields[key] = value
    return fields


def address(**changes: Any) -> dict[str, Any]:
    return {**BUSINESS_INFORMATION, **changes}


Call = Callable[[Vonage], Any]


def bad_inputs() -> Iterator[Any]:
    def case(parameter: str, call: Call, id: str) -> Any:
        return pytest.param(parameter, call, id=id)

    bp = lambda c: c.network_registry.business_profiles  # noqa: E731
    ap = lambda c: c.network_registry.application_profiles  # noqa: E731
    cat = lambda c: c.network_registry.catalogue  # noqa: E731

    # limit 1..100 on every listing that takes one
    yield case("limit", lambda c: bp(c).list(limit=0), "bp-list-limit-0")
    yield case("limit", lambda c: bp(c).list(limit=101), "bp-list-limit-101")
    yield case("limit", lambda c: bp(c).list(limit="10"), "bp-list-limit-str")
    yield case("limit", lambda c: bp(c).csp_statuses(limit=0), "bp-csps-limit")
    yield case("limit", lambda c: bp(c).shared_with("bp1", limit=500), "bp-shared-limit")
    yield case("limit", lambda c: ap(c).list(limit=101), "ap-list-limit")
    yield case("limit", lambda c: ap(c).csp_statuses(limit=-1), "ap-csps-limit")
    yield case("limit", lambda c: ap(c).shared_with("ap1", limit=0), "ap-shared-limit")
    yield case("shared", lambda c: bp(c).list(shared="yes"), "shared-not-bool")
    # documented enums of the filters
    yield case("status", lambda c: bp(c).csp_statuses(status="accepted-ish"), "bp-csp-status")
    yield case("status", lambda c: ap(c).list(status="reviewed"), "ap-status-of-bp")
    yield case("status", lambda c: ap(c).csp_statuses(status="waiting-for-vetting"), "ap-csp-st")
    # plmn_id is 14..15 characters
    yield case("plmn_id", lambda c: ap(c).csp_statuses(plmn_id="2140701"), "plmn-short")
    yield case("plmn_id", lambda c: ap(c).csp_statuses(plmn_id="2" * 16), "plmn-long")
    # ids never alter the path
    yield case("id", lambda c: bp(c).get("../business-profiles"), "id-dotdot")
    yield case("id", lambda c: bp(c).get("a/b"), "id-slash")
    yield case("id", lambda c: bp(c).delete(""), "id-empty")
    yield case("id", lambda c: bp(c).csp_statuses(".."), "csps-id-dotdot")
    yield case("csp_id", lambda c: bp(c).csp_status("bp1", "x/../y"), "csp-id-slash")
    yield case("id", lambda c: ap(c).undelete(".."), "ap-id-dotdot")
    yield case("account_id", lambda c: ap(c).unshare("ap1", "../x"), "account-id")
    yield case("id", lambda c: cat(c).vetting_level("a/b"), "vetting-level-id")
    yield case("id", lambda c: cat(c).terms_and_condition(".."), "terms-id")
    # ISO 3166 country filters
    yield case("countries[0]", lambda c: cat(c).csps(countries=["Spain"]), "csps-countries")
    yield case("countries[1]", lambda c: cat(c).network_apis(countries=["ES", "es"]), "apis-ctry")
    yield case("all", lambda c: cat(c).csps(all=1), "csps-all-not-bool")

    # business profile create: required fields, lengths, shapes, terms
    create = lambda **kw: lambda c: bp(c).create(**business(**kw))  # noqa: E731
    yield case("countries", create(countries=...), "bp-countries-missing")
    yield case("countries", create(countries=[]), "bp-countries-empty")
    yield case("countries[1]", create(countries=["ES", "ESP"]), "bp-country-3-letters")
    yield case("contact_role", create(contact_role=...), "bp-contact-role-missing")
    yield case("contact_role", create(contact_role="r" * 101), "bp-contact-role-101")
    yield case("name", create(name="n" * 101), "bp-name-101")
    yield case("name", create(name="  "), "bp-name-blank")
    yield case("trading_name", create(trading_name="t" * 101), "bp-trading-name-101")
    yield case("organisation_type", create(organisation_type="corporation"), "bp-org-type")
    yield case("organisation_type", create(organisation_type=...), "bp-org-type-missing")
    yield case("tax_number", create(tax_number=...), "bp-tax-number-missing")
    yield case("tax_number", create(tax_number="1" * 101), "bp-tax-number-101")
    yield case("business_registration_id", create(business_registration_id="x" * 101), "bp-reg")
    yield case("issuing_authority", create(issuing_authority="x" * 101), "bp-authority")
    yield case("privacy_policy_url", create(privacy_policy_url="www.x.com/p"), "bp-url-shape")
    yield case(
        "privacy_policy_url",
        create(privacy_policy_url="https://x.com/" + "p" * 487),
        "bp-url-501",
    )
    yield case("privacy_policy_url", create(privacy_policy_url=...), "bp-url-missing")
    yield case(
        "privacy_policy_manager_email",
        create(privacy_policy_manager_email="privacy manager"),
        "bp-manager-email",
    )
    yield case("dpo_email", create(dpo_email="dpo@"), "bp-dpo-email")
    yield case("dpo_required", create(dpo_required="true"), "bp-dpo-required-str")
    yield case("terms_and_conditions_accepted", create(terms_and_conditions_accepted=False), "tc")
    yield case("terms_and_conditions_accepted", create(terms_and_conditions_accepted=...), "tc-0")
    yield case("business_information", create(business_information=...), "bp-address-missing")
    yield case(
        "business_information.country",
        create(business_information=address(country="ESP")),
        "bp-address-country",
    )
    yield case(
        "business_information.address_street_1",
        create(business_information=address(address_street_1="s" * 501)),
        "bp-street-501",
    )
    yield case(
        "business_information.city",
        create(business_information={k: v for k, v in address().items() if k != "city"}),
        "bp-city-missing",
    )
    yield case(
        "business_information.province",
        create(business_information=address(province="p" * 501)),
        "bp-province-501",
    )
    yield case("vetting_extra_fields", create(vetting_extra_fields=["NIF"]), "bp-vetting-extra")

    # change request: only what is given is checked, with the same limits
    change = lambda **kw: lambda c: bp(c).put_change_request("bp1", **kw)  # noqa: E731
    yield case("name", change(name="n" * 101), "cr-name-101")
    yield case("organisation_type", change(organisation_type="o" * 101), "cr-org-type-101")
    yield case("dpo_email", change(dpo_email="nobody"), "cr-dpo-email")
    yield case("countries[0]", change(countries=["XXX"]), "cr-country")
    yield case(
        "business_information.postal_code",
        change(business_information=address(postal_code=None)),
        "cr-postal-code-missing",
    )
    yield case(
        "terms_and_conditions_accepted", change(terms_and_conditions_accepted=False), "cr-tc"
    )
    yield case("id", lambda c: bp(c).put_change_request("a/b", name="x"), "cr-id")

    # application profile create
    app = lambda **kw: lambda c: ap(c).create(**application(**kw))  # noqa: E731
    yield case("business_profile_id", app(business_profile_id=...), "ap-bp-id-missing")
    yield case("business_profile_id", app(business_profile_id="b" * 101), "ap-bp-id-101")
    yield case("name", app(name=...), "ap-name-missing")
    yield case("name", app(name="n" * 101), "ap-name-101")
    yield case("description", app(description="d" * 1001), "ap-description-1001")
    yield case("category_id", app(category_id="crypto"), "ap-category")
    yield case("category_id", app(category_id=...), "ap-category-missing")
    yield case("network_apis", app(network_apis=[]), "ap-apis-empty")
    yield case(
        "network_apis[0].purpose_ids",
        app(network_apis=[{"network_api_id": "sim-swap"}]),
        "ap-purposes-missing",
    )
    yield case(
        "network_apis[0].network_api_id",
        app(network_apis=[{"purpose_ids": ["x"]}]),
        "ap-api-id-missing",
    )
    yield case("terms_and_conditions_accepted", app(terms_and_conditions_accepted=False), "ap-tc")
    yield case("infrastructure_locations", app(infrastructure_locations=...), "ap-locations")
    yield case("privacy_policy_url", app(privacy_policy_url="ftp://x.com/p"), "ap-url-shape")
    yield case(
        "privacy_policy_url", app(privacy_policy_url="https://x.com/" + "p" * 487), "ap-url-501"
    )


@pytest.mark.parametrize(("parameter", "call"), list(bad_inputs()))
async def test_bad_input_is_refused_before_sending(
    registry: Registry, client: Vonage, parameter: str, call: Call
):
    with pytest.raises(errors.ValidationError) as caught:
        result = call(client)  # listings validate when called, the rest when awaited
        if isinstance(result, Awaitable):
            await result

    assert caught.value.parameter == parameter
    assert registry.seen == []


async def test_an_id_with_query_characters_stays_in_its_segment(registry: Registry, client: Vonage):
    registry.on("GET", "/business-profiles/a%3Fb%23c", body=BUSINESS_PROFILE)

    await client.network_registry.business_profiles.get("a?b#c")

    seen = registry.only()
    assert seen.path == f"{ROOT}/business-profiles/a%3Fb%23c"
    assert seen.query == {}


def test_request_objects_validate_on_their_own():
    BusinessProfileRequest(**CREATE_BUSINESS_PROFILE).validate()
    ApplicationProfileRequest(**CREATE_APPLICATION_PROFILE).validate()
    BusinessProfileChangeRequest().validate()  # nothing to change is still a valid body

    with pytest.raises(errors.ValidationError) as caught:
        BusinessProfileRequest(**business(name=...)).validate()
    assert caught.value.parameter == "name"


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    cursor=st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(max_codepoint=127), max_size=40),
        st.from_regex(r"[A-Za-z0-9._~=-]{1,60}", fullmatch=True),
    )
)
def test_a_cursor_is_sent_verbatim_or_refused_before_sending(cursor: str) -> None:
    client = Vonage(network_registry_auth=BasicAuth(KEY, SECRET))
    try:
        pager = client.network_registry.business_profiles.list(cursor=cursor)
    except errors.ValidationError as exc:
        assert exc.parameter == "cursor"
        assert not (cursor.isascii() and cursor.isprintable() and " " not in cursor and cursor)
    else:
        assert pager._params["next"] == cursor  # nothing reshaped
        assert cursor.isascii() and cursor.isprintable() and " " not in cursor
