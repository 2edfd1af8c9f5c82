import { graphql } from './generated';

/** Every operation the tests, the benchmark and the e2e suite send, typed by `npm run codegen`. */
export const PaymentFields = graphql(`
  fragment PaymentFields on Payment {
    id
    userName
    amount
    currency
    status
    reason
    createdAt
    updatedAt
  }
`);

export const PageInfoFields = graphql(`
  fragment PageInfoFields on PageInfo {
    hasNextPage
    endCursor
  }
`);

export const CreatePayment = graphql(`
  mutation CreatePayment($input: CreatePaymentInput!) {
    createPayment(input: $input) {
      id
      status
      payment {
        ...PaymentFields
      }
    }
  }
`);

export const GetPayment = graphql(`
  query GetPayment($id: ID!) {
    payment(id: $id) {
      ...PaymentFields
    }
  }
`);

export const GetPaymentStatus = graphql(`
  query GetPaymentStatus($id: ID!) {
    paymentStatus(id: $id)
  }
`);

export const MyPayments = graphql(`
  query MyPayments($first: Int, $after: String, $status: PaymentStatus) {
    myPayments(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        cursor
        node {
          ...PaymentFields
        }
      }
    }
  }
`);

export const MyAccounts = graphql(`
  query MyAccounts {
    myAccounts {
      currency
      balance
    }
  }
`);

export const Deposit = graphql(`
  mutation Deposit($amount: Int!, $currency: Currency!, $idempotencyKey: String!) {
    deposit(amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {
      operationId
      amount
      currency
      status
    }
  }
`);

export const CreditAccount = graphql(`
  mutation CreditAccount($userName: String!, $amount: Int!, $currency: Currency!, $idempotencyKey: String!) {
    creditAccount(userName: $userName, amount: $amount, currency: $currency, idempotencyKey: $idempotencyKey) {
      operationId
      userName
      amount
      currency
      status
    }
  }
`);

export const GetCredit = graphql(`
  query GetCredit($operationId: ID!) {
    credit(operationId: $operationId) {
      operationId
      userName
      requestedBy
      channel
      amount
      currency
      status
      reason
      requestedAt
      decidedAt
    }
  }
`);

export const MyLedger = graphql(`
  query MyLedger($first: Int, $after: String) {
    myLedger(first: $first, after: $after) {
      pageInfo {
        ...PageInfoFields
      }
      edges {
        cursor
        node {
          id
          operationId
          kind
          purpose
          amount
          currency
          paymentId
          balanceAfter
          at
        }
      }
    }
  }
`);

export const WatchPayment = graphql(`
  subscription WatchPayment($id: ID!) {
    paymentStatus(id: $id) {
      paymentId
      status
      reason
      at
    }
  }
`);

export const WatchMyPayments = graphql(`
  subscription WatchMyPayments {
    myPaymentStatuses {
      paymentId
      status
      reason
      at
    }
  }
`);
