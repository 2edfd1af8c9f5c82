import 'reflect-metadata';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CURRENCIES, type Currency } from '../../../common/money';
import { PAYMENT_STATUSES, type PaymentStatus } from '../../../common/payment-status';
import { OPERATION_OUTCOMES } from '../../../common/kafka/contracts';

const asEnum = <T extends string>(values: readonly T[]): Record<T, T> =>
  Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;

export const CurrencyEnum = asEnum(CURRENCIES);
export const PaymentStatusEnum = asEnum(PAYMENT_STATUSES);
registerEnumType(CurrencyEnum, { name: 'Currency', description: 'ISO 4217 code' });
const CreditStatusEnum = asEnum(['PENDING', ...OPERATION_OUTCOMES]);
registerEnumType(CreditStatusEnum, {
  name: 'CreditStatus',
  description: 'PENDING until money-storage answers: APPLIED, REJECTED or FAILED',
});
registerEnumType(PaymentStatusEnum, {
  name: 'PaymentStatus',
  description: 'NEW < CREATED < PROCESSING < COMPLETED | REJECTED | ERROR',
});

@ObjectType()
export class Payment {
  @Field(() => ID) id!: string;
  @Field() userName!: string;
  @Field(() => Int, { description: 'Minor units (cents, kopecks...)' }) amount!: number;
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field(() => PaymentStatusEnum) status!: PaymentStatus;
  @Field(() => String, { nullable: true, description: 'Why it was rejected or failed, machine-readable' }) reason!:
    string | null;
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
  @Field({ description: 'Whose account is credited' }) userName!: string;
  @Field(() => Int) amount!: number;
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field({ description: 'ACCEPTED: the credit is on its way to money-storage' }) status!: string;
}

@ObjectType({ description: 'One movement on one of the caller’s accounts' })
export class LedgerEntry {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: 'The money-storage operation that moved the money' }) operationId!: string;
  @Field({ description: 'DEBIT or CREDIT' }) kind!: string;
  @Field({ description: 'PAYMENT, DEPOSIT, COMPENSATION or OPENING' }) purpose!: string;
  @Field({ description: 'Signed minor units as a decimal string: a debit is negative' }) amount!: string;
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field(() => ID, { nullable: true, description: 'The payment, for debits and compensations' }) paymentId!:
    string | null;
  @Field({ description: 'The account balance right after this entry, as a decimal string' }) balanceAfter!: string;
  @Field() at!: Date;
}

@ObjectType()
export class LedgerEdge {
  @Field() cursor!: string;
  @Field(() => LedgerEntry) node!: LedgerEntry;
}

@ObjectType()
export class LedgerConnection {
  @Field(() => [LedgerEdge]) edges!: LedgerEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType({
  description: 'Money asked into an account: an operator credit or a self-service deposit, and what became of it',
})
export class Credit {
  @Field(() => ID) operationId!: string;
  @Field({ description: 'Whose account is credited' }) userName!: string;
  @Field(() => String, { nullable: true, description: 'Who asked; shown only to the one who asked' }) requestedBy!:
    string | null;
  @Field({ description: 'SELF or OPERATOR' }) channel!: string;
  @Field(() => Int) amount!: number;
  @Field(() => CurrencyEnum) currency!: Currency;
  @Field(() => CreditStatusEnum) status!: string;
  @Field(() => String, { nullable: true, description: 'Why it was not applied, machine-readable' }) reason!:
    string | null;
  @Field() requestedAt!: Date;
  @Field(() => Date, { nullable: true }) decidedAt!: Date | null;
}
