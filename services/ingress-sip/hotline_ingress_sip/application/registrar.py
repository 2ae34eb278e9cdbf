"""The registrar: agents' phones REGISTER here with digest authentication (RFC 3261 10,
RFC 7616); their bindings become `registered`/`unregistered` facts the router folds.

* Address of record: `sip:<sip_username>@<tenant id>`. The realm is the To host, which is the
  tenant id (the realm the directory's HA1s were computed with).
* No user enumeration: a REGISTER without credentials gets the same challenge whoever it
  names, whether the user (or the tenant) exists or not, and a wrong response gets the same
  403 as an unknown user (after the same digest computation).
* Failed responses are counted per source IP and per address of record: too many within a
  window block both for a while (403 at once, no challenge).
* Bindings: Expires header or the Contact's expires parameter (default, minimum -> 423 with
  Min-Expires, maximum: clamped), `Expires: 0` removes a contact, `Contact: *` with
  `Expires: 0` removes them all; the 200 lists the current bindings. A binding expires by
  time (a sweep every second) and says so (`unregistered`, reason "expired").
* NAT (RFC 3581): a phone that asked for rport, or whose REGISTER came from another address
  than its Contact names, is reached at the REGISTER's source address (`reachable_uri`).

Bindings live in this process: a restarted process knows none until the phones refresh (the
router expires what it was told by time, so it never rings a binding for longer than its
expiry).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from hotline_ingress_sip.application.ports import Clock, Timers
from hotline_ingress_sip.application.sip_stack import SipStack
from hotline_ingress_sip.domain import digest
from hotline_ingress_sip.domain.registration import (
    Binding,
    FailureLimiter,
    Registered,
    RegistrationFact,
    SipAccount,
    Unregistered,
    reachable_uri,
)
from hotline_ingress_sip.domain.sip import parse_name_addr, parse_uri, split_commas
from hotline_ingress_sip.domain.transactions import Cancellable, ServerTransaction

log = logging.getLogger(__name__)

SWEEP_MS = 1000
# Verified against when the user is unknown, so that an unknown user costs the same digest
# computation as a known one.
_NO_HA1 = {alg: "0" * len(digest.ha1(alg, "", "", "")) for alg in digest.ALGORITHMS}


class SipAccounts(Protocol):
    """The agents' SIP credentials (the live directory)."""

    def account(self, realm: str, username: str) -> SipAccount | None: ...


class RegistrationEvents(Protocol):
    """Where bindings go (Kafka: hotline.voice.registrations.v1)."""

    def publish(self, fact: RegistrationFact) -> None: ...


@dataclass(frozen=True)
class RegistrarPolicy:
    default_expires_s: int = 3600
    min_expires_s: int = 60
    max_expires_s: int = 3600
    max_contacts: int = 5  # per address of record
    # Challenges offered, preferred first (see digest.DEFAULT_ORDER).
    algorithms: tuple[str, ...] = digest.DEFAULT_ORDER

    def __post_init__(self) -> None:
        unknown = [a for a in self.algorithms if a not in digest.ALGORITHMS]
        if unknown or not self.algorithms:
            raise ValueError(f"digest algorithms must be among {', '.join(digest.ALGORITHMS)}")


@dataclass
class RegistrarStats:
    registered: int = 0  # bindings added or refreshed
    unregistered: int = 0
    expired: int = 0
    challenged: int = 0
    failed: int = 0  # wrong responses and unknown users
    blocked: int = 0  # REGISTERs refused at once (rate limit)


class _Refused(Exception):
    def __init__(self, status: int, reason: str, extra: list[tuple[str, str]] | None = None):
        super().__init__(reason)
        self.status, self.reason, self.extra = status, reason, extra or []


