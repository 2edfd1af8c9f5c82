import 'reflect-metadata';
import { GraphQLError, buildSchema, print, validate } from 'graphql';
import { SharedDocuments } from '../../gateway/src/graphql/shared-documents';

const schema = buildSchema('type Query { a: Int, b: Int }');

describe('SharedDocuments', () => {
  it('gives subscribers sending the same query text one parsed document, and another text its own', () => {
    const documents = new SharedDocuments(schema);
    const first = documents.parse('{ a }');
    expect(documents.parse('{ a }')).toBe(first);
    const other = documents.parse('{ b }');
    expect(other).not.toBe(first);
    expect(print(other)).toBe('{\n  b\n}');
    expect(first.loc?.source.body).toBe('{ a }'); // error locations still point into the text sent
  });

  it('throws graphql’s own syntax error for a text that does not parse, every time, and remembers nothing of it', () => {
    const documents = new SharedDocuments(schema);
    for (let i = 0; i < 2; i++) expect(() => documents.parse('{ a')).toThrow(GraphQLError);
    expect(documents.size).toBe(0);
  });

  it('validates a shared document once against the schema, with the same verdict as graphql', () => {
    const documents = new SharedDocuments(schema);
    const bad = documents.parse('{ c }');
    const errors = documents.validate(schema, bad);
    expect(errors.map((e) => e.message)).toEqual(validate(schema, bad).map((e) => e.message));
    expect(errors).toHaveLength(1);
    expect(documents.validate(schema, bad)).toBe(errors);
    expect(documents.validate(schema, documents.parse('{ a }'))).toEqual([]);
    // Another schema is validated as asked, never from what was kept for this one.
    const other = buildSchema('type Query { c: Int }');
    expect(documents.validate(other, bad)).toEqual([]);
  });
});
