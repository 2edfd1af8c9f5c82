import 'reflect-metadata';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Currency } from '../../../common/money';
import type { PaymentStatus } from '../../../common/payment-status';
import type { StatusEventView } from '../payment-service';
import { requireCaller, type GraphQLContext } from './context';
import {
  Account,
  CreatePaymentInput,
  CreatePaymentPayload,
  CurrencyEnum,
  Credit,
  DepositPayload,
  LedgerConnection,
  Payment,
  PaymentConnection,
  PaymentStatusEnum,
  PaymentStatusEvent,
} from './types';

/** Thin: every rule lives in PaymentService, shared with the REST facade. */
@Resolver()
export class PaymentResolver {
  @Query(() => Payment, { nullable: true, description: 'null when absent or not the caller’s' })
  payment(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Payment | null> {
    return ctx.service.getPayment(requireCaller(ctx), id);
  }

  @Query(() => PaymentStatusEnum, { nullable: true })
  async paymentStatus(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<PaymentStatus | null> {
    return (await ctx.service.getPayment(requireCaller(ctx), id))?.status ?? null;
  }

  @Query(() => PaymentConnection, { description: 'The caller’s payments, newest first' })
  myPayments(
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => PaymentStatusEnum, { nullable: true }) status: PaymentStatus | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PaymentConnection> {
    return ctx.service.listPayments(requireCaller(ctx), { first: first ?? undefined, after, status });
  }

  @Query(() => [Account], { description: 'The caller’s balances, from money-storage' })
  myAccounts(@Ctx() ctx: GraphQLContext): Promise<Account[]> {
    return ctx.money.accounts(requireCaller(ctx));
  }

  @Query(() => Credit, {
    nullable: true,
    description: 'A credit the caller received or asked for; null when absent or not theirs',
  })
  credit(@Arg('operationId', () => ID) operationId: string, @Ctx() ctx: GraphQLContext): Promise<Credit | null> {
    return ctx.money.creditRecord(requireCaller(ctx), operationId);
  }

  @Query(() => LedgerConnection, {
    description: 'The caller’s ledger entries, newest first: every debit, credit and compensation',
  })
  async myLedger(
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<LedgerConnection> {
    const page = await ctx.money.ledger(requireCaller(ctx), { first, after });
    return { ...page, edges: page.edges.map((e) => ({ ...e, node: { ...e.node, at: new Date(e.node.at) } })) };
  }

  @Mutation(() => CreatePaymentPayload)
  async createPayment(
    @Arg('input', () => CreatePaymentInput) input: CreatePaymentInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CreatePaymentPayload> {
    const payment = await ctx.service.createPayment(requireCaller(ctx), input);
    return { id: payment.id, status: payment.status, payment };
  }

  @Mutation(() => DepositPayload, {
    description:
      'Development convenience: credits the caller’s own account, up to SELF_DEPOSIT_MAX (FORBIDDEN when that is 0)',
  })
  deposit(
    @Arg('amount', () => Int) amount: number,
    @Arg('currency', () => CurrencyEnum) currency: Currency,
    @Arg('idempotencyKey', () => String, { description: 'A retry with the same key deposits once' })
    idempotencyKey: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DepositPayload> {
    return ctx.money.deposit(requireCaller(ctx), { amount, currency, idempotencyKey });
  }

  @Mutation(() => DepositPayload, { description: 'Operators only: credits a named user’s account; audit-logged' })
  creditAccount(
    @Arg('userName', () => String) userName: string,
    @Arg('amount', () => Int) amount: number,
    @Arg('currency', () => CurrencyEnum) currency: Currency,
    @Arg('idempotencyKey', () => String, { description: 'A retry with the same key credits once' })
    idempotencyKey: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DepositPayload> {
    return ctx.money.creditAccount(requireCaller(ctx), { userName, amount, currency, idempotencyKey });
  }
}

/** Live statuses over graphql-ws; a class of its own since `paymentStatus` is also a query. */
@Resolver()
export class StatusSubscriptionResolver {
  @Subscription(() => PaymentStatusEvent, {
    description: 'The current status of the caller’s payment, then each change; completes after a terminal one',
    subscribe: ({ args, context }: { args: { id: unknown }; context: GraphQLContext }) =>
      context.service.watchPayment(requireCaller(context), args.id),
  })
  paymentStatus(@Root() event: StatusEventView, @Arg('id', () => ID) _id: string): PaymentStatusEvent {
    return event;
  }

  @Subscription(() => PaymentStatusEvent, {
    description: 'Every status change of the caller’s payments',
    subscribe: ({ context }) => (context as GraphQLContext).service.watchMine(requireCaller(context as GraphQLContext)),
  })
  myPaymentStatuses(@Root() event: StatusEventView): PaymentStatusEvent {
    return event;
  }
}
