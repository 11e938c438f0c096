import * as z from "zod";

/**
 * The one catalog of error codes that cross the wire. Every request on NATS is answered with
 * either its result or `{ error: { code, message, retryable } }` using one of these codes.
 */
export const ErrorCode = {
  /** The payload failed its zod schema (or was not JSON). Nothing was changed. */
  BadRequest: "bad_request",
  /** A message body exceeded the inline cap; write a file and send its path instead. */
  BodyTooLarge: "body_too_large",
  /** The thing asked for does not exist (or is not the caller's). */
  NotFound: "not_found",
  /** The operation conflicts with current state (e.g. agent already running). */
  Conflict: "conflict",
  /** The caller may not do this. */
  Forbidden: "forbidden",
  /** A per-caller limit (how many at once, how fast) refuses it; the message says the limit. */
  LimitExceeded: "limit_exceeded",
  /** The service did not answer in time. Safe to retry idempotent requests. */
  Timeout: "timeout",
  /** Nobody is serving the subject right now. */
  Unavailable: "unavailable",
  /** A bug or an unexpected failure inside the service. */
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const RETRYABLE: Readonly<Record<ErrorCode, boolean>> = {
  bad_request: false,
  body_too_large: false,
  not_found: false,
  conflict: false,
  forbidden: false,
  // A rate passes with time; a cap on how many passes when some are delivered or cancelled.
  limit_exceeded: true,
  timeout: true,
  unavailable: true,
  internal: true,
};

/** The error half of every reply. */
export const WireError = z.strictObject({
  /** One of {@link ErrorCode}. */
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  /** Human-readable explanation, safe to show to an agent or the operator. */
  message: z.string(),
  /** Whether the same request may succeed if sent again unchanged. */
  retryable: z.boolean(),
});
export type WireError = z.infer<typeof WireError>;

export const ErrorReply = z.strictObject({ error: WireError });
export type ErrorReply = z.infer<typeof ErrorReply>;

/** A typed failure; thrown by request helpers when the reply is an error, and by handlers. */
export class HiveError extends Error {
  override readonly name = "HiveError";
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options?.retryable ?? RETRYABLE[code];
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }

  static fromWire(e: WireError): HiveError {
    return new HiveError(e.code, e.message, { retryable: e.retryable });
  }

  static is(e: unknown, code?: ErrorCode): e is HiveError {
    return e instanceof HiveError && (code === undefined || e.code === code);
  }
}

/** Renders zod issues as one line an agent can act on: `to: Invalid string; body: Required`. */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(payload)"}: ${i.message}`)
    .join("; ");
}

/** Converts anything thrown into a wire error; unknown throwables become `internal`. */
export function toWireError(e: unknown): WireError {
  if (e instanceof HiveError) return e.toWire();
  if (e instanceof z.ZodError) {
    return { code: ErrorCode.BadRequest, message: describeZodError(e), retryable: false };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: ErrorCode.Internal, message, retryable: true };
}
