"""`/docs` (Swagger UI) and `/redoc` served with their assets from installed
packages, so both work with no outside request (FastAPI's defaults load them
from a CDN, and the page is blank offline).

Both come from fastapi-standalone-docs (only its static files are used). Not
swagger-ui-bundle: its Swagger UI 4.15 cannot render the OpenAPI 3.1 document
FastAPI writes ("Unable to render this definition").
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def _static(name: str) -> Path:
    import fastapi_standalone_docs

    return Path(fastapi_standalone_docs.__file__).parent / "static" / name


def add_offline_docs(app: FastAPI) -> None:
    """Register /docs and /redoc; the app must be built with docs_url=None, redoc_url=None."""
    app.mount(f"{ASSETS}/swagger", StaticFiles(directory=_static("swagger")), name="swagger-assets")
    app.mount(f"{ASSETS}/redoc", StaticFiles(directory=_static("redoc")), name="redoc-assets")
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - Swagger UI",
                                   swagger_js_url=f"{ASSETS}/swagger/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/redoc/logo-mini.svg",
                                   # The validator badge would fetch validator.swagger.io.
                                   swagger_ui_parameters={"validatorUrl": None})

    @app.get("/redoc", include_in_schema=False, response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc",
                              redoc_js_url=f"{ASSETS}/redoc/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS}/redoc/logo-mini.svg", with_google_fonts=False)
