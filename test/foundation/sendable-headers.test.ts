import { sendableHeaders } from '../../common/kafka/client';

describe('the headers a parked message is sent with', () => {
  it('are the string and Buffer values of the record, what kafkajs found on Object.prototype left out', () => {
    // As kafkajs decodes headers named __proto__ and toString, each once, and one repeated.
    const decoded = JSON.parse('{"__proto__":0}') as Record<string, unknown>;
    decoded['__proto__'] = [Object.prototype, Buffer.from('p')];
    Object.assign(decoded, { toString: [() => 'a function', Buffer.from('t')], a: Buffer.from('x'), b: 'y' });
    Object.assign(decoded, { twice: [Buffer.from('1'), Buffer.from('2')], none: null, odd: {} });
    const sendable = sendableHeaders(decoded as never);
    expect(Object.keys(sendable)).toEqual(['__proto__', 'toString', 'a', 'b', 'twice']);
    expect(Object.hasOwn(sendable, '__proto__')).toBe(true);
    expect(sendable['__proto__']).toEqual([Buffer.from('p')]);
    expect(sendable['toString']).toEqual([Buffer.from('t')]);
    expect(sendable['twice']).toEqual([Buffer.from('1'), Buffer.from('2')]);
    expect(sendableHeaders(undefined)).toEqual({});
  });
});
