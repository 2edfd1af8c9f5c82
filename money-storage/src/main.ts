import { createLogger } from '../../common/logger';
import { runService } from '../../common/service';
import { startTracing } from '../../common/tracing';
import { loadMoneyStorageConfig } from './config';
import { startMoneyStorage } from './service';

const tracing = startTracing('money-storage');
const config = loadMoneyStorageConfig();
const logger = createLogger('money-storage', config.LOG_LEVEL);

runService(logger, (supervision) => startMoneyStorage(config, logger, supervision), {
  tracing,
  heapGrowthPercent: config.HEAP_GROWTH_PERCENT,
});
