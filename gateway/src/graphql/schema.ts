import { DateTimeResolver } from 'graphql-scalars';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { PaymentResolver, StatusSubscriptionResolver } from './resolvers';

/** The executable schema; `npm run schema` prints it to schema.graphql, which is committed. */
export function buildGatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [PaymentResolver, StatusSubscriptionResolver],
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    validate: false, // PaymentService checks every input, for REST and GraphQL alike
    // Every subscription brings its own `subscribe` (fed by StatusHub); type-graphql still insists on a PubSub.
    pubSub: {
      publish: () => {
        throw new Error('unused: subscriptions are fed by StatusHub');
      },
      subscribe: () => {
        throw new Error('unused: subscriptions are fed by StatusHub');
      },
    },
  });
}
