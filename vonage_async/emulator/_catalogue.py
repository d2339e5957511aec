"""Static Network Registry catalogue data (seed 004), as the API serves it."""

from __future__ import annotations

from typing import Any

COUNTRIES: list[dict[str, Any]] = [
    {"code": code, "name": name}
    for code, name in [
        ("BR", "Brazil"),
        ("CA", "Canada"),
        ("DE", "Germany"),
        ("ES", "Spain"),
        ("FR", "France"),
        ("GB", "United Kingdom"),
        ("IT", "Italy"),
        ("NL", "Netherlands"),
        ("US", "United States"),
    ]
]

ORGANISATION_TYPES: list[dict[str, Any]] = [
    {"id": i, "name": n}
    for i, n in [
        ("academicScientificOrganisation", "Academic/Scientific Organisation"),
        ("forProfitOrganisation", "For-Profit Organisation"),
        ("governmentalOrganisation", "Governmental Organisation"),
        ("industryConsortium", "Industry Consortium"),
        ("internationalOrganisation", "International Organisation"),
        ("nonProfitOrganisation", "Non-Profit Organisation"),
        ("nonGovernmentalOrganisation", "Non-Governmental Organisation"),
        ("organisationalUnit", "Organisational Unit"),
    ]
]

CATEGORIES: list[dict[str, Any]] = [
    {"id": i, "name": n}
    for i, n in [
        ("autoAndVehicle", "Auto and Vehicle"),
        ("finance", "Finance"),
        ("gaming", "Gaming"),
        ("healthcare", "Healthcare"),
        ("retail", "Retail"),
        ("telecommunications", "Telecommunications"),
        ("travel", "Travel"),
    ]
]

NETWORK_APIS: list[dict[str, Any]] = [
    {"id": "sim-swap", "name": "SIM Swap", "requires": []},
    {"id": "number-verification", "name": "Number Verification", "requires": [["nv_redirect_url"]]},
    {"id": "device-location", "name": "Device Location", "requires": []},
    {"id": "device-status", "name": "Device Status", "requires": []},
    {"id": "kyc-match", "name": "KYC Match", "requires": []},
]

_CSP_ROWS = [
    ("telefonica_es", "Telefonica", "ES"),
    ("vodafone_es", "Vodafone", "ES"),
    ("orange_es", "Orange", "ES"),
    ("telekom_de", "Deutsche Telekom", "DE"),
    ("vodafone_de", "Vodafone", "DE"),
    ("o2_de", "O2", "DE"),
    ("ee_gb", "EE", "GB"),
    ("vodafone_gb", "Vodafone", "GB"),
    ("o2_gb", "O2", "GB"),
    ("three_gb", "Three", "GB"),
    ("orange_fr", "Orange", "FR"),
    ("sfr_fr", "SFR", "FR"),
    ("tim_it", "TIM", "IT"),
    ("kpn_nl", "KPN", "NL"),
    ("att_us", "AT&T", "US"),
    ("tmobile_us", "T-Mobile", "US"),
    ("verizon_us", "Verizon", "US"),
    ("vivo_br", "Vivo", "BR"),
    ("claro_br", "Claro", "BR"),
    ("rogers_ca", "Rogers", "CA"),
    ("bell_ca", "Bell", "CA"),
    ("telus_ca", "Telus", "CA"),
]
CSPS: list[dict[str, Any]] = [
    {
        "id": i,
        "name": n,
        "country": c,
        "supported_network_apis": ["sim-swap", "number-verification"]
        + (["device-location"] if c in ("ES", "DE", "GB") else []),
        "vetting_level": "escalated_plus" if c == "US" else "standard_level",
    }
    for i, n, c in _CSP_ROWS
]

PURPOSES: list[dict[str, Any]] = [
    {
        "id": "fraudPreventionAndDetection",
        "name": "Fraud Prevention and Detection",
        "network_api_id": a,
    }
    for a in ("sim-swap", "number-verification", "device-location")
] + [
    {"id": "identityVerification", "name": "Identity Verification", "network_api_id": "kyc-match"},
    {"id": "fleetManagement", "name": "Fleet Management", "network_api_id": "device-location"},
]

VETTING_LEVELS: list[dict[str, Any]] = [
    {
        "id": "standard_level",
        "name": "Standard level",
        "description": "Standard vetting level",
        "extra_fields": ["legal_company_name", "business_registration_registrar"],
    },
    {
        "id": "escalated_plus",
        "name": "Escalated plus",
        "description": "Escalated vetting level with DUNS check",
        "extra_fields": ["legal_company_name", "duns_number", "tax_number_type"],
    },
]

TERMS_AND_CONDITIONS: list[dict[str, Any]] = [
    {
        "id": "general",
        "name": "General terms and conditions",
        "text": "T&Cs are determined by Network Registry. You may retrieve the latest version of "
        "those terms and \nconditions using the Network Registry T&C endpoint.\n",
    },
    {
        "id": "vetting",
        "name": "Vetting terms and conditions",
        "text": "You agree that the business details you provide may be verified.\n",
    },
]


def csps_in(countries: list[str]) -> list[dict[str, Any]]:
    """The CSPs operating in any of these countries."""
    return [c for c in CSPS if c["country"] in countries]
