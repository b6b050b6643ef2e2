/**
 * API errors: every failure answers `{"error": {"code": "...", "message": "..."}}` with a 4xx or
 * 5xx status. Handlers throw ApiError; the app's error handler turns it (and fastify's own errors)
 * into that shape.
 */

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra top-level keys of the response body (e.g. `validation_errors`, the pump object). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function badRequest(message: string, code = 'BAD_REQUEST', extra?: Record<string, unknown>): ApiError {
  return new ApiError(400, code, message, extra);
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, 'FORBIDDEN', message);
}

export function unsupportedMediaType(contentType: string | undefined, expected = 'application/json'): ApiError {
  return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as ${expected} (got ${JSON.stringify(contentType ?? 'no content type')})`);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', message);
}

export function conflict(message: string, extra?: Record<string, unknown>): ApiError {
  return new ApiError(409, 'CONFLICT', message, extra);
}

/** Error codes for fastify's own errors (FST_ERR_...) and HTTP statuses, in this API's vocabulary. */
export function codeFor(status: number, fastifyCode?: string): string {
  switch (fastifyCode) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'INVALID_JSON';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_ERR_VALIDATION':
      return 'INVALID_PARAMETER';
  }
  // A component's own stable code (e.g. LOGS_NOT_AVAILABLE) reaches the client as it is.
  if (fastifyCode && /^[A-Z][A-Z0-9_]+$/.test(fastifyCode) && !fastifyCode.startsWith('FST_')) return fastifyCode;
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 406:
      return 'NOT_ACCEPTABLE';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 422:
      return 'UNPROCESSABLE';
    case 503:
      return 'UNAVAILABLE';
    case 507:
      return 'INSUFFICIENT_STORAGE';
    default:
      return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}
