import type { Caller } from '../auth';
import type { MoneyService } from '../money-service';
import type { PaymentService } from '../payment-service';
import { ApiError } from '../../../common/api-error';

export interface GraphQLContext {
  caller: Caller | null;
  service: PaymentService;
  money: MoneyService;
}

export function requireCaller(ctx: GraphQLContext): Caller {
  if (!ctx.caller) throw new ApiError('UNAUTHENTICATED', 'missing Authorization: Bearer <token>');
  return ctx.caller;
}
