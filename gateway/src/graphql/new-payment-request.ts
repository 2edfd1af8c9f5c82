import { Kind, OperationTypeNode, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';

/** Distinct documents remembered; clients send the same few, so more only means someone varies them. */
const CACHE_MAX = 500;
/** A createPayment document is a few hundred bytes; a longer one goes to Apollo, uncached here. */
const MAX_QUERY_LENGTH = 4096;
/** Far above any real operation, and it bounds what a hostile document costs to read. */
const MAX_TOKENS = 2000;

const documents = new Map<string, DocumentNode | null>();

/**
 * Whether a GraphQL-over-HTTP body is a mutation asking for `createPayment`, read before Apollo
 * sees it: under overload such a request is refused without Apollo's parse, validation and
 * execution, which cost more than the refusal itself. Anything this cannot tell (a syntax error,
 * a fragment at the root, a batch, a document over 4 KB) is `false` and goes to Apollo as usual,
 * whose resolver refuses it just the same.
 */
export function asksToCreatePayment(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { query, operationName } = body as Record<string, unknown>;
  if (typeof query !== 'string' || query.length > MAX_QUERY_LENGTH) return false;
  const operation = selectedOperation(documentOf(query), operationName);
  return (
    operation?.operation === OperationTypeNode.MUTATION &&
    operation.selectionSet.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'createPayment')
  );
}

function documentOf(query: string): DocumentNode | null {
  const known = documents.get(query);
  if (known !== undefined) return known;
  let document: DocumentNode | null;
  try {
    document = parse(query, { noLocation: true, maxTokens: MAX_TOKENS });
  } catch {
    document = null;
  }
  // The oldest goes first: one caller varying its documents cannot flush the whole cache at once.
  if (documents.size >= CACHE_MAX) documents.delete(documents.keys().next().value!);
  documents.set(query, document);
  return document;
}

/** The operation GraphQL would run: the named one, or the only one. */
function selectedOperation(document: DocumentNode | null, name: unknown): OperationDefinitionNode | undefined {
  const operations = (document?.definitions ?? []).filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (typeof name === 'string') return operations.find((o) => o.name?.value === name);
  return operations.length === 1 ? operations[0] : undefined;
}
