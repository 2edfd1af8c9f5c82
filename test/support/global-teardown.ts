import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__PAYMENTS_INFRA__;
  if (!state) return;
  await state.infra.stop();
  fs.rmSync(state.dataRoot, { recursive: true, force: true });
}
