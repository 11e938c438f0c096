import { WireError } from "@hyperhive/shared/contract";
import * as z from "zod";

/** Codes the web adds on top of the wire catalog: HTTP-only failures. */
export const WebErrorCode = {
  /** No operator token, or a wrong one. */
  Unauthorized: "unauthorized",
} as const;
export type WebErrorCode = (typeof WebErrorCode)[keyof typeof WebErrorCode];

/** Every error code an HTTP response of the web may carry: the wire catalog plus `unauthorized`. */
export const HttpErrorCode = z.union([WireError.shape.code, z.literal(WebErrorCode.Unauthorized)]);
export type HttpErrorCode = z.infer<typeof HttpErrorCode>;

/** The JSON body of every API error response; its HTTP status comes from the code. */
export const ApiError = z.strictObject({
  error: z.strictObject({
    code: HttpErrorCode,
    /** One line, safe to show to the operator. */
    message: z.string(),
    /** Whether the same request may succeed if sent again unchanged. */
    retryable: z.boolean(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;
