"""The one shared model behind every API family of the emulator.

Handlers read it and call its methods; nothing here knows about HTTP. Every change that Live
Status can see bumps ``version`` and stamps the touched extensions, so a long poll can tell
whether its extensions changed since the document it last delivered.
"""

from __future__ import annotations

import asyncio
import math
import random
import string
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import attrs

from . import _catalogue

_FIRST = ["John", "Sarah", "David", "Maria", "James", "Linda", "Robert", "Emma", "Ahmed", "Yuki"]
_FIRST += ["Carlos", "Priya", "Olga", "Kwame", "Lucia", "Tom", "Ines", "Noah", "Mia", "Omar"]
_LAST = ["Doe", "Smith", "Roberts", "Garcia", "Chen", "Okafor", "Muller", "Rossi", "Tanaka"]
_LAST += ["Silva", "Novak", "Kowalski", "Dubois", "Jensen", "Haddad", "Singh", "Brown", "Lee"]

RESULTS = ("answered", "unanswered", "voicemail")


@attrs.define
class Location:
    id: int
    name: str
    address: dict[str, str]


@attrs.define
class Did:
    phone_number: str
    custom_tag: str = ""


@attrs.define
class User:
    id: int
    login_name: str
    first_name: str
    last_name: str
    email: str
    contact_numbers: list[dict[str, str]]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@attrs.define
class Extension:
    number: str
    external_id: str
    user_id: int
    location_id: int
    caller_id: str
    dids: list[Did]
    handsets: list[dict[str, str]]
    dnd: bool = False
    vtt_enabled: bool = True
    block_caller_id: bool = False
    #: ``State.version`` when Live Status last saw this extension change.
    changed: int = 0


@attrs.define
class Device:
    mac_address: str
    device_ip: str
    extension: str
    registered_at: int
    last_request: int
    last_success: int


@attrs.define
class Leg:
    leg_id: str
    direction: str
    from_: str
    to: str
    status: str
    start_time: int
    end_time: int | None = None
    held: bool = False
    stream_url: str | None = None
    dtmf: list[str] = attrs.Factory(list)


@attrs.define
class Call:
    call_id: str
    presence_call_id: str
    from_: str
    to: str
    caller_ext: str | None
    callee_ext: str | None
    #: From the account's point of view: inbound, outbound or intrapbx.
    direction: str
    start_time: float
    legs: list[Leg]
    status: str = "ringing"  # ringing, on-call, ended
    answer_time: float | None = None
    end_time: float | None = None
    result: str = ""
    recorded: bool = False
    click_to_call: bool = False
    custom_tag: str = ""
    caller_name: str = ""
    parked: bool = False
    ended_version: int = 0

    @property
    def extensions(self) -> list[str]:
        return [e for e in (self.caller_ext, self.callee_ext) if e is not None]


@attrs.define
class HistoryRecord:
    timestamp: float
    from_: str
    to: str
    direction: str  # Inbound / Outbound
    extension: str
    custom_tag: str
    caller_id: str
    duration: int
    result: str  # answered / unanswered / voicemail
    presence_call_id: str
    recorded: bool


@attrs.define
class Queue:
    queue_id: str
    name: str
    members: list[str]


class NotFound(LookupError):
    """A name the model does not know."""


