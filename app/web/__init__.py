"""Server-rendered pages (jinja2) for officers and auditors, over the same services as the JSON
API (docs/web.md). `app.web.routes.router` holds the pages; `STATIC_DIR` is served at /static."""
