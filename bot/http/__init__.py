"""`newsdesk serve`: the ASGI app (JSON API, SSE, web page, metrics) and its server."""
