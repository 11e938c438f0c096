/**
 * The server's error catalog. The Messages API answers in Anthropic's shape
 * (`{type: "error", error: {type, message}}`), the control API in the hive's wire shape
 * (`{error: {code, message, retryable}}`); both map the same failures.
 */
import { ErrorCode, HiveError, toWireError, type WireError } from "@hyperhive/shared";
import { errorCodes } from "fastify";
import { type ApiErrorBody, errorBody } from "./anthropic.js";

/** Anthropic error types the server raises itself (scripted errors may use any type). */
export const ApiErrorType = {
  /** The body is not JSON, or not a Messages request. */
  InvalidRequest: "invalid_request_error",
  /** No such endpoint. */
  NotFound: "not_found_error",
  /** The body is over the size limit. */
  RequestTooLarge: "request_too_large",
  /** A bug in the server. */
  Api: "api_error",
} as const;
export type ApiErrorType = (typeof ApiErrorType)[keyof typeof ApiErrorType];

/** The HTTP status of each error type the server raises, as the real API answers it. */
export const API_ERROR_STATUS: Readonly<Record<ApiErrorType, number>> = {
  invalid_request_error: 400,
  not_found_error: 404,
  request_too_large: 413,
  api_error: 500,
};

/** An Anthropic API error answer. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** Whether claude may retry; when false the answer carries `x-should-retry: false`. */
  readonly retry: boolean;

  /**
   * @param status HTTP status.
   * @param type Anthropic error type, e.g. `authentication_error`.
   */
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    options: { retry?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retry = options.retry ?? false;
  }

  /** An error of a catalogued type, with its status; never retried. */
  static of(type: ApiErrorType, message: string, options: { cause?: unknown } = {}): ApiError {
    return new ApiError(API_ERROR_STATUS[type], type, message, options);
  }

  /** The response body. */
  body(): ApiErrorBody {
    return errorBody(this.type, this.message);
  }
}

/**
 * A request body that is not JSON or fails its schema. Carries fastify's `statusCode` so fastify
 * treats it as the client's fault; each API renders it in its own shape.
 */
export class BadBodyError extends Error {
  override readonly name = "BadBodyError";
  readonly statusCode = 400;
}

/** What the body-size check needs to explain a 413. */
export interface BodyLimit {
  /** The limit in bytes. */
  maxBodyBytes: number;
  /** The request's `content-length`, when it sent one. */
  contentLength: number | undefined;
}

/** The {@link BodyLimit} of a request with this `content-length` header. */
export function bodyLimit(maxBodyBytes: number, contentLength: string | undefined): BodyLimit {
  const n = Number(contentLength);
  return {
    maxBodyBytes,
    contentLength: contentLength !== undefined && Number.isInteger(n) ? n : undefined,
  };
}

function tooLargeMessage(l: BodyLimit): string {
  const size = l.contentLength === undefined ? "" : ` is ${l.contentLength} bytes,`;
  return `request body${size} over the limit of ${l.maxBodyBytes} bytes`;
}

/** The HTTP status fastify attached to one of its own errors, if any. */
function statusOf(e: unknown): number | undefined {
  return e instanceof Error && "statusCode" in e && typeof e.statusCode === "number"
    ? e.statusCode
    : undefined;
}

/** Anything a Messages API route threw, as the API error to answer with. */
export function toApiError(e: unknown, limit: BodyLimit): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof BadBodyError) {
    return ApiError.of(ApiErrorType.InvalidRequest, `bad request body: ${e.message}`, { cause: e });
  }
  if (e instanceof errorCodes.FST_ERR_CTP_BODY_TOO_LARGE) {
    return ApiError.of(ApiErrorType.RequestTooLarge, tooLargeMessage(limit), { cause: e });
  }
  const status = statusOf(e);
  if (e instanceof Error && status !== undefined && status >= 400 && status < 500) {
    // Other fastify refusals (bad content-length, ...): the client's fault, said as fastify says it.
    return new ApiError(status, ApiErrorType.InvalidRequest, e.message, { cause: e });
  }
  return ApiError.of(ApiErrorType.Api, "internal error in the model server", { cause: e });
}

/** Status of each hive error code the control API answers with. */
const CONTROL_STATUS: Partial<Readonly<Record<ErrorCode, number>>> = {
  bad_request: 400,
  body_too_large: 413,
  not_found: 404,
};

/** Anything a control API route threw, as a status and the hive's wire error. */
export function toControlError(e: unknown, limit: BodyLimit): { status: number; error: WireError } {
  let err: unknown = e;
  if (e instanceof BadBodyError) err = new HiveError(ErrorCode.BadRequest, e.message);
  else if (e instanceof errorCodes.FST_ERR_CTP_BODY_TOO_LARGE) {
    err = new HiveError(ErrorCode.BodyTooLarge, tooLargeMessage(limit));
  } else if ((statusOf(e) ?? 500) < 500 && e instanceof Error) {
    err = new HiveError(ErrorCode.BadRequest, e.message);
  }
  const error = toWireError(err);
  return { status: CONTROL_STATUS[error.code] ?? 500, error };
}
