"""Pagination: how a stream asks for its next page, one class per style of the catalog.

Every paginator has the same small life cycle::

    paginator = paginator_for(stream.pagination, first, resume=None)
    request = paginator.first_request()             # the first page (or the resumed one)
    while request is not None:
        response = gateway.call(..., request.path, params=request.params, ...)
        request = paginator.next_request(response, raw_count)   # None after the last page
        save(paginator.state)                        # what asks for that next page

``state`` is a plain JSON-serialisable dict naming the *next* page to fetch. The sync engine
commits it with each page's records, so a worker killed at any moment (even with SIGKILL)
resumes with ``paginator_for(..., resume=state)`` and asks for exactly the page that
follows the last committed one. Shapes, by kind::

    cursor       {"kind": "cursor", "cursor": "<token sent as cursor_param>"}
    offset       {"kind": "offset", "offset": 200}
    page_number  {"kind": "page_number", "page": 3}
    next_url     {"kind": "next_url", "url": "https://host/path?query"}
    none         (never: a single page has no next one)

Stop conditions: no cursor, an empty page or ``has_more: false`` (cursor); the total at
``total_path`` reached, else a short page (offset); the page at ``total_pages_path``
reached, else a short page (page number); no next link (next URL).

No paginator retries anything: failed calls are the gateway's business.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from core.connectors.records import MISSING, value_at
from core.connectors.template import (
    CursorPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
    Pagination,
)
from core.errors import ConfigurationError, InvalidResponse
from core.gateway import GatewayResponse

State = dict[str, Any]

# the flag many cursor APIs (Stripe among them) set to false on their last page
HAS_MORE_KEY = "has_more"


@dataclass(frozen=True)
class PageRequest:
    """One page's request: a path under the base URL (or an absolute URL), query, body."""

    path: str
    params: dict[str, str] = field(default_factory=dict)
    json_body: Any = None


class Paginator(ABC):
    """Base of every pagination style: the first request, then the next one from each answer.

    ``state`` is None before the first page and after the last; otherwise it names the
    next page to fetch (see the module docstring for its shape).
    """

    kind: ClassVar[str]
    # the keys a resume state of this kind must hold, besides "kind"
    state_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        config: Pagination,
        first: PageRequest,
        *,
        resume: State | None = None,
        page_size: int | None = None,
        base_url: str = "",
        private_params: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        # the first page's request, as the stream describes it (params, body, filters)
        self.first = first
        # overrides the template's page size where the style has one (offset, page number)
        self.page_size = page_size
        # the connector's base URL with its placeholders filled, to resolve relative links
        self.base_url = base_url.rstrip("/")
        # query parameters never written into a state (an API key sent in the query)
        self.private_params = private_params
        self.state: State | None = self._checked(resume)
        # the request whose answer ``next_request`` reads
        self._current: PageRequest | None = None

    def _checked(self, resume: State | None) -> State | None:
        if resume is None:
            return None
        if (
            not isinstance(resume, dict)
            or resume.get("kind") != self.kind
            or any(k not in resume for k in self.state_keys)
        ):
            raise ConfigurationError(
                f"The saved position of this run ({resume!r}) does not fit the stream's "
                f"{self.kind} pagination; the template changed since it was written.",
                fix="Start the run again from the beginning.",
            )
        return dict(resume)

    def first_request(self) -> PageRequest:
        """The request for the first page, or for the page ``resume`` named."""
        self._current = self.request_for(self.state)
        return self._current

    def next_request(self, response: GatewayResponse, raw_count: int) -> PageRequest | None:
        """Read the answer to the last request; the next page's request, or None if done.

        ``raw_count`` is the number of records the page held, before any filtering.
        """
        self.state = self.next_state(response, raw_count)
        if self.state is None:
            self._current = None
            return None
        following = self.request_for(self.state)
        if following == self._current:
            raise InvalidResponse(
                f"The vendor sent the same next-page position twice ({self.state!r}); "
                "reading on would loop forever.",
                fix="Check the stream's pagination settings against the vendor's documentation.",
            )
        self._current = following
        return following

    @abstractmethod
    def request_for(self, state: State | None) -> PageRequest:
        """The request for the page ``state`` names (None: the first page)."""

    @abstractmethod
    def next_state(self, response: GatewayResponse, raw_count: int) -> State | None:
        """The state naming the page after the current one, or None after the last."""

    def _with(self, values: dict[str, Any], in_body: bool) -> PageRequest:
        """The first request with ``values`` added to its body or its query."""
        if in_body:
            body = dict(self.first.json_body or {})
            body.update(values)
            return replace(self.first, json_body=body)
        params = dict(self.first.params)
        params.update({k: str(v) for k, v in values.items()})
        return replace(self.first, params=params)


class CursorPaginator(Paginator):
    """A token read from the answer (``cursor_path``) and sent back as ``cursor_param``."""

    kind = "cursor"
    state_keys = ("cursor",)
    config: CursorPagination

    def request_for(self, state: State | None) -> PageRequest:
        if state is None:
            return self.first
        return self._with({self.config.cursor_param: state["cursor"]}, self.config.in_body)

    def next_state(self, response: GatewayResponse, raw_count: int) -> State | None:
        body = response.body
        if raw_count == 0:
            return None
        if isinstance(body, dict) and body.get(HAS_MORE_KEY) is False:
            return None
        cursor = value_at(body, self.config.cursor_path)
        if cursor is MISSING or cursor is None or cursor == "":
            return None
        return {"kind": self.kind, "cursor": str(cursor)}


