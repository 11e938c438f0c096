import { ErrorCode, HiveError, toWireError, type WireError } from "@hyperhive/shared";

/** Codes the web adds on top of the wire catalog: HTTP-only failures. */
export const WebErrorCode = {
  /** No operator token, or a wrong one. */
  Unauthorized: "unauthorized",
} as const;
export type WebErrorCode = (typeof WebErrorCode)[keyof typeof WebErrorCode];

/** Every error code an HTTP response of the web may carry. */
export type HttpErrorCode = ErrorCode | WebErrorCode;

/**
 * The one catalog from error code to HTTP status. NATS replies carry {@link ErrorCode}s; the
 * dashboard API answers with the same `{error: {code, message, retryable}}` body and this status.
 */
export const HTTP_STATUS: Readonly<Record<HttpErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  body_too_large: 413,
  internal: 500,
  unavailable: 503,
  timeout: 504,
};

/** The JSON body of every API error response. */
export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string; retryable: boolean };
}

/** Fastify's own errors (bad JSON, oversize body, ...) carry an HTTP status; map it back to a code. */
function codeForStatus(status: number): ErrorCode {
  if (status === 413) return ErrorCode.BodyTooLarge;
  if (status === 404) return ErrorCode.NotFound;
  if (status === 403) return ErrorCode.Forbidden;
  if (status === 409) return ErrorCode.Conflict;
  if (status === 503) return ErrorCode.Unavailable;
  if (status === 504) return ErrorCode.Timeout;
  if (status >= 400 && status < 500) return ErrorCode.BadRequest;
  return ErrorCode.Internal;
}

function statusOf(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null || !("statusCode" in e)) return undefined;
  return typeof e.statusCode === "number" ? e.statusCode : undefined;
}

/** Anything thrown in a route, as a status and an error body. */
export function toHttpError(e: unknown): { status: number; body: HttpErrorBody } {
  let wire: WireError;
  const status = statusOf(e);
  if (e instanceof HiveError) {
    wire = e.toWire();
  } else if (e instanceof Error && status !== undefined && status < 500) {
    wire = { code: codeForStatus(status), message: e.message, retryable: false };
  } else {
    wire = toWireError(e);
  }
  if (wire.code === ErrorCode.Internal) {
    // Internal messages may hold stack-ish detail from a service; the log keeps it.
    wire = { ...wire, message: "internal error" };
  }
  return { status: HTTP_STATUS[wire.code], body: { error: wire } };
}

/** The 401 body: says nothing but that a token is needed. */
export const UNAUTHORIZED_BODY: HttpErrorBody = {
  error: {
    code: WebErrorCode.Unauthorized,
    message: "operator token required",
    retryable: false,
  },
};

/** Why a cookie-authenticated request from another origin is refused. */
export const CROSS_ORIGIN_MESSAGE = "cross-origin request refused";

/** The 403 body for a cookie-authenticated request from another origin (CSRF). */
export const CROSS_ORIGIN_BODY: HttpErrorBody = {
  error: { code: ErrorCode.Forbidden, message: CROSS_ORIGIN_MESSAGE, retryable: false },
};
