import { inProducerSpan, installTracing, tracerOf } from '../../common/tracing';

// A file of its own: the tracer provider is installed once per process (here, per test file).
const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';

describe('tracing without an exporter', () => {
  it('records nothing, yet gives every span real ids for the logs and the next hop', async () => {
    const tracing = installTracing({ service: 'paymaster' });
    let sent: string | undefined;
    await inProducerSpan(tracerOf('paymaster'), 'payments', `00-${PARENT_TRACE}-${PARENT_SPAN}-01`, (traceparent) =>
      Promise.resolve(void (sent = traceparent)),
    );
    expect(sent).toMatch(new RegExp(`^00-${PARENT_TRACE}-(?!${PARENT_SPAN})[0-9a-f]{16}-00$`));
    await tracing.shutdown();
  });
});
