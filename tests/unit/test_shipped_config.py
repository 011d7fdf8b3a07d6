"""The shipped Streamlit configuration is the hardened one: no error details in the browser, listening on this machine only
(the proxy in front, README Deployment), uploads within the import's limit."""
import tomllib

from lib.config import ROOT
from lib.ingest.pipeline import MAX_FILE_BYTES

SHIPPED = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))  # .streamlit/config.toml


def test_errors_show_no_details_in_the_browser():
    assert SHIPPED["client"]["showErrorDetails"] == "none"


def test_the_server_listens_on_this_machine_only():
    assert SHIPPED["server"]["address"] == "127.0.0.1"


def test_the_upload_limit_is_the_imports():
    assert SHIPPED["server"]["maxUploadSize"] * 1024 * 1024 == MAX_FILE_BYTES
