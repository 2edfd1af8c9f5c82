/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment PaymentFields on Payment {\n    id\n    userName\n    amount\n    currency\n    status\n    reason\n    createdAt\n    updatedAt\n  }\n": typeof types.PaymentFieldsFragmentDoc,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": typeof types.PageInfoFieldsFragmentDoc,
    "\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      id\n      status\n      payment {\n        ...PaymentFields\n      }\n    }\n  }\n": typeof types.CreatePaymentDocument,
    "\n  query GetPayment($id: ID!) {\n    payment(id: $id) {\n      ...PaymentFields\n    }\n  }\n": typeof types.GetPaymentDocument,
    "\n  query GetPaymentStatus($id: ID!) {\n    paymentStatus(id: $id)\n  }\n": typeof types.GetPaymentStatusDocument,
    "\n  query MyPayments($first: Int, $after: String, $status: PaymentStatus) {\n    myPayments(first: $first, after: $after, status: $status) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...PaymentFields\n        }\n      }\n    }\n  }\n": typeof types.MyPaymentsDocument,
    "\n  query MyAccounts {\n    myAccounts {\n      currency\n      balance\n    }\n  }\n": typeof types.MyAccountsDocument,
    "\n  mutation Deposit($amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    deposit(amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      amount\n      currency\n      status\n    }\n  }\n": typeof types.DepositDocument,
    "\n  mutation CreditAccount($userName: String!, $amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    creditAccount(userName: $userName, amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      userName\n      amount\n      currency\n      status\n    }\n  }\n": typeof types.CreditAccountDocument,
    "\n  query GetCredit($operationId: ID!) {\n    credit(operationId: $operationId) {\n      operationId\n      userName\n      requestedBy\n      channel\n      amount\n      currency\n      status\n      reason\n      requestedAt\n      decidedAt\n    }\n  }\n": typeof types.GetCreditDocument,
    "\n  query MyLedger($first: Int, $after: String) {\n    myLedger(first: $first, after: $after) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          operationId\n          kind\n          purpose\n          amount\n          currency\n          paymentId\n          balanceAfter\n          at\n        }\n      }\n    }\n  }\n": typeof types.MyLedgerDocument,
    "\n  subscription WatchPayment($id: ID!) {\n    paymentStatus(id: $id) {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n": typeof types.WatchPaymentDocument,
    "\n  subscription WatchMyPayments {\n    myPaymentStatuses {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n": typeof types.WatchMyPaymentsDocument,
};
const documents: Documents = {
    "\n  fragment PaymentFields on Payment {\n    id\n    userName\n    amount\n    currency\n    status\n    reason\n    createdAt\n    updatedAt\n  }\n": types.PaymentFieldsFragmentDoc,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": types.PageInfoFieldsFragmentDoc,
    "\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      id\n      status\n      payment {\n        ...PaymentFields\n      }\n    }\n  }\n": types.CreatePaymentDocument,
    "\n  query GetPayment($id: ID!) {\n    payment(id: $id) {\n      ...PaymentFields\n    }\n  }\n": types.GetPaymentDocument,
    "\n  query GetPaymentStatus($id: ID!) {\n    paymentStatus(id: $id)\n  }\n": types.GetPaymentStatusDocument,
    "\n  query MyPayments($first: Int, $after: String, $status: PaymentStatus) {\n    myPayments(first: $first, after: $after, status: $status) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...PaymentFields\n        }\n      }\n    }\n  }\n": types.MyPaymentsDocument,
    "\n  query MyAccounts {\n    myAccounts {\n      currency\n      balance\n    }\n  }\n": types.MyAccountsDocument,
    "\n  mutation Deposit($amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    deposit(amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      amount\n      currency\n      status\n    }\n  }\n": types.DepositDocument,
    "\n  mutation CreditAccount($userName: String!, $amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    creditAccount(userName: $userName, amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      userName\n      amount\n      currency\n      status\n    }\n  }\n": types.CreditAccountDocument,
    "\n  query GetCredit($operationId: ID!) {\n    credit(operationId: $operationId) {\n      operationId\n      userName\n      requestedBy\n      channel\n      amount\n      currency\n      status\n      reason\n      requestedAt\n      decidedAt\n    }\n  }\n": types.GetCreditDocument,
    "\n  query MyLedger($first: Int, $after: String) {\n    myLedger(first: $first, after: $after) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          operationId\n          kind\n          purpose\n          amount\n          currency\n          paymentId\n          balanceAfter\n          at\n        }\n      }\n    }\n  }\n": types.MyLedgerDocument,
    "\n  subscription WatchPayment($id: ID!) {\n    paymentStatus(id: $id) {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n": types.WatchPaymentDocument,
    "\n  subscription WatchMyPayments {\n    myPaymentStatuses {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n": types.WatchMyPaymentsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PaymentFields on Payment {\n    id\n    userName\n    amount\n    currency\n    status\n    reason\n    createdAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment PaymentFields on Payment {\n    id\n    userName\n    amount\n    currency\n    status\n    reason\n    createdAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"): (typeof documents)["\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      id\n      status\n      payment {\n        ...PaymentFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      id\n      status\n      payment {\n        ...PaymentFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetPayment($id: ID!) {\n    payment(id: $id) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  query GetPayment($id: ID!) {\n    payment(id: $id) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetPaymentStatus($id: ID!) {\n    paymentStatus(id: $id)\n  }\n"): (typeof documents)["\n  query GetPaymentStatus($id: ID!) {\n    paymentStatus(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyPayments($first: Int, $after: String, $status: PaymentStatus) {\n    myPayments(first: $first, after: $after, status: $status) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...PaymentFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query MyPayments($first: Int, $after: String, $status: PaymentStatus) {\n    myPayments(first: $first, after: $after, status: $status) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...PaymentFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyAccounts {\n    myAccounts {\n      currency\n      balance\n    }\n  }\n"): (typeof documents)["\n  query MyAccounts {\n    myAccounts {\n      currency\n      balance\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Deposit($amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    deposit(amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      amount\n      currency\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation Deposit($amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    deposit(amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      amount\n      currency\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreditAccount($userName: String!, $amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    creditAccount(userName: $userName, amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      userName\n      amount\n      currency\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CreditAccount($userName: String!, $amount: Int!, $currency: Currency!, $idempotencyKey: String!) {\n    creditAccount(userName: $userName, amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {\n      operationId\n      userName\n      amount\n      currency\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetCredit($operationId: ID!) {\n    credit(operationId: $operationId) {\n      operationId\n      userName\n      requestedBy\n      channel\n      amount\n      currency\n      status\n      reason\n      requestedAt\n      decidedAt\n    }\n  }\n"): (typeof documents)["\n  query GetCredit($operationId: ID!) {\n    credit(operationId: $operationId) {\n      operationId\n      userName\n      requestedBy\n      channel\n      amount\n      currency\n      status\n      reason\n      requestedAt\n      decidedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyLedger($first: Int, $after: String) {\n    myLedger(first: $first, after: $after) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          operationId\n          kind\n          purpose\n          amount\n          currency\n          paymentId\n          balanceAfter\n          at\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query MyLedger($first: Int, $after: String) {\n    myLedger(first: $first, after: $after) {\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          id\n          operationId\n          kind\n          purpose\n          amount\n          currency\n          paymentId\n          balanceAfter\n          at\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchPayment($id: ID!) {\n    paymentStatus(id: $id) {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n"): (typeof documents)["\n  subscription WatchPayment($id: ID!) {\n    paymentStatus(id: $id) {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchMyPayments {\n    myPaymentStatuses {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n"): (typeof documents)["\n  subscription WatchMyPayments {\n    myPaymentStatuses {\n      paymentId\n      status\n      reason\n      at\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;