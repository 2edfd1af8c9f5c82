import http from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';

/**
 * The ceiling for the HTTP layer: plain Apollo Server on node:http answering a trivial mutation,
 * served the same way the gateway serves GraphQL. Prints its port on stdout.
 */
async function main(): Promise<void> {
  const apollo = new ApolloServer({
    typeDefs: 'type Query { ok: Boolean } type Mutation { ping(amount: Int!): String! }',
    resolvers: { Mutation: { ping: (_: unknown, { amount }: { amount: number }) => `pong ${amount}` } },
  });
  await apollo.start();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      void apollo
        .executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: req.method ?? 'POST',
            headers,
            search: '',
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          },
          context: () => Promise.resolve({}),
        })
        .then((result) => {
          res.statusCode = result.status ?? 200;
          for (const [k, v] of result.headers) res.setHeader(k, v);
          res.end(result.body.kind === 'complete' ? result.body.string : '');
        });
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
