import type { Caller } from '../auth';
import { GatewayError } from '../errors';
import type { MoneyService } from '../money-service';
import type { PaymentService } from '../payment-service';

export interface GraphQLContext {
  caller: Caller | null;
  service: PaymentService;
  money: MoneyService;
}

export function requireCaller(ctx: GraphQLContext): Caller {
  if (!ctx.caller) throw new GatewayError('UNAUTHENTICATED', 'missing Authorization: Bearer <token>');
  return ctx.caller;
}
