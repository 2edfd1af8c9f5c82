import pino from 'pino';
import { redactedForLogs } from './error-redaction';
import { activeTraceIds } from './tracing';

export type Logger = pino.Logger;

/** JSON logs on stdout; the launcher and log shippers read one object per line. */
export function createLogger(
  service: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // A line written while serving a request or a message names its trace, so one payment's lines can be found across services.
    mixin: () => activeTraceIds() ?? {},
    serializers: { err: (e: unknown) => pino.stdSerializers.err(redactedForLogs(e) as Error) },
    // `logger.error(e)` takes the line's message from the error itself, past the serializer.
    hooks: {
      logMethod(args, method) {
        if (args[0] instanceof Error) args[0] = redactedForLogs(args[0]) as Error;
        method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
