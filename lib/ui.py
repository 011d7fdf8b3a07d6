"""Streamlit glue shared by the pages: engine, language, current user, cached loaders, style, demo badge."""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from lib import charts, clock, config, literal
from lib.auth import USER_KEY, CurrentUser, login_gate
from lib.navigation import pages_for
from lib.db import SchemaBehindError, get_engine, is_unavailable, upgrade_to_head
from lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, label_or_code, t
from lib.queries import system
from lib.seed import seed_database
from lib.services.errors import InputInvalidError, RefusedError

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from lib.scope import Scope

CACHE_TTL_SECONDS = 600  # page data is re-read at least this often, and at once after any write
LANG_KEY = "lang"  # session-state key of the chosen language
GATE_KEY = "entered_through_home"  # True only while Home.py (login gate, navigation) runs the page
DERIVED_ENTRIES = 200  # derived objects kept per process; the largest, a dealer map's spec, is 0.7 MB
VERSION_KEY = "data_version"  # the data version read once per run by Home.py, keying every cached load
FLASH_KEY = "flash_messages"  # session-state key of messages to show after the next rerun or page switch
URL_NUMBER_DIGITS = 9  # an id or year in a link has at most this many digits (every id fits the 32-bit columns)
_QUERIES: dict[str, Callable[..., Any]] = {}  # registered query functions by dotted name
_BUILDERS: dict[str, Callable[..., Any]] = {}  # registered builders of derived objects (specs, tables) by name
_SEED_LOCK = threading.Lock()  # guards _SEEDING: one first-start seeding per process, however many sessions arrive
_SEEDING: dict[str, Any] = {"thread": None, "done": 0.0, "error": None}  # the background seeding and its progress
_READY_DATABASES: set[str] = set()  # databases found seeded and with users: not checked again on each rerun
SEED_POLL_SECONDS = 1.0  # a waiting session redraws the progress bar this often
RETRY_KEY = "database_retry"  # widget key of the outage notice's retry button
FILTERS_KEY, FILTERS_NOTE_KEY = "page_filters", "page_filters_note"  # keys cockpit.css moves and shows on a phone
STYLESHEET = Path(__file__).with_name("cockpit.css")  # the layout rules on top of the theme, one file for every page
IMAGE_DOWNLOAD_BUTTONS = ["toImage"]  # plotly mode-bar buttons that save a chart as a file ("Download plot as a PNG")
_LOG = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _migrated_engine(url: str) -> Engine:
    """The process-wide engine for a URL, its schema migrated to head once per process."""
    shared = get_engine(url)
    upgrade_to_head(shared)
    return shared


def engine() -> Engine:
    """The engine of the configured database."""
    return _migrated_engine(config.database_url())


def lang() -> str:
    """The language chosen in this session."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def tr(key: str, **params: object) -> str:
    """A label in the session's language."""
    return t(key, lang(), **params)


def tr_literal(key: str, **params: object) -> str:
    """A label in the session's language for an element that renders Markdown, its parameters (names, reasons, values from
    services or files) shown as typed."""
    return t(key, lang(), **{name: literal.markdown(value) for name, value in params.items()})


def bold(text: object, colour: str | None = None) -> str:
    """Markdown of a bold line shown as typed (a label, a name, a file's text alike), in a Streamlit colour if given."""
    shown = literal.markdown(text)
    return f"**:{colour}[{shown}]**" if colour else f"**{shown}**"


def whole_number(raw: str | None) -> int | None:
    """The whole number a URL parameter spells in ASCII digits (at most URL_NUMBER_DIGITS of them), else None."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > URL_NUMBER_DIGITS:
        return None
    return int(raw)


def labelled(prefix: str, codes: tuple[str, ...] | list[str]) -> dict[str, str]:
    """code → label for a family of labels (type_ecommerce …), resolved now, for widgets' format_func."""
    return {code: tr(f"{prefix}_{code}") for code in codes}


def action_label(code: str) -> str:
    """An audit action's name in the session's language (its code when it has no label)."""
    return label_or_code("action", code, lang())


def language_switch() -> str:
    """The sidebar language selector; returns the chosen language code."""
    st.session_state.setdefault(LANG_KEY, DEFAULT_LANGUAGE)
    st.sidebar.selectbox(t("language", lang()), list(LANGUAGES), format_func=LANGUAGES.get, key=LANG_KEY)
    return lang()


