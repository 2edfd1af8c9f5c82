import { API_ERROR_STATUS, ApiError, isApiErrorCode } from '../../common/api-error';
import { CodedError, withoutStack } from '../../common/coded-error';
import { ConfigError } from '../../common/config';
import { TransientError } from '../../common/failure-class';
import { TimeoutError } from '../../common/with-timeout';

describe('coded errors', () => {
  it('are named after their own class, with no class setting it by hand', () => {
    expect(new ApiError('NOT_FOUND', 'no such payment').name).toBe('ApiError');
    expect(new ConfigError(['PORT: too big']).name).toBe('ConfigError');
    expect(new TransientError('db away').name).toBe('TransientError');
    expect(new TimeoutError('Kafka send', 10).name).toBe('TimeoutError');
  });

  it('carry a code a program can branch on', () => {
    const errors: CodedError[] = [new ApiError('CONFLICT', 'x'), new ConfigError(['x']), new TimeoutError('x', 1)];
    expect(errors.map((e) => e.code)).toEqual(['CONFLICT', 'BAD_CONFIG', 'TRANSIENT']);
  });

  it('answer every API code with one HTTP status, and a retry hint where given', () => {
    expect(new ApiError('BAD_USER_INPUT', 'x').httpStatus).toBe(400);
    expect(new ApiError('RATE_LIMITED', 'x', { retryAfterSeconds: 3 })).toMatchObject({
      httpStatus: 429,
      retryAfterSeconds: 3,
    });
    expect(new ApiError('UNAVAILABLE', 'x').httpStatus).toBe(503);
    expect(Object.values(API_ERROR_STATUS).every((s) => s >= 400 && s < 600)).toBe(true);
  });

  it('form a closed set', () => {
    expect(isApiErrorCode('BAD_USER_INPUT')).toBe(true);
    expect(isApiErrorCode('BAD_USER_ID')).toBe(false);
    expect(isApiErrorCode('toString')).toBe(false);
  });
});

describe('withoutStack', () => {
  it('builds the error with its message and code but no stack frames, and leaves the stack limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const e = withoutStack(() => new CodedError('RESOURCE_EXHAUSTED', 'at capacity'));
    expect(e).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: 'at capacity', name: 'CodedError' });
    expect(e.stack).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('x').stack).toMatch(/\n\s+at /);
  });
});
