import { randomHex } from '../../common/ids';
import { newTraceparent } from '../../common/kafka/client';

describe('pooled random ids', () => {
  it('cut hex of the asked length, never repeating, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const hex = randomHex(8); // 5000 x 8 bytes spans ten 4 KB refills
      expect(hex).toMatch(/^[0-9a-f]{16}$/);
      seen.add(hex);
    }
    expect(seen.size).toBe(5000);
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('make W3C traceparents for a new trace', () => {
    expect(newTraceparent()).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