UPLOADER = '[data-testid="stFileUploaderDropzone"]'  # st.file_uploader's drop zone
UPLOADER_TEXTS = (  # (CSS selector, i18n key drawn instead) of st.file_uploader's texts that Streamlit writes only in English
    (f'{UPLOADER} button [data-testid="stMarkdownContainer"]', "uploader_button"),  # "Upload"
    ('[data-testid="stFileUploaderDropzoneInstructions"] > div', "uploader_limit"),  # "30MB per file • CSV, XLSX"
    (f"{UPLOADER} > div:has(> span:only-child)", "uploader_drop"),  # "Drag and drop files here" while a file is dragged
    # over (the zone's other plain div, the list of chosen files, has no lone span)
)

UPLOADER_NAME_SCRIPT = """<script>
window.cockpitUploadName = %s;
if (!window.cockpitNameUploads) {
  window.cockpitNameUploads = () => document.querySelectorAll('[data-testid="stFileUploaderDropzone"] button').forEach((button) => {
    if (button.getAttribute('aria-label') !== window.cockpitUploadName) button.setAttribute('aria-label', window.cockpitUploadName);
  });
  new MutationObserver(window.cockpitNameUploads).observe(document.body, {childList: true, subtree: true});
}
window.cockpitNameUploads();
</script>"""  # the uploader's button, its English text hidden above, named in the session's language for screen readers (an
# accessible name CSS cannot give); one observer per tab names every uploader button drawn later

TOOLBAR_TOOLTIP_RULE = ('body:has([data-testid="stElementToolbarButton"]:is(:hover, :focus-within)) '
                        '[data-testid="stTooltipContent"] {display: none;}')  # a table toolbar's English tooltips ("Search",
# "Fullscreen") are not shown; its icons speak for themselves


def widget_text_style() -> None:
    """Widget texts Streamlit writes only in English, in the session's language: the file uploader's button, size limit
    (server.maxUploadSize) and drop hint are hidden and ours drawn in their place, a table toolbar's tooltips hidden
    (Streamlit 1.67 has no option for them)."""
    limit_mb = st.get_option("server.maxUploadSize")
    rules = [f"{selector} > * {{display: none;}} "
             f"{selector}::after {{content: {json.dumps(tr(key, mb=limit_mb), ensure_ascii=False)};}}"
             for selector, key in UPLOADER_TEXTS]
    st.html(f"<style>{' '.join(rules)} {TOOLBAR_TOOLTIP_RULE}</style>")
    st.html(UPLOADER_NAME_SCRIPT % json.dumps(tr("uploader_button"), ensure_ascii=False), unsafe_allow_javascript=True, width="content")


def page_user(page_file: str) -> CurrentUser:
    """The user of a page, which must be opened through Home.py's gate by a role allowed to see it.

    Streamlit also serves files in pages/ directly by URL (its pages-directory mode), skipping
    Home.py; such a run is sent back to Home.py, which signs in and navigates.
    """
    user = st.session_state.get(USER_KEY)
    if not st.session_state.get(GATE_KEY) or user is None:
        st.switch_page(config.ROOT / "Home.py")
    allowed = {Path(page.path).name for page in pages_for(user.role, user.must_change_password)}
    if Path(page_file).name not in allowed:
        st.error(tr("page_not_allowed"))
        st.stop()
    return user


def refresh_data_version() -> None:
    """Read the database's data version once per run, so caches notice writes made by any app server."""
    with engine().connect() as conn:
        st.session_state[VERSION_KEY] = system.data_version(conn)


@dataclass(frozen=True)
class Source:
    """A registered query and its arguments: what load() runs, as a small hashable stand-in for its result."""

    query: str  # dotted name in _QUERIES
    args: tuple
    kwargs: tuple  # sorted (name, value) pairs


def _dotted_name(function: Callable[..., Any]) -> str:
    """module.qualname of a function, the name it is registered under."""
    return f"{function.__module__}.{function.__qualname__}"


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=500)
def _run_cached(database: str, query_name: str, version: int, args: tuple, kwargs: tuple) -> Any:
    """Run a registered query on a fresh connection; cached by database, name, data version and arguments."""
    with _migrated_engine(database).connect() as conn:
        return _QUERIES[query_name](conn, *args, **dict(kwargs))


def _resolved(database: str, version: int, value: Any) -> Any:
    """A Source's (cached) result; any other value as it is."""
    if isinstance(value, Source):
        return _run_cached(database, value.query, version, value.args, value.kwargs)
    return value


