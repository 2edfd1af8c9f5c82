import { decode, encode } from '../../common/kafka/contracts';
import { TOPIC_KEYS } from '../../common/kafka/topics';
import { poisonValues, validMessage } from '../support/poison';

const decodeJson = (topic: (typeof TOPIC_KEYS)[number], value: unknown) =>
  decode(topic, Buffer.from(JSON.stringify(value)));

/** The names of the message's string fields (all top level). */
const stringFields = (message: Record<string, unknown>): string[] =>
  Object.keys(message).filter((k) => typeof message[k] === 'string');

describe.each(TOPIC_KEYS)('the %s contract', (topic) => {
  it('accepts its valid message', () => {
    expect(decodeJson(topic, validMessage(topic))).toMatchObject({ ok: true });
  });

  const UNSAFE = [
    ['U+0000', '\u0000'],
    ['U+001F', '\u001f'],
    ['U+007F', '\u007f'],
    ['U+009F', '\u009f'],
    ['lone U+D800', '\ud800'],
    ['lone U+DC00', '\udc00'],
  ];
  it.each(UNSAFE)('refuses %s in every string field', (_label, bad) => {
    const message = validMessage(topic);
    for (const field of stringFields(message)) {
      const spoilt = { ...message, [field]: `${String(message[field])}${bad}` };
      expect({ field, ok: decodeJson(topic, spoilt).ok }).toEqual({ field, ok: false });
      expect(() => encode(topic, spoilt as never)).toThrow(/refusing to publish/);
    }
  });

  it('refuses every poison value', () => {
    for (const { what, value } of poisonValues(topic)) {
      expect({ what, ok: decode(topic, value === null ? null : Buffer.from(value)).ok }).toEqual({ what, ok: false });
    }
  });
});

describe('ids in contracts', () => {
  const op = (operationId: string) => ({ ...validMessage('moneyOperations'), operationId });

  it('accept every operation id the producers build', () => {
    const paymentId = validMessage('moneyOperations').paymentId as string;
    const ids = [
      paymentId,
      `${paymentId}:settle`,
      `${paymentId}:reversal`,
      `deposit:${'ab'.repeat(32)}`,
      'opening:9223372036854775807:EUR',
      'x'.repeat(100),
    ];
    for (const id of ids) expect({ id, ok: decodeJson('moneyOperations', op(id)).ok }).toEqual({ id, ok: true });
  });

  it('refuse operation ids that are empty, too long, or outside [A-Za-z0-9._:-]', () => {
    for (const id of ['', 'x'.repeat(101), 'deposit:1:with space', 'deposit:1:é', 'a/b', "a'b"]) {
      expect({ id, ok: decodeJson('moneyOperations', op(id)).ok }).toEqual({ id, ok: false });
    }
  });

  it('take a userId up to int8 max and no further', () => {
    expect(decodeJson('payments', { ...validMessage('payments'), userId: '9223372036854775807' }).ok).toBe(true);
    for (const userId of ['9223372036854775808', '9999999999999999999', '0', '01', '-1']) {
      expect({ userId, ok: decodeJson('payments', { ...validMessage('payments'), userId }).ok }).toEqual({
        userId,
        ok: false,
      });
    }
  });
});