class State:
    """Account, people, phones, calls and Network Registry records, driven by one clock."""

    def __init__(
        self,
        *,
        seed: int = 0,
        extensions: int = 8,
        ring_seconds: float = 2.0,
        talk_seconds: float = 5.0,
        history_per_extension: int = 25,
        recording_size: int = 256 * 1024,
        international_blocked: bool = True,
    ) -> None:
        self.rng = random.Random(seed)
        self.ring_seconds = ring_seconds
        self.talk_seconds = talk_seconds
        self.recording_size = recording_size
        self.international_blocked = international_blocked
        self.account_active = True
        self.account_id = "571700"
        self.account_name = "Emulated Business"
        self.registry_account_id = "acc102846"
        self.partner_account_id = "acc555001"
        self.version = 0
        self._changed = asyncio.Event()
        #: Called with a call after each change of its lifecycle (the Integration Platform's log).
        self.call_listeners: list[Callable[[Call], None]] = []
        self._timers: dict[str, list[asyncio.TimerHandle]] = {}
        self.locations: dict[int, Location] = {}
        self.users: dict[int, User] = {}
        self.extensions: dict[str, Extension] = {}
        self.devices: dict[str, Device] = {}
        self.calls: dict[str, Call] = {}
        self.ended: list[Call] = []
        self.history: list[HistoryRecord] = []
        self.recordings: dict[str, int] = {}
        self.conferences: dict[str, str] = {"8991": "Main Conference", "8992": "Sales Conference"}
        self.queues: dict[str, Queue] = {}
        self.business_profiles: dict[str, dict[str, Any]] = {}
        self.application_profiles: dict[str, dict[str, Any]] = {}
        self.csp_statuses: dict[tuple[str, str], dict[str, Any]] = {}
        self.shared_with: dict[str, list[str]] = {}
        self.linked_applications: dict[str, list[str]] = {}
        self._build_directory(max(1, extensions))
        self._build_history(history_per_extension)
        self._build_registry()

    # -- construction -------------------------------------------------------------------------

    def _build_directory(self, count: int) -> None:
        rng = self.rng
        for i, (name, city, state, tz) in enumerate(
            [
                ("Headquarters", "Holmdel", "NJ", "America/New_York"),
                ("West Office", "San Jose", "CA", "America/Los_Angeles"),
            ]
        ):
            loc_id = 327910 + i
            self.locations[loc_id] = Location(
                loc_id,
                name,
                {
                    "address_1": f"{100 + 23 * i} Example Street",
                    "address_2": "",
                    "country": "US",
                    "state": state,
                    "city": city,
                    "postal_code": f"0773{i}",
                    "time_zone": tz,
                },
            )
        loc_ids = list(self.locations)
        # The first user (the one the credentials log in as) owns the first two extensions, so
        # Live Status can answer availability MIXED.
        users = max(1, count - 1)
        for i in range(users):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            login = f"{first[0]}{last}{i or ''}".lower()
            uid = 869048 + i
            self.users[uid] = User(
                uid,
                login,
                first,
                last,
                f"{login}@example.com",
                [{"type": "Mobile", "value": f"1732555{1000 + i:04d}"}],
            )
        user_ids = list(self.users)
        for i in range(count):
            number = str(301 + i)
            uid = user_ids[max(0, i - 1)]
            user = self.users[uid]
            self.extensions[number] = Extension(
                number=number,
                external_id="".join(rng.choices(string.ascii_lowercase + string.digits, k=14)),
                user_id=uid,
                location_id=loc_ids[i % len(loc_ids)],
                caller_id=user.name,
                dids=[Did(f"1415555{100 + i:04d}", "Main" if i == 0 else "")],
                handsets=[
                    {"handset_name": f"line1-VH{6370927 + i}", "sip_id": f"VH1{6370927 + i}"}
                ],
            )
            mac = "-".join(f"{rng.randrange(256):02X}" for _ in range(6))
            t = int(time.time()) - rng.randrange(3600, 30 * 86400)
            self.devices[mac] = Device(
                mac, f"150.24.{rng.randrange(256)}.{rng.randrange(1, 255)}", number, t, t, t
            )
        members = list(self.extensions)[: max(1, count // 2)]
        self.queues["9013"] = Queue("3421", "Billing Queue", members)
        self.queues["9004"] = Queue("1234", "Sales Queue", members[::-1])

    def _build_history(self, per_extension: int) -> None:
        rng, now = self.rng, time.time()
        for n, ext in enumerate(self.extensions.values()):
            # The first extension has more than one answer's worth (100), to test the cap.
            count = per_extension + (110 if n == 0 else 0)
            for _ in range(count):
                inbound = rng.random() < 0.5
                other = f"1{rng.randrange(200, 999)}555{rng.randrange(10000):04d}"
                did = ext.dids[0].phone_number
                result = rng.choices(RESULTS, weights=(7, 2, 1))[0]
                recorded = result == "answered" and rng.random() < 0.3
                pid = self._presence_id()
                if recorded:
                    self.recordings[pid] = self.recording_size
                self.history.append(
                    HistoryRecord(
                        timestamp=now - rng.uniform(600, 30 * 86400),
                        from_=other if inbound else did,
                        to=did if inbound else other,
                        direction="Inbound" if inbound else "Outbound",
                        extension=ext.number,
                        custom_tag=rng.choice(["", "", "sales", "support"]),
                        caller_id=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                        duration=rng.randrange(5, 1800) if result == "answered" else 0,
                        result=result,
                        presence_call_id=pid,
                        recorded=recorded,
                    )
                )

    def _build_registry(self) -> None:
        bp = self.create_business_profile(
            {
                "countries": ["ES", "DE"],
                "contact_role": "CTO",
                "name": "A Business Profile",
                "trading_name": "A Business Profile Ltd.",
                "organisation_type": "forProfitOrganisation",
                "tax_number": "98284687G",
                "privacy_policy_url": "https://www.businessinc.com/privacy_policy",
                "privacy_policy_manager_email": "privacy.manager@business.com",
                "terms_and_conditions_accepted": True,
                "business_information": {
                    "address_street_1": "Main Street 5",
                    "postal_code": "W1 5DU",
                    "country": "ES",
                    "city": "Madrid",
                },
            }
        )
        bp["status"] = {"status": "accepted", "message": ""}
        for status in self.csp_statuses.values():
            status["status"] = "accepted"
        self.linked_applications[bp["id"]] = ["d65hx4ghh"]
        ap = self.create_application_profile(
            {
                "business_profile_id": bp["id"],
                "name": "Network Application Profile",
                "description": "Fraud prevention",
                "category_id": "finance",
                "network_apis": [
                    {"network_api_id": "sim-swap", "purpose_ids": ["fraudPreventionAndDetection"]}
                ],
                "terms_and_conditions_accepted": True,
                "infrastructure_locations": ["ES"],
            }
        )
        self.linked_applications[ap["id"]] = ["d65hx4ghh"]
        shared = self.create_business_profile(dict(bp, name="Partner profile", countries=["GB"]))
        shared["account_id"] = self.partner_account_id
        self.shared_with[shared["id"]] = [self.registry_account_id]

    # -- ids and clocks -----------------------------------------------------------------------

    def _presence_id(self) -> str:
        return "".join(self.rng.choices(string.digits, k=22))

    def new_id(self) -> str:
        """A KSUID-like id, as the registry uses."""
        return "2h" + "".join(self.rng.choices(string.ascii_letters + string.digits, k=25))

    @staticmethod
    def iso_now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # -- change notification ------------------------------------------------------------------

    def touch(self, extensions: Iterable[str]) -> None:
        """Record a change Live Status must report, and wake the long polls."""
        self.version += 1
        for number in extensions:
            ext = self.extensions.get(number)
            if ext is not None:
                ext.changed = self.version
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def call_changed(self, call: Call) -> None:
        """Tell the listeners a call was placed, answered, held, transferred or ended."""
        for listener in self.call_listeners:
            listener(call)

    def changed_since(self, numbers: Iterable[str], version: int) -> bool:
        return any(self.extensions[n].changed > version for n in numbers if n in self.extensions)

    async def wait_changed(self) -> None:
        """Return at the next change of anything."""
        await self._changed.wait()

    def close(self) -> None:
        """Cancel every scheduled call transition (the emulator is stopping)."""
        for handles in self._timers.values():
            for handle in handles:
                handle.cancel()
        self._timers.clear()
        self.touch(())

    # -- directory lookups --------------------------------------------------------------------

    @property
    def login_user(self) -> User:
        """The user the emulator's credentials log in as."""
        return next(iter(self.users.values()))

    def user_extensions(self, user_id: int) -> list[Extension]:
        return sorted(
            (e for e in self.extensions.values() if e.user_id == user_id),
            key=lambda e: int(e.number),
        )

    def extension_by_did(self, number: str) -> Extension | None:
        for ext in self.extensions.values():
            if any(d.phone_number == number for d in ext.dids):
                return ext
        return None

    def set_dnd(self, number: str, dnd: bool) -> None:
        ext = self.extensions.get(number)
        if ext is None:
            raise NotFound(number)
        if ext.dnd != dnd:
            ext.dnd = dnd
            self.touch([number])

    def calls_of(self, number: str) -> list[Call]:
        return [c for c in self.calls.values() if number in c.extensions]

    # -- call lifecycle -----------------------------------------------------------------------

    def place_call(
        self,
        from_: str,
        to: str,
        *,
        answer: bool = True,
        recorded: bool = False,
        click_to_call: bool = False,
        custom_tag: str = "",
        caller_name: str = "",
        ring_seconds: float | None = None,
        talk_seconds: float | None = None,
    ) -> Call:
        """Start a call; it rings, is answered (or not) and hangs up on the state's schedule.

        ``from_`` and ``to`` are extension numbers, DIDs, conference or queue numbers, or
        outside numbers; the direction follows from which side is on the account.
        Needs a running event loop (the schedule uses it). ``talk_seconds=math.inf`` keeps
        the call up until :meth:`hangup`.
        """
        loop = asyncio.get_running_loop()
        caller = from_ if from_ in self.extensions else None
        callee_ext = self.extension_by_did(to)
        callee = to if to in self.extensions else (callee_ext.number if callee_ext else None)
        if caller is None and callee is None and to not in self.conferences | self.queues.keys():
            raise NotFound(f"neither {from_!r} nor {to!r} is on the account")
        if caller and callee:
            direction = "intrapbx"
        elif caller:
            direction = "outbound"
        else:
            direction = "inbound"
        now = time.time()
        call_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        legs = [
            Leg(self._leg_id(), "inbound", from_, to, "ringing", int(now)),
            Leg(self._leg_id(), "outbound", from_, to, "ringing", int(now)),
        ]
        if not caller_name:
            caller_name = self.users[self.extensions[caller].user_id].name if caller else ""
        call = Call(
            call_id=call_id,
            presence_call_id=self._presence_id(),
            from_=from_,
            to=to,
            caller_ext=caller,
            callee_ext=callee,
            direction=direction,
            start_time=now,
            legs=legs,
            recorded=recorded,
            click_to_call=click_to_call,
            custom_tag=custom_tag,
            caller_name=caller_name,
        )
        self.calls[call_id] = call
        self.touch(call.extensions)
        self.call_changed(call)
        ring = self.ring_seconds if ring_seconds is None else ring_seconds
        talk = self.talk_seconds if talk_seconds is None else talk_seconds
        if callee is not None and self.extensions[callee].dnd and caller is None:
            answer = False  # straight to voicemail
            ring = 0.0
        if answer:
            self._later(loop, call_id, ring, lambda: self.answer(call_id, talk_seconds=talk))
        else:
            result = "voicemail" if callee is not None and caller is None else "unanswered"
            self._later(loop, call_id, ring, lambda: self.hangup(call_id, result=result))
        return call

    def _leg_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _later(self, loop: asyncio.AbstractEventLoop, call_id: str, delay: float, fn: Any) -> None:
        if math.isinf(delay):
            return
        self._timers.setdefault(call_id, []).append(loop.call_later(max(0.0, delay), fn))

    def answer(self, call_id: str, *, talk_seconds: float | None = None) -> Call:
        call = self.get_call(call_id)
        if call.status == "ringing":
            call.status = "on-call"
            call.answer_time = time.time()
            for leg in call.legs:
                leg.status = "on-call"
            self.touch(call.extensions)
            self.call_changed(call)
            talk = self.talk_seconds if talk_seconds is None else talk_seconds
            self._later(asyncio.get_running_loop(), call_id, talk, lambda: self.hangup(call_id))
        return call

    def get_call(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise NotFound(call_id)
        return call

    def hangup(self, call_id: str, *, result: str | None = None) -> Call:
        """End a call: it leaves the active calls and lands in call history."""
        call = self.get_call(call_id)
        for handle in self._timers.pop(call_id, []):
            handle.cancel()
        now = time.time()
        call.status = "ended"
        call.end_time = now
        call.result = result or ("answered" if call.answer_time else "unanswered")
        for leg in call.legs:
            leg.end_time = int(now)
        del self.calls[call_id]
        self.touch(call.extensions)
        call.ended_version = self.version
        self.call_changed(call)
        recent = [c for c in self.ended if now - (c.end_time or now) < 300]
        self.ended = [*recent[-500:], call]
        duration = int(now - call.answer_time) if call.answer_time else 0
        recorded = call.recorded and call.result != "unanswered"
        if recorded:
            self.recordings[call.presence_call_id] = self.recording_size
        for ext, direction in ((call.caller_ext, "Outbound"), (call.callee_ext, "Inbound")):
            if ext is None:
                continue
            other = call.to if direction == "Outbound" else call.from_
            other_ext = self.extensions.get(other)
            self.history.append(
                HistoryRecord(
                    timestamp=call.start_time,
                    from_=self._dial_string(call.from_),
                    to=self._dial_string(call.to),
                    direction=direction,
                    extension=ext,
                    custom_tag=call.custom_tag,
                    caller_id=(
                        self.users[other_ext.user_id].name
                        if other_ext
                        else (call.caller_name if direction == "Inbound" else "")
                    ),
                    duration=duration,
                    result=call.result,
                    presence_call_id=call.presence_call_id,
                    recorded=recorded,
                )
            )
        return call

    def _dial_string(self, number: str) -> str:
        ext = self.extensions.get(number)
        return ext.dids[0].phone_number if ext and ext.dids else number

    def recent_ended(self, numbers: Iterable[str], after_version: int) -> list[Call]:
        """Calls of these extensions that ended after ``after_version``."""
        wanted = set(numbers)
        return [
            c for c in self.ended if c.ended_version > after_version and wanted & set(c.extensions)
        ]

    # -- Network Registry ---------------------------------------------------------------------

    def create_business_profile(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self.iso_now()
        profile: dict[str, Any] = {
            "id": self.new_id(),
            "account_id": self.registry_account_id,
            **{k: v for k, v in body.items() if k not in ("id", "account_id", "status")},
            "status": {"status": "pending", "message": ""},
            "created_at": now,
            "updated_at": now,
            "delete_at": None,
            "change_request": None,
            "notification": {
                "created_at": now,
                "message": "This profile requires your attention. Please review it.",
                "dismissed": False,
                "require_changes": False,
            },
            "nr_notifications": 1,
            "vetting_info": {"consent": "consented", "vetting_levels": ["standard_level"]},
            "vetting_result": None,
        }
        self.business_profiles[profile["id"]] = profile
        for csp in _catalogue.csps_in(profile.get("countries", [])):
            self.csp_statuses[(profile["id"], csp["id"])] = {
                "csp_id": csp["id"],
                "created_at": now,
                "updated_at": now,
                "status": "not-submitted",
                "message": "",
                "business_profile_id": profile["id"],
                "account_id": profile["account_id"],
            }
        return profile

    def create_application_profile(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self.iso_now()
        bp = self.business_profiles[body["business_profile_id"]]
        profile: dict[str, Any] = {
            "id": self.new_id(),
            "business_profile_id": bp["id"],
            "account_id": self.registry_account_id,
            **{k: v for k, v in body.items() if k not in ("id", "account_id", "status")},
            "status": {"status": "pending", "message": ""},
            "created_at": now,
            "updated_at": now,
            "delete_at": None,
            "notification": {"created_at": now, "message": "Welcome.", "dismissed": False},
        }
        self.application_profiles[profile["id"]] = profile
        apis = [a["network_api_id"] for a in profile.get("network_apis", [])]
        for csp in _catalogue.csps_in(bp.get("countries", [])):
            self.csp_statuses[(profile["id"], csp["id"])] = {
                "csp_id": csp["id"],
                "created_at": now,
                "updated_at": now,
                "delete_at": None,
                "status": "not-submitted",
                "previous_status": "not-submitted",
                "message": "",
                "application_profile_id": profile["id"],
                "business_profile_id": bp["id"],
                "account_id": profile["account_id"],
                "allowlist_check_required": False,
                "network_apis": [a for a in apis if a in csp["supported_network_apis"]],
                "connectivity_status": "UNKNOWN",
            }
        return profile
