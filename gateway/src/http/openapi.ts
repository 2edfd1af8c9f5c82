import { CURRENCIES, MAX_AMOUNT } from '../../../common/money';
import { PAYMENT_STATUSES } from '../../../common/payment-status';
import { IDEMPOTENCY_KEY } from '../inputs';
import { DEFAULT_PAGE, MAX_PAGE } from '../payment-service';

/**
 * The REST facade described in OpenAPI 3.1, served at GET /api/openapi.json. Limits and enums
 * come from the same constants the validation uses, so the document cannot promise other input
 * than the code accepts; a test checks real answers against it.
 */
const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ok = (description: string, schema: string) => ({ description, content: json(ref(schema)) });
const failure = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** The failures every authenticated operation can answer, on top of its own. */
const COMMON_FAILURES = {
  '400': failure('BadRequest'),
  '401': failure('Unauthenticated'),
  '429': failure('RateLimited'),
  '503': failure('Unavailable'),
  default: failure('Error'),
};

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const errorResponse = (description: string, headers: object = {}) => ({
  description,
  headers,
  content: json(ref('ErrorBody')),
});
const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'string', pattern: '^[0-9]+$' } },
};

const schemas = {
  ErrorBody: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: {
            type: 'string',
            examples: [
              'BAD_USER_INPUT',
              'UNAUTHENTICATED',
              'FORBIDDEN',
              'NOT_FOUND',
              'CONFLICT',
              'PAYLOAD_TOO_LARGE',
              'RATE_LIMITED',
              'RESOURCE_EXHAUSTED',
              'UNAVAILABLE',
            ],
          },
          message: { type: 'string' },
          errorId: { type: 'string', description: 'On 5xx only: the id of the server log line' },
          retryAfterSeconds: { type: 'integer', minimum: 0, description: 'On 429 and 503: also sent as Retry-After' },
        },
      },
    },
  },
  Currency: { type: 'string', enum: [...CURRENCIES] },
  PaymentStatus: { type: 'string', enum: [...PAYMENT_STATUSES] },
  Amount: { type: 'integer', minimum: 1, maximum: MAX_AMOUNT, description: 'In minor units (cents)' },
  IdempotencyKey: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  CreatePaymentRequest: {
    type: 'object',
    required: ['userName', 'amount', 'currency'],
    properties: {
      userName: { type: 'string', description: "The caller's own user name (the token's subject)" },
      amount: ref('Amount'),
      currency: ref('Currency'),
      idempotencyKey: { ...ref('IdempotencyKey'), description: 'Or the Idempotency-Key header' },
    },
  },
  CreatedPayment: {
    type: 'object',
    required: ['id', 'status'],
    additionalProperties: false,
    properties: { id: { type: 'string', format: 'uuid' }, status: ref('PaymentStatus') },
  },
  Payment: {
    type: 'object',
    required: ['id', 'userName', 'amount', 'currency', 'status', 'reason', 'createdAt', 'updatedAt'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', format: 'uuid' },
      userName: { type: 'string' },
      amount: ref('Amount'),
      currency: ref('Currency'),
      status: ref('PaymentStatus'),
      reason: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  PaymentStatusView: {
    type: 'object',
    required: ['id', 'status', 'reason'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', format: 'uuid' },
      status: ref('PaymentStatus'),
      reason: { type: ['string', 'null'] },
    },
  },
  PaymentList: {
    type: 'object',
    required: ['payments', 'pageInfo', 'totalCount'],
    additionalProperties: false,
    properties: {
      payments: { type: 'array', items: ref('Payment') },
      pageInfo: {
        type: 'object',
        required: ['hasNextPage', 'endCursor'],
        additionalProperties: false,
        properties: { hasNextPage: { type: 'boolean' }, endCursor: { type: ['string', 'null'] } },
      },
      totalCount: { type: 'integer', minimum: 0 },
    },
  },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  info: {
    title: 'Payments REST facade',
    version: '1',
    description: 'The same payments, rules and errors as the GraphQL API at /graphql.',
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/payments': {
      post: {
        operationId: 'createPayment',
        summary: 'Create a payment; a retry with the same idempotency key answers the same payment',
        parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: ref('IdempotencyKey') }],
        requestBody: { required: true, content: json(ref('CreatePaymentRequest')) },
        responses: {
          '201': {
            description: 'Created (or the earlier payment under the same idempotency key)',
            headers: { Location: { description: '/api/payments/{id}', schema: { type: 'string' } } },
            content: json(ref('CreatedPayment')),
          },
          '403': failure('Forbidden'),
          '409': failure('Conflict'),
          '413': failure('PayloadTooLarge'),
          ...COMMON_FAILURES,
        },
      },
      get: {
        operationId: 'listPayments',
        summary: "The caller's payments, newest first",
        parameters: [
          {
            name: 'first',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 0, maximum: MAX_PAGE, default: DEFAULT_PAGE },
          },
          { name: 'after', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'status', in: 'query', required: false, schema: ref('PaymentStatus') },
        ],
        responses: { '200': ok('A page of payments', 'PaymentList'), ...COMMON_FAILURES },
      },
    },
    '/api/payments/{id}': {
      get: {
        operationId: 'getPayment',
        parameters: [idParameter],
        responses: { '200': ok('The payment', 'Payment'), '404': failure('NotFound'), ...COMMON_FAILURES },
      },
    },
    '/api/payments/{id}/status': {
      get: {
        operationId: 'getPaymentStatus',
        parameters: [idParameter],
        responses: { '200': ok('Its status', 'PaymentStatusView'), '404': failure('NotFound'), ...COMMON_FAILURES },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    schemas,
    responses: {
      BadRequest: errorResponse('Bad input or a body that is not JSON'),
      Unauthenticated: errorResponse('Missing, malformed or expired token', {
        'WWW-Authenticate': { description: 'Bearer challenge', schema: { type: 'string', pattern: '^Bearer ' } },
      }),
      Forbidden: errorResponse('Not allowed for this caller (e.g. another userName, a blocked account)'),
      NotFound: errorResponse("No such payment among the caller's own"),
      Conflict: errorResponse('The idempotency key was used with other parameters'),
      PayloadTooLarge: errorResponse('Body larger than BODY_LIMIT_BYTES'),
      RateLimited: errorResponse('Too many operations this minute', retryAfter),
      Unavailable: errorResponse('A dependency is down; retry with the same idempotency key', retryAfter),
      Error: errorResponse('Any other failure'),
    },
  },
} as const;