def source(query: Callable[..., Any], *args: Any, **kwargs: Any) -> Source:
    """The stand-in of load(query, *args, **kwargs), to pass to derived() and figure() instead of the loaded data."""
    name = _dotted_name(query)
    _QUERIES[name] = query
    return Source(name, args, tuple(sorted(kwargs.items())))


def loaded(data: Source) -> Any:
    """The result of a source's query, cached until the data changes or the TTL passes."""
    return _resolved(config.database_url(), st.session_state[VERSION_KEY], data)


def fresh(query: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Result of query(conn, *args, **kwargs) read now, uncached: for what changes without bumping the data version (sign-ins,
    sessions, throttle counters, the audit trail they write)."""
    with engine().connect() as conn:
        return query(conn, *args, **kwargs)


def load(query: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Result of query(conn, *args, **kwargs), cached until the data changes or the TTL passes."""
    return loaded(source(query, *args, **kwargs))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=DERIVED_ENTRIES)
def _derived_cached(database: str, version: int, builder_name: str, inputs: tuple) -> Any:
    """Run a registered builder on its inputs (sources loaded); cached by database, data version, builder and inputs."""
    return _BUILDERS[builder_name](*(_resolved(database, version, value) for value in inputs))


def _derived(name: str, builder: Callable[..., Any], inputs: tuple) -> Any:
    """A builder's cached result, the builder registered under the name first."""
    _BUILDERS[name] = builder
    return _derived_cached(config.database_url(), st.session_state[VERSION_KEY], name, inputs)


def derived(builder: Callable[..., Any], *inputs: Any) -> Any:
    """builder(*inputs), each source() among the inputs replaced by its loaded data; cached like load(), keyed by the
    sources and the other inputs (never by hashing data frames), so a rerun skips building it again.

    Only for pure builders (no st.*, no session state: the language comes in as an input) whose result pickles cheaply:
    a map's spec, a table for display."""
    return _derived(_dotted_name(builder), builder, inputs)


def figure(builder: Callable[..., go.Figure], *inputs: Any) -> go.Figure:
    """derived() for a plotly figure builder: cached as the figure's plain spec (a Figure pickles slowly), then a Figure
    again without validating that spec a second time."""
    return charts.from_spec(_derived(f"{_dotted_name(builder)}:spec", functools.partial(charts.spec_of, builder), inputs))


def chart(scope: Scope, figure: go.Figure, where: Any = st, **options: Any) -> Any:
    """Draw a plotly figure (in `where`, a column or container); a role that may not export gets no image download in its
    mode bar. The one place the app draws plotly charts, so no chart forgets it."""
    config = {} if scope.can("export_data") else {"modeBarButtonsToRemove": IMAGE_DOWNLOAD_BUTTONS}
    return where.plotly_chart(figure, config=config, **options)


def setup_page() -> Callable[[], None] | None:
    """What to show instead of the login while the database is not ready (None once it is)."""
    url = config.database_url()
    if url in _READY_DATABASES:
        return None
    with engine().connect() as conn:
        unfinished, has_users = system.seeding_unfinished(conn), system.has_users(conn)
    if config.is_demo_install() and (unfinished or not has_users):
        return seed_demo_data
    if unfinished:  # only a demo install empties and seeds its database by itself
        return seeding_interrupted_notice
    if not has_users:
        return no_users_notice
    _READY_DATABASES.add(url)
    return None


def gate(lang_code: str, on_outage: Callable[[], None] | None = None) -> tuple[CurrentUser | None, Callable[[], None] | None]:
    """First-start setup or sign-in: (user, setup page); a clear stop if the database or a setting is missing, or the schema
    is behind and the app's role may not migrate it (on_outage runs first when the database cannot be reached)."""
    try:
        config.check_secret_keys()
        with outage_notice(before=on_outage):
            setup = setup_page()
            if setup is not None:
                return None, setup
            return login_gate(engine(), lang_code), None
    except config.ConfigError as error:
        st.error(tr("config_missing", error=error.text(lang_code)))
    except SchemaBehindError as behind:
        st.error(tr("schema_behind", current=behind.current, head=behind.head))
    st.stop()


@contextmanager
def outage_notice(where: Any = st, before: Callable[[], None] | None = None) -> Iterator[None]:
    """Run a block; if the database cannot be reached, run `before`, show (in `where`) what happened and a retry button
    instead of a traceback, and stop the run. Session state, and so every form's input, is kept; the engine reconnects by itself."""
    try:
        yield
    except SQLAlchemyError as error:
        if not is_unavailable(error):
            raise
        _LOG.warning("database unavailable: %s", error)
        if before is not None:
            before()
        where.error(tr("db_unavailable", error=type(getattr(error, "orig", error)).__name__), icon=":material/cloud_off:")
        where.button(tr("db_retry"), key=RETRY_KEY, icon=":material/refresh:")  # a click reruns the page
        st.stop()


