import { parse, validate, type DocumentNode, type GraphQLError, type GraphQLSchema, type Source } from 'graphql';

/**
 * One parsed document per query text among the subscriptions alive at once. graphql-ws keeps a
 * subscription's document (its AST, every token and location) for as long as it runs: 10,000
 * sockets sending the same subscription held 10,000 identical copies, about 5 KB each, a third
 * of what a subscriber cost the gateway.
 *
 * A document is held weakly: it stays shared while a subscription uses it and goes with the last
 * one, so query texts sent once (or sent to churn the table) never pile up here. Documents are
 * never mutated after parsing (graphql-js treats them as immutable), so sharing one is safe, and
 * its validation against the one schema is the same every time: it is kept with the document.
 */
export class SharedDocuments {
  private readonly documents = new Map<string, WeakRef<DocumentNode>>();
  private readonly validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  private readonly forget = new FinalizationRegistry<string>((query) => {
    if (this.documents.get(query)?.deref() === undefined) this.documents.delete(query);
  });

  constructor(private readonly schema: GraphQLSchema) {}

  /** Throws graphql's own syntax error, as `parse` does; a text that does not parse is not remembered. */
  parse = (query: string | Source): DocumentNode => {
    if (typeof query !== 'string') return parse(query);
    const known = this.documents.get(query)?.deref();
    if (known) return known;
    const document = parse(query);
    this.documents.set(query, new WeakRef(document));
    this.forget.register(document, query);
    return document;
  };

  /** graphql's `validate` against the gateway's schema, once per shared document. */
  validate = (schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] => {
    if (schema !== this.schema) return validate(schema, document);
    let errors = this.validated.get(document);
    if (!errors) this.validated.set(document, (errors = validate(schema, document)));
    return errors;
  };

  /** Query texts remembered: those with a live document, and those whose document is gone but not yet finalized (for tests). */
  get size(): number {
    return this.documents.size;
  }
}
