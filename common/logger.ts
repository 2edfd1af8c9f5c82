import pino from 'pino';

export type Logger = pino.Logger;

/** JSON logs on stdout; the launcher and log shippers read one object per line. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