def keeps_input_on_outage(callback: Callable[..., None]) -> Callable[..., None]:
    """A widget callback that writes: if the database cannot be reached, the page says nothing was saved (the input stays)
    instead of showing a traceback; the callback's other errors pass."""
    @functools.wraps(callback)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            callback(*args, **kwargs)
        except SQLAlchemyError as error:
            if not is_unavailable(error):
                raise
            _LOG.warning("database unavailable during a save: %s", error)
            flash("error", tr("db_not_saved"))
    return guarded


def no_users_notice() -> None:
    """Tell an operator how to set up an empty non-demo database (python -m lib.setup; nothing is seeded silently)."""
    st.warning(tr("no_users"))


def seeding_interrupted_notice() -> None:
    """Tell an operator that a seed of this non-demo database was cut off (it is not emptied and seeded by itself)."""
    st.warning(tr("seeding_interrupted"))


def _seed_in_background(target: Engine) -> None:
    """The seeding thread: (re)generate the demo data from scratch, recording progress and any error."""
    try:
        seed_database(target, scale=config.setting("DEMO_SCALE", "demo"), reset=True,
                      progress=lambda done, _step: _SEEDING.update(done=done))
    except Exception as error:  # shown to every waiting session; the next start tries again
        _SEEDING["error"] = f"{type(error).__name__}: {error}"


def seed_demo_data() -> None:
    """Generate the demo data once, in the background, while every session watches the progress."""
    with _SEED_LOCK:
        worker = _SEEDING.get("thread")
        if worker is None or not worker.is_alive():
            _SEEDING.update(done=0.0, error=None, thread=threading.Thread(target=_seed_in_background, args=(engine(),), daemon=True))
            _SEEDING["thread"].start()
    st.progress(min(_SEEDING["done"], 1.0), text=tr("seeding_title", percent=f"{_SEEDING['done']:.0%}"))
    _SEEDING["thread"].join(timeout=SEED_POLL_SECONDS)
    if _SEEDING.get("error"):
        st.error(tr("seeding_failed", error=_SEEDING["error"]))
        st.stop()
    st.rerun()


def as_of() -> dt.date:
    """The last day the figures cover: today, or the day demo data was generated up to if earlier."""
    return load(system.as_of, clock.today())


def style() -> None:
    """Apply the cockpit's stylesheet to the page (it takes no room on it)."""
    st.html(STYLESHEET)


def filters() -> Any:
    """The container of a dashboard's filters: above the figures on a desktop or tablet, below them on a phone (cockpit.css),
    so that a phone opens on the figures; put filters_note after it."""
    return st.container(key=FILTERS_KEY)


def filters_note(start: dt.date | None = None, end: dt.date | None = None) -> None:
    """On a phone only (cockpit.css): that the filters are at the bottom of the page, and the period shown (where the page
    does not say it already)."""
    with st.container(key=FILTERS_NOTE_KEY):
        st.caption(tr("filters_below") if start is None else tr("filters_below_period", start=start.isoformat(), end=end.isoformat()))


def demo_banner() -> None:
    """A compact badge under the page title saying the figures are generated demo data (when they are), the details on hover."""
    info = load(system.demo_info)
    if info is not None:
        st.badge(tr("demo_badge"), icon=":material/science:", color="orange",
                 help=tr("demo_banner", seed=info.get("seed", "?"), scale=info.get("scale", "?")))


def write(action: Callable[..., Any], *args: Any, done: str) -> Any:
    """Run a service write in one transaction and queue its outcome: each broken rule's or the refusal's message, else the
    label `done`. The service's answer, or None when it refused."""
    try:
        with engine().begin() as conn:
            answer = action(conn, *args)
    except InputInvalidError as invalid:
        for error in invalid.errors:
            flash("error", tr_literal(error.key, **error.params))
        return None
    except RefusedError as refused:
        flash("error", tr_literal(refused.key, **refused.params))
        return None
    flash("success", tr(done))
    return answer


def flash(kind: str, text: str) -> None:
    """Queue a message (success, warning, error …) for the next run of a page."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, text))


def show_flash() -> None:
    """Show and forget the queued messages."""
    for kind, text in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(text)
