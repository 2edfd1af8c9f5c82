import {
  getNamedType,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  type GraphQLField,
  type GraphQLError,
  isObjectType,
  Kind,
  OperationTypeNode,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { codedGraphQLError } from '../errors';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  /** A subscription's cost limit, lower than `maxCost`: its selection runs for every event it hears. */
  maxSubscriptionCost?: number;
  /**
   * Leaves the depth of `__schema` and `__type` unmeasured, where introspection is allowed: the
   * explorer's introspection query is 15 deep, and graphql's own MaxIntrospectionDepthRule
   * already refuses the self-nesting kind. Their fields still count toward the cost: left out of
   * it, 4,800 aliases of `__schema` in a 100 KB request made a 110 MB answer and held the event
   * loop for 15 s.
   */
  introspection?: boolean;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  /** Each fragment's measure from its own root (depth 0), taken once however often it is spread. */
  measured: Map<string, Measure>;
  /** The fragments being measured, outermost first: a spread of one of them is a cycle. */
  open: Set<string>;
  variables: Record<string, unknown>;
  operation: OperationDefinitionNode;
  maxCost: number;
  introspection: boolean;
}

interface Measure {
  depth: number;
  cost: number;
}

/**
 * Refuses operations deeper than `maxDepth` or selecting more than `maxCost` fields in all
 * (fragments expanded, aliases counted, a list of `first: n` counting n times), before any
 * resolver runs. `first` counts as the request will run it: a literal, a variable's value or
 * default, or the field's own default when absent, so no spelling of a page size slips past.
 */
export function checkLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: QueryLimits,
): GraphQLError | undefined {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return undefined; // graphql itself reports the missing operation
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const subscription = operation.operation === OperationTypeNode.SUBSCRIPTION;
  const maxCost = subscription ? (limits.maxSubscriptionCost ?? limits.maxCost) : limits.maxCost;
  const walk: Walk = {
    schema,
    fragments,
    measured: new Map(),
    open: new Set(),
    variables: variables ?? {},
    operation,
    maxCost,
    introspection: limits.introspection ?? false,
  };
  const root =
    operation.operation === OperationTypeNode.QUERY
      ? schema.getQueryType()
      : operation.operation === OperationTypeNode.MUTATION
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const { depth, cost } = measure(walk, operation.selectionSet, root ?? undefined, 0);
  if (depth > limits.maxDepth) return tooComplex(`query depth ${depth} exceeds the limit of ${limits.maxDepth}`);
  if (cost > maxCost)
    return tooComplex(`${subscription ? 'subscription' : 'query'} cost exceeds the limit of ${maxCost}`);
  return undefined;
}

const tooComplex = (message: string): GraphQLError => codedGraphQLError('QUERY_TOO_COMPLEX', message);

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

function measure(w: Walk, set: SelectionSetNode, type: GraphQLNamedType | undefined, depth: number): Measure {
  let deepest = depth;
  let cost = 0;
  for (const sel of set.selections) {
    let inner: Measure;
    if (sel.kind === Kind.FIELD) {
      const field = fieldOf(type, sel.name.value);
      const childType = field ? getNamedType(field.type) : undefined;
      inner = sel.selectionSet ? measure(w, sel.selectionSet, childType, depth + 1) : { depth: depth + 1, cost: 0 };
      cost += 1 + pageSize(w, sel, field?.args.find((a) => a.name === 'first')?.defaultValue) * inner.cost;
      if (w.introspection && INTROSPECTION_ROOTS.has(sel.name.value)) inner = { depth, cost: inner.cost };
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const narrowed = sel.typeCondition ? w.schema.getType(sel.typeCondition.name.value) : type;
      inner = measure(w, sel.selectionSet, narrowed ?? undefined, depth);
      cost += inner.cost;
    } else {
      const fragment = w.fragments.get(sel.name.value);
      if (!fragment || w.open.has(sel.name.value)) continue; // cycles are reported by the standard rules
      const own = measureFragment(w, fragment);
      inner = { depth: depth + own.depth, cost: own.cost };
      cost += inner.cost;
    }
    deepest = Math.max(deepest, inner.depth);
    if (cost > w.maxCost) break;
  }
  return { depth: deepest, cost };
}

/**
 * A fragment's depth and cost do not depend on where it is spread, so it is walked once. Walked
 * again at every spread, fragments that each spread the one before twice cost 2^n steps while
 * counting nothing (a spread of a missing fragment, or introspection, counts 0): a 1 KB
 * subscribe held the gateway's event loop for minutes before validation could refuse it.
 */
function measureFragment(w: Walk, fragment: FragmentDefinitionNode): Measure {
  const name = fragment.name.value;
  let own = w.measured.get(name);
  if (own === undefined) {
    w.open.add(name);
    own = measure(w, fragment.selectionSet, w.schema.getType(fragment.typeCondition.name.value) ?? undefined, 0);
    w.open.delete(name);
    w.measured.set(name, own);
  }
  return own;
}

/** The field `name` of `type`, the introspection roots included (graphql-js keeps them apart from a type's own). */
function fieldOf(type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === '__schema') return SchemaMetaFieldDef;
  if (name === '__type') return TypeMetaFieldDef;
  return isObjectType(type) ? type.getFields()[name] : undefined;
}

/** How many items `first` asks for; anything that is not a count (validation rejects it later) counts once. */
function pageSize(w: Walk, field: FieldNode, fieldDefault: unknown): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first')?.value;
  let value: unknown = fieldDefault;
  if (arg?.kind === Kind.VARIABLE) {
    const name = arg.name.value;
    const definition = w.operation.variableDefinitions?.find((v) => v.variable.name.value === name);
    value = Object.hasOwn(w.variables, name)
      ? w.variables[name]
      : definition?.defaultValue
        ? valueFromASTUntyped(definition.defaultValue)
        : fieldDefault;
  } else if (arg) {
    value = valueFromASTUntyped(arg);
  }
  if (value === null || value === undefined) value = fieldDefault;
  return typeof value === 'number' && Number.isFinite(value)
    ? Math.max(1, Math.min(value, Number.MAX_SAFE_INTEGER))
    : 1;
}
