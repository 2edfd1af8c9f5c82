import pino from 'pino';
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
  };
  return destination ? pino(options, destination) : pino(options);
}
