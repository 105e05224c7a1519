"""DRF-compatible errors. Raise these from service code; `install_error_handlers` renders them with
the bodies, status codes and headers DRF's exception handler produces, so clients (and the proxy's
shadow comparison) see no difference. Messages are DRF's own default messages."""
from __future__ import annotations

import logging
from typing import Any, Mapping, Optional, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.django_urls import django_error_page
from services.common.responses import JSONResponse

logger = logging.getLogger("services.errors")


class APIError(Exception):
    """rest_framework.exceptions.APIException: `detail` becomes the body (`{"detail": str}` when a
    string, the value itself when a list or dict)."""

    status_code = 500
    default_detail: Any = "A server error occurred."
    default_code = "error"

    def __init__(self, detail: Any = None, headers: Optional[Mapping[str, str]] = None):
        self.detail = self.default_detail if detail is None else detail
        self.headers = dict(headers or {})
        super().__init__(self.detail)

    def body(self) -> Any:
        return self.detail if isinstance(self.detail, (dict, list)) else {"detail": self.detail}


class ValidationError(APIError):
    """Field errors, `{"field": ["message", ...]}`, or `["message"]` for non-field errors."""

    status_code = 400
    default_detail = "Invalid input."


class ParseError(APIError):
    status_code = 400
    default_detail = "Malformed request."


class NotAuthenticated(APIError):
    status_code = 401
    default_detail = "Authentication credentials were not provided."


class AuthenticationFailed(APIError):
    status_code = 401
    default_detail = "Incorrect authentication credentials."


class PermissionDenied(APIError):
    status_code = 403
    default_detail = "You do not have permission to perform this action."


class NotFound(APIError):
    status_code = 404
    default_detail = "Not found."


class MethodNotAllowed(APIError):
    status_code = 405

    def __init__(self, method: str, allowed: Sequence[str] = ()):
        super().__init__(f'Method "{method}" not allowed.', headers={"Allow": ", ".join(allowed)} if allowed else None)


class UnsupportedMediaType(APIError):
    status_code = 415

    def __init__(self, media_type: str):
        super().__init__(f'Unsupported media type "{media_type}" in request.')


def not_found_for(model_name: str) -> NotFound:
    """What DRF says for a well-formed primary key with no row: Django's get_object_or_404 message."""
    return NotFound(f"No {model_name} matches the given query.")


async def _api_error(request: Request, exc: APIError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _http_error(request: Request, exc: StarletteHTTPException):
    # Only raised by the router itself (no route matched / method not routed): Django answers these
    # with its HTML pages, DRF views never see them.
    if exc.status_code == 404:
        return django_error_page(404)
    if exc.status_code == 405:
        return JSONResponse({"detail": f'Method "{request.method}" not allowed.'}, status_code=405,
                            headers=exc.headers or {})
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers or {})


async def _request_validation_error(request: Request, exc: RequestValidationError):
    # Services parse query strings and bodies themselves to produce DRF's messages; reaching this
    # means a handler declared a typed parameter, which is a bug worth a clear 400 rather than a 422.
    logger.warning("unexpected FastAPI validation error", extra={"errors": str(exc.errors())})
    return JSONResponse({"detail": "Malformed request."}, status_code=400)


async def _unhandled(request: Request, exc: Exception):
    logger.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
    return django_error_page(500)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette types handlers as taking any Exception; each of these only receives its own class.
    app.add_exception_handler(APIError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unhandled)
