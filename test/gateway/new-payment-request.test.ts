import { asksToCreatePayment } from '../../gateway/src/graphql/new-payment-request';

const CREATE = 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }';

describe('telling a createPayment request before Apollo reads it', () => {
  it.each([
    ['the mutation', { query: CREATE }],
    ['an aliased field', { query: 'mutation { p: createPayment(input: {amount: 1, currency: "EUR"}) { id } }' }],
    ['beside another field', { query: 'mutation { deposit(amount: 1, currency: "EUR") createPayment { id } }' }],
    [
      'the named operation of several',
      {
        query: `query Q { myPayments { totalCount } } ${CREATE.replace('mutation', 'mutation M')}`,
        operationName: 'M',
      },
    ],
  ])('yes: %s', (_, body) => {
    expect(asksToCreatePayment(body)).toBe(true);
  });

  it.each([
    ['a query', { query: 'query { createPayment }' }],
    ['another mutation', { query: 'mutation { deposit(amount: 1, currency: "EUR") }' }],
    ['a subscription', { query: 'subscription { createPayment }' }],
    ['a nested field of that name', { query: 'mutation { deposit { createPayment } }' }],
    ['a fragment at the root', { query: 'mutation { ...F } fragment F on Mutation { createPayment { id } }' }],
    [
      'the other named operation',
      {
        query: `query Q { myPayments { totalCount } } ${CREATE.replace('mutation', 'mutation M')}`,
        operationName: 'Q',
      },
    ],
    ['several operations, none named', { query: `query Q { a } ${CREATE}` }],
    ['an unknown operation name', { query: CREATE, operationName: 'Nope' }],
    ['a syntax error', { query: 'mutation { createPayment(' }],
    ['a NUL and control characters', { query: `mutation { createPayment\u0000\u0007 }` }],
    ['a lone surrogate', { query: `mutation { createPayment(input: "\ud800") { id } }` }],
    ['too many tokens', { query: `mutation { createPayment { ${'a{'.repeat(1000)}${'}'.repeat(1000)} } }` }],
    ['over 4 KB', { query: `mutation { createPayment { id } } ${'#'.repeat(5000)}` }],
    ['a query that is not a string', { query: 42 }],
    ['a batch', [{ query: CREATE }]],
    ['no body', undefined],
    ['null', null],
    ['a string body', CREATE],
  ])('no: %s', (_, body) => {
    expect(asksToCreatePayment(body)).toBe(false);
  });

  it('remembers a bounded number of documents, and answers the same after forgetting', () => {
    for (let i = 0; i < 1200; i++)
      expect(asksToCreatePayment({ query: `mutation { createPayment { id } a${i}: id }` })).toBe(true);
    expect(asksToCreatePayment({ query: CREATE })).toBe(true);
  });
});
