/** Every topic the system uses, with its partition count. Keys are payment ids everywhere. */
export const TOPICS = {
  payments: { name: 'payments', partitions: 8 },
  statusPayments: { name: 'status-payments', partitions: 8 },
  moneyOperations: { name: 'money-operations', partitions: 8 },
  moneyOperationResults: { name: 'money-operation-results', partitions: 8 },
} as const;

export type TopicKey = keyof typeof TOPICS;
export const TOPIC_KEYS = Object.keys(TOPICS) as TopicKey[];

/** Concrete topic names for one deployment; the prefix isolates test suites sharing a broker. */
export type TopicNames = Record<TopicKey, string>;

export function topicNames(prefix = ''): TopicNames {
  const names = {} as TopicNames;
  for (const key of TOPIC_KEYS) names[key] = prefix + TOPICS[key].name;
  return names;
}

/** Consumer groups carry the same prefix as the topics, so deployments sharing a cluster never share a group. */
export const groupName = (prefix: string, base: string): string => prefix + base;

export const dlqOf = (topic: string): string => `${topic}.dlq`;
