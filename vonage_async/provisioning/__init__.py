"""VBC Provisioning (seed 000) and the Extension API (seed 001)."""

from ._api import Accounts, Extensions, Locations, Provisioning, Users
from ._models import (
    Account,
    Address,
    ContactNumber,
    Did,
    Extension,
    ExtensionUser,
    Handset,
    Link,
    Location,
    User,
    UserExtension,
)

__all__ = [
    "Account",
    "Accounts",
    "Address",
    "ContactNumber",
    "Did",
    "Extension",
    "ExtensionUser",
    "Extensions",
    "Handset",
    "Link",
    "Location",
    "Locations",
    "Provisioning",
    "User",
    "UserExtension",
    "Users",
]
