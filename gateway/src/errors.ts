/** The error codes a client can see, each with its HTTP status; GraphQL puts the code in `extensions.code`. */
export const ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure the caller caused or can act on; anything else is an internal error and shows no details. */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  get httpStatus(): number {
    return ERROR_STATUS[this.code];
  }
}

export const badInput = (message: string): GatewayError => new GatewayError('BAD_USER_INPUT', message);
