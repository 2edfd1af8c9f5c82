import 'reflect-metadata';
import { createLogger } from '../../common/logger';
import { runService } from '../../common/service';
import { startTracing } from '../../common/tracing';
import { startGateway } from './app';
import { loadGatewayConfig } from './config';

const tracing = startTracing('gateway');
const config = loadGatewayConfig();
const logger = createLogger('gateway', config.LOG_LEVEL);
runService(logger, (supervision) => startGateway(config, logger, supervision), {
  tracing,
  heapGrowthPercent: config.HEAP_GROWTH_PERCENT,
});
