"""Digest authentication (RFC 7616 vectors) and the registrar over the real SIP stack with
in-memory fakes: challenges, bindings, expiry, unbinding, 423, NAT, rate limit, no user
enumeration."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from hotline_ingress_sip.adapters.memory import ManualClock, ManualTimers, RecordingTransport
from hotline_ingress_sip.adapters.registrations import sip_accounts_from
from hotline_ingress_sip.application.registrar import Registrar, RegistrarPolicy
from hotline_ingress_sip.application.sip_stack import SipStack
from hotline_ingress_sip.domain import digest
from hotline_ingress_sip.domain.registration import (
    Registered,
    RegistrationFact,
    SipAccount,
    Unregistered,
)
from hotline_ingress_sip.domain.sip import SipResponse
from hotline_platform import sip_digest

US = ("198.51.100.1", 5060)
PHONE = ("192.0.2.30", 5062)
NATTED = ("203.0.113.7", 40123)

# RFC 7616 3.9.1
VECTOR = digest.Credentials(
    username="Mufasa", realm="http-auth@example.org",
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", response="",
    qop="auth", nc="00000001", cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
)


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc_7616_vectors(algorithm: str, expected: str) -> None:
    credentials = dataclasses.replace(VECTOR, algorithm=algorithm)
    ha1 = digest.ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
    assert ha1 == sip_digest.ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
    assert digest.expected_response(credentials, "GET", ha1) == expected
    assert digest.response_matches(dataclasses.replace(credentials, response=expected), "GET", ha1)


def test_rfc_2617_vector_and_header_parsing() -> None:
    header = (
        'Digest username="Mufasa", realm="testrealm@host.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
        'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    credentials = digest.parse_authorization(header)
    assert credentials.algorithm == "MD5" and credentials.qop == "auth"
    ha1 = digest.ha1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life")
    assert digest.response_matches(credentials, "GET", ha1)
    assert not digest.response_matches(credentials, "POST", ha1)
    with pytest.raises(ValueError, match="unsupported digest algorithm"):
        digest.parse_authorization(header + ", algorithm=SHA-512-256")
    with pytest.raises(ValueError, match="lacks response"):
        digest.parse_authorization('Digest username="a", realm="r", nonce="n", uri="u"')


def test_nonces_are_signed_timestamped_and_shared_by_replicas() -> None:
    a, b = digest.Nonces(b"k" * 32, 300_000), digest.Nonces(b"k" * 32, 300_000)
    nonce = a.issue("acme", 1_000_000)
    assert b.check(nonce, "acme", 1_000_000 + 299_000) is digest.NonceCheck.VALID
    assert b.check(nonce, "acme", 1_000_000 + 301_000) is digest.NonceCheck.STALE
    assert b.check(nonce, "other", 1_000_000) is digest.NonceCheck.INVALID
    assert digest.Nonces(b"x" * 32).check(nonce, "acme", 1_000_000) is digest.NonceCheck.INVALID
    issued, salt, mac = nonce.split(".")
    forged = f"{int(issued, 16) + 100:x}.{salt}.{mac}"
    assert b.check(forged, "acme", 1_000_000) is digest.NonceCheck.INVALID


# ------------------------------------------------------------------------------ registrar


class Events:
    def __init__(self) -> None:
        self.facts: list[RegistrationFact] = []

    def publish(self, fact: RegistrationFact) -> None:
        self.facts.append(fact)


class Accounts:
    def __init__(self, *accounts: SipAccount) -> None:
        self._by = {(a.tenant_id, a.username): a for a in accounts}

    def account(self, realm: str, username: str) -> SipAccount | None:
        return self._by.get((realm, username))


def _account(username: str = "alice", password: str = "s3cret") -> SipAccount:
    return SipAccount(
        "acme", f"agent-{username}", username,
        {alg: digest.ha1(alg, username, "acme", password) for alg in digest.ALGORITHMS},
    )


class Phone:
    """Builds REGISTERs as a phone does, answering the last challenge it got."""

    def __init__(self, world: World, user: str = "alice", password: str = "s3cret",
                 source: tuple[str, int] = PHONE, algorithm: str = "SHA-256") -> None:
        self.world, self.user, self.password, self.source = world, user, password, source
        self.algorithm = algorithm
        self.cseq = itertools.count(1)
        self.call_id = f"reg-{user}-{source[1]}"
        self.challenge: dict[str, str] | None = None

    def register(
        self, *, expires: str | None = "600", contact: str | None = None, rport: bool = False,
        authorize: bool = True, contact_params: str = "",
    ) -> SipResponse:
        contact = contact or f"<sip:{self.user}@{PHONE[0]}:{PHONE[1]}>{contact_params}"
        branch = f"z9hG4bK-{next(self.world.branches)}"
        lines = [
            "REGISTER sip:acme SIP/2.0",
            f"Via: SIP/2.0/UDP {PHONE[0]}:{PHONE[1]};branch={branch}" + (";rport" if rport else ""),
            f"From: <sip:{self.user}@acme>;tag=p1",
            f"To: <sip:{self.user}@acme>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {next(self.cseq)} REGISTER",
            f"Contact: {contact}",
            "User-Agent: test-phone",
        ]
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if authorize and self.challenge is not None:
            lines.append(self._authorization())
        data = ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()
        response = self.world.send(data, self.source)
        if response.status == 401:
            self.challenge = _challenge(response, self.algorithm)
        return response

    def _authorization(self) -> str:
        assert self.challenge is not None
        c = digest.Credentials(
            username=self.user, realm=self.challenge["realm"], nonce=self.challenge["nonce"],
            uri="sip:acme", response="", algorithm=self.algorithm, qop="auth", nc="00000001",
            cnonce="c0ffee",
        )
        ha1 = digest.ha1(self.algorithm, self.user, c.realm, self.password)
        response = digest.expected_response(c, "REGISTER", ha1)
        return (
            f'Authorization: Digest username="{c.username}", realm="{c.realm}", '
            f'nonce="{c.nonce}", uri="{c.uri}", response="{response}", '
            f"algorithm={self.algorithm}, qop=auth, nc={c.nc}, cnonce=\"{c.cnonce}\", "
            f'opaque="{self.challenge["opaque"]}"'
        )


def _challenge(response: SipResponse, algorithm: str) -> dict[str, str]:
    """The challenge of `algorithm`, else the first (a phone that insists on its algorithm)."""
    offered = [
        dict(
            (k.strip(), v.strip().strip('"'))
            for k, _, v in (p.partition("=") for p in value[len("Digest "):].split(","))
        )
        for value in response.headers.get_all("www-authenticate")
    ]
    return next((c for c in offered if c["algorithm"] == algorithm), offered[0])


class World:
    def __init__(self, *accounts: SipAccount, policy: RegistrarPolicy | None = None) -> None:
        self.clock = ManualClock()
        self.timers = ManualTimers(self.clock)
        self.net = RecordingTransport()
        self.stack = SipStack(
            self.net, self.timers, self.clock, advertised_host=US[0], advertised_port=US[1]
        )
        self.events = Events()
        self.registrar = Registrar(
            self.stack, self.clock, self.timers, Accounts(*(accounts or (_account(),))),
            self.events, digest.Nonces(b"secret" * 6, 300_000), policy=policy,
        )
        self.stack.tu = self  # type: ignore[assignment]  # only REGISTER comes here
        self.registrar.start()
        self.branches = itertools.count(1)

    def on_request(self, txn: object) -> None:
        self.registrar(txn)  # type: ignore[arg-type]

    def send(self, data: bytes, source: tuple[str, int]) -> SipResponse:
        self.stack.on_datagram(data, source)
        (response,) = self.net.take()
        assert isinstance(response, SipResponse)
        return response


def _registered(world: World) -> list[Registered]:
    return [f for f in world.events.facts if isinstance(f, Registered)]


def _algorithms(challenge: SipResponse) -> list[str]:
    return [v.split("algorithm=")[1].split(",")[0]
            for v in challenge.headers.get_all("www-authenticate")]


def test_a_phone_registers_after_a_challenge_offering_sha256_then_md5() -> None:
    world = World()
    phone = Phone(world)
    first = phone.register()
    assert first.status == 401
    assert _algorithms(first) == ["SHA-256", "MD5"]
    ok = phone.register()
    assert ok.status == 200
    assert ok.headers.get_all("contact") == [f"<sip:alice@{PHONE[0]}:{PHONE[1]}>;expires=600"]
    (fact,) = _registered(world)
    assert fact.binding.agent_id == "agent-alice" and fact.binding.tenant_id == "acme"
    assert fact.binding.reachable_uri == fact.binding.contact_uri  # same address, no rport
    assert fact.binding.expires_at_ms == world.clock.now_ms() + 600_000
    assert fact.binding.user_agent == "test-phone"


def test_the_order_of_challenges_is_a_policy_and_only_offered_algorithms_pass() -> None:
    world = World(policy=RegistrarPolicy(algorithms=("MD5", "SHA-256")))
    assert _algorithms(Phone(world).register()) == ["MD5", "SHA-256"]
    only_md5 = World(policy=RegistrarPolicy(algorithms=("MD5",)))
    phone = Phone(only_md5)  # answers with SHA-256, which was not offered
    assert _algorithms(phone.register()) == ["MD5"]
    assert phone.register().status == 403


def test_md5_works_too_and_a_refresh_extends_the_binding() -> None:
    world = World()
    phone = Phone(world, algorithm="MD5")
    phone.register()
    assert phone.register().status == 200
    world.timers.advance(200_000)  # within the nonce's lifetime: no new challenge
    assert phone.register(expires="300").status == 200
    facts = _registered(world)
    assert len(facts) == 2 and facts[1].binding.expires_at_ms == world.clock.now_ms() + 300_000
    assert len(world.registrar.bindings("acme", "alice")) == 1


def test_expiry_default_minimum_maximum_and_423() -> None:
    world = World()
    phone = Phone(world)
    phone.register()
    too_brief = phone.register(expires="30")
    assert too_brief.status == 423 and too_brief.headers.get("min-expires") == "60"
    assert phone.register(expires=None).headers.get("contact", ).endswith("expires=3600")
    assert phone.register(expires="99999").headers.get("contact").endswith("expires=3600")
    # the Contact's own expires parameter wins over the header
    assert phone.register(contact_params=";expires=120").headers.get("contact").endswith(
        "expires=120"
    )


def test_a_binding_expires_by_time_and_says_so() -> None:
    world = World()
    phone = Phone(world)
    phone.register()
    phone.register(expires="60")
    world.timers.advance(59_000)
    assert world.registrar.bindings("acme", "alice")
    world.timers.advance(2_000)
    assert world.registrar.bindings("acme", "alice") == []
    gone = world.events.facts[-1]
    assert isinstance(gone, Unregistered) and gone.reason == "expired"


def test_expires_zero_and_star_unbind() -> None:
    world = World()
    phone = Phone(world)
    phone.register()
    phone.register()
    phone.register(contact="<sip:alice@192.0.2.31:5062>")
    assert len(world.registrar.bindings("acme", "alice")) == 2
    one = phone.register(expires="0")
    assert one.status == 200 and len(one.headers.get_all("contact")) == 1
    star = phone.register(contact="*", expires="0")
    assert star.status == 200 and star.headers.get_all("contact") == []
    assert world.registrar.bindings("acme", "alice") == []
    reasons = [f.reason for f in world.events.facts if isinstance(f, Unregistered)]
    assert reasons == ["unregistered", "unregistered"]
    assert phone.register(contact="*", expires="60").status == 400


def test_behind_nat_the_binding_is_reached_at_the_source_address() -> None:
    world = World()
    phone = Phone(world, source=NATTED)
    phone.register()
    assert phone.register().status == 200
    assert _registered(world)[0].binding.reachable_uri == f"sip:alice@{NATTED[0]}:{NATTED[1]}"
    same = World()
    rport = Phone(same)  # same address as its Contact, but asks for rport
    rport.register(rport=True)
    assert rport.register(rport=True).status == 200
    assert _registered(same)[0].binding.reachable_uri == f"sip:alice@{PHONE[0]}:{PHONE[1]}"


def test_no_user_enumeration_and_wrong_passwords_get_403() -> None:
    world = World()
    known, unknown = Phone(world), Phone(world, user="mallory")
    a, b = known.register(), unknown.register()
    assert (a.status, a.reason) == (b.status, b.reason) == (401, "Unauthorized")
    strip = [(k, v) for k, v in a.headers.items() if k not in ("call-id", "from", "to", "via",
                                                                "cseq", "www-authenticate")]
    assert strip == [(k, v) for k, v in b.headers.items() if k not in (
        "call-id", "from", "to", "via", "cseq", "www-authenticate")]
    wrong = Phone(world, password="guess")
    wrong.register()
    assert (wrong.register().status, unknown.register().status) == (403, 403)
    assert world.events.facts == []


def test_failures_are_rate_limited_per_source_and_per_user() -> None:
    world = World(_account("alice"), _account("bob"))
    attacker = Phone(world, password="guess")
    attacker.register()
    statuses = [attacker.register().status for _ in range(5)]
    assert statuses == [403] * 5
    # now blocked: even the right password from that address is refused, with no challenge
    honest = Phone(world)
    assert honest.register().status == 403
    assert world.registrar.stats.blocked == 1
    # bob from another address is not blocked; alice's AOR is, from anywhere
    elsewhere = ("192.0.2.99", 5062)
    bob = Phone(world, user="bob", source=elsewhere)
    bob.register()
    assert bob.register().status == 200
    alice_elsewhere = Phone(world, source=elsewhere)
    assert alice_elsewhere.register().status == 403
    # the block ends
    world.timers.advance(301_000)
    alice = Phone(world, source=elsewhere)
    alice.register()
    assert alice.register().status == 200


def test_an_expired_nonce_with_a_right_response_is_stale() -> None:
    world = World()
    phone = Phone(world)
    phone.register()
    world.timers.advance(301_000)
    stale = phone.register()
    assert stale.status == 401
    assert all("stale=true" in v for v in stale.headers.get_all("www-authenticate"))
    assert phone.register().status == 200


def test_accounts_come_from_the_directory_config() -> None:
    from hotline_platform import tenancy

    config = tenancy.parse({
        "sites": [{"id": "s"}],
        "tenants": [{"id": "acme", "credential": "c", "queues": [{"id": "q"}],
                     "agents": [{"id": "a1", "sip": {"username": "alice", "password": "pw"}}],
                     "entry_points": [{"address": "1", "queue": "q"}]}],
    })
    account = sip_accounts_from(config)[("acme", "alice")]
    assert account.agent_id == "a1"
    assert account.ha1["SHA-256"] == digest.ha1("SHA-256", "alice", "acme", "pw")


def test_out_of_order_requests_too_many_contacts_and_bad_credentials_are_refused() -> None:
    world = World(policy=RegistrarPolicy(max_contacts=2))
    phone = Phone(world)
    phone.register()
    assert phone.register().status == 200
    phone.cseq = itertools.count(1)  # an older REGISTER of the same Call-ID
    phone.register()
    assert phone.register().status == 500
    phone.cseq = itertools.count(100)
    assert phone.register(contact="<sip:alice@192.0.2.31:5062>").status == 200
    too_many = phone.register(contact="<sip:alice@192.0.2.32:5062>")
    assert (too_many.status, too_many.reason) == (403, "Forbidden - at most 2 contacts")
    assert phone.register(expires="soon").status == 400
    garbled = (
        b"REGISTER sip:acme SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.30:5062;branch=z9hG4bK-g\r\n"
        b"From: <sip:alice@acme>;tag=g\r\nTo: <sip:alice@acme>\r\nCall-ID: g\r\n"
        b"CSeq: 1 REGISTER\r\nAuthorization: Digest realm=\"acme\"\r\nContent-Length: 0\r\n\r\n"
    )
    assert world.send(garbled, PHONE).status == 400
