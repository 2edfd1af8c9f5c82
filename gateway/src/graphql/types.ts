import 'reflect-metadata';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CURRENCIES, type Currency } from '../../../common/money';
import { PAYMENT_STATUSES, type PaymentStatus } from '../../../common/payment-status';

const asEnum = <T extends string>(values: readonly T[]): Record<T, T> => Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;

export const CurrencyEnum = asEnum(CURRENCIES);
export const PaymentStatusEnum = asEnum(PAYMENT_STATUSES);
registerEnumType(CurrencyEnum, { name: 'Currency', description: 'ISO 4217 code' });
registerEnumType(PaymentStatusEnum, { name: 'PaymentStatus', description: 'NEW < CREATED < PROCESSING < COMPLETED | REJECTED | ERROR' });

@ObjectType()
export class Payment {
  @Field(() => ID) id!: string;
  @Field() userName!: string;
  @Field(() => Int, { description: 'Minor units (cents, kopecks...)' }) amount!: number;
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field(() => PaymentStatusEnum) status!: PaymentStatus;
  @Field(() => String, { nullable: true, description: 'Why it was rejected or failed, machine-readable' }) reason!: string | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@ObjectType()
export class PaymentStatusEvent {
  @Field(() => ID) paymentId!: string;
  @Field(() => PaymentStatusEnum) status!: PaymentStatus;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field() at!: Date;
}

@InputType()
export class CreatePaymentInput {
  @Field(() => Int) amount!: number;
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field(() => String, { nullable: true, description: 'The same key from the same user returns the first payment' })
  idempotencyKey?: string | null;
}

@ObjectType()
export class CreatePaymentPayload {
  @Field(() => ID) id!: string;
  @Field(() => PaymentStatusEnum) status!: PaymentStatus;
  @Field(() => Payment) payment!: Payment;
}

@ObjectType()
export class PaymentEdge {
  @Field() cursor!: string;
  @Field(() => Payment) node!: Payment;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType()
export class PaymentConnection {
  @Field(() => [PaymentEdge]) edges!: PaymentEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType()
export class Account {
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field({ description: 'Exact minor units as a decimal string (balances are 64-bit)' }) balance!: string;
}

@ObjectType()
export class DepositPayload {
  @Field(() => ID) operationId!: string;
  @Field(() => Int) amount!: number;
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field({ description: 'ACCEPTED: the credit is on its way to money-storage' }) status!: string;
}
