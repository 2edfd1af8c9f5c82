import Ajv2020 from 'ajv/dist/2020';

type Json = Record<string, unknown>;

/** A JSON-pointer segment: `/` and `~` escaped as RFC 6901 says. */
const segment = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Checks real HTTP answers against an OpenAPI 3.1 document with JSON Schema 2020-12, the dialect
 * 3.1 uses: the body against the response's schema, and every header the response declares must
 * be there and match its schema (Location, WWW-Authenticate, Retry-After are promises, not hints).
 */
export class OpenApiValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });

  constructor(private readonly document: Json) {
    this.ajv.addSchema(document, 'openapi.json');
  }

  /** Throws with every mismatch; returns the parsed body. */
  async check(method: string, pathTemplate: string, res: Response): Promise<unknown> {
    const { pointer, response } = this.responseFor(method, pathTemplate, res.status);
    const body: unknown = await res.json();
    const problems = [
      ...this.problems(`${pointer}/content/application~1json/schema`, body, 'body'),
      ...Object.entries((response.headers ?? {}) as Record<string, Json>).flatMap(([name, header]) => {
        const value = res.headers.get(name);
        if (value === null) return [`header ${name} is missing`];
        return header.schema
          ? this.problems(`${pointer}/headers/${segment(name)}/schema`, value, `header ${name}`)
          : [];
      }),
    ];
    if (problems.length > 0)
      throw new Error(
        `${method} ${pathTemplate} → ${res.status} does not match the document:\n  ${problems.join('\n  ')}\n  body: ${JSON.stringify(body)}`,
      );
    return body;
  }

  /** The response object for a status (or `default`), with a `$ref` to components followed. */
  private responseFor(method: string, pathTemplate: string, status: number): { pointer: string; response: Json } {
    const operation = ((this.document.paths as Json)[pathTemplate] as Json | undefined)?.[method.toLowerCase()] as
      Json | undefined;
    if (!operation) throw new Error(`the document has no ${method} ${pathTemplate}`);
    const responses = operation.responses as Record<string, Json>;
    const key = String(status) in responses ? String(status) : 'default';
    const response = responses[key];
    if (!response) throw new Error(`the document declares no ${status} (nor default) for ${method} ${pathTemplate}`);
    const ref = response.$ref;
    if (typeof ref !== 'string')
      return { pointer: `/paths/${segment(pathTemplate)}/${method.toLowerCase()}/responses/${key}`, response };
    const name = ref.replace('#/components/responses/', '');
    return {
      pointer: `/components/responses/${name}`,
      response: ((this.document.components as Json).responses as Record<string, Json>)[name]!,
    };
  }

  private problems(pointer: string, value: unknown, what: string): string[] {
    const validate = this.ajv.getSchema(`openapi.json#${pointer}`);
    if (!validate) return [`no schema at ${pointer}`];
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${what}${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  }
}