class OffsetPaginator(Paginator):
    """``offset``/``limit``: the offset moves by the records each page brought."""

    kind = "offset"
    state_keys = ("offset",)
    config: OffsetPagination

    @property
    def limit(self) -> int:
        return self.page_size or self.config.limit

    def request_for(self, state: State | None) -> PageRequest:
        offset = int(state["offset"]) if state else 0
        return self._with(
            {self.config.offset_param: offset, self.config.limit_param: self.limit},
            self.config.in_body,
        )

    def next_state(self, response: GatewayResponse, raw_count: int) -> State | None:
        if raw_count == 0:
            return None
        offset = (int(self.state["offset"]) if self.state else 0) + raw_count
        total = _integer(value_at(response.body, self.config.total_path or ""))
        if self.config.total_path and total is not None:
            done = offset >= total
        else:
            # a vendor capping the page below the limit would look short; the total wins
            done = raw_count < self.limit
        return None if done else {"kind": self.kind, "offset": offset}


class PageNumberPaginator(Paginator):
    """``page`` (and ``per_page``): numbered pages from ``first_page``."""

    kind = "page_number"
    state_keys = ("page",)
    config: PageNumberPagination

    @property
    def size(self) -> int:
        return self.page_size or self.config.size

    def request_for(self, state: State | None) -> PageRequest:
        values: dict[str, Any] = {
            self.config.page_param: int(state["page"]) if state else self.config.first_page
        }
        if self.config.size_param:
            values[self.config.size_param] = self.size
        return self._with(values, in_body=False)

    def next_state(self, response: GatewayResponse, raw_count: int) -> State | None:
        if raw_count == 0:
            return None
        page = int(self.state["page"]) if self.state else self.config.first_page
        total_pages = None
        if self.config.total_pages_path:
            total_pages = _integer(value_at(response.body, self.config.total_pages_path))
        if total_pages is not None:
            done = page >= self.config.first_page + total_pages - 1
        else:
            # without a size parameter the vendor's page size is unknown: read until empty
            done = bool(self.config.size_param) and raw_count < self.size
        return None if done else {"kind": self.kind, "page": page + 1}


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r"""rel\s*=\s*"?([^";]*)"?""", re.IGNORECASE)


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header, if any.

    >>> next_link('<https://x.test/a?page=2>; rel="next", <https://x.test/a?page=9>; rel="last"')
    'https://x.test/a?page=2'
    """
    for match in _LINK.finditer(header or ""):
        rel = _REL.search(match.group(2))
        if rel is not None and "next" in rel.group(1).lower().split():
            return match.group(1).strip()
    return None


class NextUrlPaginator(Paginator):
    """The next page's URL, from the body (``next_url_path``) or the ``Link`` header.

    The URL is requested as given, without the stream's params. A relative one is resolved
    against the connector's base URL: an absolute path is appended to it (Salesforce's
    ``/services/data/...`` under the instance URL), unless it already starts with the base
    URL's own path; anything else is relative to the page just read.
    """

    kind = "next_url"
    state_keys = ("url",)
    config: NextUrlPagination

    def request_for(self, state: State | None) -> PageRequest:
        if state is None:
            return self.first
        return PageRequest(state["url"], {}, self.first.json_body)

    def next_state(self, response: GatewayResponse, raw_count: int) -> State | None:
        link: Any = None
        if self.config.next_url_path:
            link = value_at(response.body, self.config.next_url_path)
        if (link is MISSING or not link) and self.config.link_header:
            link = next_link(response.headers.get("link"))
        if link is MISSING or not link or not isinstance(link, str):
            return None
        return {"kind": self.kind, "url": self._without_private(self._resolve(link, response))}

    def _resolve(self, link: str, response: GatewayResponse) -> str:
        if link.startswith(("http://", "https://")):
            return link
        if link.startswith("/"):
            parts = urlsplit(self.base_url)
            base_path = parts.path.rstrip("/")
            if base_path and (link == base_path or link.startswith(base_path + "/")):
                return urlunsplit((parts.scheme, parts.netloc, "", "", "")) + link
            return self.base_url + link
        return urljoin(response.url, link)

    def _without_private(self, url: str) -> str:
        if not self.private_params:
            return url
        parts = urlsplit(url)
        query = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in self.private_params
        ]
        return urlunsplit(parts._replace(query=urlencode(query)))


class SinglePage(Paginator):
    """No pagination: one request, one page."""

    kind = "none"
    config: NoPagination

    def request_for(self, state: State | None) -> PageRequest:
        return self.first

    def next_state(self, response: GatewayResponse, raw_count: int) -> State | None:
        return None


PAGINATORS: dict[str, type[Paginator]] = {
    cls.kind: cls
    for cls in (CursorPaginator, OffsetPaginator, PageNumberPaginator, NextUrlPaginator, SinglePage)
}


def paginator_for(
    config: Pagination,
    first: PageRequest,
    *,
    resume: State | None = None,
    page_size: int | None = None,
    base_url: str = "",
    private_params: frozenset[str] = frozenset(),
) -> Paginator:
    """The paginator for a stream's ``pagination`` block; an unknown kind names the valid ones."""
    try:
        cls = PAGINATORS[config.type]
    except KeyError:
        raise ConfigurationError(
            f"There is no pagination kind called {config.type!r}.",
            fix=f"Use one of: {', '.join(sorted(PAGINATORS))}.",
        ) from None
    return cls(
        config,
        first,
        resume=resume,
        page_size=page_size,
        base_url=base_url,
        private_params=private_params,
    )


def _integer(value: Any) -> int | None:
    """A count from an answer (Google sends 64-bit numbers as strings)."""
    if value is MISSING or value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
