import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import { TransientError, classifyFailure, describeFailure } from '../../common/failure-class';

const pgError = (code: string, message = `pg ${code}`) => Object.assign(new Error(message), { code });
/** Drizzle wraps the driver's error; the SQLSTATE is on the cause. */
const wrapped = (cause: unknown) => new Error('Failed query: insert into ... params: ...', { cause });

describe('classifyFailure', () => {
  it.each([
    '08006',
    '08001',
    '40001',
    '40P01',
    '55P03',
    '57P01',
    '57P02',
    '57P03',
    '53300',
    '53100',
    '57014',
    '25P03',
    '25006',
    '58030',
    '58000',
  ])('calls SQLSTATE %s transient, also when wrapped', (code) => {
    expect(classifyFailure(pgError(code))).toBe('transient');
    expect(classifyFailure(wrapped(pgError(code)))).toBe('transient');
  });

  it.each(['22021', '22P02', '22023', '23502', '23514', '42P01', '42601', '23505'])(
    'calls SQLSTATE %s deterministic',
    (code) => {
      expect(classifyFailure(wrapped(pgError(code)))).toBe('deterministic');
    },
  );

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'ECONNABORTED'])(
    'calls network error %s transient',
    (code) => {
      expect(classifyFailure(Object.assign(new Error(`connect ${code}`), { code }))).toBe('transient');
    },
  );

  it('calls pg connection loss, pool exhaustion and a pool closed by shutdown transient (they carry no code)', () => {
    expect(classifyFailure(wrapped(new Error('Connection terminated unexpectedly')))).toBe('transient');
    expect(classifyFailure(new Error('timeout exceeded when trying to connect'))).toBe('transient');
    // A batch still running when its process closes the pool: the next owner redoes it, nothing is parked.
    expect(classifyFailure(wrapped(new Error('Cannot use a pool after calling end on the pool')))).toBe('transient');
  });

  it('follows kafkajs retriable flags, through a retries-exceeded wrapper', () => {
    expect(classifyFailure(new KafkaJSConnectionError('broker gone'))).toBe('transient');
    expect(
      classifyFailure(
        new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('broker gone'), {
          retryCount: 5,
          retryTime: 100,
        }),
      ),
    ).toBe('transient');
    expect(classifyFailure(new KafkaJSNonRetriableError('message too large'))).toBe('deterministic');
  });

  it('calls an explicit TransientError transient, and a wrapped one too', () => {
    expect(classifyFailure(new TransientError('gateway down'))).toBe('transient');
    expect(classifyFailure(new Error('outer', { cause: new TransientError('gateway down') }))).toBe('transient');
  });

  it('calls type errors, range errors, schema failures and anything unknown deterministic', () => {
    expect(classifyFailure(new TypeError('x is undefined'))).toBe('deterministic');
    expect(classifyFailure(new RangeError('bad'))).toBe('deterministic');
    expect(classifyFailure(new Error('refusing to publish an invalid moneyOperationResults message'))).toBe(
      'deterministic',
    );
    expect(classifyFailure('a string')).toBe('deterministic');
    expect(classifyFailure(undefined)).toBe('deterministic');
  });

  it('survives a cause cycle', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = new Error('b', { cause: a });
    expect(classifyFailure(a)).toBe('deterministic');
  });
});

describe('describeFailure', () => {
  it('gives the SQLSTATE and the innermost message, not the wrapper holding a whole chunk’s parameters', () => {
    expect(describeFailure(wrapped(pgError('22023', 'poisoned operation')))).toBe('22023: poisoned operation');
  });
});
