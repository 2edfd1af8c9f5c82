/**
 * The base of every error this project raises on purpose: a code a program can branch on, and
 * `name` set to the concrete class's, so logs say which error it was without each class repeating it.
 */
export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Builds an error without capturing a stack, for routine answers nobody debugs (a refusal under
 * load): when most requests were refused, capturing their stacks was ~7% of the gateway's loop.
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
