import { createLogger } from '../../common/logger';
import { runService } from '../../common/service';
import { startTracing } from '../../common/tracing';
import { loadPaymasterConfig } from './config';
import { startPaymaster } from './paymaster';

const tracing = startTracing('paymaster');
const config = loadPaymasterConfig();
const logger = createLogger('paymaster', config.LOG_LEVEL);

// The grace covers our own bounded stop plus a margin; runService exits 1 if even that is exceeded.
runService(logger, (supervision) => startPaymaster(config, logger, supervision), {
  graceMs: config.PAYMASTER_SHUTDOWN_GRACE_MS + 5000,
  tracing,
  heapGrowthPercent: config.HEAP_GROWTH_PERCENT,
});
