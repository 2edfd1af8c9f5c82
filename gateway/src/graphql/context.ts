import type { Caller } from '../auth';
import { GatewayError } from '../errors';
import type { PaymentService } from '../payment-service';

export interface GraphQLContext {
  caller: Caller | null;
  service: PaymentService;
}

export function requireCaller(ctx: GraphQLContext): Caller {
  if (!ctx.caller) throw new GatewayError('UNAUTHENTICATED', 'missing Authorization: Bearer <token>');
  return ctx.caller;
}