class Registrar:
    def __init__(
        self,
        stack: SipStack,
        clock: Clock,
        timers: Timers,
        accounts: SipAccounts,
        events: RegistrationEvents,
        nonces: digest.Nonces,
        *,
        policy: RegistrarPolicy | None = None,
        limiter: FailureLimiter | None = None,
    ) -> None:
        self._stack = stack
        self._clock = clock
        self._timers = timers
        self._accounts = accounts
        self._events = events
        self._nonces = nonces
        self.policy = policy or RegistrarPolicy()
        self.limiter = limiter or FailureLimiter()
        # (tenant id, username) -> contact URI -> binding
        self._bindings: dict[tuple[str, str], dict[str, Binding]] = {}
        self._sweeper: Cancellable | None = None
        self.stats = RegistrarStats()

    # ------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._sweeper = self._timers.call_later(SWEEP_MS, self._sweep)

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    def _sweep(self) -> None:
        self.expire(self._clock.now_ms())
        self._sweeper = self._timers.call_later(SWEEP_MS, self._sweep)

    def expire(self, now_ms: int) -> None:
        """End the bindings whose time has passed (and forget old failures)."""
        for aor, contacts in list(self._bindings.items()):
            for uri, binding in list(contacts.items()):
                if binding.expires_at_ms <= now_ms:
                    del contacts[uri]
                    self.stats.expired += 1
                    self._events.publish(Unregistered(binding, "expired", now_ms))
            if not contacts:
                del self._bindings[aor]
        self.limiter.sweep(now_ms)

    # ------------------------------------------------------------------------ queries

    def bindings(self, tenant_id: str, username: str) -> list[Binding]:
        return list(self._bindings.get((tenant_id, username), {}).values())

    # ------------------------------------------------------------------------ REGISTER

    def __call__(self, txn: ServerTransaction) -> None:
        try:
            self._register(txn)
        except _Refused as refused:
            self._stack.respond(txn, refused.status, refused.reason, extra=refused.extra)

    def _register(self, txn: ServerTransaction) -> None:
        request = txn.request
        now = self._clock.now_ms()
        try:
            aor = parse_uri(parse_name_addr(request.headers.get("to") or "").uri)
        except ValueError as exc:
            raise _Refused(400, f"Bad Request - To: {exc}"[:120]) from None
        realm, user = aor.host, aor.user
        source_key, user_key = f"ip:{txn.source[0]}", f"aor:{user}@{realm}"
        if self.limiter.blocked(source_key, now) or self.limiter.blocked(user_key, now):
            self.stats.blocked += 1
            raise _Refused(403, "Forbidden - too many failed attempts, try later")
        credentials = self._credentials(request.headers.get_all("authorization"), realm)
        if credentials is None:
            self._challenge(txn, realm, now, stale=False)
            return
        nonce = self._nonces.check(credentials.nonce, realm, now)
        if nonce is digest.NonceCheck.INVALID:  # not ours (e.g. a secret changed): no failure
            self._challenge(txn, realm, now, stale=False)
            return
        account = self._accounts.account(realm, user) if credentials.username == user else None
        offered = credentials.algorithm in self.policy.algorithms
        ha1 = account.ha1.get(credentials.algorithm) if account is not None and offered else None
        matches = digest.response_matches(
            credentials, request.method, ha1 or _NO_HA1[credentials.algorithm]
        )
        if account is None or ha1 is None or not matches:
            self.stats.failed += 1
            blocked_ip = self.limiter.failed(source_key, now)
            blocked_user = self.limiter.failed(user_key, now)
            if blocked_ip or blocked_user:
                log.warning(
                    "REGISTER for %s from %s: too many failures, blocked", user_key, txn.source
                )
            raise _Refused(403, "Forbidden")
        if nonce is digest.NonceCheck.STALE:
            self._challenge(txn, realm, now, stale=True)
            return
        self._update(txn, account, now)

    def _credentials(self, values: list[str], realm: str) -> digest.Credentials | None:
        """The Digest credentials for `realm` among the Authorization headers, if any."""
        for value in values:
            try:
                credentials = digest.parse_authorization(value)
            except ValueError as exc:
                raise _Refused(400, f"Bad Request - Authorization: {exc}"[:120]) from None
            if credentials.realm == realm:
                return credentials
        return None

    def _challenge(self, txn: ServerTransaction, realm: str, now_ms: int, *, stale: bool) -> None:
        self.stats.challenged += 1
        nonce = self._nonces.issue(realm, now_ms)
        values = digest.challenges(
            realm, nonce, self._nonces.opaque(realm), stale=stale, order=self.policy.algorithms
        )
        self._stack.respond(
            txn, 401, "Unauthorized", extra=[("WWW-Authenticate", v) for v in values]
        )

    # ------------------------------------------------------------------------ bindings

    def _update(self, txn: ServerTransaction, account: SipAccount, now_ms: int) -> None:
        request = txn.request
        aor = (account.tenant_id, account.username)
        current = self._bindings.get(aor, {})
        contacts = [c for v in request.headers.get_all("contact") for c in split_commas(v)]
        header_expires = self._expires(request.headers.get("expires"), "Expires")
        cseq = request.cseq[0]
        if contacts == ["*"]:
            if header_expires != 0:
                raise _Refused(400, "Bad Request - Contact * needs Expires: 0")
            self._check_order(current.values(), request.call_id, cseq)
            for binding in list(current.values()):
                self._unbind(aor, binding, now_ms)
            self._ok(txn, aor, now_ms)
            return
        if "*" in contacts:
            raise _Refused(400, "Bad Request - Contact * with other contacts")
        wanted: list[tuple[str, int]] = []
        for value in contacts:
            try:
                contact = parse_name_addr(value)
                parse_uri(contact.uri)
            except ValueError as exc:
                raise _Refused(400, f"Bad Request - Contact: {exc}"[:120]) from None
            expires = self._expires(contact.params.get("expires"), "Contact expires")
            if expires is None:
                expires = header_expires
            if expires is None:
                expires = self.policy.default_expires_s
            if 0 < expires < self.policy.min_expires_s:
                raise _Refused(
                    423, "Interval Too Brief",
                    [("Min-Expires", str(self.policy.min_expires_s))],
                )
            wanted.append((contact.uri, min(expires, self.policy.max_expires_s)))
        self._check_order(
            (current[uri] for uri, _ in wanted if uri in current), request.call_id, cseq
        )
        kept = set(current) - {uri for uri, _ in wanted}
        added = {uri for uri, expires in wanted if expires > 0}
        if len(kept | added) > self.policy.max_contacts:
            raise _Refused(403, f"Forbidden - at most {self.policy.max_contacts} contacts")
        via = request.top_via
        user_agent = request.headers.get("user-agent") or ""
        for uri, expires in wanted:
            if expires == 0:
                if uri in current:
                    self._unbind(aor, current[uri], now_ms)
                continue
            parsed = parse_uri(uri)
            nat = "rport" in via.params or parsed.host_port != txn.source
            binding = Binding(
                tenant_id=account.tenant_id,
                agent_id=account.agent_id,
                username=account.username,
                contact_uri=uri,
                reachable_uri=reachable_uri(uri, parsed.user, txn.source, nat),
                expires_at_ms=now_ms + expires * 1000,
                call_id=request.call_id,
                cseq=cseq,
                user_agent=user_agent[:200],
            )
            self._bindings.setdefault(aor, {})[uri] = binding
            self.stats.registered += 1
            self._events.publish(Registered(binding, now_ms))
        self._ok(txn, aor, now_ms)

    @staticmethod
    def _expires(value: str | None, what: str) -> int | None:
        if value is None:
            return None
        value = value.strip()
        if not value.isdigit():
            raise _Refused(400, f"Bad Request - {what} {value[:20]!r} is not a number")
        return min(int(value), 2**32 - 1)

    @staticmethod
    def _check_order(bindings: Iterable[Binding], call_id: str, cseq: int) -> None:
        """RFC 3261 10.3 step 7: a REGISTER older than the one that made a binding (same
        Call-ID, lower or equal CSeq) is refused."""
        for binding in bindings:
            if binding.call_id == call_id and binding.cseq >= cseq:
                raise _Refused(500, "Server Internal Error - REGISTER out of order")

    def _unbind(self, aor: tuple[str, str], binding: Binding, now_ms: int) -> None:
        contacts = self._bindings.get(aor, {})
        contacts.pop(binding.contact_uri, None)
        if not contacts:
            self._bindings.pop(aor, None)
        self.stats.unregistered += 1
        self._events.publish(Unregistered(binding, "unregistered", now_ms))

    def _ok(self, txn: ServerTransaction, aor: tuple[str, str], now_ms: int) -> None:
        extra = [
            ("Contact", f"<{b.contact_uri}>;expires={b.remaining_s(now_ms)}")
            for b in self.bindings(*aor)
        ]
        self._stack.respond(txn, 200, "OK", extra=extra)

