import { hasZodFastifySchemaValidationErrors } from "@fastify/type-provider-zod";
import { ErrorCode, HiveError, toWireError, type WireError } from "@hyperhive/shared";
import { type ApiError, type HttpErrorCode, WebErrorCode } from "./wire.js";

export { type HttpErrorCode, WebErrorCode } from "./wire.js";

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
  limit_exceeded: 429,
  internal: 500,
  unavailable: 503,
  timeout: 504,
};

/** The JSON body of every API error response (the wire's {@link ApiError}). */
export type HttpErrorBody = ApiError;

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

/** One line: error text never spans lines in a page or a log-friendly body. */
function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/**
 * A failed request validation as one line naming each bad field with where it was:
 * `querystring.limit: Invalid input: expected number, received NaN`.
 */
function validationMessage(
  context: string | undefined,
  issues: ReadonlyArray<{ instancePath: string; message?: string | undefined }>,
): string {
  return issues
    .map((i) => {
      const path = i.instancePath.split("/").filter(Boolean).join(".");
      const where = [context, path].filter(Boolean).join(".") || "(request)";
      return `${where}: ${i.message ?? "invalid"}`;
    })
    .join("; ");
}

/**
 * Anything thrown, as a wire error fit to show the operator: one line, and an `internal` one says
 * only "internal error" (it may hold stack-ish detail from a service; the log keeps it).
 */
export function publicError(e: unknown): WireError {
  let wire: WireError;
  const status = statusOf(e);
  if (e instanceof HiveError) {
    wire = e.toWire();
  } else if (hasZodFastifySchemaValidationErrors(e)) {
    wire = {
      code: ErrorCode.BadRequest,
      message: validationMessage(e.validationContext, e.validation),
      retryable: false,
    };
  } else if (e instanceof Error && status !== undefined && status < 500) {
    wire = { code: codeForStatus(status), message: e.message, retryable: false };
  } else {
    wire = toWireError(e);
  }
  if (wire.code === ErrorCode.Internal) return { ...wire, message: "internal error" };
  return { ...wire, message: oneLine(wire.message) };
}

/** Anything thrown in a route, as a status (from {@link HTTP_STATUS}) and an error body. */
export function toHttpError(e: unknown): { status: number; body: HttpErrorBody } {
  const wire = publicError(e);
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
