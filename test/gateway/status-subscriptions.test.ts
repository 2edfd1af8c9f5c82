import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { CLOSE_UNAUTHORIZED } from '../../gateway/src/http/websocket';
import { subscribe } from '../../client/gateway-client';
import { CreatePayment, GetPayment, WatchMyPayments, WatchPayment } from '../../client/operations';
import { asUserId, newPaymentId } from '../../common/ids';
import { statusChangedMessage } from '../../common/kafka/messages';
import { awaitCommittedToEnd, eventually } from '../support/infra';
import { paymentRow, startTestGateway, userIdOf, type TestGateway } from './harness';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('status');
});
afterAll(() => t?.stop());

const pay = async (user: string, amount = 100) =>
  (await t.client(user).data(CreatePayment, { input: { amount, currency: 'USD' } })).createPayment.id;

describe('status events from `status-payments`', () => {
  it('are applied forward only: stale, duplicate and post-terminal events change nothing', async () => {
    const id = await pay('erin');
    const userId = await userIdOf(t, 'erin');
    await t.emitStatus(id, userId, 'PROCESSING');
    await t.emitStatus(id, userId, 'CREATED'); // stale
    await t.emitStatus(id, userId, 'PROCESSING'); // duplicate
    await t.emitStatus(id, userId, 'REJECTED', 'INSUFFICIENT_FUNDS');
    await t.emitStatus(id, userId, 'COMPLETED'); // after a terminal status
    await t.emitStatus(id, userId, 'PROCESSING'); // backwards
    const marker = await pay('erin'); // its CREATED lands after all of the above on some partition
    await eventually('the marker payment to be CREATED', async () =>
      (await paymentRow(t, marker))?.status === 'CREATED' ? true : undefined,
    );
    const payment = await eventually('the rejection to be applied', async () => {
      const p = (await t.client('erin').data(GetPayment, { id })).payment;
      return p?.status === 'REJECTED' ? p : undefined;
    });
    expect(payment).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
    // Give later events every chance to be (wrongly) applied: wait until the writer has consumed them.
    await awaitCommittedToEnd(`${t.prefix}gateway-status-writer`, t.names.statusPayments);
    expect(await paymentRow(t, id)).toMatchObject({ status: 'REJECTED' });
  });

  it('reach a paymentStatus subscriber in order: current status first, then each change, then completion', async () => {
    const id = await pay('frank');
    const userId = await userIdOf(t, 'frank');
    const ws = t.client('frank').connect();
    try {
      const sub = subscribe(ws, WatchPayment, { id });
      await eventually('the current status', () => (sub.events.length > 0 ? true : undefined));
      await t.emitStatus(id, userId, 'PROCESSING');
      await t.emitStatus(id, userId, 'PROCESSING');
      await t.emitStatus(id, userId, 'COMPLETED');
      await sub.done;
      expect(sub.errors).toEqual([]);
      expect(sub.events.map((e) => e.paymentStatus.status)).toEqual(['CREATED', 'PROCESSING', 'COMPLETED']);
      // A terminal payment answers at once and completes.
      const again = subscribe(ws, WatchPayment, { id });
      await again.done;
      expect(again.events.map((e) => e.paymentStatus.status)).toEqual(['COMPLETED']);
    } finally {
      await ws.dispose();
    }
  });

  it('reach a paymentStatus subscriber who wrote the id in upper case, as a read by that id finds it', async () => {
    const id = await pay('frank');
    const userId = await userIdOf(t, 'frank');
    const ws = t.client('frank').connect();
    try {
      const sub = subscribe(ws, WatchPayment, { id: id.toUpperCase() });
      await eventually('the current status', () => (sub.events.length > 0 ? true : undefined));
      await t.emitStatus(id, userId, 'PROCESSING');
      await t.emitStatus(id, userId, 'COMPLETED');
      await sub.done;
      expect(sub.errors).toEqual([]);
      expect(sub.events.map((e) => e.paymentStatus.status)).toEqual(['CREATED', 'PROCESSING', 'COMPLETED']);
    } finally {
      await ws.dispose();
    }
  });

  it('reach myPaymentStatuses for every payment of the caller and nothing of anyone else’s', async () => {
    const ws = t.client('gina').connect();
    try {
      const before = t.gateway.hub.subscriberCount;
      const sub = subscribe(ws, WatchMyPayments);
      await eventually('the subscription to be registered', () =>
        t.gateway.hub.subscriberCount > before ? true : undefined,
      );
      const mine = await pay('gina');
      const theirs = await pay('hank');
      const gina = await userIdOf(t, 'gina');
      const hank = await userIdOf(t, 'hank');
      await t.emitStatus(theirs, hank, 'PROCESSING');
      await t.emitStatus(mine, gina, 'PROCESSING');
      await t.emitStatus(theirs, hank, 'COMPLETED');
      await t.emitStatus(mine, gina, 'ERROR', 'MONEY_STORAGE_TIMEOUT');
      await eventually('gina’s terminal status', () =>
        sub.events.some((e) => e.myPaymentStatuses.status === 'ERROR') ? true : undefined,
      );
      expect(sub.events.every((e) => e.myPaymentStatuses.paymentId === mine)).toBe(true);
      expect(sub.events.map((e) => e.myPaymentStatuses.status)).toEqual(
        expect.arrayContaining(['PROCESSING', 'ERROR']),
      );
      expect(sub.events.at(-1)?.myPaymentStatuses).toMatchObject({ status: 'ERROR', reason: 'MONEY_STORAGE_TIMEOUT' });
    } finally {
      await ws.dispose();
    }
  });

  it('keep late duplicates from a myPaymentStatuses subscriber, even after a terminal status', async () => {
    // Earlier tests' sockets close asynchronously: count from a hub with nobody left on it.
    await eventually('earlier subscriptions to be released', () =>
      t.gateway.hub.subscriberCount === 0 ? true : undefined,
    );
    const ws = t.client('lena').connect();
    try {
      const sub = subscribe(ws, WatchMyPayments);
      await eventually('the subscription to be registered', () =>
        t.gateway.hub.subscriberCount > 0 ? true : undefined,
      );
      const userId = asUserId(await userIdOf(t, 'lena'));
      const [paid, marker] = [newPaymentId(), newPaymentId()];
      // Straight into the hub, in this order: what the fan-out hands it when an outbox row was sent
      // twice, or when it reads a partition again after a rebalance.
      for (const status of ['PROCESSING', 'COMPLETED', 'CREATED', 'PROCESSING', 'COMPLETED'] as const)
        t.gateway.hub.publish(statusChangedMessage({ paymentId: paid, userId }, status, null));
      t.gateway.hub.publish(statusChangedMessage({ paymentId: marker, userId }, 'REJECTED', 'INSUFFICIENT_FUNDS'));
      await eventually('the marker', () =>
        sub.events.some((e) => e.myPaymentStatuses.paymentId === marker) ? true : undefined,
      );
      expect(sub.events.map((e) => [e.myPaymentStatuses.paymentId, e.myPaymentStatuses.status])).toEqual([
        [paid, 'PROCESSING'],
        [paid, 'COMPLETED'],
        [marker, 'REJECTED'],
      ]);
    } finally {
      await ws.dispose();
    }
  });

  it('give subscribers asking the same thing one shared result, each query its own shape, and let an idle one go at once', async () => {
    // Earlier tests' sockets close asynchronously: count from a hub with nobody left on it.
    await eventually('earlier subscriptions to be released', () =>
      t.gateway.hub.subscriberCount === 0 ? true : undefined,
    );
    const before = 0;
    const sockets = [t.client('kate').connect(), t.client('kate').connect(), t.client('kate').connect()];
    try {
      const statusOnly = parse('subscription { myPaymentStatuses { status } }') as TypedDocumentNode<
        { myPaymentStatuses: { status: string } },
        Record<string, never>
      >;
      const [full, same, narrow] = [
        subscribe(sockets[0]!, WatchMyPayments),
        subscribe(sockets[1]!, WatchMyPayments),
        subscribe(sockets[2]!, statusOnly),
      ];
      await eventually('three subscriptions registered', () =>
        t.gateway.hub.subscriberCount === before + 3 ? true : undefined,
      );
      const id = await pay('kate');
      await t.emitStatus(id, await userIdOf(t, 'kate'), 'PROCESSING');
      const processing = (events: Array<{ myPaymentStatuses: { status: string } }>) =>
        events.some((e) => e.myPaymentStatuses.status === 'PROCESSING');
      await eventually('PROCESSING on all three', () =>
        [full, same, narrow].every((sub) => processing(sub.events)) ? true : undefined,
      );
      expect(same.events).toEqual(full.events);
      expect(full.events.find((e) => e.myPaymentStatuses.status === 'PROCESSING')?.myPaymentStatuses).toMatchObject({
        paymentId: id,
        reason: null,
      });
      expect(narrow.events.map((e) => Object.keys(e.myPaymentStatuses))).toEqual(narrow.events.map(() => ['status']));

      same.stop(); // no event pending: the listener must go now, not at the next event
      await eventually('the idle subscription to be released', () =>
        t.gateway.hub.subscriberCount === before + 2 ? true : undefined,
      );
    } finally {
      await Promise.all(sockets.map((ws) => Promise.resolve(ws.dispose())));
    }
  });

  it('refuses a socket without a valid token with close code 4401', async () => {
    for (const client of [
      t.client(),
      new (t.client().constructor as typeof import('../../client/gateway-client').GatewayClient)(t.url, 'not.a.token'),
    ]) {
      const closed = new Promise<number>((resolve) => client.connect({ onClosed: (code) => resolve(code) }));
      expect(await closed).toBe(CLOSE_UNAUTHORIZED);
    }
  });

  it('refuses to subscribe to another user’s payment', async () => {
    const id = await pay('ivan');
    const ws = t.client('judy').connect();
    try {
      const sub = subscribe(ws, WatchPayment, { id });
      await sub.done;
      expect(sub.events).toEqual([]);
      expect(JSON.stringify(sub.errors)).toMatch(/NOT_FOUND/);
    } finally {
      await ws.dispose();
    }
  });
});
