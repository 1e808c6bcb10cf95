"""The page routers, one module per group of pages; app.web.routes puts them together."""
