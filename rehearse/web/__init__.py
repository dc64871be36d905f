"""rehearse in the browser: a local practice page over the same library (``rehearse serve``).

* :mod:`rehearse.web.app` — configuration, the Starlette app, error pages, security headers;
* :mod:`rehearse.web.security` — Host/Origin checks, the session token, body limits;
* :mod:`rehearse.web.streaming` — an answer streamed from the page into the recorder and live transcription;
* :mod:`rehearse.web.pages` / :mod:`rehearse.web.api` — the HTML pages and the JSON API;
* :mod:`rehearse.web.views` — what the pages show, as plain data for the templates.

Templates and static files (CSS, JavaScript) ship inside the package: the page
loads nothing from anywhere else.
"""
