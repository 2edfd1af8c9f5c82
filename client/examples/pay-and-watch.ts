import { GatewayClient, subscribe } from '../gateway-client';
import { CreatePayment, GetPayment, WatchPayment } from '../operations';

/** Pays 12.50 EUR, reads the payment back, then follows its status until it is final. */
export async function payAndWatch(gatewayUrl: string, token: string) {
  const client = new GatewayClient(gatewayUrl, token);

  // A mutation: input and result are typed from schema.graphql (a wrong currency does not compile).
  const { createPayment } = await client.data(CreatePayment, {
    input: { amount: 1250, currency: 'EUR', idempotencyKey: 'order-42' },
  });

  // A query.
  const { payment } = await client.data(GetPayment, { id: createPayment.id });

  // A subscription over graphql-ws: the current status first, then each change; it completes
  // once the payment is COMPLETED, REJECTED or ERROR.
  const socket = client.connect();
  try {
    const watch = subscribe(socket, WatchPayment, { id: createPayment.id });
    await watch.done;
    return { payment, statuses: watch.events.map((e) => e.paymentStatus.status) };
  } finally {
    await socket.dispose();
  }
}
