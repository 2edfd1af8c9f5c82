import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** Apollo re-labels validation errors GRAPHQL_VALIDATION_FAILED; this lets formatError restore our code. */
export const TOO_COMPLEX_MESSAGE = /^query (depth|cost) /;

/**
 * Rejects queries deeper than `maxDepth` or selecting more than `maxCost` fields in all
 * (fragments expanded, aliases counted, a list of `first: n` counting n times), before any
 * resolver runs. This is what stops nested and very wide queries from costing the database.
 */
export function queryLimits(maxDepth: number, maxCost: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

    const measure = (set: SelectionSetNode, depth: number, seen: Set<string>): { depth: number; cost: number } => {
      let deepest = depth;
      let cost = 0;
      for (const sel of set.selections) {
        let inner: { depth: number; cost: number } = { depth, cost: 0 };
        if (sel.kind === Kind.FIELD) {
          const first = sel.arguments?.find((a) => a.name.value === 'first')?.value;
          const multiplier = first?.kind === Kind.INT ? Math.max(1, Number(first.value)) : 1;
          inner = sel.selectionSet ? measure(sel.selectionSet, depth + 1, seen) : { depth: depth + 1, cost: 0 };
          cost += 1 + multiplier * inner.cost;
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(sel.selectionSet, depth, seen);
          cost += inner.cost;
        } else {
          const fragment = fragments.get(sel.name.value);
          if (!fragment || seen.has(sel.name.value)) continue; // cycles are reported by the standard rules
          inner = measure(fragment.selectionSet, depth, new Set([...seen, sel.name.value]));
          cost += inner.cost;
        }
        deepest = Math.max(deepest, inner.depth);
        if (cost > maxCost) break;
      }
      return { depth: deepest, cost };
    };

    return {
      OperationDefinition(node) {
        const { depth, cost } = measure(node.selectionSet, 0, new Set());
        if (depth > maxDepth) {
          context.reportError(new GraphQLError(`query depth ${depth} exceeds the limit of ${maxDepth}`, { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } }));
        } else if (cost > maxCost) {
          context.reportError(new GraphQLError(`query cost exceeds the limit of ${maxCost}`, { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } }));
        }
      },
    };
  };
}
