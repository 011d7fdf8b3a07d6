"""The cockpit's web server: Home.py's Streamlit app with lib.web's session-cookie routes and security headers.

Start it with `streamlit run server.py` (the README's Run and Deployment sections), or with any ASGI server
(`uvicorn server:app`). COOKIE_KEY becomes Streamlit's cookie secret, so every app server of one database signs Streamlit's
own cookies (the upload form's XSRF token) alike.
"""
import os

import streamlit as st
from streamlit import config as streamlit_config

from lib import config, web

COOKIE_SECRET_OPTION = "server.cookieSecret"  # Streamlit's signing key of its own cookies

try:
    os.environ["STREAMLIT_SERVER_COOKIE_SECRET"] = config.cookie_key()  # kept if Streamlit re-reads its config files
except config.ConfigError as missing:
    raise SystemExit(f"The cockpit cannot start: {missing}") from None
streamlit_config.set_option(COOKIE_SECRET_OPTION, os.environ["STREAMLIT_SERVER_COOKIE_SECRET"])
app = st.App("Home.py", routes=web.routes(), middleware=web.middleware())
